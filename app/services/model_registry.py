"""Models a team submits under: registration, metadata and ownership.

A model belongs to the team that registered it (explicitly, or by the first upload under a new
name). Only that team, or a maintainer, may submit under it or change its metadata. Models from
the paper's tables belong to no team: nobody but a maintainer can submit under them.
"""

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Model, ModelCategory
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.formats.text import TextKind, text_problem
from app.repositories import accounts as accounts_repo
from app.repositories import models as models_repo
from app.services.accounts import Principal
from app.services.audit import record_event

MAX_NAME_CHARS = 200
MAX_ORGANISATION_CHARS = 200
MAX_URL_CHARS = 500
MAX_DESCRIPTION_CHARS = 1000
MAX_PARAMETER_COUNT = 10**14


@dataclass(frozen=True)
class ModelFields:
    """A model's metadata: exactly what its team may write. Name and owner are not here."""

    organisation: str | None = None
    open_weights: bool = False
    medical: bool = False
    category: ModelCategory = ModelCategory.GENERAL
    parameter_count: int | None = None
    url: str | None = None
    paper_url: str | None = None
    description: str | None = None


WRITABLE_FIELDS = frozenset(ModelFields.__dataclass_fields__)


def clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInput("model name is empty; give the model's name, e.g. MyVLM-7B")
    if len(cleaned) > MAX_NAME_CHARS:
        raise InvalidInput(
            f"model name is {len(cleaned)} characters; the limit is {MAX_NAME_CHARS}"
        )
    if problem := text_problem(cleaned, TextKind.NAME):
        raise InvalidInput(f"model name {problem}")
    return cleaned


def _text(field: str, value: str | None, limit: int, kind: TextKind = TextKind.LINE) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit:
        raise InvalidInput(f"{field} is {len(value)} characters; the limit is {limit}")
    if problem := text_problem(value, kind):
        raise InvalidInput(f"{field} {problem}")
    return value


def _url(field: str, value: str | None) -> str | None:
    value = _text(field, value, MAX_URL_CHARS)
    if value is not None and not re.match(r"^https?://[^\s/]+\S*$", value):
        raise InvalidInput(f"{field} must be an http:// or https:// address without spaces")
    return value


def _clean_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate metadata values (any subset of WRITABLE_FIELDS) for storage."""
    unknown = set(values) - WRITABLE_FIELDS
    if unknown:
        raise InvalidInput(
            f"not writable: {', '.join(sorted(unknown))}; writable fields are "
            f"{', '.join(sorted(WRITABLE_FIELDS))}"
        )
    out: dict[str, Any] = {}
    for field, value in values.items():
        if field == "organisation":
            out[field] = _text(field, value, MAX_ORGANISATION_CHARS)
        elif field == "description":
            out[field] = _text(field, value, MAX_DESCRIPTION_CHARS, TextKind.TEXT)
        elif field in ("url", "paper_url"):
            out[field] = _url(field, value)
        elif field == "category":
            out[field] = category(value).value
        elif field == "parameter_count":
            if value is not None and not (
                isinstance(value, int) and 1 <= value <= MAX_PARAMETER_COUNT
            ):
                raise InvalidInput(
                    "parameter_count must be a whole number of parameters, e.g. 7000000000 "
                    "for a 7B model"
                )
            out[field] = value
        else:  # open_weights, medical
            if not isinstance(value, bool):
                raise InvalidInput(f"{field} must be true or false")
            out[field] = value
    return out


def category(value: str | ModelCategory) -> ModelCategory:
    try:
        return ModelCategory(value)
    except ValueError:
        choices = ", ".join(c.value for c in ModelCategory)
        raise InvalidInput(f"category {value!r} is not one of {choices}") from None


def _settle_medical(model: Model) -> None:
    # A medical or medical-unified model is a medical-domain model, whatever the flag said.
    if model.category != ModelCategory.GENERAL.value:
        model.medical = True


def can_manage(model: Model, principal: Principal) -> bool:
    return principal.is_admin or (model.team_id is not None and model.team_id == principal.team_id)


def check_can_submit(model: Model, principal: Principal) -> None:
    if can_manage(model, principal):
        return
    if model.team_id is None:
        raise Forbidden(
            f"model {model.name!r} is an entry reported in the paper, not a team's model; "
            "submit under a model name your team registered"
        )
    raise Forbidden(
        f"model {model.name!r} is registered by another team; only that team can submit under "
        "it or change it. Pick another name for your model"
    )


async def get_model(session: AsyncSession, name: str) -> Model:
    if problem := text_problem(name, TextKind.NAME):
        raise InvalidInput(f"model name {problem}; no model has such a name")
    model = await models_repo.get_by_name(session, name)
    if model is None:
        raise NotFound(
            f"model {name!r} does not exist; register it with POST /api/v1/models "
            "(or by submitting under its name)"
        )
    return model


async def _ensure_name_free(session: AsyncSession, name: str) -> None:
    existing = await models_repo.get_by_name_folded(session, name)
    if existing is not None:
        same = "" if existing.name == name else f" as {existing.name!r} (names ignore case)"
        raise Conflict(f"a model named {name!r} already exists{same}; choose another name")


async def register_model(
    session: AsyncSession, principal: Principal, name: str, fields: ModelFields
) -> Model:
    name = clean_name(name)
    await _ensure_name_free(session, name)
    values = _clean_values(asdict(fields))
    model = await models_repo.add_if_absent(
        session, {"name": name, "team_id": principal.team_id, **values}
    )
    if model.team_id != principal.team_id:  # registered by someone else a moment ago
        raise Conflict(f"a model named {name!r} already exists; choose another name")
    _settle_medical(model)
    await session.flush()
    await record_event(
        session, actor=principal.label, action="model.register", target=f"model:{name}"
    )
    return model


async def update_model(
    session: AsyncSession, principal: Principal, name: str, changes: Mapping[str, Any]
) -> Model:
    """Change some of a model's metadata: owner (or maintainer) only."""
    model = await get_model(session, name)
    if not can_manage(model, principal):
        check_can_submit(model, principal)  # raises the matching Forbidden
    values = _clean_values(changes)
    for field, value in values.items():
        setattr(model, field, value)
    _settle_medical(model)
    await session.flush()
    await record_event(
        session,
        actor=principal.label,
        action="model.update",
        target=f"model:{model.name}",
        details={"fields": sorted(values)},
    )
    return model


async def resolve_for_upload(
    session: AsyncSession, principal: Principal, name: str, fields: ModelFields
) -> Model:
    """The model an upload names. A new name is registered for the uploader's team with
    `fields`; an existing model keeps its metadata (change it with PATCH /api/v1/models/…)."""
    name = clean_name(name)
    model = await models_repo.get_by_name(session, name)
    if model is None:
        folded = await models_repo.get_by_name_folded(session, name)
        if folded is not None:
            raise Conflict(
                f"model {name!r} does not exist, but {folded.name!r} does (names ignore case); "
                "use the exact name"
            )
        model = await models_repo.add_if_absent(
            session, {"name": name, "team_id": principal.team_id, **_clean_values(asdict(fields))}
        )
        if model.team_id == principal.team_id:
            _settle_medical(model)
            await session.flush()
    check_can_submit(model, principal)
    return model


@dataclass(frozen=True)
class ModelView:
    model: Model
    team: str | None  # the owning team's name; None for the paper's entries


async def model_view(session: AsyncSession, model: Model) -> ModelView:
    team = None
    if model.team_id is not None:
        row = await accounts_repo.get_team(session, model.team_id)
        team = row.name if row else None
    return ModelView(model, team)
