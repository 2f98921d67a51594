"""Render one judge request from a rubric and an item, and compute its cache key.

Gold text goes into ONE reference block, `<<<REFERENCE tag>>> … <<<END REFERENCE tag>>>`, made of
sections that each start with a header line `[field] label`; which fields appear is the rubric's
declaration (`shows`). The tag is a second nonce, so neither block's delimiters can be forged.
Inside gold values, a line that would read as a section header is indented by one space.

The candidate answer is untrusted. It is never used as a template: the rubric's template is filled
in a single `re.sub` pass, so text inserted for one placeholder (say, an answer containing
"{{reference_answer}}") is never scanned again. The answer sits between delimiters that carry a
nonce — an HMAC of the item id and the answer under a server secret — which a submitter cannot
predict (so cannot forge a closing delimiter) but which is stable for the same inputs (so the
judge cache still hits). Runs of three or more angle brackets inside any inserted value are spaced
out, so no look-alike `<<<…>>>` delimiter survives either.
"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.formats.images import IMAGE_TYPES
from app.judge.errors import ItemInputError
from app.judge.types import JudgeInput, JudgeRequest
from app.rubrics.model import TEXT_FIELDS, Dimension, DimensionKind, Rubric

REFERENCE_OPEN = "<<<REFERENCE>>>"  # as written in rubric templates; rendering adds the tag
REFERENCE_CLOSE = "<<<END REFERENCE>>>"
NONE_TEXT = "(none)"
_HEADER_LIKE = re.compile(r"^(?=[ \t]*\[[A-Za-z_]+\])", re.M)

_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
# ASCII angle brackets plus the look-alikes a judge model would plausibly read as the same thing.
_LOOKALIKE_RUN = re.compile(
    r"[<\uff1c\ufe64\u2039\u2329\u3008\u27e8]{3,}|[>\uff1e\ufe65\u203a\u232a\u3009\u27e9]{3,}"
)


def neutralise_delimiters(text: str) -> str:
    """Space out every run of 3+ angle brackets: "<<<END" becomes "< < <END"."""
    return _LOOKALIKE_RUN.sub(lambda m: " ".join(m.group()), text)


def candidate_nonce(secret: bytes, item_id: str, answer: str) -> str:
    """16 hex chars of HMAC-SHA256(secret, item_id NUL answer): unguessable, but deterministic."""
    message = f"{item_id}\x00{answer}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:16]


def reference_nonce(secret: bytes, item_id: str, answer: str) -> str:
    """The reference block's tag: like the candidate's, but from a separate HMAC domain."""
    message = f"reference\x00{item_id}\x00{answer}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:16]


def escape_headers(text: str) -> str:
    """Indent every line that starts like a `[field]` section header, so none is read as one."""
    return _HEADER_LIKE.sub(" ", text)


def candidate_block(nonce: str, answer: str) -> str:
    return f"<<<CANDIDATE {nonce}>>>\n{answer}\n<<<END CANDIDATE {nonce}>>>"


def render_criteria(rubric: Rubric) -> str:
    lines: list[str] = []
    for number, dim in enumerate(rubric.dimensions, start=1):
        if dim.kind is DimensionKind.BINARY:
            lines.append(f"{number}. {dim.id} — {dim.name} (YES/NO): {dim.criterion}")
        else:
            lines.append(f"{number}. {dim.id} — {dim.name} (0–{dim.max_value}): {dim.criterion}")
            lines.extend(f"   {value} = {text}" for value, text in dim.anchors.items())
    return "\n".join(lines)


def render_output_format(rubric: Rubric) -> str:
    def shape(dim: Dimension) -> str:
        if dim.kind is DimensionKind.BINARY:
            return '"YES" | "NO"'
        return " | ".join(str(v) for v in range(dim.max_value + 1))

    body = ",\n".join(f'  "{dim.id}": {shape(dim)}' for dim in rubric.dimensions)
    return "{\n" + body + "\n}"


def response_format(rubric: Rubric) -> dict[str, Any]:
    """The reply's JSON schema, sent so servers with structured output enforce it."""
    properties: dict[str, Any] = {}
    for dim in rubric.dimensions:
        if dim.kind is DimensionKind.BINARY:
            properties[dim.id] = {"type": "string", "enum": ["YES", "NO"]}
        else:
            # An integer enum, not minimum/maximum: strict structured output (vLLM, SGLang)
            # enforces an enum, and the judge's grammar then allows only the scale's values.
            properties[dim.id] = {"type": "integer", "enum": list(range(dim.max_value + 1))}
    return {
        "type": "json_schema",
        "json_schema": {
            "name": f"{rubric.track.value}_rubric",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": properties,
                "required": list(rubric.dimension_ids),
                "additionalProperties": False,
            },
        },
    }


def render_request(
    rubric: Rubric,
    item: JudgeInput,
    *,
    model: str,
    secret: bytes,
    max_answer_chars: int,
    seed: int,
    max_tokens: int,
    send_images: bool = False,
    max_context_chars: int = 16_000,
    max_image_bytes: int = 5 * 1024 * 1024,
) -> JudgeRequest:
    """Raises ItemInputError when this item's images cannot be sent (too large, missing, type)."""
    if item.track != rubric.track:
        raise ValueError(f"item {item.item_id!r} is {item.track}, rubric is {rubric.track}")
    if max_answer_chars < 1 or max_context_chars < 1:
        raise ValueError("max_answer_chars and max_context_chars must be ≥ 1")

    answer = item.candidate
    truncated = len(answer) > max_answer_chars
    if truncated:
        answer = answer[:max_answer_chars]
    # The nonce covers the full original answer: two answers sharing a prefix get different tags.
    nonce = candidate_nonce(secret, item.item_id, item.candidate)
    tag = reference_nonce(secret, item.item_id, item.candidate)

    context = item.context or ""
    context_truncated = len(context) > max_context_chars
    if context_truncated:
        context = (
            context[:max_context_chars]
            + f"\n(case narrative truncated: first {max_context_chars} of {len(item.context or '')}"
            " characters shown)"
        )
    gold = {
        "reference_answer": item.reference_answer,
        "aliases": _render_aliases(item.aliases),
        "targets": _render_json(item.targets),
        "context": context.strip() or NONE_TEXT,
        "category": (item.category or "").strip() or NONE_TEXT,
        "orpha_code": (item.orpha_code or "").strip() or NONE_TEXT,
        "evidence": _render_json(item.evidence),
    }
    assert set(gold) == set(TEXT_FIELDS)
    values = {name: escape_headers(neutralise_delimiters(text)) for name, text in gold.items()}
    values.update(
        question=neutralise_delimiters(item.question),
        criteria=render_criteria(rubric),
        output_format=render_output_format(rubric),
        candidate=candidate_block(nonce, neutralise_delimiters(answer)),
    )
    system = fill_template(rubric.prompt.system, values)
    user_text = fill_template(tag_reference_block(rubric.prompt.user, tag), values)

    user_content: str | list[dict[str, Any]] = user_text
    if send_images and "images" in rubric.shows and item.image_paths:
        user_content = [{"type": "text", "text": user_text}]
        user_content.extend(image_parts(item.image_paths, max_image_bytes))

    return JudgeRequest(
        item_id=item.item_id,
        model=model,
        messages=(
            {"role": "system", "content": system},
            {"role": "user", "content": user_content},
        ),
        response_format=response_format(rubric),
        sampling={"temperature": 0, "seed": seed, "max_tokens": max_tokens},
        truncated=truncated,
        context_truncated=context_truncated,
    )


def tag_reference_block(template: str, tag: str) -> str:
    """Give the template's (trusted) reference delimiter lines their per-request tag."""
    lines = template.split("\n")
    for index, line in enumerate(lines):
        if line.strip() == REFERENCE_OPEN:
            lines[index] = f"<<<REFERENCE {tag}>>>"
        elif line.strip() == REFERENCE_CLOSE:
            lines[index] = f"<<<END REFERENCE {tag}>>>"
    return "\n".join(lines)


def image_parts(paths: tuple[str, ...], max_bytes: int) -> list[dict[str, Any]]:
    """Each image, in the gold bundle's order, preceded by its label ("Image 1 of 3:").

    An image above `max_bytes` makes the whole item unsendable (ItemInputError): judging the
    item without an image its rubric relies on would give a verdict on other evidence."""
    parts: list[dict[str, Any]] = []
    count = len(paths)
    for number, path in enumerate(paths, start=1):
        try:
            size = Path(path).stat().st_size
        except OSError:
            raise ItemInputError(
                f"image {number} of {count} is missing from the gold bundle"
            ) from None
        if size > max_bytes:
            raise ItemInputError(
                f"image {number} of {count} is {size} bytes, above JUDGE_MAX_IMAGE_BYTES "
                f"({max_bytes})"
            )
        try:
            url = image_data_url(path)
        except ValueError:
            raise ItemInputError(
                f"image {number} of {count} has a file type the judge cannot be sent "
                f"(known: {', '.join(sorted(IMAGE_TYPES))})"
            ) from None
        parts.append({"type": "text", "text": f"Image {number} of {count}:"})
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """Replace every {{name}} in one pass; inserted text is never rescanned."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        try:
            return values[name]
        except KeyError:
            raise ValueError(f"unknown placeholder {{{{{name}}}}} in prompt template") from None

    return _PLACEHOLDER.sub(substitute, template)


def image_data_url(path: str | Path) -> str:
    path = Path(path)
    mime = IMAGE_TYPES.get(path.suffix.lower())
    if mime is None:
        known = ", ".join(sorted(IMAGE_TYPES))
        raise ValueError(f"cannot send image with extension {path.suffix!r} (known: {known})")
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"data:{mime};base64,{encoded}"


def cache_key(request: JudgeRequest, base_url: str) -> str:
    """sha256 over everything that can change the judge's reply, and nothing else.

    The item id and the truncation flag are deliberately excluded: identical prompts to the same
    model and endpoint share a verdict.
    """
    payload = {
        "model": request.model,
        "base_url": normalise_base_url(base_url),
        "messages": request.messages,
        "response_format": request.response_format,
        "sampling": request.sampling,
    }
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def normalise_base_url(base_url: str) -> str:
    return base_url.strip().rstrip("/")


def _json_default(value: object) -> object:
    # Request messages are tuples of Mappings; json only knows dict and list.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _render_aliases(aliases: tuple[str, ...]) -> str:
    cleaned = [a.strip() for a in aliases if a.strip()]
    return "\n".join(f"- {a}" for a in cleaned) if cleaned else NONE_TEXT


def _render_json(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return NONE_TEXT
    return json.dumps(value, ensure_ascii=False)
