"""The gold images a judging job attaches to its prompts, as files on this host."""

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import GoldItem, GoldVersion
from app.storage import FileStore


async def image_files(
    session: AsyncSession, store: FileStore, version: GoldVersion, items: Iterable[GoldItem]
) -> dict[str, str]:
    """Each image the items name (its path in the bundle) -> a file on this host holding it,
    fetched from the file store once per host. A version imported before images were stored
    is read from its bundle's directory (re-run `mmrare gold import` to store them)."""
    return await named_image_files(
        session, store, version, {image for item in items for image in item.images or ()}
    )


async def named_image_files(
    session: AsyncSession, store: FileStore, version: GoldVersion, names: Iterable[str]
) -> dict[str, str]:
    """`image_files` for images named by their paths in the bundle."""
    stored = version.image_sha256
    files: dict[str, str] = {}
    for name in sorted(names):
        sha256 = stored.get(name) if stored is not None else None
        if sha256 is None:
            files[name] = str(Path(version.root) / name)
        else:
            suffix = PurePosixPath(name).suffix
            files[name] = str(await store.local_file(session, sha256, suffix))
    return files
