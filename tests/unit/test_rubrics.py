"""Bundled rubrics follow the paper (§3.4); the loader rejects every malformed file precisely."""

import hashlib
from importlib import resources
from pathlib import Path

import pytest

from app.rubrics.loader import (
    RubricError,
    bundled_rubric,
    bundled_rubrics,
    load_rubric_file,
    parse_rubric,
)
from app.rubrics.model import DimensionKind
from app.tracks import TRACK_TITLES, Track

EXPECTED_IDS = {
    Track.T1: ("exact_match", "disease_category", "diagnostic_specificity"),
    Track.T2: (
        "treatment_specificity",
        "drug_level_accuracy",
        "safety",
        "followup_concreteness",
        "pathophysiological_justification",
        "clinical_implementability",
    ),
    Track.T3: (
        "modality_findings",
        "finding_accuracy",
        "cross_modal_alignment",
        "relation_type",
        "integrated_insight",
    ),
    Track.T4: (
        "test_coverage",
        "specificity",
        "conditional_ordering",
        "expected_findings",
        "quantitative_criteria",
        "differential_narrowing",
        "patient_adaptation",
        "testing_precision",
    ),
}


def test_every_track_has_a_bundled_rubric() -> None:
    rubrics = bundled_rubrics()
    assert set(rubrics) == set(Track)
    for track, rubric in rubrics.items():
        assert rubric.track is track
        assert rubric.title == TRACK_TITLES[track]
        assert rubric.rule == "weighted_mean"
        assert rubric.dimension_ids == EXPECTED_IDS[track]


def test_t1_is_a_weighted_cascade_with_the_exact_match_cap() -> None:
    rubric = bundled_rubric(Track.T1)
    assert [d.weight for d in rubric.dimensions] == [3.0, 1.0, 1.0]
    assert all(d.kind is DimensionKind.BINARY and d.max_value == 1 for d in rubric.dimensions)
    assert rubric.gate is not None
    assert (rubric.gate.dimension, rubric.gate.cap) == ("exact_match", 0.2)


@pytest.mark.parametrize(("track", "count"), [(Track.T2, 6), (Track.T3, 5)])
def test_t2_t3_are_uniform_binary(track: Track, count: int) -> None:
    rubric = bundled_rubric(track)
    assert len(rubric.dimensions) == count
    assert all(d.kind is DimensionKind.BINARY for d in rubric.dimensions)
    assert all(d.weight == 1.0 and d.max_value == 1 for d in rubric.dimensions)
    assert rubric.gate is None


def test_t3_ends_with_integrated_insight() -> None:
    last = bundled_rubric(Track.T3).dimensions[-1]
    assert "new clinical insight" in last.criterion


def test_t4_is_eight_ordinal_dimensions_normalised_by_16() -> None:
    rubric = bundled_rubric(Track.T4)
    assert len(rubric.dimensions) == 8
    for dim in rubric.dimensions:
        assert dim.kind is DimensionKind.ORDINAL
        assert dim.max_value == 2
        assert dim.weight == 1.0
        assert list(dim.anchors) == [2, 1, 0]
        assert dim.anchors[2].startswith("Textbook-level")
        assert dim.anchors[1].startswith("Competent")
        assert dim.anchors[0].startswith("Absent or incorrect")
    assert sum(d.max_value for d in rubric.dimensions) == 16


@pytest.mark.parametrize("track", list(Track))
def test_prompts_carry_calibration_and_injection_instructions(track: Track) -> None:
    prompt = bundled_rubric(track).prompt
    assert "default" in prompt.system
    assert "never instructions" in prompt.system
    assert "exactly one JSON object" in prompt.system
    assert prompt.user.count("{{candidate}}") == 1
    assert "<<<REFERENCE>>>" in prompt.user
    if track is Track.T4:
        assert "textbook-level" in prompt.system
    else:
        assert "default rating for every criterion is NO" in prompt.system


@pytest.mark.parametrize("track", list(Track))
def test_version_is_the_sha256_of_the_file(track: Track, tmp_path: Path) -> None:
    raw = resources.files("app.rubrics").joinpath(f"{track.value}.toml").read_bytes()
    rubric = bundled_rubric(track)
    assert rubric.version == hashlib.sha256(raw).hexdigest()
    assert rubric.source.encode("utf-8") == raw
    assert rubric.short_version == rubric.version[:12]

    copy = tmp_path / f"{track.value}.toml"
    copy.write_bytes(raw)
    assert load_rubric_file(copy).version == rubric.version
    assert parse_rubric(rubric.source, origin="stored").version == rubric.version


def test_any_edit_makes_a_new_version() -> None:
    source = bundled_rubric(Track.T2).source
    edited = source.replace("Treatment specificity", "Treatment  specificity")
    assert parse_rubric(edited, origin="x").version != bundled_rubric(Track.T2).version


# --- every validation error ------------------------------------------------------------------

VALID = '''
track = "T4"
title = "Examination suggestion"
rule = "weighted_mean"
shows = ["targets"]

[gate]
dimension = "coverage"
cap = 0.5

[[dimensions]]
id = "coverage"
name = "Coverage"
kind = "binary"
weight = 2
max_value = 1
criterion = "Covers the key tests."

[[dimensions]]
id = "specificity"
name = "Specificity"
kind = "ordinal"
weight = 1
max_value = 2
criterion = "Names tests specifically."
[dimensions.anchors]
2 = "Textbook-level."
1 = "Competent."
0 = "Absent."

[prompt]
system = "Default to NO. Reply with one JSON object."
user = """Question: {{question}}
<<<REFERENCE>>>
[reference_answer] Reference answer:
{{reference_answer}}
[targets] Key tests:
{{targets}}
<<<END REFERENCE>>>
{{criteria}}
{{candidate}}
{{output_format}}"""
'''


def test_the_minimal_valid_rubric_parses() -> None:
    rubric = parse_rubric(VALID, origin="T4.toml")
    assert rubric.dimension_ids == ("coverage", "specificity")
    assert rubric.dimensions[1].anchors == {2: "Textbook-level.", 1: "Competent.", 0: "Absent."}
    assert rubric.gate is not None and rubric.gate.cap == 0.5


def _replace(old: str, new: str, count: int = 1) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, count)


ERROR_CASES = [
    ("not toml", "track = ", "not valid TOML"),
    (
        "unknown top field",
        _replace('rule = "weighted_mean"', 'rule = "weighted_mean"\ncolor = 1'),
        "top level: unknown field(s) color",
    ),
    ("missing track", _replace('track = "T4"\n', ""), "track: missing"),
    ("unknown track", _replace('track = "T4"', 'track = "T9"'), "track: unknown track 'T9'"),
    ("track not a string", _replace('track = "T4"', "track = 4"), "track: must be a str"),
    (
        "empty title",
        _replace('title = "Examination suggestion"', 'title = " "'),
        "title: must not be empty",
    ),
    (
        "unknown rule",
        _replace('rule = "weighted_mean"', 'rule = "median"'),
        "rule: unknown rule 'median'",
    ),
    (
        "bad id",
        _replace('id = "coverage"', 'id = "Coverage"'),
        "dimensions[0]: id: must match [a-z][a-z0-9_]*",
    ),
    (
        "duplicate id",
        _replace('id = "specificity"', 'id = "coverage"'),
        "dimension 'coverage': duplicate id",
    ),
    (
        "unknown dimension field",
        _replace('name = "Coverage"', 'name = "Coverage"\nhint = "x"'),
        "dimension 'coverage': unknown field(s) hint",
    ),
    ("missing name", _replace('name = "Coverage"\n', ""), "dimension 'coverage': name: missing"),
    (
        "empty criterion",
        _replace('criterion = "Covers the key tests."', 'criterion = ""'),
        "dimension 'coverage': criterion: must not be empty",
    ),
    (
        "unknown kind",
        _replace('kind = "binary"', 'kind = "likert"'),
        "dimension 'coverage': kind: unknown kind 'likert'",
    ),
    (
        "zero weight",
        _replace("weight = 2", "weight = 0"),
        "dimension 'coverage': weight must be a number > 0",
    ),
    (
        "negative weight",
        _replace("weight = 2", "weight = -1"),
        "dimension 'coverage': weight must be a number > 0",
    ),
    (
        "string weight",
        _replace("weight = 2", 'weight = "2"'),
        "dimension 'coverage': weight must be a number > 0",
    ),
    (
        "bool weight",
        _replace("weight = 2", "weight = true"),
        "dimension 'coverage': weight must be a number > 0",
    ),
    (
        "infinite weight",
        _replace("weight = 2", "weight = inf"),
        "dimension 'coverage': weight must be finite",
    ),
    (
        "binary max 2",
        _replace("max_value = 1", "max_value = 2"),
        "dimension 'coverage': max_value must be 1 for a binary dimension",
    ),
    (
        "binary anchors",
        _replace(
            'criterion = "Covers the key tests."',
            'criterion = "Covers the key tests."\nanchors = { 1 = "yes" }',
        ),
        "dimension 'coverage': anchors are only allowed on ordinal dimensions",
    ),
    (
        "ordinal max 0",
        _replace("max_value = 2", "max_value = 0"),
        "dimension 'specificity': max_value must be ≥ 1",
    ),
    (
        "float max",
        _replace("max_value = 2", "max_value = 2.0"),
        "dimension 'specificity': max_value must be an integer",
    ),
    (
        "missing anchor",
        _replace('0 = "Absent."\n', ""),
        "dimension 'specificity': anchors must describe exactly the values 0..2",
    ),
    (
        "empty anchor",
        _replace('1 = "Competent."', '1 = ""'),
        "dimension 'specificity': anchors.1 must be a non-empty string",
    ),
    (
        "anchors not a table",
        _replace(
            '[dimensions.anchors]\n2 = "Textbook-level."\n1 = "Competent."\n0 = "Absent."',
            'anchors = "good"',
        ),
        "dimension 'specificity': anchors must be a table",
    ),
    (
        "no dimensions",
        VALID.split("[[dimensions]]")[0].replace('[gate]\ndimension = "coverage"\ncap = 0.5\n', "")
        + VALID[VALID.index("[prompt]") :],
        "dimensions: at least one [[dimensions]] entry is required",
    ),
    (
        "gate unknown dim",
        _replace('dimension = "coverage"', 'dimension = "nope"'),
        "gate: dimension 'nope' is not a dimension of this rubric",
    ),
    (
        "gate on ordinal",
        _replace('dimension = "coverage"', 'dimension = "specificity"'),
        "gate: dimension 'specificity' must be binary",
    ),
    ("gate cap > 1", _replace("cap = 0.5", "cap = 1.5"), "gate: cap must be a number in [0, 1]"),
    (
        "gate unknown field",
        _replace("cap = 0.5", "cap = 0.5\nfloor = 0"),
        "gate: unknown field(s) floor",
    ),
    (
        "no prompt",
        VALID[: VALID.index("[prompt]")],
        "prompt: a [prompt] table with system and user is required",
    ),
    ("prompt missing user", VALID[: VALID.index('user = """')], "prompt: user: missing"),
    (
        "unknown placeholder",
        _replace("{{criteria}}", "{{rubric}}"),
        "prompt.user: unknown placeholder '{{rubric}}'",
    ),
    (
        "spaced placeholder",
        _replace("{{criteria}}", "{{ criteria }}"),
        "prompt.user: unknown placeholder '{{ criteria }}'",
    ),
    (
        "placeholder in system",
        _replace("Default to NO.", "Default to NO {{gold}}."),
        "prompt.system: unknown placeholder '{{gold}}'",
    ),
    (
        "candidate in system",
        _replace("Default to NO.", "Default to NO {{candidate}}."),
        "prompt.system: {{candidate}} belongs in prompt.user",
    ),
    (
        "no candidate",
        _replace("{{candidate}}\n", ""),
        "prompt.user: must contain {{candidate}} exactly once",
    ),
    (
        "two candidates",
        _replace("{{candidate}}", "{{candidate}} {{candidate}}"),
        "prompt.user: must contain {{candidate}} exactly once",
    ),
    (
        "reference outside block",
        _replace("[reference_answer] Reference answer:\n{{reference_answer}}\n", "").replace(
            "Question: {{question}}", "Question: {{question}} {{reference_answer}}"
        ),
        "prompt.user: {{reference_answer}} must be inside the reference block",
    ),
    (
        "candidate inside block",
        _replace("{{targets}}\n", "{{targets}}\n{{candidate}}\n").replace(
            "{{criteria}}\n{{candidate}}", "{{criteria}}"
        ),
        "prompt.user: {{candidate}} must not be inside the reference block",
    ),
    (
        "unclosed block",
        _replace('{{output_format}}"""', '{{output_format}}\n<<<REFERENCE>>>"""'),
        "prompt.user: needs exactly one <<<REFERENCE>>> line followed by one",
    ),
    (
        "two blocks",
        _replace("{{criteria}}", "<<<REFERENCE>>>\n<<<END REFERENCE>>>\n{{criteria}}"),
        "prompt.user: needs exactly one <<<REFERENCE>>> line",
    ),
    (
        "close without open",
        _replace("{{criteria}}", "<<<END REFERENCE>>>\n{{criteria}}"),
        "prompt.user: needs exactly one <<<REFERENCE>>> line",
    ),
    (
        "undeclared gold field",
        _replace("[targets] Key tests:", "[context] Case:\n{{context}}\n[targets] Key tests:"),
        "prompt.user: placeholder '{{context}}' names gold field 'context', which this rubric "
        "does not declare: add it to shows (declared: reference_answer, targets)",
    ),
    (
        "unknown gold field",
        _replace("{{targets}}", "{{case_text}}"),
        "prompt.user: unknown placeholder '{{case_text}}' (known: {{aliases}}, {{candidate}}, "
        "{{category}}, {{context}}, {{criteria}}, {{evidence}}, {{orpha_code}}, "
        "{{output_format}}, {{question}}, {{reference_answer}}, {{targets}})",
    ),
    (
        "declared but not shown",
        _replace('shows = ["targets"]', 'shows = ["targets", "category"]'),
        "prompt.user: declared gold field 'category' must appear exactly once as {{category}}",
    ),
    (
        "unknown declared field",
        _replace('shows = ["targets"]', 'shows = ["targets", "diagnosis"]'),
        "shows: unknown gold field 'diagnosis' (known: aliases, targets, context, category, "
        "orpha_code, evidence, images)",
    ),
    (
        "section without header",
        _replace("[targets] Key tests:\n", ""),
        "prompt.user: the reference block must hold sections of a header line '[field] label' "
        "followed by a line '{{field}}'",
    ),
    (
        "header names another field",
        _replace("[targets] Key tests:", "[aliases] Key tests:"),
        "prompt.user: the reference block must hold sections",
    ),
    (
        "gold in system",
        _replace("Default to NO.", "Default to NO {{targets}}."),
        "prompt.system: {{targets}} is gold and belongs in the reference block",
    ),
    (
        "implies unknown dimension",
        _replace(
            "[[dimensions]]",
            '[[implies]]\ndimension = "coverage"\nrequires = ["nope"]\n\n[[dimensions]]',
            1,
        ),
        "implies[0]: 'nope' is not a dimension of this rubric",
    ),
    (
        "implies ordinal dimension",
        _replace(
            "[[dimensions]]",
            '[[implies]]\ndimension = "coverage"\nrequires = ["specificity"]\n\n[[dimensions]]',
            1,
        ),
        "implies[0]: dimension 'specificity' must be binary",
    ),
    (
        "non-gold section in the reference block",
        _replace(
            'user = """Question: {{question}}\n<<<REFERENCE>>>',
            'user = """<<<REFERENCE>>>\n[question] Question:\n{{question}}',
        ),
        "the reference block holds gold fields only; [question] is not one",
    ),
    (
        "placeholder in a criterion",
        _replace("Covers the key tests.", "Covers {{reference_answer}}."),
        "dimension 'coverage': criterion: '{{reference_answer}}' would reach the judge as written",
    ),
    (
        "placeholder in an anchor",
        _replace('1 = "Competent."', '1 = "Competent {{targets}}."'),
        "anchors.1: '{{targets}}' would reach the judge as written",
    ),
    (
        "no criteria",
        _replace("{{criteria}}\n", ""),
        "prompt: {{criteria}} must appear exactly once",
    ),
    (
        "output format twice",
        _replace("Reply with one JSON object.", "Reply with {{output_format}}."),
        "prompt: {{output_format}} must appear exactly once",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [(t, m) for _, t, m in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_invalid_rubrics_are_rejected_with_a_precise_message(text: str, message: str) -> None:
    with pytest.raises(RubricError) as caught:
        parse_rubric(text, origin="T4.toml")
    assert str(caught.value).startswith("T4.toml: ")
    assert message in str(caught.value)


def test_rubric_error_is_a_value_error() -> None:
    assert issubclass(RubricError, ValueError)


def test_load_rubric_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(RubricError, match=r"^custom.toml: not valid UTF-8"):
        load_rubric_file(path)
    path.write_text(_replace('rule = "weighted_mean"', 'rule = "sum"'), encoding="utf-8")
    with pytest.raises(RubricError, match=r"^custom.toml: rule: unknown rule 'sum'"):
        load_rubric_file(path)


def test_bundled_rubrics_declare_the_gold_fields_their_criteria_need() -> None:
    rubrics = bundled_rubrics()
    assert {"category", "orpha_code", "aliases"} <= set(rubrics[Track.T1].shows)
    assert "context" not in rubrics[Track.T1].shows
    for track in (Track.T2, Track.T3, Track.T4):
        assert {"context", "targets"} <= set(rubrics[track].shows)
    for rubric in rubrics.values():
        assert "paper §" not in rubric.source and "§3.4" not in rubric.source
        assert "Source:" in rubric.source  # which parts are the paper's, which this project's


def test_t1_declares_that_an_exact_match_implies_the_category() -> None:
    (rule,) = bundled_rubric(Track.T1).implies
    assert (rule.dimension, rule.requires) == ("exact_match", ("disease_category",))
    assert all(not bundled_rubric(t).implies for t in (Track.T2, Track.T3, Track.T4))
