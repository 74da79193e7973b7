"""Publish: a complete set (a copy of the build file, every mart as Parquet, the report and the
build's Data Docs) is written into a folder of its own and made current by one rename, so SQL
clients, BI tools and readers of the report always see one run's set. Runs only after every
upstream asset and its blocking checks succeeded."""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb

from pipeline.assets.core import trade_flows
from pipeline.assets.enrich import enrich_assets
from pipeline.assets.ingest import OWNERS
from pipeline.assets.reference import reference_assets
from pipeline.assets.lists import list_assets
from pipeline.assets.marts import PUBLISHED_MARTS, mart_assets
from pipeline.assets.quality import BUILD_SNAPSHOT
from pipeline.assets.quality_tables import quality_tables
from pipeline.storage import lake
from pipeline.report import write_report
from pipeline.storage.warehouse import FULL_REFRESH_HINT, POOL, Warehouse, sql_literal, unfinished_refreshes

KEY = dg.AssetKey(["published_warehouse"])
# Exactly the files the build rests on: each reference seed's files of its latest load; each trade-flow month's
# files of the latest run that loaded that month (a file deleted since is not there); the imported files of the
# latest full rebuild of core.trade_flows (quality.window_basis).
INPUTS_SQL = """
WITH latest AS (
    SELECT seed, source_file, file_sha256, run_id, loaded_at,
           regexp_extract(source_file, '^trade_flows/.*?(\d{4}-\d{2})[^/]*$', 1) AS month
    FROM quality.load_audit
), current AS (
    SELECT source_file, file_sha256 FROM latest a
    WHERE a.seed <> 'trade_flows'
      AND a.run_id = (SELECT arg_max(run_id, loaded_at) FROM latest b WHERE b.seed = a.seed)
    UNION ALL
    SELECT source_file, file_sha256 FROM latest a
    WHERE a.seed = 'trade_flows' AND a.month <> ''
      AND a.run_id = (SELECT arg_max(run_id, loaded_at) FROM latest b WHERE b.seed = 'trade_flows' AND b.month = a.month)
      AND a.loaded_at >= (SELECT built_at FROM quality.window_basis WHERE table_name = 'core.trade_flows')
    UNION ALL
    SELECT source_file, file_sha256 FROM latest a
    WHERE a.seed = 'trade_flows' AND a.month = ''
      AND a.run_id = (SELECT run_id FROM quality.window_basis WHERE table_name = 'core.trade_flows')
)
SELECT md5(coalesce(string_agg(DISTINCT source_file || ':' || file_sha256, chr(10) ORDER BY source_file || ':' || file_sha256), ''))
FROM current
"""
TABLES_SQL = "SELECT schema_name || '.' || table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY ALL"
PUBLISHED_RUNS_SQL = "SELECT DISTINCT run_id FROM quality.publish_log"
RUN_RECORDED_SQL = "SELECT count(*) FROM quality.publish_log WHERE run_id = $run_id"
UNPUBLISHED_DELETE_SQL = "DELETE FROM quality.publish_log WHERE NOT list_contains($published_runs::VARCHAR[], run_id)"


def export_parquet(con: duckdb.DuckDBPyConnection, folder) -> None:
    """marts.<name> → parquet/<name>.parquet, in a set's folder not yet published."""
    folder.mkdir()
    for name in PUBLISHED_MARTS:
        # sorted rows: the same mart gives the same bytes
        con.execute(f"COPY (SELECT * FROM marts.{name} ORDER BY ALL) TO {sql_literal(str(folder / f'{name}.parquet'))} (FORMAT parquet)")


# Publish when a run changed the build file without publishing it (a mart materialized alone in the
# UI), once nothing upstream is missing or running and every upstream blocking check has passed; a run
# that published itself does not count (any_deps_updated ignores updates made alongside this asset).
PUBLISH_ON_CHANGE = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
).with_label("publish when a run changed the build and its blocking checks passed")


def rows_and_checksum_sql(relation: str) -> str:
    """Row count and checksum of the rows of `relation` (a table, or a table function such as
    `read_parquet($path)`): what quality.publish_log records per mart, and what a check of a
    published set recomputes from its database and its Parquet files. The checksum is the sum of
    DuckDB's hash of each row: free of row order, so no sort (an md5 of the sorted rows as text took
    7 s of a 1M-flow publish), and fixed for one DuckDB version, which the lock file pins."""
    return f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR FROM {relation} t"


def record_publish(con: duckdb.DuckDBPyConnection, run_id: str, warehouse: Warehouse) -> None:
    """A quality.publish_log row per mart (rows, checksum, inputs), written into the build it publishes.
    Rows an earlier publish of this build wrote but never made current (killed or failed before its
    swap) are dropped first, so the log names only sets that were published. In lake mode the published
    log gains only this run's rows (lake.publish), and other runs may be about to publish theirs: only
    this run's earlier rows are dropped."""
    if warehouse.lake:
        # any two deletes from one table conflict at commit: concurrent publishers delete only if they must
        if con.execute(RUN_RECORDED_SQL, {"run_id": run_id}).fetchone()[0]:
            con.execute("DELETE FROM quality.publish_log WHERE run_id = $run_id", {"run_id": run_id})
    else:
        with warehouse.read_published() as published:
            published_runs = [run for (run,) in published.execute(PUBLISHED_RUNS_SQL).fetchall()] if published else []
        con.execute(UNPUBLISHED_DELETE_SQL, {"published_runs": published_runs})
    published_at = dt.datetime.now(dt.UTC)
    inputs = con.execute(INPUTS_SQL).fetchone()[0]
    for name in PUBLISHED_MARTS:
        con.execute(
            f"INSERT INTO quality.publish_log SELECT $run_id, $published_at, $mart, counted.*, $inputs "
            f"FROM ({rows_and_checksum_sql(f'marts.{name}')}) counted",
            {"run_id": run_id, "published_at": published_at, "mart": name, "inputs": inputs},
        )


RECORDED_SQL = "SELECT rows, checksum, inputs FROM build.quality.publish_log WHERE run_id = $run_id AND mart = $mart"


def checked_snapshot(context: dg.AssetExecutionContext) -> int | None:
    """Lake mode: the build's snapshot this run's Great Expectations suites read; None if they did not run in it."""
    evaluations = context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    return max((entry.dagster_event.event_specific_data.metadata[BUILD_SNAPSHOT].value for entry in evaluations
                if BUILD_SNAPSHOT in entry.dagster_event.event_specific_data.metadata), default=None)


def fit_to_publish(context: dg.AssetExecutionContext):
    """Lake mode, inside the publish's transaction (the published catalog in use): the marts and inputs
    copied are the ones quality.publish_log records for this run (no other run rebuilt one in between)."""
    def reason(con: duckdb.DuckDBPyConnection) -> str | None:
        (inputs,) = con.execute(INPUTS_SQL).fetchone()
        for name in PUBLISHED_MARTS:
            copied = (*con.execute(rows_and_checksum_sql(f"{lake.PUBLISHED}.marts.{name}")).fetchone(), inputs)
            if con.execute(RECORDED_SQL, {"run_id": context.run_id, "mart": name}).fetchone() != copied:
                return f"marts.{name} or its inputs changed after this run recorded them in quality.publish_log"
        return None
    return reason


@dg.asset(
    key=KEY,
    description=(
        "The warehouse SQL clients open: a complete copy of the build file, swapped in with one atomic "
        "rename (readers holding the old file keep their snapshot until they reconnect); beside it "
        "`parquet/{mart}.parquet`, `docs/` (Data Docs) and `report.html` with `charts/*.png`.\n\n"
        "Published by every refresh, and within seconds after any other run that changed the build "
        "(sensor `publish_on_change`) once its blocking checks passed; a failed blocking check publishes nothing."
    ),
    automation_condition=PUBLISH_ON_CHANGE,
    output_required=False,  # lake mode: a run superseded by a later one publishes nothing
    group_name="publish",
    kinds={"duckdb", "parquet", "html"},
    owners=OWNERS,
    pool=POOL,
    deps=[key for a in (*reference_assets, trade_flows, *enrich_assets, *mart_assets, *list_assets, quality_tables) for key in a.keys],
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: Warehouse):
    def write_extras(published: duckdb.DuckDBPyConnection, folder: Path) -> None:
        export_parquet(published, folder / "parquet")
        write_report(published, folder, shown_as=warehouse.published_label, run_id=context.run_id)

    recorded = False  # this run's quality.publish_log rows hold the marts as they are: no need to record again

    def publish() -> None:
        nonlocal recorded
        with warehouse.connect() as con:
            # e.g. a mart rebuilt alone after a killed full refresh: its figures would miss the months never committed
            if unfinished := unfinished_refreshes(con):
                if warehouse.lake:  # the full refresh of a run still under way: wait for it
                    lake.refuse_while_others_write()
                raise dg.Failure(description="Nothing published. " + "; ".join(unfinished) + f". {FULL_REFRESH_HINT}",
                                 allow_retries=False)
            if not recorded:
                con.execute("BEGIN TRANSACTION")
                record_publish(con, context.run_id, warehouse)
                warehouse.label(con, lake.record_tag(context.run_id))
                con.execute("COMMIT")
                recorded = True
        try:
            warehouse.publish(context.run_id, write_extras, fit_to_publish(context), checked)
        except lake.Unfit:
            recorded = False  # another run rebuilt a mart since: record it again before the next try
            raise

    checked = checked_snapshot(context)
    try:
        lake.when_settled(publish)
    except lake.Superseded as superseded:
        context.log.warning(f"Nothing published by this run: {superseded}.")
        return
    folder = warehouse.published_path.parent
    with warehouse.read_published() as con:
        tables = [t for (t,) in con.execute(TABLES_SQL).fetchall()]
    parquet = [folder / "parquet" / f"{name}.parquet" for name in PUBLISHED_MARTS]
    report, charts = folder / "report.html", sorted((folder / "charts").glob("*.png"))
    where = (
        {"lake": warehouse.published_name, "open_read_only": dg.MetadataValue.text(f"duckdb -init {warehouse.client_sql_path}")}
        if warehouse.lake else
        {"path": dg.MetadataValue.path(str(warehouse.published_path)),
         "size_mb": round(warehouse.published_path.stat().st_size / 1e6, 2),
         "open_read_only": dg.MetadataValue.text(f"duckdb -readonly {warehouse.published_path}")}
    )
    yield dg.MaterializeResult(
        metadata={
            **where,
            "tables": dg.MetadataValue.md("\n".join(f"- `{t}`" for t in tables)),
            "parquet": dg.MetadataValue.md("\n".join(f"- `{p}`" for p in parquet)),
            "report": dg.MetadataValue.path(str(report)),
            "charts": dg.MetadataValue.md("\n".join(f"- `{c}`" for c in charts)),
            "data_docs": dg.MetadataValue.path(str(folder / "docs" / "index.html")),
        }
    )
