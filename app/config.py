"""Settings from environment variables: the only place that reads the environment."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.formats.text import check_text
from app.judge import STANDIN_MODEL

DEFAULT_VAR_DIR = Path("var")

PLACEHOLDER_SECRET_PREFIX = "change-me"
"""deploy/env.example's SECRET_KEY starts with this; a service refuses to start with it."""


PUBLISHABLE_INPUT_FIELDS = ("question", "context", "images")
"""The only gold fields that may ever be public inputs: never answers, aliases, targets,
evidence, category or ORPHA codes."""


# The bounds many settings share, declared once; each setting adds its default and description.
Share = Annotated[float, Field(ge=0, le=1)]
"""A fraction of a whole, 0 to 1."""
PositiveSeconds = Annotated[float, Field(gt=0)]
"""A wait or an age that must be longer than nothing."""
NonNegative = Annotated[float, Field(ge=0)]
"""A delay, a duration or a factor where 0 is allowed (and usually means "none")."""
Count = Annotated[int, Field(ge=1)]
"""A size, a limit or an interval of at least one."""
Retries = Annotated[int, Field(ge=0)]
"""How many times to try again; 0: never."""


class ConfigurationError(ValueError):
    """A setting that makes no sense to start with; the message says which and how to fix it."""


S3_MAX_KEY_BYTES = 1024  # S3's limit on an object key


class StorageBackend(StrEnum):
    """Where uploads and gold images are kept (app/storage)."""

    DIRECTORY = "directory"  # files under STORAGE_DIR: one host
    DATABASE = "database"  # the `blobs` table: every host that reaches the database
    S3 = "s3"  # an S3-compatible bucket (S3_BUCKET): every host that reaches the bucket


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_VAR_DIR}/mmrare.db",
        description="SQLAlchemy URL; postgresql://… or sqlite:///path. Drivers are chosen for you.",
    )
    redis_url: str | None = Field(
        default=None, description="Set: jobs go through arq to `mmrare worker`. Unset: in-process."
    )
    storage_dir: Path = Field(
        default=DEFAULT_VAR_DIR / "uploads",
        description="Uploaded files, content-addressed (with the database or s3 store: this "
        "host's cache of gold images).",
    )
    storage_backend: StorageBackend | None = Field(
        default=None,
        description="`directory` (STORAGE_DIR, one host), `database` (every host) or `s3` (a "
        "bucket, every host). Unset: `database` when DATABASE_URL is PostgreSQL, else "
        "`directory`.",
    )
    # The s3 store. Its credentials are not settings: boto3 finds them (AWS_* variables, the
    # shared config files, an instance or IRSA role), so no secret is kept here.
    s3_bucket: str | None = Field(
        default=None, description="The s3 store's bucket; required with STORAGE_BACKEND=s3."
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="An S3-compatible server (MinIO, Ceph, R2, …), e.g. http://minio:9000; "
        "addressed path-style. Unset: AWS S3.",
    )
    s3_prefix: str = Field(
        default="mmrare/",
        description="Start of every object key (`{S3_PREFIX}{sha256}`): the bucket may hold "
        "other things. One line of text, at most 960 bytes (UTF-8).",
    )
    s3_region: str | None = Field(
        default=None,
        description="The bucket's region. Unset: the AWS configuration's (AWS_REGION, "
        "~/.aws/config).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="The service's key (prompt nonces, form tokens, view links). Unset: "
        "generated into STORAGE_DIR/../secret.key.",
    )

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json`: one JSON object per log line, with run_id and submission_id on "
        "every line a job writes.",
    )

    judge_base_url: str = "http://127.0.0.1:8090/v1"
    judge_model: str = STANDIN_MODEL
    judge_api_key: SecretStr | None = None
    judge_concurrency: Count = Field(
        default=16, le=1024, description="Judge calls in flight in this process."
    )
    judge_global_concurrency: Count | None = Field(
        default=None,
        description="Judge calls in flight across every process sharing REDIS_URL (leased "
        "permits). Unset: no limit beyond each process's JUDGE_CONCURRENCY.",
    )
    judge_permit_lease_seconds: float = Field(
        default=30.0,
        ge=0.5,
        description="How long a global judge permit outlives a process that stopped renewing it.",
    )
    judge_timeout_seconds: PositiveSeconds = 120.0
    judge_max_transport_retries: Retries = 5
    judge_max_parse_retries: Retries = 2
    judge_backoff_base_seconds: NonNegative = 0.5
    judge_backoff_cap_seconds: NonNegative = 30.0
    judge_seed: int = 1234
    judge_max_tokens: int = Field(
        default=512,
        ge=16,
        description="Reply budget per judge call; a thinking model needs room for its reasoning "
        "too (docs/scoring.md).",
    )
    judge_max_answer_chars: int = Field(default=8000, ge=100)
    judge_max_context_chars: int = Field(
        default=16000,
        ge=100,
        description="Case narrative shown to the judge; longer ones are cut and flagged.",
    )
    judge_send_images: bool = False
    judge_max_image_bytes: Count = Field(
        default=5 * 1024 * 1024,
        description="Largest image sent to a vision judge; an item with a larger one is a judge "
        "error.",
    )
    judge_error_tolerance: Share = Field(
        default=0.02,
        description="Largest share of items with judge errors that still lets a run be scored.",
    )

    judge_outage_retry_hours: NonNegative = Field(
        default=6.0,
        description="How long a run waits for a judge that is down or refusing before it fails "
        "for good (0: fail at once).",
    )
    judge_outage_first_delay_seconds: PositiveSeconds = 5.0
    judge_outage_max_delay_seconds: PositiveSeconds = 300.0

    run_batch_size: Count = Field(
        default=32,
        description="Most item results written per commit (see JUDGE_FLUSH_SECONDS).",
    )
    judge_flush_seconds: PositiveSeconds = Field(
        default=1.0,
        le=60,
        description="Longest a judged item waits before it is written; a killed worker repeats "
        "at most the calls in flight and the items judged in this time.",
    )
    run_stale_after_seconds: PositiveSeconds = Field(
        default=120.0, description="A judging run whose heartbeat is older is taken over."
    )
    reaper_interval_seconds: Count = 15
    inprocess_max_runs: Count = 2

    max_upload_bytes: Count = 50 * 1024 * 1024
    request_body_timeout_seconds: PositiveSeconds = Field(
        default=30.0,
        description="Longest wait for the next part of a request body; then 408 and the "
        "connection is closed.",
    )
    max_prediction_chars: Count = 8000

    cookie_secure: bool = Field(
        default=False,
        description="Set when the site is served over https: its cookies get the Secure flag.",
    )

    # Submissions (model developers)
    submissions_per_day: Count = Field(
        default=5, description="Per team and track, in any rolling 24 hours."
    )

    public_input_fields: str = Field(
        default="question,context,images",
        description="Gold fields handed out in the participant's kit (comma-separated; any of "
        "question, context, images). Answers and the other gold fields never are.",
    )

    # The About page's links (the paper names one anonymous address for data and code)
    benchmark_paper_url: str | None = Field(
        default=None, description="The paper; unset: the About page says it is not yet public."
    )
    benchmark_dataset_url: str = "https://anonymous.4open.science/r/MMRareBench-C80E/"
    benchmark_code_url: str = "https://anonymous.4open.science/r/MMRareBench-C80E/"

    # Leaderboards (visitors)
    bootstrap_resamples: int = Field(default=1000, ge=100)
    bootstrap_seed: int = 20260101
    leaderboard_page_size: int = Field(default=100, ge=10)
    min_ranked_coverage: Share = Field(
        default=0.9,
        description="Share of a track's gold items a submission must answer to be published.",
    )
    leaderboard_recheck_seconds: NonNegative = Field(
        default=1.0,
        description="How long a process trusts its last look for leaderboard changes (0: always).",
    )

    # Rejudging (maintainers)
    rejudge_max_error_share: Share = Field(
        default=0.02, description="A rejudge with more judge errors does not switch."
    )
    rejudge_judge_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of the judge limit (JUDGE_GLOBAL_CONCURRENCY when set, else "
        "JUDGE_CONCURRENCY) rejudge runs may use, so uploads keep flowing.",
    )

    @field_validator("public_input_fields")
    @classmethod
    def _known_input_fields(cls, value: str) -> str:
        fields = [name.strip().lower() for name in value.split(",") if name.strip()]
        unknown = sorted(set(fields) - set(PUBLISHABLE_INPUT_FIELDS))
        if unknown:
            raise ValueError(
                f"PUBLIC_INPUT_FIELDS names {', '.join(unknown)}, which may not be handed out; "
                f"choose among {', '.join(PUBLISHABLE_INPUT_FIELDS)}"
            )
        return ",".join(name for name in PUBLISHABLE_INPUT_FIELDS if name in fields)

    @property
    def public_inputs(self) -> tuple[str, ...]:
        """The gold fields a participant's kit carries, in a fixed order."""
        return tuple(name for name in self.public_input_fields.split(",") if name)

    @field_validator("s3_prefix")
    @classmethod
    def _usable_key_prefix(cls, value: str) -> str:
        # Refused here, at start-up, rather than by the bucket at the first upload.
        check_text("S3_PREFIX", value)  # no NUL, control character or lone surrogate
        room = S3_MAX_KEY_BYTES - 64  # the sha256 follows the prefix
        if len(value.encode()) > room:
            raise ValueError(f"S3_PREFIX is longer than {room} bytes (UTF-8); shorten it")
        return value

    @field_validator("judge_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def uses_arq(self) -> bool:
        return bool(self.redis_url)

    @property
    def storage_backend_in_use(self) -> StorageBackend:
        if self.storage_backend is not None:
            return self.storage_backend
        if self.database_url.startswith("postgres"):
            return StorageBackend.DATABASE
        return StorageBackend.DIRECTORY

    def resolve_keys(self) -> "Keys":
        """Read (or create) the service's key once and derive every key from it. Called at
        start-up; refuses the deploy/env.example placeholder."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            value = self.secret_key.get_secret_value()
            if value.strip().lower().startswith(PLACEHOLDER_SECRET_PREFIX):
                raise ConfigurationError(
                    "SECRET_KEY is still the placeholder from deploy/env.example; set it to 64 "
                    "random hex characters (e.g. `python -c 'import secrets; "
                    "print(secrets.token_hex(32))'`), or leave it unset to have one generated "
                    f"into {self.storage_dir.parent / 'secret.key'}"
                )
            return Keys.derive(value.encode())
        path = self.storage_dir.parent / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
        return Keys.derive(path.read_text().strip().encode())


@dataclass(frozen=True, repr=False)
class Keys:
    """The keys a process uses, each named for what it keys. Derived from SECRET_KEY (or the
    generated key file) with HMAC domain separation, so no key can stand in for another."""

    prompt_nonce_key: bytes  # the secret itself: judge-cache keys of stored runs stay valid
    form_key: bytes  # CSRF tokens of the upload form and the maintainer pages
    view_link_key: bytes  # the view keys in private submissions' links
    admin_session_key: bytes  # the maintainer pages' signed sign-in cookie

    @classmethod
    def derive(cls, secret: bytes) -> "Keys":
        return cls(
            prompt_nonce_key=secret,
            form_key=_derive(secret, "form"),
            view_link_key=_derive(secret, "view-link"),
            admin_session_key=_derive(secret, "admin-session"),
        )

    def __repr__(self) -> str:  # never print a key
        return "Keys(<hidden>)"


def tokens_match(given: str, expected: str) -> bool:
    """Constant-time comparison of a token a client sent (a view key, a CSRF value) with the
    expected one. Any text — non-ASCII, lone surrogates — is a mismatch, never an error."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"mmrare key: {purpose}".encode(), hashlib.sha256).digest()


@lru_cache
def get_settings() -> Settings:
    """The settings from the environment. ConfigurationError when any is refused: one line per
    variable, naming it and how to fix it, never its value (it may be a secret)."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(refused_settings(exc)) from None


def refused_settings(error: ValidationError) -> str:
    lines = []
    for problem in error.errors(include_url=False, include_input=False, include_context=False):
        name = str(problem["loc"][0]).upper() if problem["loc"] else "a setting"
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(message if message.startswith(name) else f"{name}: {message}")
    return "\n".join(lines)


class ClientSettings(BaseSettings):
    """What `mmrare submit` and `mmrare status` need to reach a server (MMRARE_* variables)."""

    model_config = SettingsConfigDict(
        env_file=None, env_prefix="MMRARE_", extra="ignore", case_sensitive=False
    )

    server: str = Field(
        default="http://127.0.0.1:8000", description="MMRARE_SERVER: the leaderboard's base URL."
    )
    token: str | None = Field(
        default=None, description="MMRARE_TOKEN: your team's API token (`mmrare token create`)."
    )
