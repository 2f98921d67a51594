"""Hidden gold items. Nothing in this table is ever returned to a client."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, JSONValue, UTCDateTime, utcnow


class GoldVersion(Base):
    __tablename__ = "gold_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)  # where it was imported from, for maintainers
    item_count: Mapped[int] = mapped_column(Integer)
    track_counts: Mapped[dict[str, int]] = mapped_column(JSONValue)
    root: Mapped[str] = mapped_column(Text)  # the bundle's directory when it was imported
    # Each image's path in the bundle -> the sha256 of its bytes in the file store. None for a
    # version imported before images were stored: its images are read from `root`.
    image_sha256: Mapped[dict[str, str] | None] = mapped_column(JSONValue, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoldItem(Base):
    __tablename__ = "gold_items"
    __table_args__ = (
        UniqueConstraint("gold_version_id", "item_id"),
        Index("ix_gold_items_version_track", "gold_version_id", "track"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gold_version_id: Mapped[int] = mapped_column(ForeignKey("gold_versions.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(200))
    track: Mapped[str] = mapped_column(String(2))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    orpha_code: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)
    images: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    targets: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    evidence: Mapped[Any] = mapped_column(JSONValue, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONValue, default=dict)
