"""The stand-in's knobs, declared once.

Each knob is a field of `StandinKnobs` whose metadata (`knob(...)`) carries its help text and
bounds. Everything else is derived from that declaration: the command-line flags
(`app.standin.command`), the validation of a runtime `POST /_standin/control`
(`StandinKnobs.updated`). Pure: no I/O.
"""

from collections.abc import Callable, Mapping
from dataclasses import Field, asdict, dataclass, field, fields, replace
from typing import Any, Self

NAMED_OUTCOMES = ("ok", "malformed", "timeout", "null_content", "prose")
RATE_KNOBS = ("error_500_rate", "timeout_rate", "malformed_rate")


class KnobError(ValueError):
    """An invalid knob value; the message names the knob and what it accepts."""


def valid_outcome(entry: object) -> bool:
    """A script entry: a named outcome or an HTTP status 400–599 (as a string)."""
    if not isinstance(entry, str):
        return False
    return entry in NAMED_OUTCOMES or (entry.isdigit() and 400 <= int(entry) <= 599)


def knob(
    help: str,
    *,
    low: float | None = None,
    high: float | None = None,
    flag_help: str | None = None,
) -> dict[str, Any]:
    """Field metadata of one knob: its help text and inclusive bounds (None = unbounded).

    `flag_help` replaces `help` on the command line where the flag's spelling differs from the
    JSON value's (the script: comma-separated on the command line, a list in JSON).
    """
    return {"help": help, "low": low, "high": high, "flag_help": flag_help or help}


@dataclass(frozen=True)
class StandinKnobs:
    latency_ms: float = field(
        default=0.0,
        metadata=knob(
            "time from a chat request's arrival to its reply, in ms (the stand-in's own work "
            "happens inside it, as a real model server's does)",
            low=0,
        ),
    )
    max_concurrency: int = field(
        default=0,
        metadata=knob(
            "chat requests in flight beyond this get HTTP 429 + Retry-After (0 = unlimited)", low=0
        ),
    )
    retry_after: float = field(
        default=1.0, metadata=knob("the Retry-After seconds sent with every 429", low=0)
    )
    error_500_rate: float = field(
        default=0.0,
        metadata=knob("fraction of chat requests answered with HTTP 500", low=0, high=1),
    )
    timeout_rate: float = field(
        default=0.0,
        metadata=knob(
            "fraction of chat requests that hang for hang_seconds (or until the client leaves)",
            low=0,
            high=1,
        ),
    )
    malformed_rate: float = field(
        default=0.0,
        metadata=knob("fraction of chat replies whose content is not JSON", low=0, high=1),
    )
    hang_seconds: float = field(
        default=30.0, metadata=knob("how long a timeout fault hangs before replying", low=0)
    )
    seed: int = field(
        default=0,
        metadata=knob("seed of the fault generator, so a run's faults repeat run to run"),
    )
    script: tuple[str, ...] = field(
        default=(),
        metadata=knob(
            "outcomes forced one per chat request before any random fault: ok, malformed, "
            "timeout, null_content (content null), prose (the JSON wrapped in prose and a "
            "```json fence) or an HTTP status 400–599 such as 500, 429 (with Retry-After), 400",
            flag_help="comma-separated outcomes forced one per chat request before random "
            "faults: ok, malformed, timeout, null_content, prose or an HTTP status 400–599 "
            "(e.g. 500,429,ok)",
        ),
    )

    def __post_init__(self) -> None:
        for spec in fields(self):
            check_value(spec, getattr(self, spec.name))
        if sum(getattr(self, name) for name in RATE_KNOBS) > 1.0:
            raise KnobError(" + ".join(RATE_KNOBS) + " must be ≤ 1")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        """Knobs from a JSON-like mapping (unknown names and wrong types are a KnobError)."""
        return cls().updated(values)

    def updated(self, changes: Mapping[str, Any]) -> Self:
        """These knobs with `changes` applied, all checked; a KnobError leaves nothing changed."""
        unknown = sorted(set(changes) - set(knob_names()))
        if unknown:
            raise KnobError(
                f"unknown knob(s): {', '.join(unknown)} (known: {', '.join(knob_names())})"
            )
        updates = dict(changes)
        if isinstance(updates.get("script"), list):
            updates["script"] = tuple(updates["script"])
        return replace(self, **updates)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["script"] = list(self.script)
        return data


def knob_fields() -> tuple[Field[Any], ...]:
    return fields(StandinKnobs)


def knob_names() -> list[str]:
    return [spec.name for spec in knob_fields()]


def value_kind(spec: Field[Any]) -> type:
    """float, int or tuple (the script), from the field's default: the declaration's own type."""
    default = spec.default
    return tuple if isinstance(default, tuple) else type(default)


def check_value(spec: Field[Any], value: object) -> None:
    """Raise KnobError unless `value` is of the knob's kind and within its bounds."""
    name, kind = spec.name, value_kind(spec)
    if kind is tuple:
        if not isinstance(value, tuple | list):
            raise KnobError(f"{name} must be a list of outcomes, got {value!r}")
        for entry in value:
            if not valid_outcome(entry):
                raise KnobError(
                    f"{name}: unknown outcome {entry!r} (use {', '.join(NAMED_OUTCOMES)} or an "
                    "HTTP status 400–599)"
                )
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        noun = "an integer" if kind is int else "a number"
        raise KnobError(f"{name} must be {noun}, got {value!r}")
    if kind is int and not isinstance(value, int):
        raise KnobError(f"{name} must be an integer, got {value!r}")
    low, high = spec.metadata["low"], spec.metadata["high"]
    if (low is not None and value < low) or (high is not None and value > high):
        raise KnobError(f"{name} must be {bounds_text(spec)}, got {value!r}")


def bounds_text(spec: Field[Any]) -> str:
    low, high = spec.metadata["low"], spec.metadata["high"]
    if low is not None and high is not None:
        return f"in [{low:g}, {high:g}]"
    if low is not None:
        return f"≥ {low:g}"
    if high is not None:
        return f"≤ {high:g}"
    return "any value"


def parse_flag(spec: Field[Any]) -> Callable[[str], Any]:
    """A converter from a command-line string to the knob's value, checked like a JSON value."""
    kind = value_kind(spec)

    def convert(text: str) -> Any:
        value: Any
        if kind is tuple:
            value = tuple(part.strip() for part in text.split(",") if part.strip())
        else:
            try:
                value = kind(text)
            except ValueError:
                noun = "an integer" if kind is int else "a number"
                raise KnobError(f"{spec.name} must be {noun}, got {text!r}") from None
        check_value(spec, value)
        return value

    return convert
