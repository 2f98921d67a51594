import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.scoring.f1 import answer_tokens, best_token_f1, mean_token_f1, normalize_answer, token_f1


def test_identical_answers_score_one() -> None:
    assert token_f1("Kawasaki disease", "Kawasaki disease") == 1.0


def test_case_and_whitespace_are_ignored() -> None:
    assert token_f1("  KAWASAKI\t\n Disease ", "kawasaki disease") == 1.0


def test_empty_against_empty_is_zero() -> None:
    assert token_f1("", "") == 0.0


def test_empty_prediction_is_zero() -> None:
    assert token_f1("", "kawasaki disease") == 0.0
    assert token_f1("kawasaki disease", "") == 0.0


def test_punctuation_only_normalises_to_nothing() -> None:
    assert normalize_answer("?!. ,;-") == ""
    assert token_f1("?!.", "?!.") == 0.0


def test_articles_only_normalise_to_nothing() -> None:
    assert normalize_answer("The a AN") == ""
    assert token_f1("the a an", "the a an") == 0.0


def test_articles_are_removed_as_whole_words_only() -> None:
    assert normalize_answer("The anemia of an athlete") == "anemia of athlete"


def test_ascii_punctuation_is_dropped_without_splitting() -> None:
    assert normalize_answer("Crohn's disease (type-2)") == "crohns disease type2"


def test_unicode_apostrophe_and_dash_are_kept() -> None:
    assert answer_tokens("Crohn’s type–2") == ["crohn’s", "type–2"]
    # ’ survives, so "crohn’s" and "crohns" are different tokens: 1 of 2 shared → 0.5.
    assert token_f1("Crohn’s disease", "Crohn's disease") == pytest.approx(0.5)


def test_partial_overlap_hand_computed() -> None:
    # shared 1 token, precision 1/2, recall 1/3 → F1 = 2·(1/6)/(5/6) = 0.4
    assert token_f1("renal carcinoma", "renal cell adenoma") == pytest.approx(0.4)


def test_repeated_tokens_count_as_a_multiset() -> None:
    # Counter("x x y") & Counter("x y y") = {x: 1, y: 1}: shared 2, P = R = 2/3.
    assert token_f1("x x y", "x y y") == pytest.approx(2 / 3)
    # A repeat in the prediction is credited once: shared 1 of 2 predicted, 1 of 1 gold.
    assert token_f1("x x", "x") == pytest.approx(2 / 3)


def test_multiset_differs_from_set_readings() -> None:
    # The worked examples of docs/scoring.md.
    assert token_f1("renal cell renal", "renal cell carcinoma") == pytest.approx(2 / 3)
    assert token_f1("renal renal", "renal renal carcinoma") == pytest.approx(0.8)


def test_best_over_answer_and_aliases() -> None:
    aliases = ["mucocutaneous lymph node syndrome", "Kawasaki syndrome"]
    assert best_token_f1("Kawasaki syndrome", "Kawasaki disease", aliases) == 1.0
    assert best_token_f1("lymph node syndrome", "Kawasaki disease", aliases) == pytest.approx(
        2 * 3 / (3 + 4)
    )
    assert best_token_f1("Kawasaki", "Kawasaki disease") == pytest.approx(2 / 3)


def test_mean_token_f1_counts_missing_items_as_zero() -> None:
    assert mean_token_f1([1.0, 0.5], total_items=4) == pytest.approx(37.5)
    assert mean_token_f1([], total_items=0) == 0.0


@given(st.text(), st.text())
def test_f1_is_symmetric_and_bounded(a: str, b: str) -> None:
    score = token_f1(a, b)
    assert 0.0 <= score <= 1.0
    assert score == token_f1(b, a)


@given(st.text())
def test_f1_of_a_non_empty_answer_with_itself_is_one(text: str) -> None:
    expected = 1.0 if answer_tokens(text) else 0.0
    assert token_f1(text, text) == expected


@given(st.lists(st.sampled_from(["x", "y", "z", "renal", "cell"]), min_size=1), st.randoms())
def test_f1_ignores_token_order(tokens: list[str], rng: random.Random) -> None:
    shuffled = list(tokens)
    rng.shuffle(shuffled)
    assert token_f1(" ".join(tokens), " ".join(shuffled)) == 1.0
