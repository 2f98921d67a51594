"""`mmrare rubric load` as a maintainer runs it (a subprocess on a migrated database): a rubric
whose prompt names an unknown or undeclared gold field is refused with a message that says
which placeholder, in which file, and what is allowed; a good file becomes a new version."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from app.tracks import Track
from tests.support import mmrare_on as mmrare

pytestmark = pytest.mark.integration


def t2_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    source = resources.files("app.rubrics").joinpath(f"{Track.T2}.toml").read_text()
    assert old in source
    path = tmp_path / name
    path.write_text(source.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("placeholder", "reason"),
    [("{{case_notes}}", "unknown"), ("{{orpha_code}}", "does not declare")],
)
def test_a_rubric_naming_a_field_it_may_not_show_is_refused(
    sqlite_url: str, tmp_path: Path, placeholder: str, reason: str
) -> None:
    before = mmrare(sqlite_url, "rubric", "list")
    assert before.returncode == 0, before.stderr
    bad = t2_with(tmp_path, "T2-bad.toml", "{{context}}", f"{{{{context}}}}\n{placeholder}")

    refused = mmrare(sqlite_url, "rubric", "load", str(bad))

    assert refused.returncode == 1
    message = refused.stderr
    assert "T2-bad.toml" in message and placeholder in message, message
    assert reason in message, message
    assert "context" in message  # the fields it may use are named
    assert "Traceback" not in message
    assert mmrare(sqlite_url, "rubric", "list").stdout == before.stdout  # nothing stored


def test_a_reworded_rubric_loads_as_a_new_version(sqlite_url: str, tmp_path: Path) -> None:
    before = mmrare(sqlite_url, "rubric", "list").stdout
    good = t2_with(tmp_path, "T2-reworded.toml", "Follow-up concreteness", "Follow-up detail")

    loaded = mmrare(sqlite_url, "rubric", "load", str(good))

    assert loaded.returncode == 0, loaded.stderr
    after = mmrare(sqlite_url, "rubric", "list").stdout
    assert len(after.splitlines()) == len(before.splitlines()) + 1


def test_a_change_note_is_kept_with_a_new_version_and_listed(
    sqlite_url: str, tmp_path: Path
) -> None:
    good = t2_with(tmp_path, "T2-noted.toml", "Follow-up concreteness", "Follow-up plan")
    note = "Follow-up: asks for a plan with dates, not a list of visits"
    loaded = mmrare(sqlite_url, "rubric", "load", str(good), "--note", note)
    assert loaded.returncode == 0, loaded.stderr
    listing = mmrare(sqlite_url, "rubric", "list", "--track", "T2").stdout
    assert f"      note: {note}\n" in listing
    again = mmrare(sqlite_url, "rubric", "load", str(good), "--note", "another note")
    assert "the note was not stored: a version keeps the note it was first loaded with" in (
        again.stdout
    )
    assert "another note" not in mmrare(sqlite_url, "rubric", "list").stdout
    other = t2_with(tmp_path, "T2-bad-note.toml", "Follow-up concreteness", "Follow-up steps")
    refused = mmrare(sqlite_url, "rubric", "load", str(other), "--note", "bell \x07 here")
    assert refused.returncode == 1
    assert "the note holds U+0007 (a control character) at character 6" in refused.stderr
