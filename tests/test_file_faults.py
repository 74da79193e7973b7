"""A file that cannot be loaded fails its seed's asset with one message naming the file and the
problem; the other seeds still load, and the published warehouse is not replaced."""

from tests.conftest import materialize
from tests.seededit import read_rows, write_rows


def test_file_level_faults_fail_only_their_seed_with_a_clear_message(seeds, tmp_path):
    header, rows = read_rows(seeds / "chpl.csv")
    write_rows(seeds / "chpl.csv", [h for h in header if h != "tier"], [{k: v for k, v in r.items() if k != "tier"} for r in rows])
    (seeds / "claims.csv").write_bytes((seeds / "claims.csv").read_text(encoding="utf-8").encode("utf-8") + "Tür,é\n".encode("latin-1"))
    (seeds / "jurisdictions.csv").write_text("")
    text = (seeds / "sanctions_measures.csv").read_text(encoding="utf-8").splitlines()
    (seeds / "sanctions_measures.csv").write_text("\n".join([text[0] + ",source", *text[1:]]) + "\n", encoding="utf-8")
    header, rows = read_rows(seeds / "allocation_rules.csv")
    write_rows(seeds / "allocation_rules.csv", [*header, "notes"], rows)
    (seeds / "trade_flows" / "2019-01.csv").write_text(
        (seeds / "trade_flows" / "2019-01.csv").read_text().splitlines()[0] + "\n"
    )

    build = materialize(seeds, tmp_path / "w" / "detour.duckdb")

    assert not build.result.success
    expected = {
        "ref__chpl": ("chpl.csv", "missing column(s): tier"),
        "ref__claims": ("claims.csv", "not valid UTF-8 (line 18"),
        "ref__jurisdictions": ("jurisdictions.csv", "file is empty"),
        "ref__sanctions_measures": ("sanctions_measures.csv", "duplicate column(s) in header: source"),
        "ref__allocation_rules": ("allocation_rules.csv", "unknown column(s): notes"),
        "core__trade_flows": ("trade_flows/2019-01.csv", "has a header but no data rows"),
    }
    for step, (file, problem) in expected.items():
        message = build.failure(step)
        assert str(seeds / file) in message and problem in message, message
        assert "Traceback" not in message
    for step in ("ref__goods_categories", "ref__hs_categories", "ref__fx_rates", "ref__payment_channels", "ref__corridors"):
        assert build.succeeded(step), step
    assert not build.succeeded("published_warehouse")
    assert not build.warehouse.exists()
    loaded = build.query("SELECT count(*) FROM ref.goods_categories", published=False)
    assert loaded == [(19,)]


def test_a_missing_seed_file_is_named(seeds, tmp_path):
    (seeds / "claims.csv").unlink()
    build = materialize(seeds, tmp_path / "detour.duckdb")
    assert build.failure("ref__claims") == f"{seeds / 'claims.csv'}: file not found"
    assert build.succeeded("core__trade_flows")
    assert not build.warehouse.exists()
