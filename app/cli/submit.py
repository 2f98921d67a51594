"""Model developers' commands: submit a prediction file, follow it, publish it.

These talk to a running server over HTTP (MMRARE_SERVER, default http://127.0.0.1:8000) with a
team token (--token or MMRARE_TOKEN); they never touch the database.
"""

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from app.cli.common import CommandError, Subparsers
from app.client.api import ClientError, LeaderboardClient
from app.client.progress import FINAL, ProgressPrinter
from app.config import ClientSettings, Settings
from app.formats.predictions import PredictionFileTooLarge, parse_predictions
from app.rubrics.labels import dimension_labels
from app.submission_verbs import ACTIONS, DONE
from app.tracks import Track


def _client(args: argparse.Namespace) -> LeaderboardClient:
    client_settings = ClientSettings()
    server = args.server or client_settings.server
    token = args.token or client_settings.token
    if not token:
        raise CommandError(
            "no API token: pass --token or set MMRARE_TOKEN "
            "(a maintainer creates one with `mmrare token create --team NAME`)"
        )
    return LeaderboardClient(server, token)


def _track(value: str | None) -> Track | None:
    if value is None or value.lower() == "multi":
        return None
    try:
        return Track(value.upper())
    except ValueError:
        choices = ", ".join(t.value for t in Track)
        raise CommandError(f"--track {value!r} is not one of {choices} or multi") from None


def validate_locally(path: Path, track: Track | None, settings: Settings) -> bytes:
    """The server's validator, without the gold ids (unknown ids are the server's to report)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > settings.max_upload_bytes:
        raise CommandError(
            f"{path.name} is {len(data):,} bytes; the upload limit is "
            f"{settings.max_upload_bytes:,} — split it into one file per track, or gzip it"
        )
    try:
        parsed = parse_predictions(
            data,
            filename=path.name,
            track=track,
            gold_ids=None,
            max_prediction_chars=settings.max_prediction_chars,
            max_decompressed_bytes=settings.max_upload_bytes,
        )
    except PredictionFileTooLarge as exc:
        raise CommandError(f"{path.name}: {exc}") from None
    if not parsed.ok:
        raise CommandError(parsed.report() + "\n(checked locally; nothing was uploaded)")
    print(parsed.report(), file=sys.stderr)
    return data


def _summary(status: dict[str, Any], client: LeaderboardClient) -> str:
    head = f"{status['track']} submission {status['id']} (model {status['model']})"
    coverage = status["coverage"]
    if status["state"] == "rejected":
        return f"{head}: rejected"
    result = status.get("result")
    line = f"{head}: {status.get('status')}"
    waiting = (status.get("progress") or {}).get("waiting")
    if waiting:
        line += f" — {waiting}"
    if status.get("duplicate"):
        line += " — the same file was already submitted; this is that submission"
    if result:
        line += f" · score {result['score']:.1f}"
        if result.get("f1") is not None:
            line += f" · T1 F1 {result['f1']:.1f}"
        labelled = dimension_labels(result["dimension_means"], status["track"])
        means = ", ".join(f"{k} {v:.1f}" for k, v in labelled.items())
        line += f" · dimensions: {means}"
    line += f" · coverage {coverage['answered']}/{coverage['total']}"
    if status.get("empty_predictions"):
        line += f" ({status['empty_predictions']} empty, scored 0)"
    url = client.url(status.get("status_url"))
    if url:
        line += f"\n  status page: {url}"
    return line


def _wait(
    client: LeaderboardClient, ids: list[int], interval: float, timeout: float
) -> list[dict[str, Any]]:
    printer = ProgressPrinter(sys.stderr)
    deadline = time.monotonic() + timeout if timeout > 0 else None
    while True:
        statuses = [client.status(submission_id) for submission_id in ids]
        printer.show(statuses)
        if all(status.get("status") in FINAL for status in statuses):
            return statuses
        if deadline is not None and time.monotonic() > deadline:
            raise CommandError(
                f"still not finished after {timeout:g} s; follow it with `mmrare status ID`"
            )
        time.sleep(interval)


def cmd_submit(args: argparse.Namespace, settings: Settings) -> None:
    path = Path(args.file)
    track = _track(args.track)
    client = _client(args)  # a missing token is reported before any work
    with client:
        validate_locally(path, track, settings)
        _upload(client, args, path, track)


def _upload(
    client: LeaderboardClient, args: argparse.Namespace, path: Path, track: Track | None
) -> None:
    form = {
        key: value
        for key, value in {
            "organisation": args.organisation,
            "category": args.category,
            "open_weights": "true" if args.open_weights else None,
            "medical": "true" if args.medical else None,
        }.items()
        if value
    }
    try:
        result = client.upload(
            path, model=args.model, track=track.value if track else None, form=form
        )
        if result.rejected:
            error = result.body.get("error", {})
            raise ClientError(
                f"server answered 422: {error.get('message', 'the file was not accepted')}",
                status=422,
                details=error.get("details", []),
            )
        for status in result.submissions:
            print(_summary(status, client))
        if not args.wait:
            return
        final = _wait(client, [s["id"] for s in result.submissions], args.interval, args.timeout)
    except ClientError as exc:
        raise CommandError(str(exc)) from None
    for status in final:
        print(_summary(status, client))
    failed = [s for s in final if s.get("status") != "scored"]
    if failed:
        raise CommandError(
            "; ".join(
                f"{s['track']} submission {s['id']} {s.get('status')}: {s.get('failure') or '-'}"
                for s in failed
            )
        )


def cmd_status(args: argparse.Namespace, settings: Settings) -> None:
    with _client(args) as client:
        try:
            status = client.status(args.id)
        except ClientError as exc:
            raise CommandError(str(exc)) from None
        print(_summary(status, client))
        if status["state"] == "rejected":
            for error in status.get("errors", []):
                where = f"line {error['line']}" if error.get("line") else "file"
                print(f"  {where}: {error['message']}")


def cmd_action(args: argparse.Namespace, settings: Settings) -> None:
    with _client(args) as client:
        try:
            status = client.action(args.id, args.action)
        except ClientError as exc:
            raise CommandError(str(exc)) from None
        print(_changed(args.action, status))


def _changed(action: str, status: dict[str, Any]) -> str:
    """What an action changed: "published T1 submission 12 (model X) …", not its status line."""
    head = f"{DONE[action]} {status['track']} submission {status['id']} (model {status['model']})"
    run = status.get("status")
    if action == "publish":
        when = "now" if run == "scored" else "once it is scored"
        return f"{head}: it shows on the leaderboard {when}"
    if action == "unpublish":
        return f"{head}: it is off the leaderboard and private again"
    if action in ("pin", "unpin"):
        return f"{head}: its model's row shows {'it' if action == 'pin' else 'its latest'}"
    if action == "cancel":
        return f"{head}: items judged so far are kept; `mmrare submission requeue {status['id']}`"
    return f"{head}: {run}; items stored before are kept"


def _connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server", help="the leaderboard's URL (default: $MMRARE_SERVER or http://127.0.0.1:8000)"
    )
    parser.add_argument("--token", help="your team's API token (default: $MMRARE_TOKEN)")


def register(subparsers: Subparsers) -> None:
    submit = subparsers.add_parser(
        "submit",
        help="validate a prediction file locally, upload it, optionally wait for its score",
        description="Validate FILE with the server's own rules (minus the gold ids), upload it "
        "and print the submission. Exit code 1 with the server's message on any failure.",
    )
    submit.add_argument("file", help="JSONL or JSON array of {id, prediction}; .gz accepted")
    submit.add_argument(
        "--track",
        help="T1, T2, T3 or T4; leave out (or 'multi') when every line names its track: one "
        "submission per track in the file",
    )
    submit.add_argument("--model", required=True, help="model name as shown on the leaderboard")
    _connection_flags(submit)
    submit.add_argument(
        "--wait",
        action="store_true",
        help="show progress on stderr until scored or failed (exit 1 unless scored)",
    )
    submit.add_argument(
        "--interval", type=float, default=2.0, help="seconds between status checks (--wait)"
    )
    submit.add_argument(
        "--timeout",
        type=float,
        default=0,
        help="give up waiting after this many seconds (0: never)",
    )
    new_model = submit.add_argument_group("a new model's details (ignored for an existing model)")
    new_model.add_argument("--organisation")
    new_model.add_argument("--open-weights", action="store_true")
    new_model.add_argument("--medical", action="store_true", help="a medical-domain model")
    new_model.add_argument("--category", choices=("general", "medical", "medical_unified"))
    submit.set_defaults(handler=cmd_submit)

    status = subparsers.add_parser(
        "status", help="a submission's status and scores (aggregates only)"
    )
    status.add_argument("id", type=int, help="submission id")
    _connection_flags(status)
    status.set_defaults(handler=cmd_status)

    submission = subparsers.add_parser(
        "submission",
        help="publish, unpublish, pin, unpin, cancel or re-queue one of your submissions",
    )
    submission.add_argument("action", choices=ACTIONS)
    submission.add_argument("id", type=int, help="submission id")
    _connection_flags(submission)
    submission.set_defaults(handler=cmd_action)
