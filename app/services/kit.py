"""Building and serving a track's participant's kit (docs/submissions.md, "The participant's kit").

A kit is built once per (gold version, track, public fields) into STORAGE_DIR/kits and served
from there; it reads only the public gold columns (`gold_repo.public_inputs`). Its version is
the current gold version's digest, so a new gold import makes new kits.
"""

import asyncio
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import NotFound
from app.formats import kit
from app.repositories import gold as gold_repo
from app.services.gold_images import named_image_files
from app.storage import FileStore, write_file
from app.tracks import Track

VERSION_CHARS = 16
ZIP_TIMESTAMP = (2020, 1, 1, 0, 0, 0)  # fixed: the same inputs give the same bytes


@dataclass(frozen=True)
class Kit:
    track: Track
    version: str
    path: Path  # the zip
    images: dict[str, Path]  # kit image name -> file on disk

    @property
    def filename(self) -> str:
        return f"mmrare-{self.track.value}-inputs-{self.version}.zip"


async def track_kit(
    session: AsyncSession, settings: Settings, store: FileStore, track: Track
) -> Kit:
    """The kit of `track` for the current gold version, built on first use."""
    version = await gold_repo.current_version(session)
    if version is None:
        raise NotFound(
            "no gold set is loaded yet, so there are no inputs to hand out; a maintainer "
            "imports one with `mmrare gold import`"
        )
    fields = settings.public_inputs
    kit_version = version.digest[:VERSION_CHARS]
    stem = f"{track.value}-{kit_version}-{'-'.join(fields) or 'ids'}"
    directory = settings.storage_dir / "kits"
    zip_path, index_path = directory / f"{stem}.zip", directory / f"{stem}.images.json"
    if zip_path.exists() and index_path.exists():
        names = json.loads(index_path.read_text())
        return Kit(track, kit_version, zip_path, {n: Path(p) for n, p in names.items()})
    rows = await gold_repo.public_inputs(session, version.id, track)
    with_images = "images" in fields
    # The images as files on this host, from the file store (any host's upload of the bundle).
    files = (
        await named_image_files(
            session, store, version, {source for *_, sources in rows for source in sources}
        )
        if with_images
        else {}
    )

    def build() -> dict[str, Path]:  # reads and compresses every image: off the event loop
        items, images = _public_items(rows, files, with_images=with_images)
        write_file(zip_path, _zip(track, kit_version, version.id, items, images, fields))
        write_file(index_path, json.dumps({n: str(p) for n, p in images.items()}).encode())
        return images

    return Kit(track, kit_version, zip_path, await asyncio.to_thread(build))


def kit_image(kit_: Kit, name: str) -> Path:
    path = kit_.images.get(name)
    if path is None or not path.is_file():
        raise NotFound(
            f"no image {name!r} among the {kit_.track.value} inputs of kit {kit_.version}; "
            f"image names are listed in the kit's {kit.INPUTS_NAME} (image_urls)"
        )
    return path


def _public_items(
    rows: list[tuple[str, str, str | None, list[str]]],
    files: Mapping[str, str],
    *,
    with_images: bool,
) -> tuple[list[kit.PublicItem], dict[str, Path]]:
    images: dict[str, Path] = {}
    by_source: dict[str, str] = {}
    items = []
    for item_id, question, context, sources in rows:
        names = []
        for source in sources if with_images else ():
            if source not in by_source:
                path = Path(files[source])
                name = kit.image_name(hashlib.sha256(path.read_bytes()).hexdigest(), source)
                by_source[source], images[name] = name, path
            names.append(by_source[source])
        items.append(kit.PublicItem(item_id, question, context, tuple(names)))
    return items, images


def _zip(
    track: Track,
    version: str,
    gold_version_id: int,
    items: list[kit.PublicItem],
    images: dict[str, Path],
    fields: tuple[str, ...],
) -> bytes:
    manifest = kit.manifest(track, version, gold_version_id, len(items), len(images), fields)
    members: list[tuple[str, bytes]] = [
        (kit.README_NAME, kit.readme(track, version, len(items), fields).encode()),
        (kit.MANIFEST_NAME, (json.dumps(manifest, indent=2) + "\n").encode()),
        (kit.INPUTS_NAME, kit.jsonl([kit.input_record(i, track, fields) for i in items])),
        (kit.TEMPLATE_NAME, kit.jsonl(kit.template_records(items, track))),
        *((f"{kit.IMAGE_DIR}/{name}", path.read_bytes()) for name, path in sorted(images.items())),
    ]
    with tempfile.SpooledTemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                archive.writestr(zipfile.ZipInfo(name, ZIP_TIMESTAMP), data, zipfile.ZIP_DEFLATED)
        buffer.seek(0)
        return buffer.read()
