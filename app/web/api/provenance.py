"""A scored run's evaluation card as a JSON download: `/api/v1/runs/{id}/provenance.json`."""

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from app.services.provenance import Provenance, run_provenance
from app.web.api.schemas.errors import TOKEN_READ, error_responses
from app.web.auth import OptionalPrincipal
from app.web.deps import KeysDep, RowId, SessionDep

router = APIRouter(prefix="/api/v1", tags=["runs"], responses=TOKEN_READ)


class GoldVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    digest: str = Field(description="sha256 identifying the gold bundle (never its content)")
    imported_at: datetime = Field(validation_alias=AliasChoices("imported_at", "created_at"))


class Sampling(BaseModel):
    temperature: float | None = None
    seed: int | None = None
    max_tokens: int | None = None


class ProvenanceOut(BaseModel):
    """What a scored run was judged with. Never the judge's address or key, never gold text."""

    model_config = ConfigDict(from_attributes=True)

    run_id: int
    submission_id: int
    track: str
    judge_model: str
    judge_is_reference: bool = Field(description="True: the reference stand-in, not a real judge")
    rubric_version: str = Field(description="sha256 of the rubric file")
    prompt_template_sha256: str = Field(
        description="sha256 of the rubric's system and user prompt templates, NUL-separated"
    )
    sampling: Sampling | None = Field(
        description="Sent with every judge request; null: judged before runs recorded it"
    )
    gold_version: GoldVersionOut
    software_version: str | None = Field(
        description="Service package version at judge start; null: not recorded then"
    )
    started_at: datetime | None
    judged_at: datetime | None = Field(description="When the run was scored")


class ProvenanceCard(BaseModel):
    provenance: ProvenanceOut


def provenance_payload(card: Provenance) -> ProvenanceCard:
    return ProvenanceCard(provenance=ProvenanceOut.model_validate(card))


def provenance_url(run_id: int, key: str | None = None) -> str:
    path = f"/api/v1/runs/{run_id}/provenance.json"
    return f"{path}?key={key}" if key else path


@router.get(
    "/runs/{run_id}/provenance.json",
    response_model=ProvenanceCard,
    responses=error_responses(
        notes={
            404: "No such run, or one of another team's private submission",
            409: "The run is not scored (yet)",
        }
    ),
    summary="A scored run's evaluation card (judge, rubric, prompt, sampling, gold, software)",
)
async def get_provenance(
    session: SessionDep,
    keys: KeysDep,
    principal: OptionalPrincipal,
    run_id: RowId,
    key: str | None = None,
) -> JSONResponse:
    """Public for published submissions; a private one needs its team's token (or `key`)."""
    card = await run_provenance(session, run_id, principal, key=key, secret=keys.view_link_key)
    return JSONResponse(
        provenance_payload(card).model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}-provenance.json"'},
    )
