"""Seeding the results reported in the MMRareBench paper (Tables 2–3) as reported entries."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Model, ModelCategory, ReportedResult
from app.errors import InvalidInput
from app.repositories import models as models_repo
from app.repositories.rows import add_row
from app.resources import resource_path

PAPER_JUDGE = "Qwen3-VL-235B"  # the judge behind every reported entry (paper Sec. 3.4)
PAPER_PROTOCOL = f"judge {PAPER_JUDGE} with the paper's rubrics (MMRareBench, Sec. 3.4)"
_GROUP_CATEGORY = {
    "closed-source": ModelCategory.GENERAL,
    "general-purpose": ModelCategory.GENERAL,
    "medical-domain": ModelCategory.MEDICAL,
    "medical-unified": ModelCategory.MEDICAL_UNIFIED,
}
_COLUMNS = (
    "model",
    "source",
    "access",
    "domain",
    "group",
    "t1_score",
    "t1_f1",
    "t2_score",
    "t3_score",
    "t4_score",
)


@dataclass(frozen=True)
class SeedReport:
    created: int
    updated: int


def bundled_paper_results() -> str:
    return resource_path("paper_results").read_text(encoding="utf-8")


def _score(value: str, line: int, column: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        score = float(value)
    except ValueError:
        raise InvalidInput(f"line {line}: {column} is {value!r}, not a number") from None
    if not 0 <= score <= 100:
        raise InvalidInput(f"line {line}: {column} is {score}; scores are on a 0–100 scale")
    return score


async def seed_reported(session: AsyncSession, csv_text: str | None = None) -> SeedReport:
    """Insert or refresh the reported entries; running it twice changes nothing."""
    reader = csv.DictReader(
        io.StringIO(csv_text if csv_text is not None else bundled_paper_results())
    )
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(f"paper results CSV lacks columns: {', '.join(missing)}")
    created = updated = 0
    for line, record in enumerate(reader, start=2):
        group = record["group"].strip()
        if group not in _GROUP_CATEGORY:
            raise InvalidInput(
                f"line {line}: group {group!r} is not one of {', '.join(_GROUP_CATEGORY)}"
            )
        category = _GROUP_CATEGORY[group]
        model = await models_repo.get_by_name(session, record["model"].strip())
        if model is None:
            model = await add_row(
                session,
                Model(
                    name=record["model"].strip(),
                    open_weights=record["access"].strip() == "open",
                    medical=record["domain"].strip() == "medical",
                    category=category.value,
                ),
            )
        values = {
            "source": record["source"].strip(),
            "protocol": PAPER_PROTOCOL,
            "t1_score": _score(record["t1_score"], line, "t1_score"),
            "t1_f1": _score(record["t1_f1"], line, "t1_f1"),
            "t2_score": _score(record["t2_score"], line, "t2_score"),
            "t3_score": _score(record["t3_score"], line, "t3_score"),
            "t4_score": _score(record["t4_score"], line, "t4_score"),
        }
        reported = await models_repo.get_reported(session, model.id)
        if reported is None:
            session.add(ReportedResult(model_id=model.id, **values))
            created += 1
        elif any(getattr(reported, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(reported, key, value)
            updated += 1
    await session.flush()
    return SeedReport(created, updated)


def read_csv(path: Path) -> str:
    return path.read_text(encoding="utf-8")
