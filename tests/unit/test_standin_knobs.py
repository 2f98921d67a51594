"""The stand-in's knobs: one declaration, the same checks from JSON and from the command line."""

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from app.standin.command import build_parser, knobs_from_args
from app.standin.faults import FaultPlan
from app.standin.knobs import KnobError, StandinKnobs, knob_fields, knob_names

BAD_VALUES: list[tuple[dict[str, Any], str]] = [
    ({"latency": 5}, "unknown knob(s): latency"),
    ({"latency_ms": -1}, "latency_ms must be ≥ 0, got -1"),
    ({"latency_ms": "5"}, "latency_ms must be a number, got '5'"),
    ({"max_concurrency": True}, "max_concurrency must be an integer, got True"),
    ({"max_concurrency": 1.5}, "max_concurrency must be an integer, got 1.5"),
    ({"max_concurrency": -1}, "max_concurrency must be ≥ 0"),
    ({"error_500_rate": 1.5}, "error_500_rate must be in [0, 1], got 1.5"),
    ({"timeout_rate": 0.6, "malformed_rate": 0.6}, "must be ≤ 1"),
    ({"script": ["explode"]}, "script: unknown outcome 'explode'"),
    ({"script": ["600"]}, "script: unknown outcome '600'"),
    ({"script": "ok"}, "script must be a list of outcomes"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_VALUES)
def test_bad_runtime_changes_are_refused_by_name(changes: dict[str, Any], message: str) -> None:
    knobs = StandinKnobs(latency_ms=5.0)
    with pytest.raises(KnobError) as caught:
        knobs.updated(changes)
    assert message in str(caught.value)
    assert knobs.latency_ms == 5.0  # nothing changed


def test_good_changes_apply_and_lists_become_tuples() -> None:
    knobs = StandinKnobs().updated({"latency_ms": 20, "script": ["500", "ok"], "seed": 3})
    assert (knobs.latency_ms, knobs.script, knobs.seed) == (20, ("500", "ok"), 3)
    assert knobs.as_json()["script"] == ["500", "ok"]


def test_every_knob_has_a_flag_with_its_declared_default() -> None:
    parser = build_parser()
    flags = {a.dest: a for a in parser._actions}
    for spec in knob_fields():
        action = flags[spec.name]
        assert action.option_strings == ["--" + spec.name.replace("_", "-")]
        assert action.default == spec.default
        assert action.help is not None and action.help.startswith(spec.metadata["flag_help"])
    assert knobs_from_args(parser.parse_args([])) == StandinKnobs()


def test_flags_parse_into_knobs() -> None:
    args = build_parser().parse_args(
        ["--latency-ms", "12.5", "--max-concurrency", "4", "--script", "500, 429,ok", "--seed", "9"]
    )
    assert knobs_from_args(args) == StandinKnobs(
        latency_ms=12.5, max_concurrency=4, script=("500", "429", "ok"), seed=9
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--error-500-rate", "1.5"], "error_500_rate must be in [0, 1], got 1.5"),
        (["--max-concurrency", "many"], "max_concurrency must be an integer, got 'many'"),
        (["--script", "ok,explode"], "script: unknown outcome 'explode'"),
    ],
)
def test_bad_flags_get_the_runtime_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_flags_that_do_not_fit_together_are_refused() -> None:
    args = build_parser().parse_args(["--timeout-rate", "0.7", "--malformed-rate", "0.7"])
    with pytest.raises(KnobError, match="must be ≤ 1"):
        knobs_from_args(args)


def test_the_docs_name_every_knob() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    missing = [name for name in knob_names() if f"`{name}`" not in docs]
    assert not missing, f"docs/architecture.md does not describe the knobs {missing}"


# --- faults ----------------------------------------------------------------------------------


def outcomes(plan: FaultPlan, n: int) -> list[str]:
    return [plan.next_outcome() for _ in range(n)]


def test_a_script_comes_first_then_seeded_faults_repeat() -> None:
    knobs = StandinKnobs(script=("429", "prose"), error_500_rate=0.5, seed=11)
    first = outcomes(FaultPlan(knobs), 20)
    assert first[:2] == ["429", "prose"]
    assert set(first[2:]) == {"500", "ok"}
    assert first == outcomes(FaultPlan(knobs), 20)


def test_reconfiguring_keeps_the_rest_of_the_script_unless_a_new_one_is_given() -> None:
    plan = FaultPlan(StandinKnobs(script=("500", "502", "503")))
    assert plan.next_outcome() == "500"
    plan.reconfigure(plan.knobs.updated({"latency_ms": 1}), reseed=False, new_script=False)
    assert plan.remaining_script == ["502", "503"]
    plan.reconfigure(plan.knobs.updated({"script": ["ok"]}), reseed=False, new_script=True)
    assert outcomes(plan, 2) == ["ok", "ok"]


def test_no_faults_means_ok() -> None:
    assert set(outcomes(FaultPlan(StandinKnobs()), 10)) == {"ok"}


def test_argparse_namespace_round_trip() -> None:
    namespace = argparse.Namespace(**{**dataclasses.asdict(StandinKnobs()), "seed": 4})
    assert knobs_from_args(namespace).seed == 4
