"""A model's writable metadata and its description as the API returns it."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.services.model_registry import MAX_PARAMETER_COUNT
from app.web.api.schemas.fields import PlainLine, PlainName, PlainText


class ModelWrite(BaseModel):
    """The writable metadata of a model: exactly these fields, nothing else."""

    model_config = ConfigDict(extra="forbid")

    organisation: PlainLine | None = Field(None, max_length=200)
    open_weights: bool = False
    medical: bool = Field(False, description="Medical-domain model")
    category: Literal["general", "medical", "medical_unified"] = "general"
    parameter_count: int | None = Field(None, ge=1, le=MAX_PARAMETER_COUNT)
    url: PlainLine | None = Field(None, max_length=500, description="http(s) address of the model")
    paper_url: PlainLine | None = Field(None, max_length=500)
    description: PlainText | None = Field(None, max_length=1000)


class ModelCreate(ModelWrite):
    name: PlainName = Field(min_length=1, max_length=200, description="Unique; shown on the board")


class ModelUpdate(BaseModel):
    """A partial update: only the fields sent are changed. The name cannot change."""

    model_config = ConfigDict(extra="forbid")

    organisation: PlainLine | None = Field(None, max_length=200)
    open_weights: bool | None = None
    medical: bool | None = None
    category: Literal["general", "medical", "medical_unified"] | None = None
    parameter_count: int | None = Field(None, ge=1, le=MAX_PARAMETER_COUNT)
    url: PlainLine | None = Field(None, max_length=500)
    paper_url: PlainLine | None = Field(None, max_length=500)
    description: PlainText | None = Field(None, max_length=1000)


class ModelInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    team: str | None = Field(None, description="The owning team; none for the paper's entries")
    organisation: str | None
    open_weights: bool
    medical: bool
    category: str
    parameter_count: int | None
    url: str | None
    paper_url: str | None
    description: str | None
    created_at: datetime
