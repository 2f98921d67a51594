"""Log set-up for every process: text or JSON lines (LOG_FORMAT), quiet libraries, and the run
and submission a job works on stamped on every line it writes.

The ids live in context variables: `bind_job` inside a job's task sets them for that task and
whatever it awaits, and a filter copies them onto each record, so no call site passes them."""

import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

_RUN_ID: ContextVar[int | None] = ContextVar("mmrare_run_id", default=None)
_SUBMISSION_ID: ContextVar[int | None] = ContextVar("mmrare_submission_id", default=None)

# Libraries whose INFO lines are per request or per migration step: noise around a command's own
# output (and one line per judge call in a worker). `-v` brings them back.
CHATTY_LIBRARIES = ("httpx", "httpcore", "alembic", "asyncio")


def bind_job(*, run_id: int | None = None, submission_id: int | None = None) -> None:
    """Stamp this task's log lines with the run (and submission) it is working on."""
    if run_id is not None:
        _RUN_ID.set(run_id)
    if submission_id is not None:
        _SUBMISSION_ID.set(submission_id)


class JobContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = _RUN_ID.get()
        record.submission_id = _SUBMISSION_ID.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = _ids(record)
        if not ids:
            return line
        return f"{line} [{' '.join(f'{key}={value}' for key, value in ids.items())}]"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the job's ids,
    and the exception's text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_ids(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _ids(record: logging.LogRecord) -> dict[str, int]:
    ids = {}
    for key in ("run_id", "submission_id"):
        value = getattr(record, key, None)
        if value is not None:
            ids[key] = value
    return ids


def logging_config(
    log_format: LogFormat, *, verbose: int = 0, service: bool = False
) -> dict[str, Any]:
    """The `logging.config.dictConfig` for a process. `service`: a long-running process (serve,
    worker, demo) logs its own INFO lines; a short command stays quiet below WARNING. `verbose` 1
    shows every library's INFO lines, 2 DEBUG. uvicorn takes the same dictionary (`log_config`),
    so its lines — in each of its worker processes too — look like ours."""
    level = "DEBUG" if verbose >= 2 else "INFO" if service or verbose else "WARNING"
    library_level = "DEBUG" if verbose >= 2 else "INFO" if verbose else "WARNING"
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"job": {"()": f"{__name__}.JobContextFilter"}},
        "formatters": {"line": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["job"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own loggers: no handlers of theirs, so their lines reach ours once.
            **{
                name: {"level": level, "handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            **{name: {"level": library_level} for name in CHATTY_LIBRARIES},
        },
    }


def configure_logging(log_format: LogFormat, *, verbose: int = 0, service: bool = False) -> None:
    logging.config.dictConfig(logging_config(log_format, verbose=verbose, service=service))
