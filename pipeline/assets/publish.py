"""Publish: checkpoint the build file and swap a complete copy over the warehouse path atomically.
Runs only after every upstream asset and its blocking checks succeeded."""

import dagster as dg
import duckdb

from pipeline.assets.core import trade_flows
from pipeline.assets.enrich import enrich_assets
from pipeline.assets.marts import mart_assets
from pipeline.assets.ingest import OWNERS, reference_assets
from pipeline.warehouse import Warehouse

TABLES_SQL = "SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY ALL"


@dg.asset(
    key=dg.AssetKey(["published_warehouse"]),
    description=(
        "The warehouse SQL clients open: a complete copy of the build file, swapped in with one atomic "
        "rename. Readers holding the old file keep their snapshot until they reconnect."
    ),
    group_name="publish",
    kinds={"duckdb"},
    owners=OWNERS,
    deps=[key for a in (*reference_assets, trade_flows, *enrich_assets, *mart_assets) for key in a.keys],
)
def published_warehouse(warehouse: Warehouse) -> dg.MaterializeResult:
    path = warehouse.publish()

    with duckdb.connect(str(path), read_only=True) as con:
        tables = [t for (t,) in con.execute(TABLES_SQL).fetchall()]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "size_mb": round(path.stat().st_size / 1e6, 2),
            "tables": dg.MetadataValue.md("\n".join(f"- `{t}`" for t in tables)),
            "open_read_only": dg.MetadataValue.text(f"duckdb -readonly {path}"),
        }
    )
