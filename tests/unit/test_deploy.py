"""deploy/ names only what exists: every file parses, every `mmrare` command parses with the
real command line, every setting is a field of Settings, every port and path is one the service
serves, and the systemd units, the image, compose and Kubernetes run the same commands.

Nothing is built or started here (no registry but PyPI is reachable): these are static checks.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from arq.constants import default_queue_name
from fastapi.routing import iter_route_contexts

from app.cli import build_parser
from app.config import Settings
from app.queue import WORKER_MAX_JOBS
from app.resources import TOP_LEVEL
from app.web.app import create_app
from workers.main import WorkerSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
K8S_DOCS = [
    (path.name, doc)
    for path in sorted((DEPLOY / "k8s").glob("*.yaml"))
    for doc in yaml.safe_load_all(path.read_text())
]
NGINX = (DEPLOY / "nginx" / "mmrare.conf").read_text()
UNITS = {path.name: path.read_text() for path in sorted(DEPLOY.glob("*.service"))}

SETTINGS = {name.upper() for name in Settings.model_fields}
# Environment variables deploy/ may set that are not the service's settings.
RUNTIME_ENV = {
    "PATH",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PIP_DISABLE_PIP_VERSION_CHECK",
    "PIP_NO_CACHE_DIR",
}
# The service roles every way of deploying runs (the stand-in judge is for trying things out).
ROLES = {("serve",), ("worker",), ("db", "upgrade")}


# --- helpers -----------------------------------------------------------------------------------


def parse_command(argv: list[str]) -> argparse.Namespace:
    """`mmrare ARGS` parsed by the real parser: an unknown command or flag fails the test."""
    assert argv and Path(argv[0]).name == "mmrare", argv
    try:
        return build_parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"not a valid mmrare command line: {shlex.join(argv)}")


def role(args: argparse.Namespace) -> tuple[str, ...]:
    return (args.command, args.db_command) if args.command == "db" else (args.command,)


def serve_port_default() -> int:
    args = build_parser().parse_args(["serve"])
    return int(args.port)


def dockerfile_instructions(keyword: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [m.group(1).strip() for m in re.finditer(rf"^{keyword}\s+(.*)$", joined, re.MULTILINE)]


def dockerfile_command() -> list[str]:
    (cmd,) = dockerfile_instructions("CMD")
    argv: list[str] = json.loads(cmd)
    return argv


def unit_commands() -> dict[str, list[list[str]]]:
    return {
        name: [shlex.split(line) for line in re.findall(r"^ExecStart(?:Pre)?=(.*)$", text, re.M)]
        for name, text in UNITS.items()
    }


def compose_mmrare_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in COMPOSE["services"].items()
        if service.get("image", "").startswith("mmrare-leaderboard")
    }


def k8s_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in K8S_DOCS if doc["kind"] == kind}


def k8s_containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for _, doc in K8S_DOCS:
        if doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                yield doc["metadata"]["name"], container


def served_paths() -> set[str]:
    return {route.path for route in iter_route_contexts(create_app(Settings()).routes)}


# --- every file parses -------------------------------------------------------------------------


def test_every_yaml_file_parses() -> None:
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert len(files) >= 9
    for path in files:
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
        assert docs and all(isinstance(doc, dict) for doc in docs), path


def test_kustomization_lists_every_manifest() -> None:
    (kustomization,) = (doc for name, doc in K8S_DOCS if name == "kustomization.yaml")
    manifests = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests


# --- commands ----------------------------------------------------------------------------------


def test_every_mmrare_command_in_deploy_parses() -> None:
    commands = [dockerfile_command()]
    commands += [c for cs in unit_commands().values() for c in cs]
    commands += [s["command"] for s in compose_mmrare_services().values()]
    commands += [container["command"] for _, container in k8s_containers()]
    for argv in commands:
        parse_command(argv)


def test_systemd_the_image_compose_and_kubernetes_run_the_same_commands() -> None:
    def runs(commands: list[list[str]]) -> dict[tuple[str, ...], dict[str, Any]]:
        parsed = [parse_command(argv) for argv in commands]
        # The bind addresses differ on purpose (loopback behind nginx, all interfaces in a
        # container); every other flag must agree.
        return {
            role(a): {
                k: v for k, v in vars(a).items() if k not in ("host", "metrics_host", "handler")
            }
            for a in parsed
        }

    systemd = runs([c for cs in unit_commands().values() for c in cs])
    compose = runs(
        [s["command"] for s in compose_mmrare_services().values() if "profiles" not in s]
    )
    kubernetes = runs([container["command"] for _, container in k8s_containers()])
    image = runs([dockerfile_command()])
    assert set(systemd) == set(compose) == set(kubernetes) == ROLES
    assert systemd == compose == kubernetes
    assert image[("serve",)] == systemd[("serve",)]


# --- settings ----------------------------------------------------------------------------------


def test_every_setting_deploy_names_is_a_setting() -> None:
    named: dict[str, set[str]] = {
        "env.example": set(
            re.findall(r"^#?([A-Z][A-Z0-9_]*)=", (DEPLOY / "env.example").read_text(), re.M)
        ),
        "Dockerfile ENV": {
            name
            for line in dockerfile_instructions("ENV")
            for name in re.findall(r"([A-Z][A-Z0-9_]*)=", line)
        },
        "compose.yaml": {
            name for s in compose_mmrare_services().values() for name in s.get("environment", {})
        },
        "k8s ConfigMap/Secret": {
            key
            for kind, section in (("ConfigMap", "data"), ("Secret", "stringData"))
            for doc in k8s_kind(kind).values()
            for key in doc[section]
        },
    }
    assert all(named.values()), named
    unknown = {where: names - SETTINGS - RUNTIME_ENV for where, names in named.items()}
    assert {where: names for where, names in unknown.items() if names} == {}


def test_containers_read_only_the_configmap_and_secret_defined_here() -> None:
    config_maps, secrets = set(k8s_kind("ConfigMap")), set(k8s_kind("Secret"))
    for name, container in k8s_containers():
        sources = container["envFrom"]
        assert {s["configMapRef"]["name"] for s in sources if "configMapRef" in s} <= config_maps, (
            name
        )
        assert {s["secretRef"]["name"] for s in sources if "secretRef" in s} <= secrets, name
        assert "env" not in container, f"{name}: settings belong in the ConfigMap or Secret"


# --- ports and paths ---------------------------------------------------------------------------


def test_every_port_is_the_serve_port() -> None:
    port = serve_port_default()
    assert dockerfile_instructions("EXPOSE") == [str(port)]
    assert f"127.0.0.1:{port}/healthz" in dockerfile_instructions("HEALTHCHECK")[0]
    assert f"server 127.0.0.1:{port};" in NGINX
    (api,) = (
        s
        for s in compose_mmrare_services().values()
        if role(parse_command(s["command"])) == ("serve",)
    )
    assert [p.rsplit(":", 1)[1] for p in api["ports"]] == [str(port)]
    for argv in [dockerfile_command(), api["command"], *unit_commands()["mmrare-api.service"]]:
        if role(parse_command(argv)) == ("serve",):
            assert parse_command(argv).port == port, argv
    deployment = k8s_kind("Deployment")["mmrare-api"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert parse_command(container["command"]).port == port


def test_probes_and_health_checks_use_paths_the_service_serves() -> None:
    paths = served_paths()
    deployment = k8s_kind("Deployment")["mmrare-api"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    probed = {
        container[p]["httpGet"]["path"] for p in ("livenessProbe", "readinessProbe", "startupProbe")
    }
    probed |= set(
        re.findall(r"http://127\.0\.0\.1:\d+(/\w+)", dockerfile_instructions("HEALTHCHECK")[0])
    )
    (nginx_probes,) = re.findall(r"location ~ \^/\((.*?)\)\$", NGINX)
    probed |= {f"/{name}" for name in nginx_probes.split("|")}
    assert probed <= paths, sorted(probed - paths)


def test_nginx_admits_uploads_up_to_the_upload_limit() -> None:
    (size,) = re.findall(r"client_max_body_size\s+(\d+)m;", NGINX)
    limit = Settings().max_upload_bytes
    # At least the service's limit (so the service answers 413 with its own message), with
    # room for the multipart form's other fields, and not much more.
    assert limit < int(size) * 2**20 <= limit + 2 * 2**20


# --- the image ---------------------------------------------------------------------------------


def test_the_image_is_multi_stage_non_root_and_built_from_the_wheel_and_the_lock() -> None:
    stages = dockerfile_instructions("FROM")
    assert len(stages) >= 2 and stages[-1].endswith("AS runtime"), stages
    runtime_stage = DOCKERFILE.split("AS runtime", 1)[1]
    (user,) = re.findall(r"^USER\s+(\S+)", runtime_stage, re.M)
    assert user.split(":")[0] not in ("root", "0")
    assert "--require-hashes -r requirements.lock" in DOCKERFILE
    assert re.search(r"install --no-index --no-deps \S+\.whl", runtime_stage.replace("\\\n", " "))
    copied = {
        line.split()[0] for line in dockerfile_instructions("COPY") if not line.startswith("--")
    }
    assert set(TOP_LEVEL) <= copied, "the wheel in the image must carry templates and migrations"
    for source in copied:
        assert (REPO_ROOT / source).exists(), source


def test_compose_runs_a_one_shot_migration_before_the_api_and_two_workers() -> None:
    services = compose_mmrare_services()
    by_role = {
        role(parse_command(s["command"])): (name, s)
        for name, s in services.items()
        if "profiles" not in s
    }
    migrate_name, migrate = by_role[("db", "upgrade")]
    assert migrate["restart"] == "no"
    for key in (("serve",), ("worker",)):
        _, service = by_role[key]
        assert service["depends_on"][migrate_name] == {
            "condition": "service_completed_successfully"
        }
    assert by_role[("worker",)][1]["deploy"]["replicas"] == 2
    assert {"postgres", "redis"} <= set(COMPOSE["services"])
    judge = COMPOSE["services"]["judge"]
    assert judge["profiles"] == ["gpu-judge"] and judge["image"].startswith("vllm/vllm-openai")
    assert "Qwen/Qwen3-VL-235B-A22B-Instruct" in judge["command"]


# --- autoscaling -------------------------------------------------------------------------------


def test_workers_scale_on_the_arq_queue_and_the_api_on_cpu() -> None:
    assert getattr(WorkerSettings, "queue_name", default_queue_name) == default_queue_name
    (scaled,) = k8s_kind("ScaledObject").values()
    assert scaled["spec"]["scaleTargetRef"]["name"] in k8s_kind("Deployment")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == default_queue_name
    assert int(trigger["metadata"]["listLength"]) == WORKER_MAX_JOBS
    assert scaled["spec"]["minReplicaCount"] >= 1  # workers run the reaper
    (hpa,) = k8s_kind("HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "mmrare-api"
