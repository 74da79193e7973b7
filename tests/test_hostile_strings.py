"""Hostile strings in seed text (tests/hostile.py: SQL, HTML/JS, markdown, control characters, a
right-to-left override, non-Latin script, Plotly's label markup) are stored verbatim, and shown as text,
never run, in the report and the Data Docs (opened in headless Chromium) and in the markdown tables of
Dagster metadata (rendered as CommonMark; the Dagster UI itself is driven in tests/test_dagster_dev.py)."""

import html
import re
import shutil

import dagster as dg
import pytest

from pipeline.text import visible
from tests.conftest import SHIPPED_SEEDS, materialize
from tests.hostile import HOSTILE, PLACED, plant


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    seeds = tmp_path_factory.mktemp("hostile") / "seeds"
    shutil.copytree(SHIPPED_SEEDS, seeds)
    plant(seeds)
    build = materialize(seeds, seeds.parent / "warehouse" / "detour.duckdb")
    assert build.result.success
    return build


def test_hostile_strings_are_stored_verbatim(hostile_build):
    for (path, key_column, key, column), value in PLACED.items():
        table = "ref." + path.removesuffix(".csv")
        assert hostile_build.query(f"SELECT {column} FROM {table} WHERE {key_column} = ?", [key]) == [(value,)], (table, column)
    for value in HOSTILE.values():
        kept = hostile_build.query(
            "SELECT json_extract_string(raw_record, '$.currency') FROM quality.quarantine "
            "WHERE seed = 'trade_flows' AND column_name = 'currency' AND bad_value = ?", [value])
        assert kept == [(value,)], value


def open_page(browser, url: str):
    """Open `url` with every non-file request refused; returns the page and what went wrong."""
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    problems = []
    page.on("pageerror", lambda e: problems.append(f"script: {e}"))
    page.route("http*://**/*", lambda route: (problems.append(f"remote: {route.request.url}"), route.abort()))
    page.goto(url, wait_until="load")
    return page, problems


# Nothing from the data ran or became markup: no flag, no <img onerror>, no javascript: link, no bold label.
INJECTED = """() => ({
  pwned: typeof window.__pwned,
  images: document.querySelectorAll('img[onerror]').length,
  links: document.querySelectorAll('a[href^="javascript:"]').length,
  scripts: [...document.scripts].filter(s => s.textContent.includes('<script>window.__pwned')).length,
  bold: [...document.querySelectorAll('svg text b, svg text tspan[style*="bold"]')].length,
})"""
CLEAN = {"pwned": "undefined", "images": 0, "links": 0, "scripts": 0, "bold": 0}


def test_the_report_shows_hostile_strings_as_text(hostile_build, browser):
    report = hostile_build.warehouse.parent / "report.html"
    raw = report.read_text(encoding="utf-8")
    assert HOSTILE["script"] not in raw and HOSTILE["img"] not in raw  # escaped in HTML (&lt;) and in JSON (\u003c)
    page, problems = open_page(browser, report.as_uri())
    page.wait_for_selector(".sankey-link", state="attached")
    assert page.evaluate(INJECTED) == CLEAN
    cells = set(page.eval_on_selector_all("td", "nodes => nodes.map(n => n.textContent)"))
    labels = set(page.eval_on_selector_all("svg text", "nodes => nodes.map(n => n.textContent)"))
    page.close()
    assert problems == []
    for name, value in HOSTILE.items():  # control characters and bidi overrides shown as escapes
        assert visible(value) in cells, name
        assert visible(value) in labels, name


def test_data_docs_show_no_hostile_markup(hostile_build, browser):
    """No seed text reaches the Data Docs as built: the suites on the ref tables check keys (slugs and
    codes, which the contracts hold to their patterns) and row counts, GE shows values only of failed
    expectations, and our index names tables. Were that to change, the pages must still show text."""
    docs = hostile_build.warehouse.parent / "docs"
    for path in docs.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert HOSTILE["script"] not in text and HOSTILE["img"] not in text, path
    tables = {path.removesuffix(".csv") for path, *_ in PLACED}
    pages = [docs / "index.html", *(p for t in tables for p in (docs / "validations" / "ref" / t).rglob("*.html"))]
    assert len(pages) == 1 + len(tables)
    for path in pages:
        page, problems = open_page(browser, path.as_uri())
        assert page.evaluate(INJECTED) == CLEAN and problems == [], (path, problems)
        page.close()


def rendered_cells(markdown: str) -> list[list[str]]:
    """The body cells of a markdown table as CommonMark with GFM tables renders them (so does the Dagster
    UI), raw HTML allowed, as text."""
    from markdown_it import MarkdownIt

    page = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(markdown)
    body = page.split("<tbody>", 1)[1]
    return [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)] for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_dagster_metadata_tables_show_hostile_strings_as_text(hostile_build):
    (contract,) = [e for e in hostile_build.result.get_asset_check_evaluations()
                   if e.asset_key == dg.AssetKey(["core", "trade_flows"]) and e.check_name == "contract"]
    examples = rendered_cells(contract.metadata["examples"].value)
    assert {len(row) for row in examples} == {5}  # source_file, row_number, column_name, rule, bad_value: no cell split
    assert [row[4] for row in examples[: len(HOSTILE)]] == [visible(v) for v in HOSTILE.values()]
    (preview,) = [e.materialization.metadata["preview"] for e in hostile_build.result.get_asset_materialization_events()
                  if e.materialization.asset_key == dg.AssetKey(["ref", "sanctions_measures"])]
    cells = {cell for row in rendered_cells(preview.value) for cell in row}  # its first rows: us_itsr_exports is one
    assert {visible(HOSTILE[k]) for k in ("markdown", "img", "script")} <= cells
