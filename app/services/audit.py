"""Recording maintainer actions: who, what, when — in the same transaction as the action."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEvent
from app.errors import InvalidInput
from app.formats.text import TextKind, text_problem
from app.repositories import audit as audit_repo
from app.repositories.rows import add_row


async def record_event(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await add_row(
        session, AuditEvent(actor=actor, action=action, target=target, details=details or {})
    )


async def recent_events(session: AsyncSession, limit: int = 200) -> list[AuditEvent]:
    """The newest maintainer actions first."""
    return await audit_repo.recent(session, limit)


MAX_NOTE_CHARS = 2000


def check_note(note: str | None) -> None:
    """A maintainer's note (a flag decision's, a rubric version's) is plain text of a bounded
    length; anything else is refused naming the character and its position."""
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(
            f"the note is {len(note):,} characters long; keep it under {MAX_NOTE_CHARS:,}"
        )
    problem = text_problem(note or "", TextKind.TEXT)
    if problem:
        raise InvalidInput(f"the note {problem}")
