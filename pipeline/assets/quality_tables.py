"""quality.quarantine and quality.load_audit as assets of their own, so the UI shows what was kept
aside and how every file was accounted for, after each load."""

import dagster as dg

from pipeline.assets.core import trade_flows
from pipeline.assets.ingest import OWNERS
from pipeline.assets.reference import reference_assets
from pipeline.assets.lists import KEY as LISTS_KEY
from pipeline.assets.tables import markdown_table, table_metadata
from pipeline.storage.warehouse import POOL, Warehouse

QUARANTINE = dg.AssetKey(["quality", "quarantine"])
LOAD_AUDIT = dg.AssetKey(["quality", "load_audit"])
BY_RULE_SQL = """
SELECT seed, column_name, rule, count(*) AS failures, count(DISTINCT (source_file, row_number)) AS rows
FROM quality.quarantine GROUP BY ALL ORDER BY failures DESC LIMIT 30
"""
LATEST_LOADS_SQL = """
WITH latest AS (SELECT * FROM quality.load_audit QUALIFY run_id = arg_max(run_id, loaded_at) OVER (PARTITION BY seed))
SELECT seed, count(*) AS files, sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
       sum(rows_quarantined) AS rows_quarantined, sum(rows_skipped) AS rows_skipped, max(loaded_at) AS loaded_at
FROM latest GROUP BY seed ORDER BY seed
"""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            QUARANTINE,
            description="Rows kept aside by the seed contracts: one row per failed rule, naming file, row, column and rule.",
            group_name="quality",
            kinds={"duckdb"},
            owners=OWNERS,
            deps=[*(key for a in reference_assets for key in a.keys), LISTS_KEY, trade_flows.key],
        ),
        dg.AssetSpec(
            LOAD_AUDIT,
            description="Every load of every seed file: rows_read = rows_loaded + rows_quarantined + rows_skipped, with the file's sha256.",
            group_name="quality",
            kinds={"duckdb"},
            owners=OWNERS,
            deps=[*(key for a in reference_assets for key in a.keys), LISTS_KEY, trade_flows.key],
        ),
    ],
    pool=POOL,
)
def quality_tables(warehouse: Warehouse):
    with warehouse.connect() as con:
        by_rule = con.sql(BY_RULE_SQL).pl()
        yield dg.MaterializeResult(
            asset_key=QUARANTINE,
            metadata={
                **table_metadata(con, "quality.quarantine"),
                "quarantined_rows": int(by_rule["rows"].sum()) if by_rule.height else 0,
                "by_rule": dg.MetadataValue.md(markdown_table(by_rule)),
            },
        )
        yield dg.MaterializeResult(
            asset_key=LOAD_AUDIT,
            metadata={
                **table_metadata(con, "quality.load_audit"),
                "latest_loads": dg.MetadataValue.md(markdown_table(con.sql(LATEST_LOADS_SQL).pl())),
            },
        )
