"""Judge failures the callers must tell apart. No HTTP status mapping here: each surface does that.

Messages never contain the request body: it holds hidden gold answers.
"""


def error_kind(last_error: str) -> str:
    """The kind of a transport failure without its details: "timeout", "connection error",
    "HTTP 503", … (what a submitter and the maintainers' health panel may read)."""
    return last_error.split(" (", 1)[0]


class JudgeError(Exception):
    """Base class for judge failures that stop judging (as opposed to a per-item judge error)."""


class JudgeUnavailable(JudgeError):
    """The judge kept failing transiently (connection errors, timeouts, 429, 5xx) past the retry
    bound. Judging should be retried later; nothing about the submission is wrong."""

    def __init__(self, message: str, *, attempts: int, last_error: str) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_error = last_error

    @property
    def kind(self) -> str:
        return error_kind(self.last_error)


class JudgeConfigError(JudgeError):
    """The judge rejected the request with a 4xx other than 429 (bad model name, bad key, request
    the server cannot accept). Retrying cannot help; an operator must fix the configuration."""

    def __init__(self, message: str, *, status_code: int, server_message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.server_message = server_message


class JudgeItemRejected(JudgeError):
    """The judge refused one request (a 4xx such as 400, 413 or 422) that says nothing about the
    others: that item becomes a judge error, and the run's error tolerance decides the run.

    Only the status and a fixed reason are kept: the server's own words may echo the request."""

    def __init__(self, status_code: int, *, attempts: int = 1) -> None:
        self.status_code = status_code
        self.attempts = attempts
        self.reason = item_rejection_reason(status_code)
        super().__init__(self.reason)


class ItemInputError(ValueError):
    """One item's judge request cannot be built (an image too large, missing or of an unknown
    type). The item becomes a judge error; the message names no gold text or path."""


_REJECTION_REASONS = {
    400: "the judge rejected the request as malformed or too long for its context window",
    413: "the judge rejected the request as too large",
    422: "the judge could not process the request",
}


def item_rejection_reason(status_code: int) -> str:
    reason = _REJECTION_REASONS.get(status_code, "the judge rejected this item's request")
    return f"{reason} (HTTP {status_code})"
