"""换届选举: a branch's election from the 请示 to the upper organization's approval (issue 16).

Package anatomy: ``rules`` (the thresholds, pure functions, each with its source), ``models``,
``services/`` (``prepare``: opening, 请示/批复, candidates; ``voting``: the 选举大会 and its rounds;
``afterwards``: 书记/副书记, report, approval → the new CommitteeTerm), ``selectors``, ``api``,
``views``, ``pdf``. The rules and their sources are listed in docs/elections.md.
"""
