"""Dagster metadata of warehouse tables, read back from DuckDB (types and comments included), and the
note that says when a table's figures rest on the illustrative sample."""

import re

import dagster as dg
import duckdb
import polars as pl

from pipeline.sample_flows import SOURCE_PREFIX
from pipeline.text import visible
from pipeline.storage.warehouse import sql_literal

PREVIEW_ROWS = 5
CELL_CHARS = 80
# The Dagster UI renders metadata as CommonMark with GFM tables. A backslash before each character that
# can open inline markup (code, emphasis, strikethrough, links and images, autolinks and raw HTML,
# entities) or end a cell (|) makes the cell show its text as it is; block markup cannot start in a cell.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_~\[\]<>&|])")
COLUMNS_SQL = """
SELECT column_name, data_type, coalesce(comment, '')
FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index
"""


def markdown_cell(value) -> str:
    """`value` as the text of one markdown table cell, shortened (before escaping, which must stay whole)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", visible("" if value is None else str(value)[:CELL_CHARS]))


def markdown_table(df: pl.DataFrame) -> str:
    if df.height == 0:
        return "_none_"
    cells = [[markdown_cell(v) for v in row] for row in df.iter_rows()]
    lines = ["| " + " | ".join(map(markdown_cell, df.columns)) + " |", "|" + "---|" * df.width]
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


SAMPLE_NOTE = (
    " Rows with data_status 'illustrative' rest on the illustrative sample (seeds/trade_flows), not on real customs data."
)


def table_comment(con: duckdb.DuckDBPyConnection, table: str) -> str:
    schema, name = table.split(".")
    ((comment,),) = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? AND table_name = ?", [schema, name]
    ).fetchall()
    return comment


def as_sentence(text: str) -> str:
    """`text` ending as a sentence does: with its own . ? or !, else a period."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!")) else f"{text}."


def sample_note(con: duckdb.DuckDBPyConnection) -> str:
    """SAMPLE_NOTE when any trade flow comes from the shipped illustrative sample, else nothing."""
    ((sample,),) = con.execute(
        "SELECT count(*) > 0 FROM core.trade_flows WHERE starts_with(source, ?)", [SOURCE_PREFIX]
    ).fetchall()
    return SAMPLE_NOTE if sample else ""


def set_table_comment(con: duckdb.DuckDBPyConnection, table: str, text: str) -> None:
    """`table` and `text` are written by the code, never taken from data."""
    con.execute(f"COMMENT ON TABLE {table} IS {sql_literal(text)}")
