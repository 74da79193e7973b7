"""The report: one self-contained HTML page that loads offline in a real browser with its Sankey
drawn, and PNG charts of the same."""

from tests.browser import run_chromium

REPO_PICTURE = "docs/sankey.png"


def test_the_report_is_self_contained(shipped_build):
    page = (shipped_build.warehouse.parent / "report.html").read_text(encoding="utf-8")
    assert "<script src=" not in page and '<link rel="stylesheet" href="http' not in page
    assert "Plotly" in page and "sankey" in page
    assert "claim_id" in page and "trade_2019_morgulov" in page


def test_the_report_loads_offline_in_chromium_with_the_sankey_drawn(shipped_build, tmp_path):
    report = shipped_build.warehouse.parent / "report.html"
    dom = run_chromium(report.as_uri(), tmp_path / "profile", "--virtual-time-budget=20000", "--dump-dom", offline=True)
    assert dom.count('class="sankey-link"') > 10, "the Sankey's links were not drawn"
    assert 'class="sankey-node' in dom
    shot = tmp_path / "report.png"
    run_chromium(report.as_uri(), tmp_path / "profile2", "--virtual-time-budget=20000", "--window-size=1300,1000",
                 f"--screenshot={shot}", offline=True)
    assert shot.stat().st_size > 20_000


def test_png_charts_are_drawn(shipped_build):
    charts = shipped_build.warehouse.parent / "charts"
    for name in ("sankey.png", "channel_mix.png", "corridor_shares.png"):
        data = (charts / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000, name
