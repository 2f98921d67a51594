"""`mmrare`: the command line. Each command is a thin shell over app.services."""

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from app.config import Settings, get_settings
from app.db.session import create_engine, create_session_factory, unit_of_work
from app.errors import DomainError
from app.formats.gold_bundle import GoldBundleError

T = TypeVar("T")


class CommandError(Exception):
    """A failure to report on stderr with exit code 1 (no traceback)."""


def _with_session(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> None:
    from app.db.migrate import upgrade
    from app.services.configuration import ensure_track_configuration

    upgrade(settings.database_url)
    _with_session(settings, lambda s: ensure_track_configuration(s, settings))
    print(f"database at {settings.database_url} is at the latest revision")


def cmd_gold_import(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.gold_import import import_gold_bundle

    result = _with_session(settings, lambda s: import_gold_bundle(s, Path(args.path)))
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(result.track_counts.items()))
    verb = "imported as new" if result.created else "unchanged: already stored as"
    print(
        f"{result.item_count} gold items ({counts}) {verb} gold version {result.version_id} "
        f"(digest {result.digest[:12]})"
    )


def cmd_seed_reported(args: argparse.Namespace, settings: Settings) -> None:
    from app.services.reported import read_csv, seed_reported

    text = read_csv(Path(args.csv)) if args.csv else None
    report = _with_session(settings, lambda s: seed_reported(s, text))
    print(f"reported entries: {report.created} added, {report.updated} updated")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from app.web.app import create_app

    mode = "arq workers" if settings.uses_arq else "in-process jobs"
    print(f"serving on http://{args.host}:{args.port} ({mode})", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    if not settings.uses_arq:
        raise CommandError("REDIS_URL is not set: without it jobs run inside `mmrare serve`")
    from arq.worker import run_worker

    from workers.main import WorkerSettings

    run_worker(WorkerSettings)  # type: ignore[arg-type]


def cmd_judge_standin(args: argparse.Namespace, settings: Settings) -> None:
    from app.judge.standin import standin_from_args

    standin_from_args(args)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> None:
    from app.demo.run import run_demo

    code = run_demo(
        settings, host=args.host, port=args.port, judge_port=args.judge_port, smoke=args.smoke
    )
    if code:
        raise SystemExit(code)


def build_parser() -> argparse.ArgumentParser:
    from app.judge.standin import add_standin_arguments

    parser = argparse.ArgumentParser(
        prog="mmrare",
        description="MMRareBench leaderboard service. Settings come from environment variables "
        "(DATABASE_URL, REDIS_URL, JUDGE_BASE_URL, JUDGE_MODEL, JUDGE_API_KEY, JUDGE_CONCURRENCY, "
        "STORAGE_DIR, …; see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve", help="run the API and pages (and jobs, when REDIS_URL is unset)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run an arq worker that judges queued runs")
    worker.set_defaults(handler=cmd_worker)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser(
        "upgrade", help="apply every migration and register the bundled rubrics"
    ).set_defaults(handler=cmd_db_upgrade)

    gold = sub.add_parser("gold", help="hidden gold sets")
    gold_sub = gold.add_subparsers(dest="gold_command", required=True, metavar="ACTION")
    gold_import = gold_sub.add_parser(
        "import", help="import a gold JSONL bundle (see docs/formats.md); same bundle = no change"
    )
    gold_import.add_argument("path", help="path to the bundle's JSONL file")
    gold_import.set_defaults(handler=cmd_gold_import)

    seed = sub.add_parser("seed-reported", help="load the paper's reported results (Tables 2–3)")
    seed.add_argument("--csv", help="a CSV with the same columns (default: the bundled copy)")
    seed.set_defaults(handler=cmd_seed_reported)

    standin = sub.add_parser(
        "judge-standin",
        help="run the deterministic reference judge (for demos, tests and benchmarks only)",
    )
    add_standin_arguments(standin)
    standin.set_defaults(handler=cmd_judge_standin)

    demo = sub.add_parser(
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
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        args.handler(args, get_settings())
    except (CommandError, DomainError, GoldBundleError) as exc:
        print(f"mmrare: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
