"""The Great Expectations Data Docs as a person opens them: from disk, in headless Chromium, with no
network. Every page must be styled, run its scripts without errors, ask for nothing remote and show
no banner; the index must count each table's rows."""

from pathlib import Path

from tests.browser import keep_screenshot

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = {"index": REPO / "docs" / "data_docs_index.png", "validation": REPO / "docs" / "data_docs_validation.png"}


def open_offline(browser, path: Path):
    """Open `path` with every non-file request refused; returns the page and what went wrong."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"script: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))

    def refuse(route):
        problems.append(f"remote: {route.request.url}")
        route.abort()

    page.route("http*://**/*", refuse)
    page.goto(path.as_uri(), wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page, problems


ICON_FONT_LOADED = "[...document.fonts].some(f => f.family.includes('Font Awesome') && f.status === 'loaded')"


def style(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")


def test_data_docs_render_offline(shipped_build, browser, tmp_path):
    docs = shipped_build.warehouse.parent / "docs"
    validation = next((docs / "validations" / "marts" / "channel_mix").rglob("*.html"))
    suite = docs / "expectations" / "marts" / "channel_mix.html"
    shots = {}
    for name, path in {"index": docs / "index.html", "validation": validation, "suite": suite}.items():
        page, problems = open_offline(browser, path)
        assert problems == [], (name, problems)
        assert "Subscribe" not in page.inner_text("body") and "newsletter" not in page.content().lower(), name
        # Bootstrap's stylesheet applied: a table is full width with collapsed borders.
        assert style(page, "table", "borderCollapse") == "collapse" and style(page, "table", "width") != "auto", name
        if name != "index":
            assert style(page, ".card", "borderTopLeftRadius") == "4px", name  # Bootstrap's .card, not a plain div
            assert page.evaluate("() => typeof jQuery.fn.modal") == "function", name  # jQuery and Bootstrap's plugins
        if name == "validation":  # its ticks are Font Awesome icons; its filter runs jQuery
            assert page.locator(".fa-check-circle").count() > 0 and page.evaluate(ICON_FONT_LOADED)
            page.get_by_text("Failed Only").click()
            passed_section = page.locator(".hide-succeeded-validations-column-section-target-child").first
            passed_section.wait_for(state="hidden")
            page.get_by_text("Show All").click()
            passed_section.wait_for(state="visible")
            assert problems == [], problems
        shots[name] = tmp_path / f"data_docs_{name}.png"
        page.screenshot(path=str(shots[name]), full_page=name == "index")
        if name == "index":
            cells = page.locator("tr", has=page.locator("th", has_text="marts.channel_mix")).locator("td").all_inner_texts()
        page.close()

    (table_rows,) = shipped_build.query("SELECT count(*) FROM marts.channel_mix")[0]
    (months,) = shipped_build.query("SELECT count(DISTINCT month) FROM marts.channel_mix")[0]
    assert cells[0] == "passed"
    assert int(cells[2].replace(",", "")) == table_rows
    assert cells[3] == f"audit query: {months:,} rows"  # one row per month
    assert table_rows > months
    for name, target in SCREENSHOTS.items():
        keep_screenshot(shots[name], target)
