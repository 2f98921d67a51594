"""The participant's kit as a participant gets it: `GET /api/v1/tracks/{track}/inputs` (a zip),
the per-image URLs, and `mmrare inputs` unpacking it from a served app. The kit carries the
public inputs only: every byte is scanned for every gold-only value of the demo bundle."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.db.models import GoldVersion
from app.formats.predictions import parse_predictions
from app.tracks import Track
from tests.integration.helpers import (
    DEMO_GOLD,
    InProcessApp,
    in_process_app,
    kit_settings,
    serve,
    sqlite_template,
)
from tests.support import run_mmrare

PUBLIC_FIELDS = {"id", "track", "question", "context", "images"}
GOLD_ONLY_KEYS = {"answer", "aliases", "orpha_code", "category", "targets", "evidence"}


def gold_rows(track: Track) -> list[dict[str, Any]]:
    rows = map(json.loads, DEMO_GOLD.read_text().splitlines())
    return [row for row in rows if row["track"] == track.value]


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for element in value:
            yield from strings(element)
    elif isinstance(value, dict):
        for key, element in value.items():
            yield key
            yield from strings(element)
    elif value is not None:
        yield json.dumps(value)


def gold_only_strings(track: Track) -> set[str]:
    """Every value of a non-public field of the track's items (answers, aliases, ORPHA codes,
    categories, targets, notes …), minus the few the bundle itself writes into a public field
    of the same track (T2 gives the working diagnosis in its question, as the paper does)."""
    rows = gold_rows(track)
    public = "\n".join(s for row in rows for key in PUBLIC_FIELDS for s in strings(row.get(key)))
    hidden = {
        s
        for row in rows
        for key, value in row.items()
        if key not in PUBLIC_FIELDS
        for s in strings(value)
    }
    return {s for s in hidden if s not in public}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
async def env(template: Path, tmp_path: Path) -> AsyncIterator[InProcessApp]:
    async with in_process_app(kit_settings(template, tmp_path)) as env:
        yield env


async def kit_of(env: InProcessApp, track: Track) -> tuple[httpx.Response, zipfile.ZipFile]:
    response = await env.client.get(f"/api/v1/tracks/{track.value.lower()}/inputs")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return response, zipfile.ZipFile(io.BytesIO(response.content))


@pytest.mark.parametrize("track", list(Track))
async def test_no_gold_only_value_appears_anywhere_in_a_kit(
    env: InProcessApp, track: Track
) -> None:
    response, kit = await kit_of(env, track)
    hidden = gold_only_strings(track)
    assert len(hidden) > 10  # the scan below has something to find
    blobs = {"(the zip itself)": response.content}
    blobs.update({name: kit.read(name) for name in kit.namelist()})
    for name, blob in blobs.items():
        for value in hidden:
            assert value.encode() not in blob, f"{value!r} in {name}"
    for line in kit.read("inputs.jsonl").decode().splitlines():
        assert set(json.loads(line)) <= PUBLIC_FIELDS | {"image_urls"}
    assert not any(f'"{key}"'.encode() in blob for key in GOLD_ONLY_KEYS for blob in blobs.values())


async def test_a_kit_has_every_id_a_template_the_server_accepts_and_the_gold_version(
    env: InProcessApp,
) -> None:
    response, kit = await kit_of(env, Track.T1)
    rows = gold_rows(Track.T1)
    records = [json.loads(line) for line in kit.read("inputs.jsonl").decode().splitlines()]
    assert [r["id"] for r in records] == sorted(row["id"] for row in rows)
    by_id = {row["id"]: row for row in rows}
    for record in records:
        assert record["question"] == by_id[record["id"]]["question"]
        assert record["context"] == by_id[record["id"]].get("context")
        assert len(record["images"]) == len(by_id[record["id"]].get("images", []))
    manifest = json.loads(kit.read("kit.json"))
    assert manifest["kit_version"] == response.headers["x-kit-version"]
    async with env.sessions() as session:  # the gold version new submissions are scored against
        digest = await session.scalar(select(GoldVersion.digest).order_by(GoldVersion.id.desc()))
    assert digest is not None and digest.startswith(manifest["kit_version"])
    assert f"Kit version {manifest['kit_version']}" in kit.read("README.md").decode()
    template = kit.read("predictions-template.jsonl")
    parsed = parse_predictions(
        template,
        filename="predictions-template.jsonl",
        track=Track.T1,
        gold_ids={row["id"]: Track.T1 for row in rows},
        max_prediction_chars=100,
        max_decompressed_bytes=10**6,
    )
    assert parsed.ok, parsed.report()
    token = await env.token("kit-team")
    filled = b"".join(
        json.dumps({**json.loads(line), "prediction": "a guess"}).encode() + b"\n"
        for line in template.splitlines()
    )
    upload = await env.upload(token, filled, track=Track.T1, filename="predictions.jsonl")
    assert upload.status_code == 201, upload.text
    assert upload.json()["coverage"] == {"answered": len(rows), "total": len(rows)}


async def test_each_image_is_served_by_the_url_its_inputs_give(env: InProcessApp) -> None:
    _, kit = await kit_of(env, Track.T3)
    records = [json.loads(line) for line in kit.read("inputs.jsonl").decode().splitlines()]
    pairs = [(p, u) for r in records for p, u in zip(r["images"], r["image_urls"], strict=True)]
    assert pairs, "T3 items have images"
    for path, url in pairs:
        image = await env.client.get(url)
        assert image.status_code == 200
        assert image.content == kit.read(path)
        assert image.headers["content-type"] == "image/png"
    gold_image = (DEMO_GOLD.parent / "images" / "ct.png").read_bytes()
    assert gold_image in {kit.read(p) for p, _ in pairs}
    for probe in ("ct.png", "..%2Fgold.jsonl", "0" * 32 + ".png"):
        missing = await env.client.get(f"/api/v1/tracks/T3/images/{probe}")
        assert missing.status_code == 404, probe
    assert (await env.client.get("/api/v1/tracks/T9/inputs")).status_code == 404


async def test_the_public_fields_are_the_maintainers_setting(
    template: Path, tmp_path: Path
) -> None:
    settings = kit_settings(template, tmp_path, public_input_fields="question")
    async with in_process_app(settings) as env:
        _, kit = await kit_of(env, Track.T1)
        records = [json.loads(line) for line in kit.read("inputs.jsonl").decode().splitlines()]
        assert all(set(r) == {"id", "track", "question"} for r in records)
        assert not [n for n in kit.namelist() if n.startswith("images/")]
        assert json.loads(kit.read("kit.json"))["public_fields"] == ["id", "track", "question"]
        url = f"/api/v1/tracks/T1/images/{'0' * 32}.png"
        assert (await env.client.get(url)).status_code == 404
    with pytest.raises(ValueError, match="PUBLIC_INPUT_FIELDS names answer"):
        kit_settings(template, tmp_path, public_input_fields="question,answer")


def test_mmrare_inputs_downloads_and_unpacks_the_kit(template: Path, tmp_path: Path) -> None:
    settings = kit_settings(template, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMRARE_")}
    with serve(settings) as url:
        done = run_mmrare(
            "inputs", "--track", "t2", "-o", str(tmp_path / "kit"), "--server", url, env=env
        )
        assert done.returncode == 0, done.stderr
        manifest = json.loads((tmp_path / "kit" / "kit.json").read_text())
        assert done.stdout.startswith(f"T2 inputs, kit version {manifest['kit_version']}: ")
        ids = [
            json.loads(line)["id"]
            for line in (tmp_path / "kit" / "predictions-template.jsonl").read_text().splitlines()
        ]
        assert ids == sorted(row["id"] for row in gold_rows(Track.T2))
        for record in map(json.loads, (tmp_path / "kit" / "inputs.jsonl").read_text().splitlines()):
            for image in record["images"]:
                assert (tmp_path / "kit" / image).is_file()
        refused = run_mmrare(
            "inputs", "--track", "T7", "-o", str(tmp_path / "x"), "--server", url, env=env
        )
        assert refused.returncode == 2 and "'T7' is not a track" in refused.stderr
    gone = run_mmrare(
        "inputs", "--track", "T1", "-o", str(tmp_path / "y"), "--server", url, env=env
    )
    assert gone.returncode == 1 and gone.stderr.startswith("mmrare: cannot reach ")
