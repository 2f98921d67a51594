"""README's settings table names every setting the service reads, and nothing else."""

import re
from pathlib import Path

from app.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
_NAME = r"`[A-Z][A-Z0-9_]*`"  # S3_BUCKET has a digit
_ROW = re.compile(rf"^\| ({_NAME}(?:, {_NAME})*) \|", re.M)


def documented_settings(text: str) -> set[str]:
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for cell in _ROW.findall(section):
        names.update(name.strip("` ") for name in cell.split(","))
    return names


def test_every_setting_is_documented_once_and_no_other() -> None:
    documented = documented_settings(README.read_text())
    assert documented == {name.upper() for name in Settings.model_fields}
