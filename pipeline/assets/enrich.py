"""Enrichment of every flow: routing over channels and corridors (observed or allocated by rule),
point-in-time sanctions, and which sanctioning jurisdictions each corridor crosses."""

import dagster as dg
import duckdb
import polars as pl

from pipeline import settings
from pipeline.assets.core import trade_flows
from pipeline.assets.ingest import OWNERS, ref_key
from pipeline.assets.lists import HITS_KEY
from pipeline.screening import normalise
from pipeline.assets.tables import markdown_table, sample_note, set_table_comment, table_comment, table_metadata
from pipeline.partitions import MONTHS, SINGLE_RUN, chunks, window
from pipeline.warehouse import POOL, Warehouse, begin_window, drop_tables, end_window, read_sql, run_sql

ROUTE_EXPOSURE_SQL = read_sql(__file__, "enrich/route_exposure.sql")
ROUTING_SQL = read_sql(__file__, "enrich/routing.sql")
SANCTIONS_SQL = read_sql(__file__, "enrich/sanctions.sql")
ROUTED_FLOWS_SQL = read_sql(__file__, "enrich/routed_flows.sql")
TOTALS_AUDIT_SQL = read_sql(__file__, "enrich/audit_totals.sql")
DATES_AUDIT_SQL = read_sql(__file__, "enrich/audit_measure_dates.sql")
KEPT_ASIDE_VALUE_SQL = read_sql(__file__, "enrich/kept_aside_value.sql")

ENTITY_TARGETS_SQL = """
SELECT DISTINCT measure_id, unnest(string_split(target, '|')) AS target_item
FROM ref.sanctions_measures WHERE target_type = 'entity'
"""

UNPRICED = "core.flow_sanctions_unpriced"
UNPRICED_SQL = f"""
SELECT count(DISTINCT flow_id), coalesce(sum(value_usd), 0), count(DISTINCT flow_id) FILTER (WHERE canonical),
       coalesce(sum(value_usd) FILTER (WHERE canonical), 0)
FROM (SELECT DISTINCT flow_id, canonical, value_usd FROM {UNPRICED})
"""
ROUTE_EXPOSURE = dg.AssetKey(["core", "route_exposure"])
ROUTED_FLOWS = dg.AssetKey(["core", "routed_flows"])


@dg.asset(
    key=ROUTE_EXPOSURE,
    description="For every corridor and sanctions authority: does a leg cross a jurisdiction enforcing it?",
    group_name="core",
    kinds={"duckdb"},
    owners=OWNERS,
    deps=[ref_key("corridors"), ref_key("corridor_legs"), ref_key("jurisdictions"), ref_key("sanctions_measures")],
    pool=POOL,
)
def route_exposure(warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        run_sql(con, ROUTE_EXPOSURE_SQL)
        con.execute("COMMIT")
        return dg.MaterializeResult(metadata=table_metadata(con, "core.route_exposure"))


def register_measure_names(con: duckdb.DuckDBPyConnection) -> None:
    """`measure_names`: each entity a measure names, normalised as screening normalises list names, so
    sanctions.sql can find the list entries it means."""
    names = con.execute(ENTITY_TARGETS_SQL).pl()
    con.register("measure_names", names.with_columns(
        pl.col("target_item").map_elements(normalise, return_dtype=pl.String).alias("normalised")
    ))


def audit(con, sql: str, params: dict, check_name: str, asset_key: dg.AssetKey, description: str) -> dg.AssetCheckResult:
    """A SQL audit: the query returns the offending rows; none means pass."""
    bad = con.execute(sql, params).pl()
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key=asset_key,
        passed=bad.height == 0,
        description=f"{bad.height} offending rows: {description}",
        metadata={"offending_rows": dg.MetadataValue.md(markdown_table(bad.head(10)))},
    )


@dg.asset(
    key=ROUTED_FLOWS,
    description=(
        "Every flow split over payment channels and corridors: observed where known, else by the most "
        "specific allocation rule; with its sanctions flags and whether its route avoids the restricting "
        "authorities. Per flow the rows add up to its value_usd exactly.\n\n"
        "Writes beside it `core.flow_sanctions` (every measure in force in a flow's month that hits it: by "
        "HS code or prefix, channel, exporter, importer, transit country or a country its corridor crosses, a "
        "named party or vessel, or a list entry screening put the flow's party or vessel on) "
        "and `core.route_sanctions` (the same hits per routed row)."
    ),
    group_name="core",
    kinds={"duckdb"},
    owners=OWNERS,
    deps=[trade_flows.key, ref_key("allocation_rules"), ref_key("sanctions_measures"), ref_key("corridor_legs"), ROUTE_EXPOSURE,
          HITS_KEY],
    partitions_def=MONTHS,
    backfill_policy=SINGLE_RUN,
    pool=POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "totals_preserved", asset=ROUTED_FLOWS, blocking=True,
            description="Per flow, routed value_usd sums to core.trade_flows.value_usd exactly",
        ),
        dg.AssetCheckSpec(
            "no_measure_before_start", asset=ROUTED_FLOWS, blocking=True,
            description="core.flow_sanctions: no measure flags a flow from a month before the measure took effect",
        ),
        dg.AssetCheckSpec(
            "unit_value_known", asset=ROUTED_FLOWS,
            description="Flows a measure bound to a price per item would cover but whose value per item is unknown: "
            "not counted as covered, and counted here (core.flow_sanctions_unpriced)",
        ),
        dg.AssetCheckSpec(
            "kept_aside_within_limit", asset=ROUTED_FLOWS, blocking=True,
            description="The quarantine keeps aside or re-routes at most DETOUR_MAX_QUARANTINED_VALUE_SHARE of the value read",
        ),
    ],
)
def routed_flows(context: dg.AssetExecutionContext, warehouse: Warehouse):
    win = window(context)
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        begin_window(con, "core.routed_flows", win.full, context.run_id)
        if win.full:
            drop_tables(con, ["core.routed_flows", "core.flow_sanctions", "core.route_sanctions", UNPRICED])
        con.execute("COMMIT")
        register_measure_names(con)
        # A chunk of months at a time, each committed, like core.trade_flows' batches: a killed run leaves
        # whole months, and the build is published only once every step of a run has succeeded.
        for chunk in chunks(con, win.params):
            run_sql(con, ROUTING_SQL, chunk)  # temporary tables: outside the transaction, which is faster
            con.execute("BEGIN TRANSACTION")
            run_sql(con, SANCTIONS_SQL, chunk)
            run_sql(con, ROUTED_FLOWS_SQL, chunk)
            con.execute("COMMIT")
        con.execute("BEGIN TRANSACTION")
        note = sample_note(con)
        for table in ("core.routed_flows", "core.flow_sanctions", "core.route_sanctions", UNPRICED):
            set_table_comment(con, table, f"{table_comment(con, table)}.{note}")
        end_window(con, "core.routed_flows")
        con.execute("COMMIT")
        ((hits, flagged),) = con.execute(
            "SELECT count(*), count(DISTINCT flow_id) FROM core.flow_sanctions WHERE period >= $window_start AND period < $window_end",
            win.params,
        ).fetchall()
        yield dg.MaterializeResult(
            metadata={**table_metadata(con, "core.routed_flows"), "sanction_hits": hits, "flows_hit": flagged}
        )
        yield audit(con, TOTALS_AUDIT_SQL, win.params, "totals_preserved", ROUTED_FLOWS, "flows whose routed rows do not add up")
        yield audit(con, DATES_AUDIT_SQL, win.params, "no_measure_before_start", ROUTED_FLOWS, "hits before the measure's start")
        yield kept_aside_check(con)
        yield unpriced_check(con)


def unpriced_check(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    """Reports, never blocks: a flow of luxury goods without its number of items cannot be judged against the
    price, so it is not counted as covered; how many such flows there are, and their value, is said here."""
    flows, value_usd, canonical_flows, canonical_usd = con.execute(UNPRICED_SQL).fetchone()
    return dg.AssetCheckResult(
        check_name="unit_value_known",
        asset_key=ROUTED_FLOWS,
        passed=True,
        description=(
            f"{flows} flows ({canonical_flows} canonical, {float(canonical_usd):,.0f} USD) of goods banned above a price "
            f"per item have no value per item: not counted as covered ({UNPRICED})"
        ),
        metadata={"flows": flows, "value_usd": float(value_usd), "canonical_flows": canonical_flows,
                  "canonical_value_usd": float(canonical_usd)},
    )


def kept_aside_check(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    """A quarantined row must not silently take out or move money: above the limit, nothing is published."""
    kept_usd, moved_usd, read_usd = con.execute(KEPT_ASIDE_VALUE_SQL).fetchone()
    limit, share = settings.max_quarantined_value_share(), (kept_usd + moved_usd) / read_usd if read_usd else 0.0
    return dg.AssetCheckResult(
        check_name="kept_aside_within_limit",
        asset_key=ROUTED_FLOWS,
        passed=share <= limit,
        description=(
            f"{share:.4%} of the value read is kept aside or re-routed by the quarantine (limit {limit:.2%}, "
            f"DETOUR_MAX_QUARANTINED_VALUE_SHARE): {kept_usd:,.0f} USD of flows kept aside, {moved_usd:,.0f} USD "
            "of flows whose allocation rules were kept aside" + ("" if share <= limit else "; see quality.quarantine")
        ),
        metadata={"kept_aside_usd": kept_usd, "re_routed_usd": moved_usd, "read_usd": read_usd, "share": share},
    )


enrich_assets = [route_exposure, routed_flows]
