"""Gold bundles: every rule with its exact message, the digest, the demo and synthetic data."""

import json
from pathlib import Path
from typing import Any

import pytest

from app.demo.synthetic import (
    DEMO_DIR,
    PAPER_TRACK_SIZES,
    track_sizes,
    write_synthetic_bundle,
)
from app.formats.errors import LineError
from app.formats.gold_bundle import GoldBundleError, parse_gold_bundle
from app.tracks import Track

SECRET = "SECRET-GOLD-TEXT"


def t1(item_id: str = "t1-0001", **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id,
        "track": "T1",
        "question": "What is the diagnosis?",
        "answer": "Dyskeratosis congenita",
        "aliases": ["Zinsser-Cole-Engman syndrome"],
        "orpha_code": "ORPHA:1775",
        "category": "rare hematologic disease",
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not ...}


def t2(item_id: str = "t2-0001", **changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id,
        "track": "T2",
        "question": "Plan?",
        "answer": "Enzyme replacement therapy; cardiac monitoring.",
    }
    item.update(changes)
    return {key: value for key, value in item.items() if value is not ...}


def write_bundle(directory: Path, *lines: dict[str, Any] | str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "gold.jsonl"
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> GoldBundleError:
    with pytest.raises(GoldBundleError) as caught:
        parse_gold_bundle(path)
    return caught.value


def only_error(path: Path) -> LineError:
    errors = refused(path).errors
    assert len(errors) == 1, errors
    return errors[0]


# --- a valid bundle --------------------------------------------------------------------------


def test_valid_items_keep_every_field_and_unknown_fields(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"png-a")
    (tmp_path / "images" / "b.png").write_bytes(b"png-b")
    path = write_bundle(
        tmp_path,
        t1(context="[DIAGNOSIS_MASKED] case", synthetic=True, source={"pmcid": "PMC1"}),
        {
            "id": "t3-0001",
            "track": "T3",
            "question": "How do the images relate?",
            "answer": "Concordant.",
            "images": ["images/a.png", "./images/b.png"],
            "targets": {"relation_type": "concordant"},
            "evidence": [{"unit": "b12", "quote": "..."}],
        },
    )
    bundle = parse_gold_bundle(path)

    first, second = bundle.items
    assert first.id == "t1-0001"
    assert first.track is Track.T1
    assert first.aliases == ("Zinsser-Cole-Engman syndrome",)
    assert first.orpha_code == "ORPHA:1775"
    assert first.category == "rare hematologic disease"
    assert first.context == "[DIAGNOSIS_MASKED] case"
    assert first.extra == {"synthetic": True, "source": {"pmcid": "PMC1"}}
    assert second.images == ("images/a.png", "images/b.png")  # "./" normalised away
    assert second.targets == {"relation_type": "concordant"}
    assert second.evidence == [{"unit": "b12", "quote": "..."}]
    assert second.aliases == () and second.orpha_code is None and second.category is None
    assert bundle.root == tmp_path.resolve()
    assert set(bundle.image_sha256) == {"images/a.png", "images/b.png"}
    assert bundle.gold_ids() == {"t1-0001": Track.T1, "t3-0001": Track.T3}
    assert bundle.track_counts() == {Track.T1: 1, Track.T2: 0, Track.T3: 1, Track.T4: 0}
    assert len(bundle.digest) == 64


@pytest.mark.parametrize("code", [558, "558", "ORPHA:558", "orpha:558", " ORPHA: 558 "])
def test_orpha_code_spellings_are_normalised(tmp_path: Path, code: object) -> None:
    bundle = parse_gold_bundle(write_bundle(tmp_path, t1(orpha_code=code)))
    assert bundle.items[0].orpha_code == "ORPHA:558"


def test_t1_aliases_may_be_empty(tmp_path: Path) -> None:
    bundle = parse_gold_bundle(write_bundle(tmp_path, t1(aliases=[])))
    assert bundle.items[0].aliases == ()


def test_blank_lines_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    body = "\r\n".join(["", json.dumps(t1()), "   ", json.dumps(t2()), "", ""])
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert [item.id for item in parse_gold_bundle(path).items] == ["t1-0001", "t2-0001"]


def test_a_directory_means_its_gold_jsonl(tmp_path: Path) -> None:
    write_bundle(tmp_path, t2())
    assert parse_gold_bundle(tmp_path).items[0].id == "t2-0001"


# --- every rule, with its exact message -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "item_id", "message"),
    [
        ("[1, 2]", None, "expected a JSON object, got a list"),
        (t2(id=...), None, "missing 'id'"),
        (t2(id=7), None, '\'id\' must be a string — got a number; write "id": "..."'),
        (t2(id="  "), None, "'id' is empty"),
        (t2(track=...), "t2-0001", "missing 'track' — one of T1, T2, T3, T4"),
        (t2(track="T9"), "t2-0001", "'track' must be one of T1, T2, T3, T4 — got 'T9'"),
        (t2(track=2), "t2-0001", "'track' must be one of T1, T2, T3, T4 — got a number"),
        (t2(question=...), "t2-0001", "missing 'question'"),
        (t2(question=""), "t2-0001", "'question' is empty"),
        (t2(answer=...), "t2-0001", "missing 'answer'"),
        (t2(answer=["a"]), "t2-0001", "'answer' must be a string — got a list"),
        (t2(answer=" "), "t2-0001", "'answer' is empty"),
        (t2(context=3), "t2-0001", "'context' must be a string or null — got a number"),
        (t2(category=True), "t2-0001", "'category' must be a string or null — got true/false"),
        (
            t1(aliases=...),
            "t1-0001",
            "missing 'aliases' — T1 items need it; write [] when there are none",
        ),
        (
            t1(aliases="DKC"),
            "t1-0001",
            "'aliases' must be a list of strings — got a string; write [\"...\"]",
        ),
        (
            t1(aliases=["DKC", 3]),
            "t1-0001",
            "'aliases' must be a list of strings — element 2 is a number",
        ),
        (t1(aliases=["DKC", ""]), "t1-0001", "'aliases' element 2 is empty — remove it"),
        (
            t2(aliases={"a": 1}),
            "t2-0001",
            "'aliases' must be a list of strings — got an object; write [\"...\"]",
        ),
        (
            t1(orpha_code=...),
            "t1-0001",
            "missing 'orpha_code' — T1 items need the diagnosis's ORPHAcode, e.g. \"ORPHA:558\"",
        ),
        (t1(orpha_code=None), "t1-0001", "'orpha_code' must not be null for a T1 item"),
        (
            t1(orpha_code="OMIM:305000"),
            "t1-0001",
            "'orpha_code' is not an ORPHAcode — write it like \"ORPHA:558\" or 558",
        ),
        (
            t1(orpha_code=0),
            "t1-0001",
            "'orpha_code' is not an ORPHAcode — write it like \"ORPHA:558\" or 558",
        ),
        (
            t1(orpha_code=["ORPHA:1"]),
            "t1-0001",
            "'orpha_code' must be a string or a number — got a list; "
            'write it like "ORPHA:558" or 558',
        ),
        (
            t1(category=...),
            "t1-0001",
            "missing 'category' — T1 items need the disease category",
        ),
        (t1(category=""), "t1-0001", "'category' is empty"),
        (
            t2(images="x.png"),
            "t2-0001",
            "'images' must be a list of paths relative to the bundle — got a string; "
            'write ["images/example.png"]',
        ),
        (
            t2(images=[1]),
            "t2-0001",
            "'images' element 1 must be a string path — got a number",
        ),
        (t2(images=[""]), "t2-0001", "'images' element 1 is empty"),
        (
            t2(images=["/etc/passwd"]),
            "t2-0001",
            "'images' element 1 is an absolute path — write it relative to the bundle's directory",
        ),
        (
            t2(images=["C:/images/a.png"]),
            "t2-0001",
            "'images' element 1 is an absolute path — write it relative to the bundle's directory",
        ),
        (
            t2(images=["images/../../secret.png"]),
            "t2-0001",
            "'images' element 1 contains '..' — keep images inside the bundle's directory",
        ),
        (
            t2(images=["images\\a.png"]),
            "t2-0001",
            "'images' element 1 contains a backslash — write paths with forward slashes",
        ),
        (
            t2(images=["images/missing.png"]),
            "t2-0001",
            "'images' element 1 ('images/missing.png') was not found under the bundle's directory",
        ),
        ('{"id": "t2-0001", "track": "T2"', None, None),  # message checked below
        ('{"id": "x", "track": "T2", "question": "q", "answer": NaN}', None, None),
    ],
)
def test_each_rule_has_its_own_message(
    tmp_path: Path, line: dict[str, Any] | str, item_id: str | None, message: str | None
) -> None:
    error = only_error(write_bundle(tmp_path, t2("t2-0099"), line))
    assert error.line == 2
    assert error.item_id == item_id
    if message is not None:
        assert error.message == message


def test_not_json_names_the_column(tmp_path: Path) -> None:
    error = only_error(write_bundle(tmp_path, '{"id": "t2-0001", "track": "T2"'))
    assert error.message == (
        "not valid JSON (Expecting ',' delimiter at column 32) — "
        "each line must be one complete JSON object"
    )


def test_nan_is_not_json(tmp_path: Path) -> None:
    error = only_error(write_bundle(tmp_path, '{"id": "x", "answer": NaN}'))
    assert error.message == "not valid JSON (NaN is not valid JSON)"


def test_invalid_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_bytes(json.dumps(t2()).encode() + b"\n" + b'{"id": "\xff"}\n')
    error = only_error(path)
    assert (error.line, error.item_id) == (2, None)
    assert error.message == (
        "not valid UTF-8 (byte 0xff at byte 9 of the line) — save the bundle as UTF-8"
    )


def test_an_image_symlinked_outside_the_bundle_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"x")
    bundle_dir = tmp_path / "bundle"
    (bundle_dir / "images").mkdir(parents=True)
    (bundle_dir / "images" / "link.png").symlink_to(outside)
    error = only_error(write_bundle(bundle_dir, t2(images=["images/link.png"])))
    assert (
        error.message == "'images' element 1 resolves outside the bundle's directory (a symlink?)"
    )


def test_an_image_that_is_a_directory_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    error = only_error(write_bundle(tmp_path, t2(images=["images"])))
    assert (
        error.message == "'images' element 1 ('images') was not found under the bundle's directory"
    )


def test_duplicate_ids_name_both_lines(tmp_path: Path) -> None:
    error = only_error(write_bundle(tmp_path, t2("a"), t2("b"), "", t2("a")))
    assert (error.line, error.item_id) == (4, "a")
    assert (
        error.message
        == "duplicate id — already used on line 1; ids must be unique across the bundle"
    )


def test_an_empty_bundle_is_refused(tmp_path: Path) -> None:
    error = only_error(write_bundle(tmp_path, "", "  "))
    assert error == LineError(
        0, None, "the bundle has no items — expected one JSON object per line"
    )


def test_a_missing_file_is_a_bundle_error(tmp_path: Path) -> None:
    error = only_error(tmp_path / "nope.jsonl")
    assert error.line == 0
    assert error.message.startswith("cannot read the bundle (No such file or directory)")


# --- the report -------------------------------------------------------------------------------


def test_the_report_names_file_line_id_and_fix(tmp_path: Path) -> None:
    lines = [t1(f"t1-{n:04d}") for n in range(1, 12)]
    path = write_bundle(tmp_path, *lines, t1("t1-0004", aliases="Zinsser"))
    error = refused(path)
    # Line 12 is both a duplicate of line 4 and has bad aliases: both are reported.
    assert str(error).splitlines() == [
        "gold.jsonl: bundle refused, nothing was imported — 2 errors:",
        "gold.jsonl line 12 (id 't1-0004'): "
        "'aliases' must be a list of strings — got a string; write [\"...\"]",
        "gold.jsonl line 12 (id 't1-0004'): "
        "duplicate id — already used on line 4; ids must be unique across the bundle",
    ]
    assert isinstance(error, ValueError)


def test_all_errors_are_collected_and_the_listing_is_capped_at_50(tmp_path: Path) -> None:
    path = write_bundle(tmp_path, *[t2(f"t2-{n:04d}", answer=...) for n in range(60)])
    error = refused(path)
    assert len(error.errors) == 60
    assert [e.line for e in error.errors] == list(range(1, 61))
    report = str(error).splitlines()
    assert report[0] == "gold.jsonl: bundle refused, nothing was imported — 60 errors:"
    assert len(report) == 1 + 50 + 1
    assert report[-1] == "… and 10 more errors"


def test_errors_never_echo_gold_text(tmp_path: Path) -> None:
    path = write_bundle(
        tmp_path,
        t1(
            answer=SECRET,
            question=SECRET,
            aliases=SECRET,
            orpha_code=f"{SECRET}-1",
            category=[SECRET],
            context={"x": SECRET},
        ),
        t1("t1-0002", answer=[SECRET], aliases=[SECRET, 1]),
        f'{{"id": "t1-0003", "answer": "{SECRET}" ',
    )
    error = refused(path)
    assert len(error.errors) == 7
    assert SECRET not in str(error)


def test_a_hostile_long_id_is_shortened_in_messages(tmp_path: Path) -> None:
    error = refused(write_bundle(tmp_path, t2("x" * 5000, answer=...)))
    assert len(str(error)) < 300


# --- the digest -------------------------------------------------------------------------------


def digest_of(directory: Path, *lines: dict[str, Any] | str) -> str:
    return parse_gold_bundle(write_bundle(directory, *lines)).digest


def test_digest_ignores_whitespace_key_order_line_order_and_orpha_spelling(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"image")
    a, b = t1(images=["images/a.png"]), t2()
    base = digest_of(tmp_path, a, b)

    reordered_keys = json.dumps(dict(reversed(list(a.items()))), indent=None, separators=(",", ":"))
    assert digest_of(tmp_path, json.dumps(b), "", reordered_keys, "") == base
    assert digest_of(tmp_path, "  " + json.dumps(a, indent=None) + "  ", json.dumps(b)) == base
    assert digest_of(tmp_path, {**a, "orpha_code": 1775}, b) == base
    assert digest_of(tmp_path, {**a, "images": ["./images/a.png"]}, b) == base


@pytest.mark.parametrize(
    "change",
    [
        {"answer": "Dyskeratosis congenita, X-linked"},
        {"aliases": []},
        {"category": "rare skin disease"},
        {"targets": ["x"]},
        {"synthetic": True},  # unknown fields are content too
    ],
)
def test_digest_changes_with_content(tmp_path: Path, change: dict[str, Any]) -> None:
    assert digest_of(tmp_path, t1(), t2()) != digest_of(tmp_path, {**t1(), **change}, t2())


def test_digest_changes_when_an_image_changes(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    image = tmp_path / "images" / "a.png"
    image.write_bytes(b"first")
    lines = (t1(images=["images/a.png"]), t2())
    before = digest_of(tmp_path, *lines)
    image.write_bytes(b"second")
    assert digest_of(tmp_path, *lines) != before
    image.write_bytes(b"first")
    assert digest_of(tmp_path, *lines) == before


# --- shipped and generated data ---------------------------------------------------------------


def test_the_demo_bundle_parses_cleanly() -> None:
    bundle = parse_gold_bundle(DEMO_DIR / "gold.jsonl")
    assert bundle.track_counts() == {Track.T1: 12, Track.T2: 10, Track.T3: 8, Track.T4: 10}
    assert all(item.extra.get("synthetic") is True for item in bundle.items)
    assert "SYNTHETIC" in bundle.items[0].extra["note"]
    for item in bundle.items:
        if item.track is Track.T1:
            assert item.orpha_code and item.category
        elif item.track is Track.T3:
            assert len(item.images) >= 2
            assert set(item.targets) == {"relation_type"}
        else:
            assert isinstance(item.targets, list) and item.targets
    assert len(bundle.image_sha256) >= 3


def test_the_synthetic_bundle_has_the_paper_total_and_track_sizes(tmp_path: Path) -> None:
    bundle = parse_gold_bundle(write_synthetic_bundle(tmp_path))
    assert len(bundle.items) == 1756
    assert bundle.track_counts() == PAPER_TRACK_SIZES
    assert len(bundle.gold_ids()) == 1756


def test_the_synthetic_bundle_is_deterministic_and_can_carry_images(tmp_path: Path) -> None:
    one = write_synthetic_bundle(tmp_path / "one", items=60, seed=3, with_images=True)
    two = write_synthetic_bundle(tmp_path / "two", items=60, seed=3, with_images=True)
    other = write_synthetic_bundle(tmp_path / "other", items=60, seed=4, with_images=True)
    assert one.read_bytes() == two.read_bytes() != other.read_bytes()
    bundle = parse_gold_bundle(one)
    assert parse_gold_bundle(two).digest == bundle.digest
    assert all(len(item.images) == 2 for item in bundle.items if item.track is Track.T3)
    assert bundle.image_sha256


@pytest.mark.parametrize("total", [1, 2, 3, 7, 40, 100, 999, 1755, 1756, 10_000])
def test_scaled_track_sizes_sum_exactly(total: int) -> None:
    sizes = track_sizes(total)
    assert sum(sizes.values()) == total
    for track, size in sizes.items():
        assert abs(size - total * PAPER_TRACK_SIZES[track] / 1756) < 1


def test_an_empty_synthetic_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="items must be at least 1"):
        write_synthetic_bundle(tmp_path, items=0)
