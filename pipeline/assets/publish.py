"""Publish: checkpoint the build file and swap a complete copy over the warehouse path atomically,
then export every mart to Parquet and draw the report, all beside the warehouse file. Runs only
after every upstream asset and its blocking checks succeeded."""

import os

import dagster as dg
import duckdb

from pipeline.assets.core import trade_flows
from pipeline.assets.enrich import enrich_assets
from pipeline.assets.ingest import OWNERS, reference_assets
from pipeline.assets.lists import list_assets
from pipeline.assets.marts import MARTS, mart_assets
from pipeline.assets.quality_tables import quality_tables
from pipeline.report import write_report
from pipeline.warehouse import POOL, Warehouse, sql_literal

KEY = dg.AssetKey(["published_warehouse"])
TABLES_SQL = "SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY ALL"


def export_parquet(con: duckdb.DuckDBPyConnection, folder) -> list:
    """marts.<name> → parquet/<name>.parquet, each file swapped in whole."""
    folder.mkdir(exist_ok=True)
    paths = []
    for name in MARTS:
        path = folder / f"{name}.parquet"
        staged = folder / f"{name}.parquet.tmp"
        con.execute(f"COPY marts.{name} TO {sql_literal(str(staged))} (FORMAT parquet)")
        os.replace(staged, path)
        paths.append(path)
    return paths


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
    group_name="publish",
    kinds={"duckdb", "parquet", "html"},
    owners=OWNERS,
    pool=POOL,
    deps=[key for a in (*reference_assets, trade_flows, *enrich_assets, *mart_assets, *list_assets, quality_tables) for key in a.keys],
)
def published_warehouse(warehouse: Warehouse) -> dg.MaterializeResult:
    path = warehouse.publish()
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [t for (t,) in con.execute(TABLES_SQL).fetchall()]
        parquet = export_parquet(con, path.parent / "parquet")
    report, *charts = write_report(path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "size_mb": round(path.stat().st_size / 1e6, 2),
            "tables": dg.MetadataValue.md("\n".join(f"- `{t}`" for t in tables)),
            "parquet": dg.MetadataValue.md("\n".join(f"- `{p}`" for p in parquet)),
            "report": dg.MetadataValue.path(str(report)),
            "charts": dg.MetadataValue.md("\n".join(f"- `{c}`" for c in charts)),
            "data_docs": dg.MetadataValue.path(str(path.parent / "docs" / "index.html")),
            "open_read_only": dg.MetadataValue.text(f"duckdb -readonly {path}"),
        }
    )
