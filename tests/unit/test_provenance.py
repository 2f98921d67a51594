"""The evaluation card's pure parts: the recorded sampling matches what judge requests carry."""

from __future__ import annotations

import hashlib

from app.config import Settings
from app.judge.prompt import render_request
from app.judge.types import JudgeInput
from app.rubrics.loader import bundled_rubric
from app.services.provenance import judging_record, prompt_template_digest, recorded_sampling
from app.tracks import Track


def test_recorded_sampling_is_what_every_judge_request_sends() -> None:
    settings = Settings(database_url="sqlite://", judge_seed=99, judge_max_tokens=321)
    request = render_request(
        bundled_rubric(Track.T2),
        JudgeInput(
            item_id="T2-1",
            track=Track.T2,
            question="q",
            reference_answer="a",
            candidate="c",
        ),
        model="m",
        secret=b"s",
        max_answer_chars=100,
        seed=settings.judge_seed,
        max_tokens=settings.judge_max_tokens,
    )
    assert recorded_sampling(settings) == dict(request.sampling)
    assert recorded_sampling(settings) == {"temperature": 0, "seed": 99, "max_tokens": 321}


def test_judging_record_names_no_address_or_key() -> None:
    settings = Settings(
        database_url="sqlite://", judge_base_url="http://judge.example/v1", judge_api_key="sk-x"
    )
    record = judging_record(settings)
    assert set(record) == {"judge_sampling", "software_version"}
    assert "judge.example" not in str(record) and "sk-x" not in str(record)
    assert record["software_version"] not in ("", None)


def test_prompt_template_digest_covers_both_templates() -> None:
    assert prompt_template_digest("sys", "user") == hashlib.sha256(b"sys\0user").hexdigest()
    assert prompt_template_digest("sy", "suser") != prompt_template_digest("sys", "user")
    rubric = bundled_rubric(Track.T4)
    digest = prompt_template_digest(rubric.prompt.system, rubric.prompt.user)
    assert len(digest) == 64
