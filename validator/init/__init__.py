"""`init`: a connector.yaml written from what a token was found to have, one job per module.

request   what `init` is asked for, and `InitError`
schema    connector.schema.json, the rules for every value written down
probe     `GET /me` once, then every catalog permission: a `Scaffold`
render    the commented connector.yaml text, checked before it is written
command   `run_init`, the command end to end, and the new file's write
"""
