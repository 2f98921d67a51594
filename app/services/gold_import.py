"""Importing a gold bundle: the same bundle changes nothing; a changed one is a new version.

The bundle's images go into the file store, so every process on every host can read them
(with the database store); judging never reads the bundle's directory again."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import GoldItem, GoldVersion
from app.formats.gold_bundle import GoldBundle, parse_gold_bundle
from app.repositories import gold as gold_repo
from app.repositories.rows import add_row
from app.storage import FileStore


@dataclass(frozen=True)
class GoldImportResult:
    version_id: int
    digest: str
    item_count: int
    track_counts: dict[str, int]
    created: bool


async def import_gold_bundle(
    session: AsyncSession, store: FileStore, path: Path
) -> GoldImportResult:
    """Parse and store a bundle. A bad bundle raises GoldBundleError before anything is written.
    Importing a version again stores its images if it was imported before images were stored."""
    bundle = parse_gold_bundle(path)
    existing = await gold_repo.get_version_by_digest(session, bundle.digest)
    if existing is not None:
        if existing.image_sha256 is None:
            existing.image_sha256 = await _store_images(session, store, bundle)
            await session.flush()
        return GoldImportResult(
            existing.id, existing.digest, existing.item_count, existing.track_counts, False
        )
    counts: dict[str, int] = {}
    for item in bundle.items:
        counts[item.track.value] = counts.get(item.track.value, 0) + 1
    version = await add_row(
        session,
        GoldVersion(
            digest=bundle.digest,
            source=str(path),
            item_count=len(bundle.items),
            track_counts=dict(sorted(counts.items())),
            root=str(bundle.root.resolve()),
            image_sha256=await _store_images(session, store, bundle),
        ),
    )
    session.add_all(
        GoldItem(
            gold_version_id=version.id,
            item_id=item.id,
            track=item.track.value,
            question=item.question,
            answer=item.answer,
            aliases=list(item.aliases),
            orpha_code=item.orpha_code,
            category=item.category,
            context=item.context,
            images=list(item.images),
            targets=item.targets,
            evidence=item.evidence,
            extra=dict(item.extra),
        )
        for item in bundle.items
    )
    await session.flush()
    return GoldImportResult(version.id, version.digest, version.item_count, counts, True)


async def _store_images(
    session: AsyncSession, store: FileStore, bundle: GoldBundle
) -> dict[str, str]:
    """Each image of the bundle, stored once; its path in the bundle -> sha256."""
    stored: dict[str, str] = {}
    for image in sorted(bundle.image_sha256):
        data = await asyncio.to_thread((bundle.root / image).read_bytes)
        stored[image] = await store.put(session, data)
    return stored
