"""Server-rendered SVG charts, written by hand.

Why not a charting library: the pages need three small chart types (grouped bars, points over
box plots, a correlation grid). Hand-written SVG keeps text as real text (selectable, readable
by screen readers, searchable, sharp at any zoom), adds no dependency (matplotlib would bring
numpy and tens of megabytes, and render text as paths unless told otherwise), renders in well
under a millisecond per chart, and needs no JavaScript in the browser. Every chart carries a
<title> and a <desc> that states its numbers, and the page next to it has the same numbers as a
table.

Layout is computed here in plain Python (testable geometry); every piece of text goes through
`markupsafe.escape`, so a model name can never become markup.
"""

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from app.scoring.summary import BoxStats, evenly_spaced

# Paul Tol's colour-blind-safe "bright" scheme.
BLUE = "#4477AA"
CYAN = "#66CCEE"
RED = "#EE6677"
GREEN = "#228833"
GREY = "#BBBBBB"
INK = "#1b1f23"
MUTED = "#57606a"

MAX_POINTS_PER_GROUP = 150

# A value from another source than the rest of the chart (a mixed analysis marks values judged
# here) is drawn as a diamond: a shape, so the difference never rests on colour alone.
MARKED_LEGEND = "◆ judged here (not the paper's judge)"


def diamond_points(cx: float, cy: float, r: float) -> str:
    """The polygon `points` of a diamond of half-diagonal `r` centred on (cx, cy)."""
    return " ".join(
        f"{_f(x)},{_f(y)}" for x, y in ((cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy))
    )


def _f(value: float) -> str:
    """Coordinates with two decimals: short markup, stable output."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _attrs(**attrs: object) -> str:
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        key = name.rstrip("_").replace("_", "-")
        text = _f(value) if isinstance(value, float) else str(value)
        parts.append(f'{key}="{escape(text)}"')
    return " ".join(parts)


def _text(x: float, y: float, content: str, **attrs: object) -> str:
    return f"<text {_attrs(x=x, y=y, **attrs)}>{escape(content)}</text>"


def _el(tag: str, tip: str | None = None, /, **attrs: object) -> str:
    """An empty element, or one holding a <title> tooltip."""
    if tip is None:
        return f"<{tag} {_attrs(**attrs)}/>"
    return f"<{tag} {_attrs(**attrs)}><title>{escape(tip)}</title></{tag}>"


def _svg(
    chart_id: str,
    width: int,
    height: int,
    title: str,
    desc: str,
    body: list[str],
    *,
    fluid: bool = True,
) -> Markup:
    """The <svg> element: fluid charts fill their column, others keep their natural size."""
    size = 'width="100%"' if fluid else f'width="{width}" height="{height}"'
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" {size} role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        'font-family="system-ui, sans-serif" font-size="12">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


@dataclass(frozen=True)
class Plot:
    """The drawing area inside the margins, with a 0–100 value axis."""

    left: float
    top: float
    width: float
    height: float
    lo: float = 0.0
    hi: float = 100.0

    def y(self, value: float) -> float:
        clamped = min(max(value, self.lo), self.hi)
        return self.top + self.height * (1 - (clamped - self.lo) / (self.hi - self.lo))

    @property
    def bottom(self) -> float:
        return self.top + self.height


def _value_axis(
    plot: Plot, label: str, ticks: Sequence[float] = (0, 20, 40, 60, 80, 100)
) -> list[str]:
    parts = []
    for tick in ticks:
        y = plot.y(tick)
        right = plot.left + plot.width
        parts.append(_el("line", x1=plot.left, x2=right, y1=y, y2=y, stroke="#e1e4e8"))
        parts.append(_text(plot.left - 6, y + 4, f"{tick:g}", text_anchor="end", fill=MUTED))
    parts.append(_el("line", x1=plot.left, x2=plot.left, y1=plot.top, y2=plot.bottom, stroke=MUTED))
    parts.append(
        _el(
            "line",
            x1=plot.left,
            x2=plot.left + plot.width,
            y1=plot.bottom,
            y2=plot.bottom,
            stroke=MUTED,
        )
    )
    middle = plot.top + plot.height / 2
    parts.append(
        _text(
            14,
            middle,
            label,
            text_anchor="middle",
            transform=f"rotate(-90 14 {_f(middle)})",
            fill=INK,
            class_="axis-label",
        )
    )
    return parts


def _axis_label(x: float, y: float, label: str, *, compact: bool = False) -> str:
    """A category label under the axis: the first word (e.g. "T3") on one line, the rest in
    smaller type below it, so long track names fit their slot (a compact chart keeps only the
    first word: its slots are too narrow for the rest)."""
    head, _, rest = label.partition(" ")
    inner = f'<tspan x="{_f(x)}">{escape(head)}</tspan>'
    if rest and not compact:
        inner += (
            f'<tspan x="{_f(x)}" dy="1.25em" font-size="11" fill="{MUTED}">{escape(rest)}</tspan>'
        )
    attrs = _attrs(x=x, y=y, text_anchor="middle", fill=INK, class_="group-label")
    return f"<text {attrs}>{inner}</text>"


LEGEND_LINE = 18.0  # px between wrapped legend lines


def legend_lines(items: Sequence[tuple[str, str, str]], width: float) -> list[int]:
    """The line (0, 1, …) of each legend item when the legend wraps at `width`."""
    lines, line, cursor = [], 0, 0.0
    for label, _, _ in items:
        span = 17 + 7.0 * len(label)
        if cursor > 0 and cursor + span > width:
            line, cursor = line + 1, 0.0
        lines.append(line)
        cursor += span + 18
    return lines


def _legend(
    x: float, y: float, items: Sequence[tuple[str, str, str]], width: float = math.inf
) -> list[str]:
    """items: (label, colour, shape) with shape "rect", "circle" or "diamond"; wraps at `width`."""
    parts = ['<g class="legend">']
    cursor, current = x, 0
    for (label, colour, shape), line in zip(items, legend_lines(items, width), strict=True):
        if line != current:
            cursor, current = x, line
            y += LEGEND_LINE
        if shape == "circle":
            parts.append(_el("circle", cx=cursor + 6, cy=y - 4, r=5, fill=colour))
        elif shape == "diamond":
            parts.append(_el("polygon", points=diamond_points(cursor + 6, y - 4, 6), fill=colour))
        else:
            parts.append(_el("rect", x=cursor, y=y - 10, width=12, height=12, fill=colour))
        parts.append(_text(cursor + 17, y, label, fill=INK))
        cursor += 17 + 7.0 * len(label) + 18
    parts.append("</g>")
    return parts


# --------------------------------------------------------------------------------------------
# Grouped bars: peak scores per track
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarSeries:
    name: str
    colour: str


@dataclass(frozen=True)
class BarValue:
    value: float | None
    who: str | None  # the entry behind the bar, for its tooltip
    mark: str | None = None  # e.g. "judged here by X": drawn as a diamond on the bar


@dataclass(frozen=True)
class Bar:
    group: str
    series: str
    x: float
    y: float
    width: float
    height: float
    value: float
    who: str | None
    mark: str | None = None


def _frame(
    plot: Plot,
    legend: Sequence[tuple[str, str, str]],
    value_label: str,
    slots: int,
    labels: Sequence[str],
    *,
    compact: bool = False,
) -> tuple[list[str], float]:
    """A chart's legend, value axis and one label under each of `slots` equal slots; returns
    the parts and the slot width. A compact chart's legend starts at the left edge and wraps."""
    if compact:
        parts = _legend(8, 20, legend, plot.left + plot.width - 8)
    else:
        parts = _legend(plot.left, 20, legend)
    parts += _value_axis(plot, value_label)
    slot = plot.width / max(slots, 1)
    for i, label in enumerate(labels):
        x = plot.left + i * slot + slot / 2
        parts.append(_axis_label(x, plot.bottom + 18, label, compact=compact))
    return parts, slot


# A phone's chart: drawn at about the width it is shown at (≈ 340 px in a 390 px viewport), so
# its 11–12 px text is not scaled down; the page shows it instead of the wide one on narrow
# screens (leaderboard.css).
COMPACT_WIDTH = 340


def _plot(width: int, height: int, legend: Sequence[tuple[str, str, str]], compact: bool) -> Plot:
    """The drawing area of a chart `width` × `height` (a compact one below its wrapped legend;
    `height` is then the plot's own height plus its margins)."""
    if not compact:
        return Plot(left=52, top=40, width=width - 52 - 14, height=height - 40 - 58)
    lines = max(legend_lines(legend, width - 16), default=0) + 1
    top = 20 + LEGEND_LINE * lines
    return Plot(left=44, top=top, width=width - 44 - 8, height=height - 40 - 34)


def responsive(wide: Markup, compact: Markup) -> Markup:
    """Both drawings of a chart; the stylesheet shows the one that fits the screen."""
    return Markup(f'<div class="chart-wide">{wide}</div><div class="chart-compact">{compact}</div>')


def bar_layout(
    groups: Sequence[str],
    series: Sequence[BarSeries],
    values: Callable[[str, str], BarValue],
    plot: Plot,
) -> list[Bar]:
    """Bars of each group side by side, groups spread evenly; missing values get no bar."""
    bars: list[Bar] = []
    slot = plot.width / max(len(groups), 1)
    inner = slot * 0.72
    bar_width = inner / max(len(series), 1)
    for g, group in enumerate(groups):
        start = plot.left + g * slot + (slot - inner) / 2
        for s, one in enumerate(series):
            found = values(group, one.name)
            if found.value is None:
                continue
            top = plot.y(found.value)
            bars.append(
                Bar(
                    group=group,
                    series=one.name,
                    x=start + s * bar_width + 1,
                    y=top,
                    width=bar_width - 2,
                    height=plot.bottom - top,
                    value=found.value,
                    who=found.who,
                    mark=found.mark,
                )
            )
    return bars


def grouped_bar_chart(
    chart_id: str,
    *,
    title: str,
    groups: Sequence[str],
    group_labels: Sequence[str],
    series: Sequence[BarSeries],
    values: Callable[[str, str], BarValue],
    value_label: str = "Score (0–100)",
    width: int = 760,
    height: int = 342,
    compact: bool = False,
) -> Markup:
    """Bars per group; a compact chart leaves out the value over each bar (its slots are too
    narrow for readable numbers: they are in the tooltips, the description and the tables)."""
    legend = [(one.name, one.colour, "rect") for one in series]
    marked = any(values(g, one.name).mark for g in groups for one in series)
    if marked:
        legend.append((MARKED_LEGEND, INK, "diamond"))
    plot = _plot(width, height, legend, compact)
    height = int(plot.bottom + (34 if compact else 58))
    bars = bar_layout(groups, series, values, plot)
    colours = {one.name: one.colour for one in series}
    parts, _ = _frame(plot, legend, value_label, len(groups), group_labels, compact=compact)
    described = []
    for bar in bars:
        who = f": {bar.who}" if bar.who else ""
        mark = f" ({bar.mark})" if bar.mark else ""
        tip = f"{bar.group}, {bar.series}{who}{mark}, {bar.value:.1f}"
        described.append(tip)
        rect = _el(
            "rect",
            tip,
            x=bar.x,
            y=bar.y,
            width=bar.width,
            height=bar.height,
            fill=colours[bar.series],
        )
        parts.append(
            f'<g class="bar">{rect}'
            + (
                ""
                if compact
                else _text(
                    bar.x + bar.width / 2,
                    bar.y - 4,
                    f"{bar.value:.1f}",
                    text_anchor="middle",
                    fill=INK,
                    font_size=11,
                )
            )
            + (
                _el(
                    "polygon",
                    tip,
                    class_="mark",
                    points=diamond_points(bar.x + bar.width / 2, bar.y + 9, 5),
                    fill=INK,
                    stroke="#ffffff",
                )
                if bar.mark
                else ""
            )
            + "</g>"
        )
    missing = [
        f"{group}, {one.name}: no score"
        for group in groups
        for one in series
        if values(group, one.name).value is None
    ]
    desc = "Bar chart. " + ("; ".join(described + missing) if described else "No scores yet") + "."
    return _svg(chart_id, width, height, title, desc, parts)


# --------------------------------------------------------------------------------------------
# Points over boxes: score distributions per group and track
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxGroup:
    category: str  # e.g. "T3"
    group: str  # e.g. "medical"
    colour: str
    points: Sequence[tuple[str, float]]  # (name, score), any order
    box: BoxStats | None
    marks: Mapping[str, str] = field(default_factory=dict)  # name → mark: drawn as a diamond


def jitter(name: str, spread: float) -> float:
    """A stable horizontal offset in [−spread, spread] for a point, from its name."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest()
    unit = int.from_bytes(digest, "big") / 0xFFFFFFFF
    return (unit * 2 - 1) * spread


def thin(points: Sequence[tuple[str, float]], keep: int) -> list[tuple[str, float]]:
    """At most `keep` points, evenly spaced over the sorted scores (the shape is kept)."""
    ordered = sorted(points, key=lambda p: (p[1], p[0]))
    return [ordered[i] for i in evenly_spaced(len(ordered), keep)]


def box_points_chart(
    chart_id: str,
    *,
    title: str,
    categories: Sequence[str],
    category_labels: Sequence[str],
    groups: Sequence[BoxGroup],
    legend: Sequence[tuple[str, str]],
    value_label: str = "Score (0–100)",
    width: int = 760,
    height: int = 352,
    max_points: int = MAX_POINTS_PER_GROUP,
    compact: bool = False,
) -> Markup:
    items = [(label, colour, "circle") for label, colour in legend]
    if any(group.marks for group in groups):
        items.append((MARKED_LEGEND, INK, "diamond"))
    plot = _plot(width, height, items, compact)
    height = int(plot.bottom + (34 if compact else 58))
    parts, slot = _frame(
        plot, items, value_label, len(categories), category_labels, compact=compact
    )
    described = []
    per_category: dict[str, list[BoxGroup]] = {}
    for group in groups:
        per_category.setdefault(group.category, []).append(group)
    for c, category in enumerate(categories):
        members = per_category.get(category, [])
        lane = slot / max(len(members), 1)
        for m, group in enumerate(members):
            centre = plot.left + c * slot + lane * m + lane / 2
            box_width = min(lane * 0.55, 44)
            parts.append(f'<g class="box-group" data-group="{escape(group.group)}">')
            box = group.box
            if box is not None:
                low, high = plot.y(box.minimum), plot.y(box.maximum)
                q1, q3, median = plot.y(box.q1), plot.y(box.q3), plot.y(box.median)
                half = box_width / 2
                stroke = {"stroke": MUTED, "stroke_width": 1.2}
                parts.append(_el("line", x1=centre, x2=centre, y1=low, y2=q1, **stroke))
                parts.append(_el("line", x1=centre, x2=centre, y1=q3, y2=high, **stroke))
                for y in (low, high):
                    cap = {"x1": centre - half / 2, "x2": centre + half / 2, "y1": y, "y2": y}
                    parts.append(_el("line", **cap, **stroke))
                summary = (
                    f"{category} {group.group}: n={box.count}, min {box.minimum:.1f}, "
                    f"Q1 {box.q1:.1f}, median {box.median:.1f}, Q3 {box.q3:.1f}, "
                    f"max {box.maximum:.1f}"
                )
                parts.append(
                    _el(
                        "rect",
                        summary,
                        class_="box",
                        x=centre - half,
                        y=q3,
                        width=box_width,
                        height=max(q1 - q3, 0.5),
                        fill="none",
                        **stroke,
                    )
                )
                mid = {"x1": centre - half, "x2": centre + half, "y1": median, "y2": median}
                parts.append(_el("line", **mid, stroke=INK, stroke_width=2))
                described.append(summary)
            else:
                described.append(f"{category} {group.group}: no scores")
            shown = thin(group.points, max_points)
            if len(shown) < len(group.points):
                described[-1] += f" (showing {len(shown)} of {len(group.points)} points)"
            marked = [name for name, _ in shown if group.marks.get(name)]
            if marked:
                described[-1] += f" (judged here: {', '.join(marked)})"
            for name, score in shown:
                cx, cy = centre + jitter(name, box_width * 0.45), plot.y(score)
                mark = group.marks.get(name)
                if mark:
                    parts.append(
                        _el(
                            "polygon",
                            f"{name}: {score:.1f} ({mark})",
                            class_="point marked",
                            points=diamond_points(cx, cy, 5),
                            fill=group.colour,
                            stroke=INK,
                        )
                    )
                    continue
                parts.append(
                    _el(
                        "circle",
                        f"{name}: {score:.1f}",
                        class_="point",
                        cx=cx,
                        cy=cy,
                        r=3.2,
                        fill=group.colour,
                        fill_opacity=0.75,
                    )
                )
            parts.append("</g>")
    desc = "Points over box plots (box: quartiles; line: median; whiskers: minimum to maximum). "
    desc += "; ".join(described) + "."
    return _svg(chart_id, width, height, title, desc, parts)


# --------------------------------------------------------------------------------------------
# Correlation grid
# --------------------------------------------------------------------------------------------


def rho_colour(rho: float | None) -> str:
    """Diverging: red for −1, white for 0, blue for +1; grey when undefined."""
    if rho is None:
        return "#eeeeee"
    t = max(-1.0, min(1.0, rho))
    base = (0x44, 0x77, 0xAA) if t >= 0 else (0xEE, 0x66, 0x77)
    mix = abs(t)
    r, g, b = (round(255 + (c - 255) * mix) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def correlation_grid(
    chart_id: str,
    *,
    title: str,
    labels: Sequence[str],
    value: Callable[[int, int], float | None],
    cell: int = 72,
) -> Markup:
    n = len(labels)
    left, top = 64, 28
    width, height = left + n * cell + 10, top + n * cell + 10
    parts = []
    described = []
    for j, label in enumerate(labels):
        parts.append(_text(left + j * cell + cell / 2, top - 10, label, text_anchor="middle"))
    for i, row_label in enumerate(labels):
        parts.append(_text(left - 8, top + i * cell + cell / 2 + 4, row_label, text_anchor="end"))
        for j in range(n):
            rho = value(i, j)
            shown = "n/a" if rho is None else f"{rho:.2f}"
            x, y = left + j * cell, top + i * cell
            dark = rho is not None and abs(rho) > 0.6
            tip = f"{row_label} vs {labels[j]}: ρ = {shown}"
            square = _el(
                "rect", tip, x=x, y=y, width=cell - 2, height=cell - 2, fill=rho_colour(rho)
            )
            parts.append(
                f'<g class="cell">{square}'
                + _text(
                    x + cell / 2 - 1,
                    y + cell / 2 + 4,
                    shown,
                    text_anchor="middle",
                    fill="#ffffff" if dark else INK,
                )
                + "</g>"
            )
            if j > i:
                described.append(f"{row_label}–{labels[j]} {shown}")
    desc = "Spearman rank correlation between tracks. " + "; ".join(described) + "."
    return _svg(chart_id, width, height, title, desc, parts, fluid=False)
