"""The hand-written SVG charts: geometry, text alternatives and escaping."""

from __future__ import annotations

import re

import pytest

from app.scoring.summary import box_stats
from app.web import charts


def test_value_axis_maps_0_to_100_onto_the_plot() -> None:
    plot = charts.Plot(left=50, top=40, width=600, height=200)
    assert plot.y(0) == 240 and plot.y(100) == 40 and plot.y(25) == 190
    assert plot.y(130) == 40 and plot.y(-5) == 240  # clamped


def test_bars_are_as_tall_as_their_values() -> None:
    plot = charts.Plot(left=0, top=0, width=400, height=100)
    series = [charts.BarSeries("a", charts.BLUE), charts.BarSeries("b", charts.RED)]
    values = {("T1", "a"): 60.0, ("T1", "b"): 30.0, ("T2", "a"): 10.0}

    def value(group: str, name: str) -> charts.BarValue:
        return charts.BarValue(values.get((group, name)), f"{group}-{name}")

    bars = charts.bar_layout(["T1", "T2"], series, value, plot)
    assert [(b.group, b.series, b.height) for b in bars] == [
        ("T1", "a", 60.0),
        ("T1", "b", 30.0),
        ("T2", "a", 10.0),  # T2/b has no value: no bar
    ]
    assert bars[0].x < bars[1].x < bars[2].x
    assert all(b.y + b.height == 100 for b in bars)


def test_grouped_bar_chart_has_title_desc_axis_legend_and_tooltips() -> None:
    svg = str(
        charts.grouped_bar_chart(
            "c",
            title="Peaks",
            groups=["T1"],
            group_labels=["T1 Diagnosis"],
            series=[charts.BarSeries("best <medical>", charts.RED)],
            values=lambda g, s: charts.BarValue(42.0, "<script>x</script>"),
        )
    )
    assert '<title id="c-title">Peaks</title>' in svg
    assert '<desc id="c-desc">Bar chart. T1, best &lt;medical&gt;: &lt;script&gt;x' in svg
    assert 'aria-labelledby="c-title c-desc"' in svg and 'role="img"' in svg
    assert ">Score (0–100)</text>" in svg
    assert ">best &lt;medical&gt;</text>" in svg  # legend
    assert "<script>" not in svg
    assert '<tspan x="' in svg and ">Diagnosis</tspan>" in svg


def test_points_over_boxes() -> None:
    points = [(f"m{i}", float(i)) for i in range(0, 101, 10)]
    svg = str(
        charts.box_points_chart(
            "d",
            title="Distributions",
            categories=["T1"],
            category_labels=["T1"],
            groups=[
                charts.BoxGroup(
                    "T1", "general", charts.BLUE, points, box_stats([p for _, p in points])
                ),
                charts.BoxGroup("T1", "medical", charts.RED, [], None),
            ],
            legend=[("general", charts.BLUE), ("medical", charts.RED)],
            max_points=5,
        )
    )
    assert svg.count('<circle class="point"') == 5  # thinned to 5 of 11
    assert "(showing 5 of 11 points)" in svg
    assert "T1 general: n=11, min 0.0, Q1 25.0, median 50.0, Q3 75.0, max 100.0" in svg
    assert "T1 medical: no scores" in svg


def test_jitter_is_stable_and_bounded() -> None:
    offsets = [charts.jitter(f"model-{i}", 10) for i in range(200)]
    assert offsets == [charts.jitter(f"model-{i}", 10) for i in range(200)]
    assert all(-10 <= o <= 10 for o in offsets) and len(set(offsets)) > 150


@pytest.mark.parametrize(
    ("rho", "colour"),
    [(None, "#eeeeee"), (0.0, "#ffffff"), (1.0, "#4477aa"), (-1.0, "#ee6677")],
)
def test_rho_colour(rho: float | None, colour: str) -> None:
    assert charts.rho_colour(rho) == colour


def test_correlation_grid() -> None:
    svg = str(
        charts.correlation_grid(
            "g",
            title="ρ",
            labels=["T1", "T2"],
            value=lambda i, j: 1.0 if i == j else (None if i else 0.25),
        )
    )
    assert svg.count('<g class="cell">') == 4
    assert re.search(
        r"<desc[^>]*>Spearman rank correlation between tracks\. T1–T2 0\.25\.</desc>", svg
    )
    assert "T2 vs T1: ρ = n/a" in svg
