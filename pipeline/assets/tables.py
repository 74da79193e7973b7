"""Dagster metadata of warehouse tables, read back from DuckDB (types and comments included)."""

import dagster as dg
import duckdb
import polars as pl

PREVIEW_ROWS = 5
COLUMNS_SQL = """
SELECT column_name, data_type, coalesce(comment, '')
FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index
"""


def markdown_table(df: pl.DataFrame) -> str:
    if df.height == 0:
        return "_none_"
    cells = [[("" if v is None else str(v)).replace("|", "\\|")[:80] for v in row] for row in df.iter_rows()]
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * df.width]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    """Row count, column schema (with comments) and a preview of `table` (schema.name, from code)."""
    schema, name = table.split(".")
    columns = con.execute(COLUMNS_SQL, [schema, name]).fetchall()
    return {
        "dagster/table_name": table,
        "dagster/row_count": con.execute(f"SELECT count(*) FROM {table}").fetchone()[0],
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(column, type_, description=text) for column, type_, text in columns]
        ),
        "preview": dg.MetadataValue.md(markdown_table(con.sql(f"SELECT * FROM {table} LIMIT {PREVIEW_ROWS}").pl())),
    }
