"""All tables, imported here so Alembic and the app see one metadata."""

from app.db.models.accounts import ApiToken, Team
from app.db.models.blobs import Blob
from app.db.models.gold import GoldItem, GoldVersion
from app.db.models.judging import JudgeCacheEntry, JudgeModel, RubricVersion, TrackConfig
from app.db.models.leaderboard import PairedGap
from app.db.models.maintenance import AuditEvent, HumanLabel, Rejudge, RejudgeStatus
from app.db.models.models import Model, ModelCategory, ReportedResult
from app.db.models.runs import EvaluationRun, ItemResult, RunAggregate
from app.db.models.screening import FlagDecision, SubmissionScreening
from app.db.models.submissions import Submission, SubmissionState

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Blob",
    "EvaluationRun",
    "FlagDecision",
    "GoldItem",
    "GoldVersion",
    "HumanLabel",
    "ItemResult",
    "JudgeCacheEntry",
    "JudgeModel",
    "Model",
    "ModelCategory",
    "PairedGap",
    "Rejudge",
    "RejudgeStatus",
    "ReportedResult",
    "RubricVersion",
    "RunAggregate",
    "Submission",
    "SubmissionScreening",
    "SubmissionState",
    "Team",
    "TrackConfig",
]
