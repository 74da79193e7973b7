"""Trade-flow files → read & cast → validate → core.trade_flows, typed, categorised by longest HS
prefix and converted to USD with an ASOF join on the monthly FX rates."""

import dagster as dg
import polars as pl

from pipeline.assets.ingest import (
    OWNERS,
    PROVENANCE,
    accounting_check,
    check_specs,
    comment_sql,
    contract_check,
    read_and_check,
    record_load,
    seed_columns,
)
from pipeline.assets.tables import table_metadata
from pipeline.resources import SeedsFolder
from pipeline.seedfile import SOURCE_FILE
from pipeline.warehouse import Warehouse, read_sql, run_sql
from schemas import TRADE_FLOWS

TABLE = "core.trade_flows"
KEY = dg.AssetKey(["core", "trade_flows"])
CREATE_SQL = read_sql(__file__, "core/create_trade_flows.sql")
INSERT_SQL = read_sql(__file__, "core/insert_trade_flows.sql")
CHECKS_SQL = read_sql(__file__, "core/checks_trade_flows.sql")
DERIVED_COLUMNS = (
    ("category_id", "VARCHAR", "Goods category of the longest matching HS prefix in ref.hs_categories"),
    ("value_usd", "DECIMAL(18,2)", "value converted to US dollars (cents) at the rate in force for the period"),
    ("fx_usd_per_unit", "DOUBLE", "Rate used: US dollars per unit of currency"),
    ("fx_rate_type", "VARCHAR", "Rate type used: market where published, else official"),
    ("fx_rate_date", "DATE", "Date of the rate used (the latest on or before the period)"),
)
CORE_PROVENANCE = (
    *PROVENANCE,
    ("file_sha256", "VARCHAR", "SHA-256 of the file the row was read from"),
    ("run_id", "VARCHAR", "Dagster run that loaded the row"),
)
COLUMNS = [
    *[
        (name, type_, "First day of the flow's month" if name == "period" else text)
        for name, type_, text in seed_columns(TRADE_FLOWS)
    ],
    *DERIVED_COLUMNS,
    *CORE_PROVENANCE,
]


@dg.asset(
    key=KEY,
    description=(
        "Every valid trade flow, typed (`period` a DATE), with its goods category (longest HS prefix) "
        "and its value in USD (ASOF join on monthly FX rates).\n\n"
        "Seed folder `trade_flows/`, contract `schemas/trade_flows.py`, table `core.trade_flows`."
    ),
    group_name="core",
    kinds={"polars", "pandera", "duckdb"},
    owners=OWNERS,
    deps=[dg.AssetKey(["ref", name]) for name in (*TRADE_FLOWS.upstream, "hs_categories")],
    check_specs=check_specs(
        KEY,
        dg.AssetCheckSpec("converted_to_usd", asset=KEY, blocking=True, description="Every flow has a value in USD"),
        dg.AssetCheckSpec("categorised", asset=KEY, description="Every flow's HS code maps to a goods category"),
    ),
)
def trade_flows(context: dg.AssetExecutionContext, warehouse: Warehouse, seeds: SeedsFolder):
    with warehouse.connect() as con:
        files, checked = read_and_check(TRADE_FLOWS, seeds.folder, con)
        hashes = pl.DataFrame({SOURCE_FILE: [f.name for f in files], "file_sha256": [f.sha256 for f in files]})
        con.register("incoming", checked.good.join(hashes, on=SOURCE_FILE, how="left"))
        con.execute("BEGIN TRANSACTION")
        run_sql(con, CREATE_SQL)
        run_sql(con, INSERT_SQL, {"run_id": context.run_id})
        con.execute(comment_sql(TABLE, TRADE_FLOWS.description, COLUMNS))
        record_load(con, TRADE_FLOWS, files, checked, context.run_id)
        con.execute("COMMIT")

        without_usd, without_category, flows = con.execute(CHECKS_SQL).fetchone()
        yield dg.MaterializeResult(
            metadata={
                **table_metadata(con, TABLE),
                "rows_read": checked.rows_read,
                "rows_quarantined": checked.rows_quarantined,
                "files": len(files),
            }
        )
        yield contract_check(TRADE_FLOWS, checked)
        yield accounting_check(con, TRADE_FLOWS, TABLE, context.run_id)
        yield dg.AssetCheckResult(
            check_name="converted_to_usd",
            passed=without_usd == 0,
            description=f"{without_usd} of {flows} flows have no FX rate on or before their period",
        )
        yield dg.AssetCheckResult(
            check_name="categorised",
            passed=without_category == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{without_category} of {flows} flows have an HS code no prefix in ref.hs_categories covers",
        )
