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
from pipeline.assets.tables import as_sentence, markdown_table, sample_note, set_table_comment, table_comment, table_metadata
from pipeline.months import chunks, every_month, window
from pipeline.resources import SeedsFolder
from pipeline.storage.warehouse import POOL, Warehouse, begin_window, drop_tables, end_window, read_sql, run_sql, settle_window

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
def routed_flows(context: dg.AssetExecutionContext, warehouse: Warehouse, seeds: SeedsFolder):
    every = every_month(seeds.folder)
    win = window(context, every)
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        win = settle_window(con, "core.routed_flows", win, every, context.run_id)
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
            set_table_comment(con, table, f"{as_sentence(table_comment(con, table))}{note}")
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


STALE_RATES = "fx_rates (stale or fallback rate)"  # kept_aside_value.sql's name for flows at such a rate
KEPT_ASIDE_BY_SEED_SQL = """
    WITH effect AS (
        SELECT seed, source_file, row_number, flow_id, value_usd, unreadable FROM kept_aside_effect
    ), own AS (  -- trade-flow rows kept aside: their own value
        SELECT seed, sum(value_usd) AS usd FROM effect WHERE flow_id IS NULL GROUP BY seed
    ), moved AS (  -- loaded flows a kept-aside reference row changes, each once per seed
        SELECT seed, sum(value_usd) AS usd FROM (SELECT DISTINCT seed, flow_id, value_usd FROM effect
                                                 WHERE flow_id IS NOT NULL) GROUP BY seed
    ), through AS (  -- what the rows that followed from a seed's kept-aside rows took out or moved, each once
        SELECT seed, sum(value_usd) AS usd FROM (
            SELECT DISTINCT c.cause_seed AS seed, coalesce(e.flow_id, e.source_file || ' row ' || e.row_number) AS unit, e.value_usd
            FROM kept_aside_cause c JOIN effect e USING (seed, source_file, row_number)
            WHERE c.cause_seed <> c.seed) GROUP BY seed
    ), rows AS (
        SELECT seed, count(DISTINCT (source_file, row_number)) AS rows,
               count(DISTINCT (source_file, row_number)) FILTER (WHERE unreadable) AS unreadable
        FROM effect GROUP BY seed
    ), audit AS (  -- trade-flow rows: every flow in the table and every one kept aside, whichever run loaded it
        SELECT seed, sum(rows_read - rows_skipped) AS rows_read FROM quality.load_audit_latest
        WHERE seed <> 'trade_flows' GROUP BY seed
        UNION ALL
        SELECT 'trade_flows', (SELECT count(*) FROM core.trade_flows)
                              + coalesce((SELECT rows FROM rows WHERE seed = 'trade_flows'), 0)
    )
    SELECT r.seed, r.rows, r.unreadable, coalesce(a.rows_read, r.rows) AS rows_read,
           (coalesce(o.usd, 0) + coalesce(m.usd, 0) + coalesce(t.usd, 0))::DOUBLE AS usd
    FROM rows r LEFT JOIN own o USING (seed) LEFT JOIN moved m USING (seed) LEFT JOIN through t USING (seed)
    LEFT JOIN audit a USING (seed)
    ORDER BY usd DESC, r.seed
"""
KEPT_ASIDE_TOTAL_SQL = """
    SELECT (SELECT coalesce(sum(value_usd), 0) FROM kept_aside_effect WHERE flow_id IS NULL)::DOUBLE AS kept_usd,
           (SELECT coalesce(sum(value_usd), 0) FROM (SELECT DISTINCT flow_id, value_usd FROM kept_aside_effect
                                                    WHERE flow_id IS NOT NULL))::DOUBLE AS moved_usd,
           (SELECT coalesce(sum(value_usd), 0) FROM core.trade_flows)::DOUBLE AS loaded_usd
"""
KEPT_ASIDE_TOP_SQL = """
    WITH valued AS (  -- a row, and every row that followed from it, at what each took out or moved
        SELECT seed, source_file, row_number, flow_id, value_usd FROM kept_aside_effect
        UNION
        SELECT c.cause_seed, c.cause_file, c.cause_row, coalesce(e.flow_id, e.source_file || ' row ' || e.row_number), e.value_usd
        FROM kept_aside_cause c JOIN kept_aside_effect e USING (seed, source_file, row_number)
    )
    SELECT seed, source_file, row_number, sum(value_usd)::DOUBLE AS usd FROM valued
    GROUP BY ALL HAVING sum(value_usd) > 0 ORDER BY usd DESC, source_file, row_number LIMIT 5
"""


def share_of(part: float, whole: float) -> float:
    """part / whole, never nan or inf: nothing of nothing is 0, something of nothing is all of it."""
    if whole > 0:
        return min(part / whole, 1.0)
    return 1.0 if part > 0 else 0.0


def kept_aside_check(con: duckdb.DuckDBPyConnection) -> dg.AssetCheckResult:
    """No kept-aside row may silently take out or move money: every row the quarantine holds, of trade files,
    importers, lists or reference seeds, counts at the value it moves; above the value limit, or when more
    than the row limit of the trade-flow rows read are kept aside, nothing is published."""
    con.execute(KEPT_ASIDE_VALUE_SQL)
    seeds = con.execute(KEPT_ASIDE_BY_SEED_SQL).fetchall()
    kept_usd, moved_usd, loaded_usd = con.execute(KEPT_ASIDE_TOTAL_SQL).fetchone()
    top = con.execute(KEPT_ASIDE_TOP_SQL).fetchall()
    read_usd = kept_usd + loaded_usd
    value_limit, row_limit = settings.max_quarantined_value_share(), settings.max_quarantined_row_share()
    _, trade_rows, unreadable_rows, trade_rows_read, _ = next(
        (s for s in seeds if s[0] == "trade_flows"), ("trade_flows", 0, 0, 0, 0.0))
    # a row whose value cannot be read weighs what it is as a share of the rows read
    share = min(share_of(kept_usd + moved_usd, read_usd) + share_of(unreadable_rows, trade_rows_read), 1.0)
    row_share = share_of(trade_rows, trade_rows_read)
    passed = share <= value_limit and row_share <= row_limit
    by_seed = "; ".join(
        (f"{seed} {rows:,} currency-month(s)" if seed == STALE_RATES else
         f"{seed} {rows:,} row(s) of {rows_read:,} ({share_of(rows, rows_read):.4%})")
        + (f", {unreadable:,} of them with a value that cannot be read (counted by their share of rows)" if unreadable else "")
        + f", {usd:,.0f} USD ({share_of(usd, read_usd):.4%})"
        for seed, rows, unreadable, rows_read, usd in seeds
    )
    largest = "; ".join(f"{seed} {file}{f' line {row}' if row else ''}: {usd:,.0f} USD" for seed, file, row, usd in top)
    return dg.AssetCheckResult(
        check_name="kept_aside_within_limit",
        asset_key=ROUTED_FLOWS,
        passed=passed,
        description=(
            f"{share:.4%} of the value read is kept aside or moved by the quarantine, rows whose value cannot be read "
            f"counted by their share of rows (limit {value_limit:.2%}, "
            f"DETOUR_MAX_QUARANTINED_VALUE_SHARE); {row_share:.4%} of the trade-flow rows read are kept aside (limit "
            f"{row_limit:.2%}, DETOUR_MAX_QUARANTINED_ROW_SHARE): {kept_usd:,.0f} USD of flows kept aside, "
            f"{moved_usd:,.0f} USD of flows whose reference rows were kept aside"
            + (f". By seed: {by_seed}" if seeds else "")
            + (f". Largest: {largest}" if largest else "")
            + ("" if passed else "; see quality.quarantine")
        ),
        metadata={
            "kept_aside_usd": kept_usd, "moved_usd": moved_usd, "read_usd": read_usd, "share": share,
            "trade_row_share": row_share,
            "by_seed": dg.MetadataValue.md(markdown_table(pl.DataFrame(
                [[seed, rows, rows_read, unreadable, f"{usd:,.0f}", f"{share_of(usd, read_usd):.4%}"]
                 for seed, rows, unreadable, rows_read, usd in seeds],
                schema=["seed", "rows kept aside", "rows read", "value cannot be read", "USD moved", "share of value"],
                orient="row",
            ))),
        },
    )


enrich_assets = [route_exposure, routed_flows]
