"""Domain errors. No HTTP codes here: each surface (API, pages, CLI) translates them once."""


class DomainError(Exception):
    """Base for errors a user can cause and fix; the message says what, where and how."""

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class Unauthorized(DomainError):
    """No credentials, or unknown or revoked ones."""


class Forbidden(DomainError):
    """Valid credentials that may not do this (another team's model, a maintainer action)."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class PayloadTooLarge(DomainError):
    pass


class QuotaExceeded(DomainError):
    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceNotReady(DomainError):
    """The service lacks set-up a maintainer must do (no gold imported, no rubric)."""
