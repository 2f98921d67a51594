"""Recording maintainer actions: who, what, when — in the same transaction as the action."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent
from app.repositories import audit as audit_repo


async def record_event(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await audit_repo.add(
        session, AuditEvent(actor=actor, action=action, target=target, details=details or {})
    )


async def recent_events(session: AsyncSession, limit: int = 200) -> list[AuditEvent]:
    """The newest maintainer actions first."""
    return await audit_repo.recent(session, limit)


def cli_actor() -> str:
    """Actions taken at the shell are attributed to the operating-system user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli:unknown"
