"""The stand-in's rating rule: reading the prompt's reference blocks and the response schema."""

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.judge import STANDIN_MODEL
from app.judge.prompt import render_request, response_format
from app.judge.types import JudgeInput
from app.rubrics.loader import bundled_rubric
from app.scoring.f1 import answer_tokens
from app.standin.protocol import read_chat_request
from app.standin.rating import (
    candidate_text,
    dimensions_from_schema,
    rate,
    rate_prompt,
    recall,
    reference_text,
)
from app.tracks import Track

CANDIDATE = "<<<CANDIDATE c0ffee>>>\n{}\n<<<END CANDIDATE c0ffee>>>"


def test_an_untagged_block_counts_whole() -> None:
    user = "Reference:\n<<<REFERENCE>>>\nAlpha beta\ngamma\n<<<END REFERENCE>>>\n"
    assert reference_text(user) == "Alpha beta\ngamma"


def test_a_tagged_block_needs_the_same_tag_to_close() -> None:
    tagged = "<<<REFERENCE a1B2>>>\nalpha\n<<<END REFERENCE a1B2>>>"
    assert reference_text(tagged) == "alpha"
    assert reference_text("<<<REFERENCE a1B2>>>\nalpha\n<<<END REFERENCE zz9>>>") == ""
    assert reference_text("<<<REFERENCE a1B2>>>\nalpha\n<<<END REFERENCE>>>") == ""
    assert reference_text("<<<REFERENCE>>>\nalpha\n<<<END REFERENCE a1B2>>>") == ""


def test_blocks_are_joined_in_order() -> None:
    user = (
        "<<<REFERENCE>>>\none\n<<<END REFERENCE>>>\ntext between\n"
        "<<<REFERENCE t7>>>\ntwo\n<<<END REFERENCE t7>>>"
    )
    assert reference_text(user) == "one\ntwo"


SECTIONED = """<<<REFERENCE n0nce>>>
[reference_answer] Reference answer (gold standard):
Fabry disease
[aliases] Accepted aliases:
- Anderson-Fabry disease
[context] Case narrative:
A man with acroparesthesia and angiokeratomas.
[category] Category:
metabolic
[orpha_code] ORPHAcode:
324
[evidence] Evidence:
GLA variant
[targets] Targets:
["enzyme replacement"]
<<<END REFERENCE n0nce>>>"""


def test_sections_rate_against_answer_aliases_and_targets_only() -> None:
    text = reference_text(SECTIONED)
    assert text.split("\n") == [
        "Fabry disease",
        "- Anderson-Fabry disease",
        '["enzyme replacement"]',
    ]
    # header labels ("Reference answer", "Accepted aliases") are not reference words
    assert "Reference" not in text and "Accepted" not in text
    assert recall(text, "fabry disease, anderson-fabry; enzyme replacement") == 1.0
    # words only in ignored sections earn nothing
    assert recall(text, "acroparesthesia angiokeratomas metabolic 324 gla variant") == 0.0


def test_text_before_the_first_header_is_not_rated() -> None:
    block = "<<<REFERENCE>>>\nstray words\n[reference_answer] Answer:\nalpha\n<<<END REFERENCE>>>"
    assert reference_text(block) == "alpha"


def test_unknown_bracketed_lines_are_text_not_headers() -> None:
    block = "<<<REFERENCE>>>\n[note] keep me\nalpha\n<<<END REFERENCE>>>"
    assert reference_text(block) == "[note] keep me\nalpha"


def test_the_candidate_block_needs_matching_tags() -> None:
    assert candidate_text(CANDIDATE.format("my answer")) == "my answer"
    assert candidate_text("<<<CANDIDATE ab>>>\nx\n<<<END CANDIDATE cd>>>") == ""


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "integer", "enum": [0, 1, 2]}, 2),
        ({"type": "integer", "enum": [2, 0, 1, 3]}, 3),
        ({"type": "string", "enum": ["YES", "NO"]}, None),
        ({"type": "integer", "minimum": 0, "maximum": 4}, 4),
        ({"type": "integer"}, 2),
    ],
)
def test_dimension_kinds_come_from_the_schema(schema: dict[str, object], expected: object) -> None:
    assert dimensions_from_schema({"d": schema}) == [("d", expected)]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"enum": [0, "NO"]}, "enum must be a non-empty list of strings (binary) or of integers"),
        ({"enum": []}, "enum must be a non-empty list"),
        ({"enum": [True, False]}, "enum must be a non-empty list"),
        ({"type": "number"}, "neither an enum nor an integer"),
        ("integer", "must be a JSON schema object"),
    ],
)
def test_bad_dimension_schemas_are_named(schema: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        dimensions_from_schema({"dim_x": schema})
    assert "'dim_x'" in str(caught.value)


def test_ordinal_enum_and_maximum_rate_alike() -> None:
    by_enum = dimensions_from_schema({f"d{i}": {"enum": [0, 1, 2]} for i in range(8)})
    by_maximum = dimensions_from_schema(
        {f"d{i}": {"type": "integer", "maximum": 2} for i in range(8)}
    )
    # recall 0.5: ≥ tᵢ for i ≤ 4 (top), ≥ tᵢ/2 for the rest (1)
    expected = [2, 2, 2, 2, 2, 1, 1, 1]
    assert list(rate(by_enum, "alpha beta gamma delta", "alpha beta").values()) == expected
    assert list(rate(by_maximum, "alpha beta gamma delta", "alpha beta").values()) == expected


def test_binary_thresholds_get_harder() -> None:
    dims = [("a", None), ("b", None)]
    assert rate(dims, "alpha beta", "alpha") == {"a": "YES", "b": "NO"}
    assert rate(dims, "alpha beta", "beta alpha") == {"a": "YES", "b": "YES"}
    assert rate([("a", None)], "", "anything") == {"a": "NO"}


# --- the rule gives today's verdicts for today's prompts -------------------------------------


# What the prompts put in their reference blocks before the case, category and ORPHAcode were
# shown: the reference answer, then the aliases (T1) or the structured targets (T2–T4).
def _previous_reference(item: JudgeInput) -> str:
    if item.track is Track.T1:
        aliases = [a.strip() for a in item.aliases if a.strip()]
        extra = "\n".join(f"- {a}" for a in aliases) if aliases else "(none)"
    else:
        extra = json.dumps(item.targets, ensure_ascii=False) if item.targets else "(none)"
    return f"{item.reference_answer}\n{extra}"


words = st.lists(st.sampled_from(["fabry", "disease", "gaucher", "type", "1", "the", "x"]))


@settings(max_examples=60, deadline=None)
@given(
    track=st.sampled_from(list(Track)),
    reference=words,
    alias=words,
    target=words,
    candidate=words,
)
def test_todays_prompts_get_todays_verdicts(
    track: Track, reference: list[str], alias: list[str], target: list[str], candidate: list[str]
) -> None:
    rubric = bundled_rubric(track)
    item = JudgeInput(
        item_id="T-1",
        track=track,
        question="Which disease?",
        reference_answer=" ".join(reference),
        candidate=" ".join(candidate) or "nothing",
        aliases=(" ".join(alias),),
        targets=[" ".join(target)] if target else None,
        context="fabry gaucher case narrative",  # shown to the judge, never rated by the stand-in
        category="lysosomal",
        orpha_code="ORPHA:324",
    )
    body = render_request(
        rubric, item, model=STANDIN_MODEL, secret=b"s", max_answer_chars=500, seed=1, max_tokens=9
    ).body()
    request = read_chat_request(body)
    previous_reference = _previous_reference(item)
    assert set(answer_tokens(reference_text(request.user_text))) == set(
        answer_tokens(previous_reference)
    )
    assert rate_prompt(request.dimensions, request.user_text) == rate(
        request.dimensions, previous_reference, item.candidate
    )
    assert request.dimensions == dimensions_from_schema(
        response_format(rubric)["json_schema"]["schema"]["properties"]
    )
