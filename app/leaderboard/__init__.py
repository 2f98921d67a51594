"""Leaderboards as plain data: a board of entries (`board`) and its tables (`table`).

Pure code: built from values the services read, it does no I/O and imports no database code.
"""
