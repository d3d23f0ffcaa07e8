"""处分 and 组织处置 (domain-rules §7), periods of suspended rights (留置/逮捕, XJ §5) and the
status procedures (停止党籍, 恢复党籍, 除名, 开除党籍, 去世) that change ``Member.membership_status``."""
