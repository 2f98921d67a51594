"""The participant's kit: what a track's inputs look like when handed out (pure).

A kit is a zip of `inputs.jsonl` (one public record per item), the images under content-hash
names (a bundle's own file names could spell a diagnosis), `predictions-template.jsonl` (every
id with an empty prediction, in the upload format of docs/formats.md), `kit.json` (the
manifest) and `README.md`. Only the fields the maintainer made public are copied, and only from
the gold columns `PUBLISHABLE_INPUT_FIELDS` names.
"""

import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from app.formats.images import IMAGE_TYPES
from app.tracks import Track

KIT_FORMAT = "mmrare-kit/1"
INPUTS_NAME = "inputs.jsonl"
TEMPLATE_NAME = "predictions-template.jsonl"
MANIFEST_NAME = "kit.json"
README_NAME = "README.md"
IMAGE_DIR = "images"
UNKNOWN_IMAGE_SUFFIX = ".bin"


@dataclass(frozen=True)
class PublicItem:
    """One item as the kit shows it; `images` are kit names (see `image_name`)."""

    id: str
    question: str | None
    context: str | None
    images: tuple[str, ...]


def image_name(sha256: str, source_path: str) -> str:
    """An image's name in the kit and in its URL: its content hash and a known suffix."""
    suffix = PurePosixPath(source_path).suffix.lower()
    return sha256[:32] + (suffix if suffix in IMAGE_TYPES else UNKNOWN_IMAGE_SUFFIX)


def image_media_type(name: str) -> str:
    return IMAGE_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def image_url(track: Track, name: str) -> str:
    return f"/api/v1/tracks/{track.value}/images/{name}"


def input_record(item: PublicItem, track: Track, fields: tuple[str, ...]) -> dict[str, Any]:
    record: dict[str, Any] = {"id": item.id, "track": track.value}
    if "question" in fields:
        record["question"] = item.question
    if "context" in fields:
        record["context"] = item.context
    if "images" in fields:
        record["images"] = [f"{IMAGE_DIR}/{name}" for name in item.images]
        record["image_urls"] = [image_url(track, name) for name in item.images]
    return record


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def template_records(items: list[PublicItem], track: Track) -> list[dict[str, Any]]:
    return [{"id": item.id, "track": track.value, "prediction": ""} for item in items]


def manifest(
    track: Track,
    version: str,
    gold_version_id: int,
    items: int,
    images: int,
    fields: tuple[str, ...],
) -> dict[str, Any]:
    return {
        "format": KIT_FORMAT,
        "track": track.value,
        "kit_version": version,
        "gold_version": gold_version_id,
        "items": items,
        "images": images,
        "public_fields": ["id", "track", *fields],
    }


def readme(track: Track, version: str, items: int, fields: tuple[str, ...]) -> str:
    shown = ", ".join(["id", "track", *fields])
    return f"""# MMRareBench {track.value} ({track.label}): participant's kit

Kit version {version} (the gold version new submissions are scored against). A submission
scored against another gold version needs the kit of that version.

- `{INPUTS_NAME}`: {items} items, one JSON object per line with {shown}.
  `images` are paths inside this kit; `image_urls` are the same images on the leaderboard
  server (paths relative to its address).
- `{IMAGE_DIR}/`: the images, named by their content hash.
- `{TEMPLATE_NAME}`: every id with an empty prediction. Fill in `prediction` and upload it
  (`mmrare submit {TEMPLATE_NAME} --track {track.value} --model NAME`, or the /submit page).
  An id left empty scores 0; the file format is in docs/formats.md ("Prediction file").
- `{MANIFEST_NAME}`: the kit's format, track, version and public fields.

Answers, aliases, targets, evidence, categories and ORPHA codes are not part of any kit.
"""
