"""The backbone: every shipped seed lands, typed, in the published warehouse; nothing is lost."""

from schemas import REFERENCE_SEEDS, SEEDS
from schemas.eu_hs6 import SEED as EU_HS6


def test_a_run_on_the_shipped_seeds_succeeds_and_publishes(shipped_build):
    assert shipped_build.result.success
    assert shipped_build.warehouse.exists()


def test_every_reference_seed_has_its_ref_table_with_every_good_row(shipped_build):
    for seed in REFERENCE_SEEDS:
        with open(shipped_build.seeds / seed.path, encoding="utf-8") as f:
            data_rows = sum(1 for _ in f) - 1
        # rows of this file (ref.sanctions_measures also holds the measures of lists/eu-hs6/)
        ((loaded,),) = shipped_build.query(f"SELECT count(*) FROM ref.{seed.name} WHERE source_file = ?", [seed.path])
        ((quarantined,),) = shipped_build.query(
            "SELECT count(DISTINCT row_number) FROM quality.quarantine WHERE seed = ?", [seed.name]
        )
        assert loaded + quarantined == data_rows, seed.name


def test_the_warehouse_holds_ref_core_and_quality_tables(shipped_build):
    tables = {f"{s}.{t}" for s, t in shipped_build.query("SELECT schema_name, table_name FROM duckdb_tables()")}
    expected = {f"ref.{s.name}" for s in REFERENCE_SEEDS} | {
        "core.trade_flows",
        "quality.quarantine",
        "quality.load_audit",
    }
    assert expected <= tables


def test_rows_read_equal_rows_loaded_plus_rows_quarantined_plus_rows_skipped_for_every_seed(shipped_build):
    audited = shipped_build.query(
        "SELECT seed, sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(rows_skipped), "
        "sum(list_sum([r.rows FOR r IN skip_reasons])) FROM quality.load_audit GROUP BY seed"
    )
    assert {seed for seed, *_ in audited} == {*SEEDS, EU_HS6.name}  # the shipped EU HS6 list is audited too
    for seed, read, loaded, quarantined, skipped, by_reason in audited:
        # every skip has its reason (Eurostat's ':' cells, its headings above CN8 codes, the list's unsanctioned codes, …)
        assert read == loaded + quarantined + skipped and (by_reason or 0) == skipped, seed


def test_the_shipped_malformed_flows_are_kept_aside_with_file_row_column_and_rule(shipped_build):
    rows = shipped_build.query(
        """SELECT source_file, row_number, column_name, rule, bad_value, raw_record->>'flow_id'
           FROM quality.quarantine WHERE seed = 'trade_flows' ORDER BY row_number, column_name"""
    )
    by_flow = {flow: (file, row, column, rule, bad) for file, row, column, rule, bad, flow in rows}
    assert set(by_flow) == {f"BAD-00{i}" for i in range(1, 7)}
    assert by_flow["BAD-001"][2:] == ("period", "str_matches('^\\d{4}(-(0[1-9]|1[0-2]))?$')", "2023-13")
    assert by_flow["BAD-004"][2:] == ("value", "type: not a number", "12,5")
    assert by_flow["BAD-005"][2] == "importer_iso3"
    assert all(file == "trade_flows/2023-05.csv" and row > 1 for file, row, *_ in by_flow.values())


def test_core_trade_flows_types_period_as_first_of_month_and_keeps_hs_code_as_text(shipped_build):
    ((period_type, hs_type),) = shipped_build.query(
        "SELECT typeof(period), typeof(hs_code) FROM core.trade_flows LIMIT 1"
    )
    assert (period_type, hs_type) == ("DATE", "VARCHAR")
    assert shipped_build.query("SELECT count(*) FROM core.trade_flows WHERE day(period) <> 1") == [(0,)]
    assert shipped_build.query("SELECT count(*) FROM core.trade_flows WHERE value_usd IS NULL") == [(0,)]


def test_every_table_and_column_carries_a_comment(shipped_build):
    uncommented = shipped_build.query(
        """SELECT table_name || '.' || column_name FROM duckdb_columns()
           WHERE schema_name IN ('ref', 'core', 'quality') AND (comment IS NULL OR comment = '')"""
    )
    assert uncommented == []


def test_the_sample_is_calibrated_to_the_published_yearly_totals(shipped_build):
    totals = {y: float(v) for y, v in (
        shipped_build.query(
            """SELECT year(period), sum(value_usd) FROM core.trade_flows
               WHERE exporter_iso3 IN ('IRN', 'RUS') AND importer_iso3 IN ('IRN', 'RUS') GROUP BY 1"""
        )
    )}
    assert abs(totals[2019] - 2.0e9) / 2.0e9 < 0.01
    assert abs(totals[2022] - 4.6e9) / 4.6e9 < 0.01
    assert abs(totals[2023] - 4.0e9) / 4.0e9 < 0.01
