"""`connector-validator fleet`: one connector's declared permissions checked against every install of it.

`installs` reads the JSON Lines input, `judge` turns each install's check into an outcome and an action,
`outputs` writes the lines and the summary, and `run` streams installs through the checks.
"""
