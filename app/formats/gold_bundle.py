"""Read and validate a gold bundle: one JSON object per line, images beside it (docs/formats.md).

The bundle is checked whole before anything is imported: every problem on every line is
collected and a bad bundle is refused as a unit, so a half-imported gold set can never score a
submission. The digest identifies the bundle's content (items and image bytes), not its layout,
so re-importing the same bundle is a no-op and any real change becomes a new gold version.
"""

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from app.formats.errors import LineError, json_type, line_id, render_errors, show_id
from app.formats.text import TextKind, json_text_problem, load_json, text_problem
from app.tracks import Track

GOLD_FILENAME = "gold.jsonl"
MAX_LISTED_ERRORS = 50
DIGEST_FORMAT = "mmrare-gold/1"  # bump when the canonical form changes, so old digests differ

_BOM = b"\xef\xbb\xbf"
_TRACKS = ", ".join(t.value for t in Track)
_ORPHA_CODE = re.compile(r"(?:ORPHA:)?\s*([0-9]{1,9})", re.IGNORECASE)
KNOWN_FIELDS = frozenset(
    {
        "id",
        "track",
        "question",
        "answer",
        "aliases",
        "orpha_code",
        "category",
        "context",
        "images",
        "targets",
        "evidence",
    }
)


@dataclass(frozen=True)
class GoldItemSpec:
    """One validated gold item as it appears in the bundle (not yet a database row).

    `orpha_code` is normalised to "ORPHA:<digits>" whichever accepted spelling the bundle used;
    `images` are POSIX paths relative to the bundle directory; `targets` and `evidence` are kept
    as the JSON values they were; `extra` holds every unknown field verbatim.
    """

    id: str
    track: Track
    question: str
    answer: str
    aliases: tuple[str, ...] = ()
    orpha_code: str | None = None
    category: str | None = None
    context: str | None = None
    images: tuple[str, ...] = ()
    targets: Any = None
    evidence: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GoldBundle:
    """A bundle that passed every check. `items` keep file order; `digest` ignores it."""

    items: list[GoldItemSpec]
    digest: str  # sha256 hex of the canonical form, see bundle_digest()
    root: Path  # the directory image paths are relative to
    image_sha256: dict[str, str] = field(default_factory=dict)  # relative path -> sha256 hex

    def gold_ids(self) -> dict[str, Track]:
        """Id -> track: what the prediction validator needs to reject unknown or misfiled ids."""
        return {item.id: item.track for item in self.items}

    def track_counts(self) -> dict[Track, int]:
        counts = Counter(item.track for item in self.items)
        return {track: counts[track] for track in Track}


class GoldBundleError(ValueError):
    """The bundle was refused whole. `errors` holds every problem found, in line order."""

    def __init__(self, errors: list[LineError], *, source: str = GOLD_FILENAME) -> None:
        self.errors = errors
        self.source = source
        super().__init__(self.report())

    def report(self, limit: int = MAX_LISTED_ERRORS) -> str:
        count = len(self.errors)
        header = (
            f"{self.source}: bundle refused, nothing was imported — "
            f"{count:,} error{'s' if count != 1 else ''}:"
        )
        body = render_errors(self.errors[:limit], total=count, source=self.source)
        return "\n".join([header, *body])


def parse_gold_bundle(path: Path) -> GoldBundle:
    """Validate the bundle at `path` (a .jsonl file, or a directory holding gold.jsonl).

    Raises GoldBundleError listing every problem; returns only a bundle that is valid throughout.
    """
    path = Path(path)
    if path.is_dir():
        path = path / GOLD_FILENAME
    source = path.name or str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        message = f"cannot read the bundle ({reason}) — check the path {str(path)!r}"
        raise GoldBundleError([LineError(0, None, message)], source=source) from exc
    root = path.parent.resolve()
    if data.startswith(_BOM):
        data = data[len(_BOM) :]

    errors: list[LineError] = []
    items: list[GoldItemSpec] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        obj = _load_line(raw, number, errors)
        if obj is None:
            continue
        item = _parse_item(obj, number, root, errors)
        item_id = obj.get("id")
        if isinstance(item_id, str) and item_id.strip():
            if item_id in first_line:
                errors.append(
                    LineError(
                        number,
                        item_id,
                        f"duplicate id — already used on line {first_line[item_id]}; "
                        "ids must be unique across the bundle",
                    )
                )
                continue
            first_line[item_id] = number
        if item is not None:
            items.append(item)

    if not items and not errors:
        errors.append(
            LineError(0, None, "the bundle has no items — expected one JSON object per line")
        )
    if errors:
        raise GoldBundleError(errors, source=source)

    image_sha256 = _hash_images(items, root)
    return GoldBundle(
        items=items,
        digest=bundle_digest(items, image_sha256),
        root=root,
        image_sha256=image_sha256,
    )


def bundle_digest(items: list[GoldItemSpec], image_sha256: Mapping[str, str]) -> str:
    """sha256 of the canonical JSON of the items, sorted by id, each image replaced by its hash.

    Canonical rather than raw bytes: reformatting, reordering lines or respelling an ORPHAcode
    (558 vs "ORPHA:558") is not a new gold version; changing any field or any image's bytes is.
    """
    canonical = [
        {
            "id": item.id,
            "track": item.track.value,
            "question": item.question,
            "answer": item.answer,
            "aliases": list(item.aliases),
            "orpha_code": item.orpha_code,
            "category": item.category,
            "context": item.context,
            "images": [[image, image_sha256[image]] for image in item.images],
            "targets": item.targets,
            "evidence": item.evidence,
            "extra": item.extra,
        }
        for item in sorted(items, key=lambda item: item.id)
    ]
    payload = json.dumps(
        {"format": DIGEST_FORMAT, "items": canonical},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hash_images(items: list[GoldItemSpec], root: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for item in items:
        for image in item.images:
            if image not in hashes:
                with (root / image).open("rb") as handle:
                    hashes[image] = hashlib.file_digest(handle, "sha256").hexdigest()
    return hashes


def _load_line(raw: bytes, number: int, errors: list[LineError]) -> dict[str, Any] | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.append(
            LineError(
                number,
                None,
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the "
                "line) — save the bundle as UTF-8",
            )
        )
        return None
    try:
        obj = load_json(text)
    except json.JSONDecodeError as exc:
        errors.append(
            LineError(
                number,
                None,
                f"not valid JSON ({exc.msg} at column {exc.colno}) — "
                "each line must be one complete JSON object",
            )
        )
        return None
    except ValueError as exc:  # too deep, NaN/Infinity, or an integer too long to read
        errors.append(LineError(number, None, f"not valid JSON ({exc})"))
        return None
    if not isinstance(obj, dict):
        errors.append(LineError(number, None, f"expected a JSON object, got {json_type(obj)}"))
        return None
    return obj


def _parse_item(
    obj: dict[str, Any], number: int, root: Path, errors: list[LineError]
) -> GoldItemSpec | None:
    """Check one object; append its problems to `errors`; return the item only if it has none."""
    item_id, id_problem = line_id(obj)
    before = len(errors)

    def fail(message: str) -> None:
        errors.append(LineError(number, item_id, message))

    if id_problem is not None:
        fail(id_problem)

    track = _parse_track(obj, fail)
    question = _required_text(obj, "question", fail)
    answer = _required_text(obj, "answer", fail)
    context = _optional_text(obj, "context", fail)

    is_t1 = track is Track.T1
    if is_t1 and "aliases" not in obj:
        fail("missing 'aliases' — T1 items need it; write [] when there are none")
    aliases = _aliases(obj.get("aliases"), fail)
    if is_t1 and "orpha_code" not in obj:
        fail("missing 'orpha_code' — T1 items need the diagnosis's ORPHAcode, e.g. \"ORPHA:558\"")
    orpha_code = _orpha_code(
        obj.get("orpha_code"), required=is_t1 and "orpha_code" in obj, fail=fail
    )
    if is_t1:
        category = _required_text(
            obj, "category", fail, hint=" — T1 items need the disease category"
        )
    else:
        category = _optional_text(obj, "category", fail)
    images = _images(obj.get("images"), root, fail)
    for name in ("targets", "evidence", *sorted(set(obj) - KNOWN_FIELDS)):
        if problem := json_text_problem(obj.get(name), f"'{name}'"):
            fail(problem)

    if len(errors) > before or track is None or item_id is None:
        return None
    assert question is not None and answer is not None  # no error was recorded for them
    return GoldItemSpec(
        id=item_id,
        track=track,
        question=question,
        answer=answer,
        aliases=aliases,
        orpha_code=orpha_code,
        category=category,
        context=context,
        images=images,
        targets=obj.get("targets"),
        evidence=obj.get("evidence"),
        extra={key: value for key, value in obj.items() if key not in KNOWN_FIELDS},
    )


def _parse_track(obj: Mapping[str, Any], fail: Callable[[str], None]) -> Track | None:
    if "track" not in obj:
        fail(f"missing 'track' — one of {_TRACKS}")
        return None
    value = obj["track"]
    if isinstance(value, str) and value in Track.__members__:
        return Track(value)
    got = show_id(value) if isinstance(value, str) else json_type(value)
    fail(f"'track' must be one of {_TRACKS} — got {got}")
    return None


def _required_text(
    obj: Mapping[str, Any], name: str, fail: Callable[[str], None], *, hint: str = ""
) -> str | None:
    if name not in obj:
        fail(f"missing '{name}'{hint}")
        return None
    value = obj[name]
    if not isinstance(value, str):
        fail(f"'{name}' must be a string — got {json_type(value)}")
        return None
    if not value.strip():
        fail(f"'{name}' is empty")
        return None
    return _storable(name, value, fail)


def _optional_text(obj: Mapping[str, Any], name: str, fail: Callable[[str], None]) -> str | None:
    value = obj.get(name)
    if value is None:
        return value
    if isinstance(value, str):
        return _storable(name, value, fail)
    fail(f"'{name}' must be a string or null — got {json_type(value)}")
    return None


def _storable(name: str, value: str, fail: Callable[[str], None]) -> str | None:
    problem = text_problem(value, TextKind.TEXT)
    if problem is None:
        return value
    fail(f"'{name}' {problem}")
    return None


def _aliases(value: Any, fail: Callable[[str], None]) -> tuple[str, ...]:
    if value is None:  # absent; required-ness for T1 is checked by the caller
        return ()
    if not isinstance(value, list):
        fail(f"'aliases' must be a list of strings — got {json_type(value)}; write [\"...\"]")
        return ()
    for position, alias in enumerate(value, start=1):
        if not isinstance(alias, str):
            fail(f"'aliases' must be a list of strings — element {position} is {json_type(alias)}")
            return ()
        if not alias.strip():
            fail(f"'aliases' element {position} is empty — remove it")
            return ()
        if problem := text_problem(alias, TextKind.LINE):
            fail(f"'aliases' element {position} {problem}")
            return ()
    return tuple(value)


def _orpha_code(value: Any, *, required: bool, fail: Callable[[str], None]) -> str | None:
    """Accept 558, "558" or "ORPHA:558" (exporters disagree) and store "ORPHA:558"."""
    if value is None:
        if required:
            fail("'orpha_code' must not be null for a T1 item")
        return None
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and (match := _ORPHA_CODE.fullmatch(value.strip())):
        number = int(match.group(1))
    if number is not None and number > 0:
        return f"ORPHA:{number}"
    if number is not None or isinstance(value, str | float):
        fail("'orpha_code' is not an ORPHAcode — write it like \"ORPHA:558\" or 558")
        return None
    fail(
        f"'orpha_code' must be a string or a number — got {json_type(value)}; "
        'write it like "ORPHA:558" or 558'
    )
    return None


def _images(value: Any, root: Path, fail: Callable[[str], None]) -> tuple[str, ...]:
    """Relative paths that stay inside the bundle and name existing files, normalised to POSIX."""
    if value is None:
        return ()
    if not isinstance(value, list):
        fail(
            f"'images' must be a list of paths relative to the bundle — got {json_type(value)}; "
            'write ["images/example.png"]'
        )
        return ()
    paths: list[str] = []
    for position, entry in enumerate(value, start=1):
        label = f"'images' element {position}"
        if not isinstance(entry, str):
            fail(f"{label} must be a string path — got {json_type(entry)}")
            continue
        if not entry.strip():
            fail(f"{label} is empty")
            continue
        if problem := text_problem(entry, TextKind.LINE):
            fail(f"{label} {problem}")
            continue
        if "\\" in entry:
            fail(f"{label} contains a backslash — write paths with forward slashes")
            continue
        relative = PurePosixPath(entry)
        if relative.is_absolute() or PureWindowsPath(entry).drive:
            fail(f"{label} is an absolute path — write it relative to the bundle's directory")
            continue
        if ".." in relative.parts:
            fail(f"{label} contains '..' — keep images inside the bundle's directory")
            continue
        target = (root / relative).resolve()
        if not target.is_relative_to(root):
            fail(f"{label} resolves outside the bundle's directory (a symlink?)")
            continue
        if not target.is_file():
            fail(f"{label} ({str(relative)!r}) was not found under the bundle's directory")
            continue
        paths.append(relative.as_posix())
    return tuple(paths)
