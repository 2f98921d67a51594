"""`mmrare inputs`: download a track's participant's kit from a running server and unpack it.

Like `mmrare submit`, it talks to the server over HTTP (MMRARE_SERVER); the inputs are public,
so no token is needed.
"""

import argparse
import json
import tempfile
import zipfile
from pathlib import Path

from app.cli.common import CommandError, Subparsers, track_arg
from app.client.api import ClientError, LeaderboardClient
from app.config import ClientSettings, Settings
from app.formats.kit import INPUTS_NAME, MANIFEST_NAME, TEMPLATE_NAME


def cmd_inputs(args: argparse.Namespace, settings: Settings) -> None:
    target = Path(args.output)
    if target.exists() and not target.is_dir():
        raise CommandError(f"{target} exists and is not a directory; choose another -o DIR")
    server = args.server or ClientSettings().server
    with LeaderboardClient(server, None) as client, tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "kit.zip"
        try:
            client.download(f"/api/v1/tracks/{args.track.value}/inputs", archive)
        except ClientError as exc:
            raise CommandError(str(exc)) from None
        try:
            with zipfile.ZipFile(archive) as kit:
                _check_members(kit.namelist())
                target.mkdir(parents=True, exist_ok=True)
                kit.extractall(target)
        except zipfile.BadZipFile:
            raise CommandError(f"{server} did not send a zip for the {args.track} inputs") from None
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    print(
        f"{args.track.value} inputs, kit version {manifest['kit_version']}: "
        f"{manifest['items']} items, {manifest['images']} images in {target}/ "
        f"({INPUTS_NAME}, {TEMPLATE_NAME})"
    )


def _check_members(names: list[str]) -> None:
    """Members stay inside the target directory (no absolute paths, no '..')."""
    for name in names:
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts:
            raise CommandError(f"the kit holds an unsafe path {name!r}; nothing was unpacked")


def register(subparsers: Subparsers) -> None:
    inputs = subparsers.add_parser(
        "inputs",
        help="download a track's inputs (questions, cases, images, a prediction template)",
        description="Download the participant's kit of a track from the leaderboard and unpack "
        f"it into DIR: {INPUTS_NAME}, the images, {TEMPLATE_NAME} (every id, in the upload "
        f"format) and {MANIFEST_NAME} (its version: the gold version submissions are scored "
        "against). No token needed.",
    )
    inputs.add_argument("--track", required=True, type=track_arg, help="T1, T2, T3 or T4")
    inputs.add_argument("-o", "--output", required=True, metavar="DIR", help="where to unpack")
    inputs.add_argument(
        "--server", help="the leaderboard's URL (default: $MMRARE_SERVER or http://127.0.0.1:8000)"
    )
    inputs.set_defaults(handler=cmd_inputs)
