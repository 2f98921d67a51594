"""Render one judge request from a rubric and an item, and compute its cache key.

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

from app.judge.types import JudgeInput, JudgeRequest
from app.rubrics.model import Dimension, DimensionKind, Rubric

REFERENCE_OPEN = "<<<REFERENCE>>>"
REFERENCE_CLOSE = "<<<END REFERENCE>>>"
NONE_TEXT = "(none)"

_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
# ASCII angle brackets plus the look-alikes a judge model would plausibly read as the same thing.
_LOOKALIKE_RUN = re.compile(
    r"[<\uff1c\ufe64\u2039\u2329\u3008\u27e8]{3,}|[>\uff1e\ufe65\u203a\u232a\u3009\u27e9]{3,}"
)
_IMAGE_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}


def neutralise_delimiters(text: str) -> str:
    """Space out every run of 3+ angle brackets: "<<<END" becomes "< < <END"."""
    return _LOOKALIKE_RUN.sub(lambda m: " ".join(m.group()), text)


def candidate_nonce(secret: bytes, item_id: str, answer: str) -> str:
    """16 hex chars of HMAC-SHA256(secret, item_id NUL answer): unguessable, but deterministic."""
    message = f"{item_id}\x00{answer}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:16]


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
            properties[dim.id] = {"type": "integer", "minimum": 0, "maximum": dim.max_value}
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
) -> JudgeRequest:
    if item.track != rubric.track:
        raise ValueError(f"item {item.item_id!r} is {item.track}, rubric is {rubric.track}")
    if max_answer_chars < 1:
        raise ValueError("max_answer_chars must be ≥ 1")

    answer = item.candidate
    truncated = len(answer) > max_answer_chars
    if truncated:
        answer = answer[:max_answer_chars]
    # The nonce covers the full original answer: two answers sharing a prefix get different tags.
    nonce = candidate_nonce(secret, item.item_id, item.candidate)

    values = {
        "question": neutralise_delimiters(item.question),
        "reference_answer": neutralise_delimiters(item.reference_answer),
        "aliases": neutralise_delimiters(_render_aliases(item.aliases)),
        "targets": neutralise_delimiters(_render_targets(item.targets)),
        "criteria": render_criteria(rubric),
        "output_format": render_output_format(rubric),
        "candidate": candidate_block(nonce, neutralise_delimiters(answer)),
    }
    system = fill_template(rubric.prompt.system, values)
    user_text = fill_template(rubric.prompt.user, values)

    user_content: str | list[dict[str, Any]] = user_text
    if send_images and item.image_paths:
        user_content = [{"type": "text", "text": user_text}]
        user_content.extend(
            {"type": "image_url", "image_url": {"url": image_data_url(p)}} for p in item.image_paths
        )

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
    )


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
    mime = _IMAGE_MIME.get(path.suffix.lower())
    if mime is None:
        known = ", ".join(sorted(_IMAGE_MIME))
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


def _render_targets(targets: Any) -> str:
    if targets is None or targets == "" or targets == [] or targets == {}:
        return NONE_TEXT
    return json.dumps(targets, ensure_ascii=False)
