"""工作台: each role's home page, computed on every request by the owning apps' selectors.

Nothing here is stored: a section is a list of things to do now, each with a link that opens the
page where it is done (one tap). ``build_workbench(user)`` returns the sections for every role the
user holds; the page shows them in a fixed order (secretary, org_admin, member, auditor).
"""
