"""The report: one self-contained HTML page that loads offline in a real browser with its charts
drawn, whose sections state their period and what they rest on, labelled with ref names; and PNG
charts of the same."""

import datetime as dt
import html
import re
import shutil

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.report import area_figure, corridor_figure, transshipment_figure, write_report
from tests.browser import OFFLINE_FLAGS, chromium, keep_screenshot

REPO_PICTURE = "docs/sankey.png"
SCREENSHOT = "docs/report.png"
SCREENSHOT_TOP = "docs/report_top.png"
SECTIONS = ("roundabout", "where-value-goes", "channels", "corridors", "route-risk", "transshipment", "sanctioned-exposure", "claims")


def page_of(build) -> str:
    return (build.warehouse.parent / "report.html").read_text(encoding="utf-8")


def sections_of(page: str) -> dict[str, str]:
    return dict(re.findall(r'<section id="([^"]+)">(.*?)</section>', page, re.S))


def test_the_report_is_self_contained(shipped_build):
    page = page_of(shipped_build)
    assert "<script src=" not in page and '<link rel="stylesheet" href="http' not in page
    assert "Plotly" in page and "sankey" in page
    assert "<th>claim</th>" in page and "trade_2019_morgulov" in page


def test_every_section_states_its_period_and_allocated_share(shipped_build):
    sections = sections_of(page_of(shipped_build))
    assert tuple(sections) == SECTIONS
    first, last = shipped_build.query(
        "SELECT strftime(min(period), '%Y-%m'), strftime(max(period), '%Y-%m') FROM core.routed_flows "
        "WHERE canonical AND data_status = 'illustrative' AND exporter_iso3 IN ('IRN', 'RUS') AND importer_iso3 IN ('IRN', 'RUS')")[0]
    for anchor, body in sections.items():
        assert re.search(r'class="period">[^<]*\d{4}[^<]* to [^<]*\d{4}', body), f"{anchor} states no period"
        assert 'class="lead"' in body and "Rests on:" in body, anchor
    # The Sankey sums the whole period, and says so in its title.
    assert f"summed over {first} to {last}" in sections["where-value-goes"]
    pair = "FROM core.routed_flows WHERE canonical AND data_status = 'illustrative' AND exporter_iso3 IN ('IRN', 'RUS') AND importer_iso3 IN ('IRN', 'RUS')"
    shares = {  # each section's share of its own rows allocated by a sourced rule
        "where-value-goes": f"SELECT sum(value_usd) FILTER (WHERE channel_basis = 'allocated' OR corridor_basis = 'allocated')::DOUBLE / sum(value_usd) {pair}",
        "channels": f"SELECT sum(value_usd) FILTER (WHERE channel_basis = 'allocated')::DOUBLE / sum(value_usd) {pair} AND frequency = 'monthly'",
        "corridors": f"SELECT coalesce(sum(value_usd) FILTER (WHERE corridor_basis = 'allocated'), 0)::DOUBLE / sum(value_usd) {pair}",
    }
    for anchor, sql in shares.items():
        ((share,),) = shipped_build.query(sql)
        assert f"<b>{share:.0%}</b>" in sections[anchor], anchor
    ((unknown,),) = shipped_build.query(f"SELECT sum(value_usd) FILTER (WHERE corridor_id = 'unknown')::DOUBLE / sum(value_usd) {pair}")
    assert f"<b>{unknown:.0%}</b> has no known corridor" in sections["corridors"]


def test_route_risk_lists_the_top_routes_with_their_score_components(shipped_build):
    body = sections_of(page_of(shipped_build))["route-risk"]
    year, frequency, category, corridor, channel, score = shipped_build.query(
        "SELECT r.year, r.frequency, g.name, c.name, p.name, r.risk_score FROM marts.route_risk r "
        "JOIN ref.goods_categories g USING (category_id) JOIN ref.corridors c USING (corridor_id) "
        "JOIN ref.payment_channels p USING (channel_id) WHERE r.data_status = 'illustrative' AND r.risk_rank = 1 "
        "AND r.year = (SELECT max(year) FROM marts.route_risk WHERE data_status = 'illustrative') ORDER BY r.frequency LIMIT 1")[0]
    top = re.search(rf"<tr><td>{year}</td><td>{frequency}</td><td>1</td>(.*?)</tr>", body).group(1)
    assert f"<td>{category}</td><td>{corridor}</td><td>{channel}</td>" in top and f"<td>{score:.3f}</td>" in top
    for header in ("circumvention", "in reach", "undetermined", "covered", "CHPL score", "traceability score", "hub share",
                   "size score", "rests on"):
        assert f"<th>{header}</th>" in body
    assert "data_status = &#x27;real&#x27;" in body or "data_status = 'real'" in body  # ranked apart, never together


def test_exposure_figures_equal_the_mart_per_authority(shipped_build):
    body = sections_of(page_of(shipped_build))["sanctioned-exposure"]
    rows = shipped_build.query(
        "SELECT authority, kind, year(month), sum(covered_value_usd), sum(in_reach_value_usd), sum(circumvention_value_usd), "
        "sum(undetermined_value_usd) FROM marts.sanctioned_exposure WHERE data_status = 'illustrative' GROUP BY ALL")
    assert len(rows) > 5
    for authority, kind, year, *values in rows:
        cells = "".join(f"<td>{v}</td>" for v in (authority, kind, year, *(f"{float(x) / 1e6:,.1f}" for x in values)))
        assert cells in body, cells


def test_transshipment_shows_the_surge_and_the_mirror_gap(shipped_build):
    body = sections_of(page_of(shipped_build))["transshipment"]
    name, value, gap = shipped_build.query(
        "SELECT j.name, sum(t.value_usd), sum(t.mirror_gap_usd)::DOUBLE / sum(t.exporter_reported_usd) "
        "FROM marts.transshipment_signals t JOIN ref.jurisdictions j ON j.country_iso3 = t.intermediary_iso3 "
        "WHERE t.data_status = 'illustrative' AND t.year = 2024 AND t.mirror_gap_usd IS NOT NULL "
        "GROUP BY ALL ORDER BY 2 DESC LIMIT 1")[0]
    assert f"<td>{name}</td><td>2024</td>" in body and f"<td>{float(value) / 1e6:,.1f}</td>" in body
    assert f"<td>{gap:.0%}</td>" in body and "vs baseline" in body


def test_the_report_loads_offline_in_chromium_with_names_not_ids(shipped_build, tmp_path):
    from playwright.sync_api import sync_playwright

    report = shipped_build.warehouse.parent / "report.html"
    ids = {i for i, name in shipped_build.query(
        "SELECT channel_id, name FROM ref.payment_channels UNION ALL SELECT corridor_id, name FROM ref.corridors "
        "UNION ALL SELECT category_id, name FROM ref.goods_categories") if i != name}
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=OFFLINE_FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else (requests.append(r.request.url), r.abort()))
        page.goto(report.as_uri())
        page.wait_for_selector(".sankey-link", state="attached")
        links = page.locator(".sankey-link").count()
        labels = page.eval_on_selector_all("td, th, svg text", "nodes => nodes.map(n => n.textContent.trim())")
        page.screenshot(path=tmp_path / "report.png", full_page=True)
        browser.close()
    assert not errors and not requests, (errors, requests)
    assert links > 10, "the Sankey's links were not drawn"
    assert "Russian ruble" in labels and not ids & set(labels), ids & set(labels)
    assert (tmp_path / "report.png").stat().st_size > 100_000
    keep_screenshot(tmp_path / "report.png", SCREENSHOT, SCREENSHOT_TOP)


def test_png_charts_are_drawn(shipped_build):
    charts = shipped_build.warehouse.parent / "charts"
    for name in ("sankey", "channel_mix", "corridor_flows", "transshipment", "sanctioned_exposure"):
        data = (charts / f"{name}.png").read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, name


def test_a_claim_the_sample_was_calibrated_to_shows_grey_as_no_evidence(shipped_build):
    body = sections_of(page_of(shipped_build))["claims"]
    verdicts = dict(shipped_build.query("SELECT claim_id, verdict FROM marts.claims_check"))
    calibrated = [claim for claim, verdict in verdicts.items() if verdict == "calibrated (no evidence)"]
    assert calibrated and set(verdicts.values()) >= {"calibrated (no evidence)", "agrees", "disagrees"}
    for claim in calibrated:  # never the green row of an agreement
        assert re.search(rf'<tr class="calibrated"><td>{claim}</td>', body), claim
    assert '<table class="claims">' in body and 'class="wide"' not in body  # fits the page: no horizontal scroll


MARTS_SQL = "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY table_name"


@pytest.fixture(scope="module")
def writable_copy(shipped_build, tmp_path_factory):
    """A private, writable copy of the shipped warehouse: each example deletes rows inside a transaction."""
    path = tmp_path_factory.mktemp("subsets") / "detour.duckdb"
    shutil.copy(shipped_build.warehouse.resolve(), path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kept=st.lists(st.sampled_from([0, 1, 50, 100]), min_size=12, max_size=12), salt=st.integers(0, 1000))
def test_the_report_survives_any_subset_of_the_marts(writable_copy, tmp_path, kept, salt):
    """Random subsets of every mart, empty ones included (a percentage of rows kept per mart): the report is
    written, never a ZeroDivisionError or a NaN where a share of nothing is asked."""
    con = writable_copy
    marts = [name for (name,) in con.execute(MARTS_SQL).fetchall()]
    con.execute("BEGIN TRANSACTION")
    try:
        for name, percent in zip(marts, kept * 2, strict=False):
            con.execute(f"DELETE FROM marts.{name} WHERE hash(rowid + ?) % 100 >= ?", [salt, percent])
        folder = tmp_path / f"report-{salt}-{'-'.join(map(str, kept))}"
        folder.mkdir(exist_ok=True)
        (page, *_) = write_report(con, folder, shown_as="detour.duckdb", run_id="property")
        text = page.read_text(encoding="utf-8")
        assert "<section" in text and ">nan" not in text.lower()
    finally:
        con.execute("ROLLBACK")


def test_the_report_opens_with_its_date_and_the_sources_of_its_data_and_names_no_local_path(shipped_build):
    page = page_of(shipped_build)
    top = page.split('<section id="roundabout">')[0]
    published = re.search(r'<time datetime="([^"]+)">', top).group(1)
    assert dt.datetime.fromisoformat(published) > dt.datetime.now(dt.UTC) - dt.timedelta(hours=6)
    # one line per source of core.trade_flows, from the data: a new import adds its own, with its period
    for source, frequency, first, last, records in shipped_build.query(
            "SELECT source, frequency, min(period), max(period), count(*) FROM core.trade_flows GROUP BY ALL"):
        fmt = "%Y-%m" if frequency == "monthly" else "%Y"
        row = re.search(rf"<tr><td>{re.escape(html.escape(source))}</td>.*?</tr>", top).group(0)
        assert f"<td>{first:{fmt}} to {last:{fmt}}</td>" in row and f"<td>{records:,}</td>" in row, row
    assert "CHN → RUS, RUS → CHN" in top  # a source of a few country pairs names them
    assert str(shipped_build.warehouse.parent) not in page and "README" not in page
    assert "from detour.duckdb." in top


def test_no_two_series_of_a_chart_look_alike_even_past_the_palette():
    # 14 payment channels and the unknown one: the dollar and crypto-assets once shared a colour
    names = [f"channel {i}" for i in range(14)] + ["Unknown"]
    wide = pl.DataFrame({"year": [2023, 2024], **{name: [1 / 15, 1 / 15] for name in names}})
    allocated = pl.DataFrame({"year": [2023, 2024], "share": [0.1, 0.2]})
    areas = [t for t in area_figure(wide, allocated, "t").data if t.stackgroup]
    assert len({(t.fillcolor, t.fillpattern.shape or "") for t in areas}) == len(names)
    corridors = pl.DataFrame({"corridor": names, "year": [2024] * len(names), "observed": [1.0] * len(names),
                              "allocated": [0.0] * len(names)})
    bars = corridor_figure(corridors, "t").data
    assert len({(b.marker.color, b.marker.pattern.shape or "") for b in bars}) == len(names)
    lines = transshipment_figure(pl.DataFrame({"intermediary": names, "year": [2024] * len(names),
                                               "value_usd": [1.0] * len(names)}), "t").data
    assert len({(line.line.color, line.line.dash) for line in lines}) == len(names)
