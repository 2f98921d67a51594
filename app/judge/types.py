"""Values that cross the judge boundary: what we ask, what comes back, and the cache's interface."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.tracks import Track


@dataclass(frozen=True)
class JudgeInput:
    """One item to judge: the hidden gold side and the submitter's (untrusted) answer."""

    item_id: str
    track: Track
    question: str
    reference_answer: str
    candidate: str
    aliases: tuple[str, ...] = ()
    targets: Any = None  # T2 plan elements, T3 relation type, T4 key tests (JSON value)
    context: str | None = None  # the case narrative the candidate was shown
    category: str | None = None  # T1: the reference diagnosis's disease category
    orpha_code: str | None = None  # T1: the reference diagnosis's ORPHAcode
    evidence: Any = None  # supporting evidence (JSON value)
    image_paths: tuple[str, ...] = ()  # absolute paths, in the gold bundle's order


@dataclass(frozen=True)
class JudgeRequest:
    """A fully rendered chat-completions request. Its cache key covers every field."""

    item_id: str
    model: str
    messages: tuple[Mapping[str, Any], ...]
    response_format: Mapping[str, Any]
    sampling: Mapping[str, Any]  # temperature, seed, max_tokens — always sent explicitly
    truncated: bool = False  # the candidate was cut to the answer budget
    context_truncated: bool = False  # the case narrative was cut to the context budget

    def body(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [dict(m) for m in self.messages],
            "response_format": dict(self.response_format),
            **dict(self.sampling),
        }


@dataclass(frozen=True)
class Verdict:
    """A judge reply that parsed: one rating per dimension id (binary 0/1, ordinal 0..max)."""

    ratings: Mapping[str, int]
    raw_reply: str


@dataclass(frozen=True)
class JudgeOutcome:
    """What judging one item produced. Exactly one of verdict / error is set."""

    item_id: str
    verdict: Verdict | None
    error: str | None = None
    raw_reply: str | None = None  # kept for maintainers when the reply was malformed
    attempts: int = 0
    latency_ms: float = 0.0
    cached: bool = False
    truncated: bool = False


class JudgeCache(Protocol):
    """Shared store of successful verdicts by request key. Judge errors are never stored."""

    async def get_many(self, keys: Sequence[str]) -> dict[str, Verdict]: ...

    async def put_many(self, entries: Mapping[str, Verdict]) -> None: ...


@dataclass
class CacheCounters:
    hits: int = 0
    misses: int = 0
    judge_calls: int = 0  # HTTP requests actually sent, retries included
    extra: dict[str, int] = field(default_factory=dict)
