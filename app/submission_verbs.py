"""The actions a team may take on its own submissions, and the word that says what each changed.

Plain values: the service, the web pages and the client CLI share them, and the CLI prints them
without loading the database layer.
"""

# Each action, and what it changed as the CLI and the status page say it.
DONE = {
    "publish": "published",
    "unpublish": "unpublished",
    "pin": "pinned",
    "unpin": "unpinned",
    "cancel": "cancelled",
    "requeue": "re-queued",
}

ACTIONS = tuple(DONE)
