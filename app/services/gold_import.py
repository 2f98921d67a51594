"""Importing a gold bundle: the same bundle changes nothing; a changed one is a new version."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import GoldItem, GoldVersion
from app.formats.gold_bundle import parse_gold_bundle
from app.repositories import gold as gold_repo


@dataclass(frozen=True)
class GoldImportResult:
    version_id: int
    digest: str
    item_count: int
    track_counts: dict[str, int]
    created: bool


async def import_gold_bundle(session: AsyncSession, path: Path) -> GoldImportResult:
    """Parse and store a bundle. A bad bundle raises GoldBundleError before anything is written."""
    bundle = parse_gold_bundle(path)
    existing = await gold_repo.get_version_by_digest(session, bundle.digest)
    if existing is not None:
        return GoldImportResult(
            existing.id, existing.digest, existing.item_count, existing.track_counts, False
        )
    counts: dict[str, int] = {}
    for item in bundle.items:
        counts[item.track.value] = counts.get(item.track.value, 0) + 1
    version = GoldVersion(
        digest=bundle.digest,
        source=str(path),
        item_count=len(bundle.items),
        track_counts=dict(sorted(counts.items())),
        root=str(bundle.root.resolve()),
    )
    session.add(version)
    await session.flush()
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
