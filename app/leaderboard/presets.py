"""One-click views of the overview: the paper's Table 2 and Table 3 as URL parameters.

A preset is nothing but explicit query parameters, so its link is an ordinary permalink that
can be edited further (docs/leaderboard.md, "Presets").
"""

from dataclasses import dataclass

from app.leaderboard.board import Access, EntryKind
from app.leaderboard.columns import Column

# The paper's two tables print the model, T1 Score and F1, then T2, T3 and T4 (no rank, no mean).
PAPER_TABLE_COLUMNS: tuple[str, ...] = (
    Column.MODEL,
    Column.T1,
    Column.T1_F1,
    Column.T2,
    Column.T3,
    Column.T4,
)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    description: str
    params: tuple[tuple[str, str], ...]

    def with_judged(self) -> tuple[tuple[str, str], ...]:
        """The same layout and rows with the entries judged here added (no kind filter)."""
        return tuple((name, value) for name, value in self.params if name != "kind")


def _paper_table(access: Access) -> tuple[tuple[str, str], ...]:
    return (
        ("access", access.value),
        ("kind", EntryKind.REPORTED.value),
        ("cols", ",".join(PAPER_TABLE_COLUMNS)),
    )


PRESETS: tuple[Preset, ...] = (
    Preset(
        key="table2",
        label="Table 2",
        description="closed-source models: T1 Score and F1, T2, T3, T4",
        params=_paper_table(Access.CLOSED),
    ),
    Preset(
        key="table3",
        label="Table 3",
        description="open-source models, general-purpose and medical: T1 Score and F1, T2, T3, T4",
        params=_paper_table(Access.OPEN),
    ),
)
