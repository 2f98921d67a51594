"""The analyses as JSON and CSV: the domain-specialisation gap and cross-track consistency.

Every view names its source (`source=paper` by default, `judge:<name>`, or `mixed`) and defines
each number it computes that the paper does not report (`computed_here`). The payloads are built
in `app.web.views`, shared with the HTML pages.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.db.base import utcnow
from app.services.reliability import JudgeTrackReport, judge_report
from app.web.api.schemas import views as schemas
from app.web.api.schemas.errors import PUBLIC_READ
from app.web.deps import SessionDep
from app.web.views.analysis import (
    CONSISTENCY,
    DOMAIN_GAP,
    NO_LABELS,
    AnalysisParams,
    analysis_endpoint,
)
from app.web.views.common import CSV_RESPONSES, BoardView

router = APIRouter(prefix="/api/v1", tags=["analysis"], responses=PUBLIC_READ)


ANALYSES: tuple[tuple[str, BoardView[AnalysisParams, Any], type[BaseModel], str], ...] = (
    (
        "get_domain_gap",
        DOMAIN_GAP,
        schemas.DomainGap,
        "Best medical vs best general-purpose models per track (paper Sec. 4.2, Fig. 3)",
    ),
    (
        "get_consistency",
        CONSISTENCY,
        schemas.Consistency,
        "Spearman's ρ between tracks and first places per entry (paper Sec. 4.3)",
    ),
)
for name, analysis, model, summary in ANALYSES:
    router.add_api_route(
        f"/analysis/{analysis.name}",
        analysis_endpoint("api", analysis),
        methods=["GET"],
        response_model=model,
        responses=CSV_RESPONSES,
        summary=summary,
        name=name,
    )


# --------------------------------------------------------------------------------------------
# The judge in public
# --------------------------------------------------------------------------------------------


class DimensionAgreementOut(BaseModel):
    dimension: str
    name: str
    scale: str = Field(description="YES/NO or 0–max")
    statistic: str = Field(description="Cohen's kappa, or quadratic-weighted kappa (ordinal)")
    items: int = Field(description="Labelled items with a judge rating on this dimension")
    pairs: int = Field(description="(judge, human label) pairs; two raters on an item: two")
    accuracy: float | None
    kappa: float | None
    human_kappa: float | None = Field(description="Two human raters on the same items: ceiling")
    human_items: int = Field(description="Items both human raters labelled")


class RateOut(BaseModel):
    key: str
    name: str
    definition: str
    count: int
    items: int = Field(description="Answered items over the judge's scored runs")
    value: float | None = Field(description="count / items; null when nothing was judged yet")


class JudgeTrackOut(BaseModel):
    track: str
    judge_model: str
    judge_is_reference: bool = Field(description="True: the reference stand-in, not a real judge")
    rubric_version: str
    human_labels: int = Field(description="Human labels imported for this track")
    agreement: list[DimensionAgreementOut] | None = Field(
        description="Per rubric dimension; null when no label meets a judge rating"
    )
    agreement_note: str | None = Field(description=f"'{NO_LABELS}' when agreement is null")
    runs: int = Field(description="Scored runs under the active rubric version and judge")
    rates: list[RateOut]


class JudgeReliability(BaseModel):
    tracks: list[JudgeTrackOut]
    generated_at: datetime


def judge_payload(reports: Sequence[JudgeTrackReport]) -> JudgeReliability:
    tracks = []
    for report in reports:
        rel = report.reliability
        agreement = [
            DimensionAgreementOut(
                dimension=d.dimension,
                name=d.name,
                scale=d.scale,
                statistic="quadratic-weighted kappa" if d.weighted else "Cohen's kappa",
                items=d.items,
                pairs=d.pairs,
                accuracy=d.accuracy,
                kappa=d.kappa,
                human_kappa=d.human_kappa,
                human_items=d.human_items,
            )
            for d in rel.dimensions
        ]
        tracks.append(
            JudgeTrackOut(
                track=report.track.value,
                judge_model=rel.judge_model,
                judge_is_reference=rel.judge_is_reference,
                rubric_version=rel.rubric_version,
                human_labels=rel.labels,
                agreement=agreement if report.has_labels else None,
                agreement_note=None if report.has_labels else NO_LABELS,
                runs=report.runs,
                rates=[
                    RateOut(
                        key=r.rate.key,
                        name=r.rate.name,
                        definition=r.rate.definition,
                        count=r.count,
                        items=r.items,
                        value=r.value,
                    )
                    for r in report.rates
                ],
            )
        )
    return JudgeReliability(tracks=tracks, generated_at=utcnow())


@router.get(
    "/analysis/judge",
    response_model=JudgeReliability,
    summary="Per track, the active judge's agreement with human labels and its error rates",
)
async def get_judge(session: SessionDep) -> JudgeReliability:
    return judge_payload(await judge_report(session))
