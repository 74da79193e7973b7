"""Seed file → read & cast → validate → ref table, with bad rows kept aside in quality.quarantine
and every file accounted for in quality.load_audit (reference.py runs it for every reference seed in one step)."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipeline.contract import Checked, ContractError, RowRule, check
from pipeline.importers import SKIP_REASONS, text_frame
from pipeline.seedfile import ROW_NUMBER, SOURCE_FILE, RawFile, SeedFileError, read_seed_file, seed_files
from pipeline.assets.tables import markdown_table, table_metadata
from pipeline.storage.warehouse import read_sql, sql_literal
from schemas import SEEDS
from schemas.seed import Seed

OWNERS = ["team:detour"]
DUCKDB_TYPES = {pl.String: "VARCHAR", pl.Int64: "BIGINT", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN", pl.Date: "DATE"}
PROVENANCE = (
    (SOURCE_FILE, "VARCHAR", "Seed file the row was read from, relative to the seeds folder."),
    (ROW_NUMBER, "BIGINT", "Line of the row in its file (the header is line 1)."),
)
ACCOUNTING_SQL = read_sql(__file__, "accounting.sql")


def ref_table(seed: Seed) -> str:
    return f"ref.{seed.name}"


def ref_key(name: str) -> dg.AssetKey:
    """The asset key of a reference seed's table, ref/<name>."""
    return dg.AssetKey(["ref", name])


def seed_columns(seed: Seed) -> list[tuple[str, str, str]]:
    """(name, DuckDB type, description) of the seed's columns, from its contract."""
    return [
        (name, DUCKDB_TYPES[seed.dtypes[name]], col.description or "") for name, col in seed.schema.columns.items()
    ]


def comment_sql(table: str, description: str, columns: list[tuple[str, str, str]]) -> str:
    lines = [f"COMMENT ON TABLE {table} IS {sql_literal(description)};"]
    lines += [f"COMMENT ON COLUMN {table}.{name} IS {sql_literal(text)};" for name, _, text in columns]
    return "\n".join(lines)


def read_and_check(
    seed: Seed,
    seeds_dir: Path,
    con: duckdb.DuckDBPyConnection,
    paths: list[Path] | None = None,
    extra_rule: RowRule | None = None,
) -> tuple[list[RawFile], Checked]:
    """Read the seed's files (all of them, or `paths`), then check every row against the contract
    and the ref tables. File-level faults fail the asset with one line per refused file."""
    try:
        paths = seed_files(seeds_dir, seed.path) if paths is None else paths
    except SeedFileError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from None
    files, faults = [], []
    for path in paths:  # every refused file is named, not only the first
        try:
            files.append(read_seed_file(path, seed.columns, seeds_dir, seed.optional_columns))
        except SeedFileError as err:
            faults.append(str(err))
    if faults:
        raise dg.Failure(description="\n".join(faults), allow_retries=False)
    return files, check_rows(seed, pl.concat([text_frame([], seed.columns), *(f.rows for f in files)]), con, extra_rule)


# The rows a seed kept aside, by the value of one column: where each is and which rule it broke.
KEPT_ASIDE_SQL = """
SELECT json_extract_string(raw_record, $1) AS value,
       arg_min(source_file || ' row ' || row_number || ' (' || rule || ')', row_number)
FROM quality.quarantine WHERE seed = $2 AND json_extract_string(raw_record, $1) IS NOT NULL GROUP BY 1
"""


def check_rows(
    seed: Seed, raw: pl.DataFrame, con: duckdb.DuckDBPyConnection, extra_rule: RowRule | None = None
) -> Checked:
    """Check text rows (the seed's columns plus provenance) against the contract and the ref tables."""

    def lookup(ref_seed: str, column: str) -> list:
        return [v for (v,) in con.execute(f"SELECT DISTINCT {column} FROM ref.{ref_seed}").fetchall()]

    def kept_aside(ref_seed: str, column: str) -> dict[str, str]:
        return dict(con.execute(KEPT_ASIDE_SQL, [f"$.{column}", ref_seed]).fetchall())

    try:
        return check(raw, seed, lookup, extra_rule, kept_aside)
    except ContractError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from None


def clear_quarantine(con: duckdb.DuckDBPyConnection, seed: Seed, months: list[str] | None = None) -> None:
    """Drop the seed's quarantine rows before a reload: all of them, or those of the files of `months`."""
    if months is None:
        con.execute("DELETE FROM quality.quarantine WHERE seed = ?", [seed.name])
    else:  # trade-flow seed files are named by their month (YYYY-MM*.csv); imported files are left as they are
        con.execute(
            """DELETE FROM quality.quarantine
               WHERE seed = ? AND starts_with(source_file, ?)
                 AND regexp_extract(source_file, '(\\d{4}-\\d{2})[^/]*$', 1) IN (SELECT unnest(?::VARCHAR[]))""",
            [seed.name, f"{seed.path}/", months],
        )


def record_load(
    con: duckdb.DuckDBPyConnection, seed: Seed, files: list[RawFile], checked: Checked, run_id: str
) -> None:
    """Append the rows kept aside and one audit row per file, inside the caller's transaction."""
    record_quarantine(con, seed, checked.quarantine, run_id)
    loaded = checked.good.group_by(SOURCE_FILE).len("rows_loaded")
    kept_aside = checked.quarantine.group_by(SOURCE_FILE).agg(pl.col(ROW_NUMBER).n_unique().alias("rows_quarantined"))
    audit = (
        pl.DataFrame(
            {
                SOURCE_FILE: [f.name for f in files],
                "file_sha256": [f.sha256 for f in files],
                "rows_read": [f.rows.height for f in files],
            }
        )
        .join(loaded, on=SOURCE_FILE, how="left")
        .join(kept_aside, on=SOURCE_FILE, how="left")
        .with_columns(pl.col("rows_loaded", "rows_quarantined").fill_null(0), pl.lit(0).alias("rows_skipped"))
    )
    record_audit(con, seed, audit, run_id)


def record_quarantine(con: duckdb.DuckDBPyConnection, seed: Seed, quarantine: pl.DataFrame, run_id: str) -> None:
    con.register("quarantine", quarantine)
    con.execute(
        """INSERT INTO quality.quarantine
               (seed, source_file, row_number, column_name, rule, bad_value, raw_record, run_id, loaded_at)
           SELECT $seed, source_file, row_number, column_name, rule, bad_value, raw_record, $run_id, $loaded_at
           FROM quarantine""",
        {"seed": seed.name, "run_id": run_id, "loaded_at": dt.datetime.now(dt.UTC)},
    )
    con.unregister("quarantine")


RECORDED_BY_RUN = "run_id = $run_id AND seed = $seed AND source_file IN (SELECT source_file FROM audit)"
RECORDED_BY_RUN_SQL = f"SELECT count(*) > 0 FROM quality.load_audit WHERE {RECORDED_BY_RUN}"


def record_audit(con: duckdb.DuckDBPyConnection, seed: Seed, audit: pl.DataFrame, run_id: str) -> None:
    """One load_audit row per file: source_file, file_sha256, rows_read, rows_loaded, rows_quarantined, rows_skipped
    and, where an importer skipped rows, skip_reasons."""
    if "skip_reasons" not in audit.columns:
        audit = audit.with_columns(pl.lit([], SKIP_REASONS).alias("skip_reasons"))
    con.register("audit", audit)
    # A step retried (a lost lake commit conflict) reloads files an earlier attempt committed: their rows are
    # replaced, so a run records each file once. Deleted only if present: in a lake, any two deletes from
    # one table by concurrent runs conflict at commit.
    key = {"seed": seed.name, "run_id": run_id}
    if con.execute(RECORDED_BY_RUN_SQL, key).fetchone()[0]:
        con.execute(f"DELETE FROM quality.load_audit WHERE {RECORDED_BY_RUN}", key)
    con.execute(
        """INSERT INTO quality.load_audit
               (run_id, seed, source_file, file_sha256, rows_read, rows_loaded, rows_quarantined, rows_skipped,
                skip_reasons, loaded_at)
           SELECT $run_id, $seed, source_file, file_sha256, rows_read, rows_loaded, rows_quarantined, rows_skipped,
                  skip_reasons, $loaded_at
           FROM audit""",
        {"seed": seed.name, "run_id": run_id, "loaded_at": dt.datetime.now(dt.UTC)},
    )
    con.unregister("audit")


class QuarantineSummary:
    """What the contract check says of the rows kept aside, gathered batch by batch (batches hold different
    rows): the rows themselves are in quality.quarantine, and holding them with their raw records took
    gigabytes at 100M flows."""

    def __init__(self) -> None:
        self.rows = 0
        self.by_rule = pl.DataFrame(schema={"column_name": pl.String, "rule": pl.String, "len": pl.UInt32})
        self.examples = pl.DataFrame(schema={SOURCE_FILE: pl.String, ROW_NUMBER: pl.Int64, "column_name": pl.String,
                                             "rule": pl.String, "bad_value": pl.String})

    def add(self, quarantine: pl.DataFrame) -> "QuarantineSummary":
        if quarantine.height:
            self.rows += quarantine.select(SOURCE_FILE, ROW_NUMBER).n_unique()
            counts = quarantine.group_by("column_name", "rule").len()
            self.by_rule = pl.concat([self.by_rule, counts]).group_by("column_name", "rule").agg(pl.col("len").sum())
            wanted = 10 - self.examples.height
            if wanted > 0:
                self.examples = pl.concat([self.examples, quarantine.head(wanted).select(self.examples.columns)])
        return self


def contract_check(seed: Seed, rows_read: int, kept_aside: QuarantineSummary, asset_key: dg.AssetKey | None = None
                   ) -> dg.AssetCheckResult:
    rows_quarantined = kept_aside.rows
    by_rule = kept_aside.by_rule.sort("len", "column_name", "rule", descending=[True, False, False])
    return dg.AssetCheckResult(
        check_name="contract",
        asset_key=asset_key,
        passed=rows_quarantined == 0,
        severity=dg.AssetCheckSeverity.WARN,
        # WARN: rows kept aside are named in quality.quarantine and the rest loads; nothing is blocked
        description=(
            f"{rows_quarantined} of {rows_read} rows kept aside in quality.quarantine (they broke the {seed.name} contract)"
            if rows_quarantined else f"all {rows_read} rows met the {seed.name} contract"
        ),
        metadata={
            "rows_read": rows_read,
            "rows_quarantined": rows_quarantined,
            "failures_by_rule": dg.MetadataValue.md(markdown_table(by_rule)),
            "examples": dg.MetadataValue.md(markdown_table(kept_aside.examples)),
        },
    )


def accounting_check(
    con: duckdb.DuckDBPyConnection, seed: Seed, table: str, run_id: str, files: int, asset_key: dg.AssetKey | None = None
) -> dg.AssetCheckResult:
    rows = con.execute(ACCOUNTING_SQL.format(table=table), {"seed": seed.name, "run_id": run_id}).pl()
    unbalanced = rows.filter(~pl.col("balanced"))
    return dg.AssetCheckResult(
        check_name="accounting",
        asset_key=asset_key,
        passed=rows.height == files and unbalanced.height == 0,
        description="rows_read = rows_loaded + rows_quarantined for every file, and both match the tables",
        metadata={
            "files": rows.height,
            "rows_read": int(rows["rows_read"].sum()),
            "unbalanced_files": dg.MetadataValue.md(markdown_table(unbalanced)),
        },
    )


def check_specs(key: dg.AssetKey, *extra: dg.AssetCheckSpec) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec("contract", asset=key, description="Rows breaking the pandera contract (kept aside)"),
        dg.AssetCheckSpec(
            "accounting", asset=key, blocking=True, description="rows_read = rows_loaded + rows_quarantined"
        ),
        *extra,
    ]


def seed_file_key(seed: Seed) -> dg.AssetKey:
    return dg.AssetKey(["seeds", seed.name])


# The seed files themselves, so the graph shows file → table; the seeds_changed sensor watches them.
seed_file_specs = [
    dg.AssetSpec(
        seed_file_key(seed),
        description=f"Seed file(s) `{seed.path}` in DETOUR_SEEDS_DIR. {seed.description}",
        group_name="seeds",
        kinds={"csv"},
        owners=OWNERS,
    )
    for seed in SEEDS.values()
]


def load_reference(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, seeds_dir: Path, seed: Seed
                   ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """One reference seed: read, check, replace its table, record its quarantine and audit, in one transaction."""
    key, table = ref_key(seed.name), ref_table(seed)
    columns = [*((n, "VARCHAR[]" if n in seed.list_columns else t, text) for n, t, text in seed_columns(seed)),
               *((n, t, text) for n, t, _, text in seed.derived_columns), *PROVENANCE]
    values = {**{n: f"coalesce(string_split({n}, '|'), []::VARCHAR[])" for n in seed.list_columns},
              **{n: sql for n, _, sql, _ in seed.derived_columns}}
    files, checked = read_and_check(seed, seeds_dir, con)
    con.register("good", checked.good)
    column_list = ", ".join(name for name, _, _ in columns)
    con.execute("BEGIN TRANSACTION")
    con.execute(f"CREATE OR REPLACE TABLE {table} ({', '.join(f'{n} {t}' for n, t, _ in columns)})")
    con.execute(f"INSERT INTO {table} ({column_list}) SELECT {', '.join(values.get(n, n) for n, _, _ in columns)} FROM good")
    con.execute(comment_sql(table, seed.description, columns))
    clear_quarantine(con, seed)
    record_load(con, seed, files, checked, context.run_id)
    con.execute("COMMIT")
    con.unregister("good")
    yield dg.MaterializeResult(
        asset_key=key,
        metadata={
            **table_metadata(con, table),
            "rows_read": checked.rows_read,
            "rows_quarantined": checked.rows_quarantined,
            "files": dg.MetadataValue.md("\n".join(f"- `{f.name}` sha256 `{f.sha256[:12]}`" for f in files)),
        },
    )
    yield contract_check(seed, checked.rows_read, QuarantineSummary().add(checked.quarantine), key)
    yield accounting_check(con, seed, table, context.run_id, len(files), key)
