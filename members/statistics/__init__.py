"""年度党内统计 (issue #15.3): the yearly party statistics of an organization's subtree."""
