"""The built wheel alone runs the service: built from this checkout, installed with the runtime
lock into a fresh virtual environment outside it, then migrated and served from an empty
directory, with nothing from the checkout importable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.resources import BUNDLED_DIR, CHECKOUT_DIR, IN_PACKAGE, PACKAGE_DIR, TOP_LEVEL
from tests.support import free_port, wait_until

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"  # from the dev extra

# The test server trusts every local connection, so any password gets in; it must not be printed.
DATABASE_PASSWORD = "wheel-test-password"
# Each path the installed service must answer 200 on.
SERVED_PATHS = (
    "/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/static/leaderboard.css",
    "/analysis/domain-gap",
)


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"{argv} exited {result.returncode}:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(UV, "build", "--wheel", "--quiet", "--out-dir", out, REPO_ROOT, cwd=out)
    (built,) = out.glob("*.whl")
    return built


def _files_under(directory: Path) -> set[str]:
    return {
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_carries_every_file_the_service_reads(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package = PACKAGE_DIR.name
    for resource in TOP_LEVEL:  # templates/ and migrations/, every file of them
        inside = (BUNDLED_DIR / resource).relative_to(CHECKOUT_DIR).as_posix()
        expected = {f"{inside}/{name}" for name in _files_under(CHECKOUT_DIR / resource)}
        assert expected, resource
        assert expected <= names, sorted(expected - names)
    for resource, relative in IN_PACKAGE.items():  # static files, rubrics, demo data, …
        location = PACKAGE_DIR / relative
        files = _files_under(location) if location.is_dir() else {""}
        expected = {f"{package}/{relative}/{name}".rstrip("/") for name in files}
        assert expected <= names, (resource, sorted(expected - names))


def test_the_wheel_offers_the_s3_extra_the_docs_name(wheel: Path) -> None:
    """`pip install 'mmrarebench-leaderboard[s3]'` (README, the s3 store's start-up error)
    brings boto3: the wheel's metadata says so."""
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
    lines = archive.read(metadata).decode().splitlines()
    assert "Provides-Extra: s3" in lines
    requires = [line.replace("'", '"') for line in lines if line.startswith("Requires-Dist:")]
    assert any(
        line.startswith("Requires-Dist: boto3") and 'extra == "s3"' in line for line in requires
    ), requires


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment outside the checkout: the runtime lock, then the wheel."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    cwd = venv.parent
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv, cwd=cwd)
    python = venv / "bin" / "python"
    lock = REPO_ROOT / "requirements.lock"
    _run(
        UV, "pip", "install", "--quiet", "--python", python, "--require-hashes", "-r", lock, cwd=cwd
    )
    _run(UV, "pip", "install", "--quiet", "--python", python, "--no-deps", wheel, cwd=cwd)
    return venv


@pytest.fixture
def user_env(installed: Path, empty_postgres_url: str, tmp_path: Path) -> dict[str, str]:
    """What an operator sets: the settings, a PATH to the installed script, nothing else."""
    return {
        "PATH": f"{installed / 'bin'}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": make_url(empty_postgres_url)
        .set(password=DATABASE_PASSWORD)
        .render_as_string(hide_password=False),
        "STORAGE_DIR": str(tmp_path / "uploads"),
        "SECRET_KEY": "wheel-install-test-secret",
    }


@pytest.fixture
def served(installed: Path, user_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """`mmrare db upgrade && mmrare serve` in an empty directory; yields the base URL."""
    workdir = tmp_path / "anywhere"
    workdir.mkdir()
    where = _run("python", "-c", "import app; print(app.__file__)", cwd=workdir, env=user_env)
    assert Path(where.strip()).is_relative_to(installed), f"app imported from {where}"

    mmrare = shutil.which("mmrare", path=user_env["PATH"])
    assert mmrare == str(installed / "bin" / "mmrare")
    upgraded = _run(mmrare, "db", "upgrade", cwd=workdir, env=user_env)
    assert "is at the latest revision" in upgraded
    assert DATABASE_PASSWORD not in upgraded

    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [mmrare, "serve", "--port", str(port)],
            cwd=workdir,
            env=user_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"

    def alive() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"mmrare serve exited: {log_path.read_text()}")
        try:
            return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(alive, 60, message=lambda: f"mmrare serve to answer: {log_path.read_text()}")
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def test_the_installed_wheel_migrates_and_serves_from_any_directory(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        answers = {path: client.get(path).status_code for path in SERVED_PATHS}
    assert answers == dict.fromkeys(SERVED_PATHS, 200)
