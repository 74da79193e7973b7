"""Monthly partitions: refreshing one month after its file changed rewrites that month only and
gives the same warehouse as a full rebuild."""

import duckdb

from tests.conftest import materialize
from tests.seededit import read_rows, write_rows

MONTH = "2022-06"
PARTITIONED = ["core.trade_flows", "core.routed_flows", "core.flow_sanctions", "core.route_sanctions",
               "marts.channel_mix", "marts.corridor_flows", "marts.sanctioned_exposure"]
WHOLE = ["marts.bilateral_balance", "marts.transshipment_signals", "marts.route_risk", "marts.claims_check"]
VOLATILE = {"run_id"}  # differs between runs by design


def columns(con, table: str) -> str:
    """The columns to compare; sums of doubles depend on summation order, so they are rounded."""
    schema, name = table.split(".")
    rows = con.execute(
        """SELECT column_name, data_type FROM duckdb_columns()
           WHERE database_name = 'a' AND schema_name = ? AND table_name = ? ORDER BY column_index""",
        [schema, name],
    ).fetchall()
    return ", ".join(f"round({c}, 4)" if t == "DOUBLE" else c for c, t in rows if c not in VOLATILE)


def differences(a, b, table: str, where: str = "true") -> int:
    """Rows of `table` in one warehouse and not the other (both ways, with multiplicity)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        cols = columns(con, table)
        sql = f"""SELECT (SELECT count(*) FROM (SELECT {cols} FROM a.{table} WHERE {where} EXCEPT ALL SELECT {cols} FROM b.{table} WHERE {where}))
                       + (SELECT count(*) FROM (SELECT {cols} FROM b.{table} WHERE {where} EXCEPT ALL SELECT {cols} FROM a.{table} WHERE {where}))"""
        return con.execute(sql).fetchone()[0]


def test_a_monthly_refresh_rewrites_its_month_only_and_equals_a_full_rebuild(seeds, tmp_path):
    incremental = tmp_path / "incremental" / "detour.duckdb"
    assert materialize(seeds, incremental).result.success
    before = tmp_path / "before.duckdb"
    before.write_bytes(incremental.read_bytes())

    header, rows = read_rows(seeds / "trade_flows" / f"{MONTH}.csv")
    rows = rows[:-40]  # forty flows withdrawn
    rows[0]["value"] = str(float(rows[0]["value"]) * 3)  # one revised
    write_rows(seeds / "trade_flows" / f"{MONTH}.csv", header, rows)

    refresh = materialize(seeds, incremental, month=MONTH)
    assert refresh.result.success
    partitions = {e.partition for e in refresh.result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    assert partitions == {f"{MONTH}-01", None}  # the month, and the unpartitioned marts and publish

    full = tmp_path / "full" / "detour.duckdb"
    assert materialize(seeds, full).result.success

    for table in PARTITIONED + WHOLE:
        assert differences(incremental, full, table) == 0, table
    in_month = f"period = DATE '{MONTH}-01'"
    for table in PARTITIONED[:4]:
        assert differences(before, incremental, table, f"NOT ({in_month})") == 0, f"{table} changed outside {MONTH}"
        assert differences(before, incremental, table, in_month) > 0, f"{table} did not change in {MONTH}"
