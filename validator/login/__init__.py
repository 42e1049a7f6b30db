"""`login`: the OAuth flow of a public app, one job per module.

protocol    the authorize URL, the callback's query and state, and `LoginError`
listener    the loopback redirect target, in a background thread
exchange    the authorization code traded for a token
token_file  `--save`: the token written with mode 0600
command     `run_login`, the command end to end
"""
