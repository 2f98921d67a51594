"""Judge failures the callers must tell apart. No HTTP status mapping here: each surface does that.

Messages never contain the request body: it holds hidden gold answers.
"""


class JudgeError(Exception):
    """Base class for judge failures that stop judging (as opposed to a per-item judge error)."""


class JudgeUnavailable(JudgeError):
    """The judge kept failing transiently (connection errors, timeouts, 429, 5xx) past the retry
    bound. Judging should be retried later; nothing about the submission is wrong."""

    def __init__(self, message: str, *, attempts: int, last_error: str) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_error = last_error


class JudgeConfigError(JudgeError):
    """The judge rejected the request with a 4xx other than 429 (bad model name, bad key, request
    the server cannot accept). Retrying cannot help; an operator must fix the configuration."""

    def __init__(self, message: str, *, status_code: int, server_message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.server_message = server_message
