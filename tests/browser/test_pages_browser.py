"""The pages in a real browser: headless Chromium (driven over the DevTools protocol, see
`tests/browser/cdp.py`) loads every public page from a running server at a desktop width
(1400 px) and a phone's (390 px), checks what it laid out, runs axe-core on it, and keeps a
full-page screenshot of each under test-artifacts/.

Layout rules checked on every page and width:
- the page itself never scrolls sideways, and no table is wider than the box that holds it
  (no table sits in a horizontal scroller: the narrow layout stacks a row's cells instead);
- no two cells of a row overlap, no cell's content spills out of it, no two tables overlap;
- no chart text is smaller than 11 px as rendered (font size × the SVG's scale on screen).

Debian's `chromium` package provides the browser (`make browser-deps`). Without it these tests
skip locally and fail under CI=true, like the other service-backed tests. axe-core is vendored
under tests/browser/vendor/ (MPL-2.0, its licence beside it), so nothing is fetched.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from app.db.migrate import upgrade
from app.services.status import view_key
from tests.browser.cdp import Page, browser
from tests.integration.helpers import serve
from tests.web.leaderboard_support import seed, seed_older_t2_rubric, settings_for

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
WIDTHS = (1400, 390)
MIN_CHART_TEXT_PX = 11.0

# Every public page, as a visitor, a participant and a maintainer open them. "{private}" is a
# private submission's status page (reached with its view key) and its publish form; "{older}"
# the T2 board under an older rubric version (banner and the open list of older boards).
PAGES: list[tuple[str, str]] = [
    ("overview", "/"),
    ("overview-all", "/?all=true"),
    ("track-T1", "/tracks/T1"),
    ("track-T2", "/tracks/T2?all=true"),
    ("track-T2-older", "{older}"),
    ("overview-table3", "/?access=open&kind=reported&cols=model,T1,T1_F1,T2,T3,T4"),
    ("track-T1-columns", "/tracks/T1?kind=judged&cols=rank,model,organisation,size,score,f1"),
    ("model", "/models/Gamma-Med"),
    ("model-reported", "/models/GPT-5"),
    ("domain-gap", "/analysis/domain-gap?source=mixed"),
    ("consistency", "/analysis/consistency"),
    ("judge", "/analysis/judge"),
    ("status", "{private}"),
    ("status-action", "{private-action}"),
    ("submit", "/submit"),
    ("about", "/about"),
]

# Run in the page: what the layout rules above look at, as plain data.
LAYOUT_PROBE = """
(() => {
  const slack = 1;
  const out = {pageOverflow: null, tables: [], cells: [], tablePairs: [], chartText: []};
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth + slack) {
    out.pageOverflow = {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth};
  }
  const tables = [...document.querySelectorAll("table")].filter(t => t.offsetParent !== null);
  const describe = el => (el.id ? "#" + el.id : "") + " " + el.tagName.toLowerCase()
    + " " + (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 60);
  for (const table of tables) {
    const box = table.parentElement;
    const tableWidth = table.getBoundingClientRect().width;
    if (box.scrollWidth > box.clientWidth + slack || tableWidth > box.clientWidth + slack) {
      out.tables.push({table: describe(table), tableWidth, boxScroll: box.scrollWidth,
                       boxWidth: box.clientWidth});
    }
    for (const row of table.rows) {
      const cells = [...row.cells].filter(c => c.offsetParent !== null);
      for (const cell of cells) {
        if (cell.scrollWidth > cell.clientWidth + slack) {
          out.cells.push({cell: describe(cell), scrollWidth: cell.scrollWidth,
                          clientWidth: cell.clientWidth, kind: "spills"});
        }
      }
      for (let i = 0; i + 1 < cells.length; i++) {
        const a = cells[i].getBoundingClientRect(), b = cells[i + 1].getBoundingClientRect();
        const sameLine = a.top < b.bottom - slack && b.top < a.bottom - slack;
        if (sameLine && a.right > b.left + slack) {
          out.cells.push({cell: describe(cells[i]), next: describe(cells[i + 1]),
                          kind: "overlaps"});
        }
      }
    }
  }
  for (let i = 0; i < tables.length; i++) {
    for (let j = i + 1; j < tables.length; j++) {
      const a = tables[i].getBoundingClientRect(), b = tables[j].getBoundingClientRect();
      if (a.left < b.right - slack && b.left < a.right - slack
          && a.top < b.bottom - slack && b.top < a.bottom - slack) {
        out.tablePairs.push([describe(tables[i]), describe(tables[j])]);
      }
    }
  }
  for (const text of document.querySelectorAll("svg text")) {
    const matrix = text.getScreenCTM();
    if (!matrix || !(text.textContent || "").trim()) continue;
    const scale = Math.hypot(matrix.a, matrix.b);
    const px = parseFloat(getComputedStyle(text).fontSize) * scale;
    out.chartText.push({text: text.textContent.trim().slice(0, 40), px});
  }
  return out;
})()
"""

FIRST_TABLE = """
(() => {
  const table = document.querySelector("table");
  if (!table) return null;
  const box = table.getBoundingClientRect();
  return {x: 0, y: box.top + window.scrollY, width: document.documentElement.clientWidth,
          height: Math.min(box.height, 1400)};
})()
"""

AXE_RUN = """
axe.run(document, {resultTypes: ["violations"]}).then(result => result.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The seeded app under uvicorn; its base URL and the paths of pages that need ids."""
    tmp_path = tmp_path_factory.mktemp("site")
    database = f"sqlite:///{tmp_path / 'board.db'}"
    upgrade(database)
    settings: Settings = settings_for(database, tmp_path)
    ids = asyncio.run(seed(settings))
    older = asyncio.run(seed_older_t2_rubric(settings))
    private = ids["Alpha-General/T2/private"]
    key = view_key(settings.resolve_keys().view_link_key, private)
    with serve(settings) as url:
        yield (
            url,
            {
                "{private}": f"/submissions/{private}?key={key}",
                "{private-action}": f"/submissions/{private}/action?do=publish&key={key}",
                "{older}": f"/tracks/T2?rubric={older[:8]}",
            },
        )


@pytest.fixture(scope="module")
def page(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with browser(chromium, tmp_path_factory.mktemp("chromium")) as tab:
        tab.send("Page.setBypassCSP", enabled=True)  # axe is injected into the page
        yield tab


def _problems(report: dict[str, Any]) -> list[str]:
    problems = []
    if report["pageOverflow"]:
        problems.append(f"the page scrolls sideways: {report['pageOverflow']}")
    problems += [f"table wider than its box: {t}" for t in report["tables"]]
    problems += [f"cell {c['kind']}: {c}" for c in report["cells"]]
    problems += [f"tables overlap: {pair}" for pair in report["tablePairs"]]
    problems += [
        f"chart text {t['px']:.1f} px < {MIN_CHART_TEXT_PX} px: {t['text']!r}"
        for t in report["chartText"]
        if t["px"] < MIN_CHART_TEXT_PX - 0.05
    ]
    return problems


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "path"), PAGES, ids=[name for name, _ in PAGES])
def test_page_fits_and_is_accessible(
    page: Page, site: tuple[str, dict[str, str]], name: str, path: str, width: int
) -> None:
    base_url, paths = site
    url = base_url + paths.get(path, path)
    page.open(url, width)
    assert page.evaluate("document.title") and "Not Found" not in page.evaluate("document.title")
    assert page.evaluate("document.querySelectorAll('script').length") == 0  # no JavaScript
    report = page.evaluate(LAYOUT_PROBE)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(ARTIFACTS / f"{name}-{width}.png")
    first_table = page.evaluate(FIRST_TABLE)
    if first_table:  # the first table close up: the full page is long on a phone
        page.screenshot(ARTIFACTS / f"{name}-{width}-table.png", clip=first_table)
    problems = _problems(report)
    assert not problems, f"{url} at {width} px:\n" + "\n".join(problems)
    if page.evaluate("typeof axe") != "object":
        page.evaluate(AXE.read_text())
    violations = page.evaluate(AXE_RUN)
    assert violations == [], f"{url} at {width} px: " + json.dumps(violations, indent=1)
