"""Running the service: serve, worker, db upgrade, judge-standin, demo."""

import argparse
import contextlib
import os
import tempfile
from collections.abc import Iterator

from app.cli.common import CommandError, Subparsers, add_command_group, run_in_session
from app.config import Settings
from app.ports import PortBusy, require_free


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from app.observability.logs import logging_config

    if args.workers < 1:
        raise CommandError(f"--workers must be at least 1, not {args.workers}")
    if args.workers > 1 and not settings.uses_arq:
        raise CommandError(
            "--workers above 1 needs REDIS_URL: without it each process would run jobs of its own"
        )
    _require_free(args.host, args.port, "--port")
    mode = "arq workers" if settings.uses_arq else "in-process jobs"
    print(f"serving on http://{args.host}:{args.port} ({mode})", flush=True)
    log_config = logging_config(settings.log_format, verbose=args.verbose, service=True)
    if args.workers == 1:
        from app.web.app import create_app

        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_config=log_config)
        return
    with _shared_metrics_dir():
        # Each uvicorn worker imports the app afresh (with the settings from the environment),
        # and writes its metrics where a scrape of any worker reads them all.
        uvicorn.run(
            "app.web.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_config=log_config,
        )


@contextlib.contextmanager
def _shared_metrics_dir() -> Iterator[None]:
    from app.observability.metrics import MULTIPROC_ENV

    if os.environ.get(MULTIPROC_ENV):  # the operator chose a directory
        yield
        return
    with tempfile.TemporaryDirectory(prefix="mmrare-metrics-") as directory:
        os.environ[MULTIPROC_ENV] = directory
        try:
            yield
        finally:
            del os.environ[MULTIPROC_ENV]


def _require_free(host: str, port: int, flag: str) -> None:
    try:
        require_free(host, port, flag)
    except PortBusy as exc:
        raise CommandError(str(exc)) from None


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    if not settings.uses_arq:
        raise CommandError("REDIS_URL is not set: without it jobs run inside `mmrare serve`")
    from arq.worker import run_worker

    from workers.main import WorkerSettings

    ctx = {"metrics_port": args.metrics_port, "metrics_host": args.metrics_host}
    run_worker(WorkerSettings, ctx=ctx)  # type: ignore[arg-type]


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> None:
    from sqlalchemy.engine import make_url

    from app.db.migrate import upgrade
    from app.services.configuration import ensure_track_configuration

    upgrade(settings.database_url)
    run_in_session(settings, lambda s: ensure_track_configuration(s, settings))
    # The URL without its password: this line lands in deployment logs (a migration Job's).
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    print(f"database at {shown} is at the latest revision")


def cmd_judge_standin(args: argparse.Namespace, settings: Settings) -> None:
    from app.standin.command import run

    run(args, args.standin_parser)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    from app.demo.run import run_demo

    try:
        code = run_demo(
            settings, host=args.host, port=args.port, judge_port=args.judge_port, smoke=args.smoke
        )
    except PortBusy as exc:
        raise CommandError(str(exc)) from None
    if code:
        raise SystemExit(code)


def register(subparsers: Subparsers) -> None:
    from app.standin.command import DESCRIPTION, add_arguments

    serve = subparsers.add_parser(
        "serve", help="run the API and pages (and jobs, when REDIS_URL is unset)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (above 1 needs REDIS_URL); /metrics sums them all",
    )
    serve.set_defaults(handler=cmd_serve)

    worker = subparsers.add_parser("worker", help="run an arq worker that judges queued runs")
    worker.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus metrics on this port (GET /metrics); off when not given",
    )
    worker.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address for --metrics-port (default %(default)s)",
    )
    worker.set_defaults(handler=cmd_worker)

    db_actions = add_command_group(subparsers, "db", help="database maintenance")
    db_actions.add_parser(
        "upgrade", help="apply every migration and register the bundled rubrics"
    ).set_defaults(handler=cmd_db_upgrade)

    standin = subparsers.add_parser(
        "judge-standin",
        help="serve the deterministic reference judge (for demos, tests and benchmarks only)",
        description=DESCRIPTION,
    )
    add_arguments(standin)
    standin.set_defaults(handler=cmd_judge_standin, standin_parser=standin)

    demo = subparsers.add_parser(
        "demo",
        help="migrate, import the demo gold set and the paper's results, start the reference "
        "judge and the service with in-process jobs",
    )
    demo.add_argument(
        "--smoke",
        action="store_true",
        help="submit the sample predictions, wait for scores, print the board, exit",
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--judge-port", type=int, default=8090)
    demo.set_defaults(handler=cmd_demo)
