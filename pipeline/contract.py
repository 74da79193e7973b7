"""Cast text rows to a seed's contract, validate them with pandera, check cross-seed references,
and split good rows from bad ones. Each failed rule on a row becomes one failure record."""

from collections.abc import Callable
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl

from pipeline.seedfile import LAYOUT, ROW_NUMBER, SOURCE_FILE
from schemas.seed import Seed

IDX = "_idx"
FAILURE_COLUMNS = {
    IDX: pl.Int64,
    "column_name": pl.String,
    "rule": pl.String,
    "bad_value": pl.String,
}
QUARANTINE_COLUMNS = [SOURCE_FILE, ROW_NUMBER, "column_name", "rule", "bad_value", "raw_record"]


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema={c: pl.Int64 if c == ROW_NUMBER else pl.String for c in QUARANTINE_COLUMNS})


def failures_where(
    typed: pl.DataFrame, condition: pl.Expr, column: str | None, rule: str | pl.Expr, bad_value: pl.Expr
) -> pl.DataFrame:
    """One failure record (FAILURE_COLUMNS) per typed row (with _idx) meeting `condition`."""
    rule = rule if isinstance(rule, pl.Expr) else pl.lit(rule)
    return typed.filter(condition).select(
        pl.col(IDX), pl.lit(column, dtype=pl.String).alias("column_name"), rule.alias("rule"), bad_value.alias("bad_value")
    ).cast(FAILURE_COLUMNS)
TRUE_FALSE = {"true": True, "false": False, "t": True, "f": False, "1": True, "0": False, "yes": True, "no": False}
CAST_RULES = {
    pl.Int64: "type: not a whole number",
    pl.Float64: "type: not a number",
    pl.Boolean: "type: not true/false",
    pl.Date: "type: not a date (YYYY-MM-DD)",
}

Lookup = Callable[[str, str], list]  # (seed, column) -> values present in ref.<seed>
KeptAside = Callable[[str, str], dict[str, str]]  # (seed, column) -> {value: where its row was kept aside, and why}


class ContractError(Exception):
    """The contract failed for the table as a whole (no row to blame)."""


@dataclass(frozen=True)
class Checked:
    good: pl.DataFrame  # typed seed columns + source_file, row_number
    quarantine: pl.DataFrame  # QUARANTINE_COLUMNS, one row per failed rule
    rows_read: int

    @property
    def rows_quarantined(self) -> int:
        return self.rows_read - self.good.height


def _cast_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    text = pl.col(name).str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
    if dtype == pl.String:
        return text.alias(name)
    if dtype == pl.Boolean:
        return text.str.to_lowercase().replace_strict(TRUE_FALSE, default=None, return_dtype=pl.Boolean).alias(name)
    if dtype == pl.Date:
        return text.str.to_date("%Y-%m-%d", strict=False).alias(name)
    return text.cast(dtype, strict=False).alias(name)


def cast(raw: pl.DataFrame, seed: Seed) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed frame (unparseable values become null) and a failure per value that did not parse."""
    dtypes = seed.dtypes
    typed = raw.with_columns(_cast_expr(c, t) for c, t in dtypes.items())
    failures = [
        raw.filter(pl.col(c).str.strip_chars().str.len_chars() > 0, typed[c].is_null())
        .select(
            pl.col(IDX),
            pl.lit(c).alias("column_name"),
            pl.lit(CAST_RULES[t]).alias("rule"),
            pl.col(c).alias("bad_value"),
        )
        for c, t in dtypes.items()
        if t in CAST_RULES
    ]
    return typed, pl.concat([pl.DataFrame(schema=FAILURE_COLUMNS), *failures])


def pandera_failures(typed: pl.DataFrame, seed: Seed) -> pl.DataFrame:
    try:
        seed.contract.validate(typed.select(seed.columns), lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    else:
        return pl.DataFrame(schema=FAILURE_COLUMNS)
    table_level = cases.filter(pl.col("index").is_null())
    if table_level.height:
        details = "; ".join(f"{r['column']}: {r['check']}" for r in table_level.head(5).iter_rows(named=True))
        raise ContractError(f"{seed.name}: contract failed for the whole table: {details}")
    # vectorised: a file of a million duplicates gives a million cases, which a row-by-row loop took minutes over
    cases = cases.with_columns(pl.col("index").cast(pl.Int64))
    row_idx = typed.get_column(IDX)
    column_level = cases.filter(pl.col("schema_context") == "Column")
    parts = [pl.DataFrame({
        IDX: row_idx.gather(column_level["index"]),
        "column_name": column_level["column"].cast(pl.String),
        "rule": column_level["check"].cast(pl.String),
        "bad_value": column_level["failure_case"].cast(pl.String),
    })]
    frame_level = cases.filter(pl.col("schema_context") != "Column")
    for check_name in frame_level["check"].unique(maintain_order=True).to_list():
        column = seed.column_for_check(check_name)
        indices = frame_level.filter(pl.col("check") == check_name)["index"]
        parts.append(pl.DataFrame({
            IDX: row_idx.gather(indices),
            "column_name": pl.Series([column] * len(indices), dtype=pl.String),
            "rule": pl.Series([check_name] * len(indices), dtype=pl.String),
            "bad_value": (typed.get_column(column).gather(indices).cast(pl.String) if column
                          else frame_level.filter(pl.col("check") == check_name)["failure_case"].cast(pl.String)),
        }))
    return pl.concat(parts).cast(FAILURE_COLUMNS)


def reference_failures(typed: pl.DataFrame, seed: Seed, lookup: Lookup, kept_aside: KeptAside | None) -> pl.DataFrame:
    """A value missing from the referenced table fails; when the referenced seed kept that value's
    own row aside, the rule says so (the damage a quarantined reference row does is named)."""
    failures = []
    for column, refs in seed.references.items():
        for ref in refs:
            value = pl.col(column)
            causes = kept_aside(ref.seed, ref.column) if kept_aside else {}
            cause = value.cast(pl.String).replace_strict(causes, default=None, return_dtype=pl.String)
            rule = pl.coalesce(pl.concat_str(pl.lit(f"{ref.rule}: its row was kept aside, "), cause), pl.lit(ref.rule))
            applies = value.is_not_null()
            if ref.wildcard is not None:
                applies &= value != ref.wildcard
            if ref.when is not None:
                applies &= pl.col(ref.when[0]) == ref.when[1]
            missing = ~value.is_in(pl.Series(lookup(ref.seed, ref.column), dtype=typed.schema[column]))
            failures.append(
                typed.filter(applies & missing).select(
                    pl.col(IDX),
                    pl.lit(column).alias("column_name"),
                    rule.alias("rule"),
                    value.cast(pl.String).alias("bad_value"),
                )
            )
    return pl.concat([pl.DataFrame(schema=FAILURE_COLUMNS), *failures])


RowRule = Callable[[pl.DataFrame], pl.DataFrame]  # typed rows (with _idx) -> FAILURE_COLUMNS rows


def dependant_failures(typed: pl.DataFrame, seed: Seed, failures: pl.DataFrame) -> pl.DataFrame:
    """Rows that pass with their whole key but fail one of the seed's key checks once the bad rows of
    their key are kept aside (the other rules of a key no longer sum to 1): kept aside too, naming
    the rows that caused it, so a quarantined row never silently changes what its neighbours mean."""
    found = [pl.DataFrame(schema=FAILURE_COLUMNS)]
    bad = failures.get_column(IDX).unique()
    while seed.key_checks and bad.len():
        survivors = typed.filter(~pl.col(IDX).is_in(bad.implode()))
        again = pandera_failures(survivors, seed)
        new = []
        for name, key in seed.key_checks:
            causes = typed.filter(pl.col(IDX).is_in(bad.implode())).group_by(key).agg(pl.col(ROW_NUMBER).sort().cast(pl.String))
            rows = pl.col(ROW_NUMBER).list
            new.append(
                again.filter(pl.col("rule") == name)
                .join(typed.select(IDX, *key), on=IDX)
                .join(causes, on=key, how="left", nulls_equal=True)
                .with_columns(
                    pl.when(rows.len() == 1).then(pl.format("{} once row {} was kept aside", pl.col("rule"), rows.first()))
                    .when(rows.len() > 1).then(pl.format("{} once rows {} were kept aside", pl.col("rule"), rows.join(", ")))
                    .otherwise(pl.col("rule"))
                    .alias("rule")
                )
                .select(list(FAILURE_COLUMNS))
            )
        again = pl.concat(new)
        if not again.height:
            break
        found.append(again)
        bad = pl.concat([bad, again.get_column(IDX)]).unique()
    return pl.concat(found)


def layout_failures(raw: pl.DataFrame) -> pl.DataFrame:
    """A row whose field count differs from its file's header is kept aside whatever its cells say:
    a cell may sit under the wrong column."""
    if LAYOUT not in raw.columns:  # read by DuckDB's read_csv, which refuses a ragged file itself
        return pl.DataFrame(schema=FAILURE_COLUMNS)
    return failures_where(raw, pl.col(LAYOUT).is_not_null(), None, pl.col(LAYOUT), pl.lit(None, dtype=pl.String))


def with_raw_values(failures: pl.DataFrame, raw: pl.DataFrame, seed: Seed) -> pl.DataFrame:
    """A failure shows the cell as written in the file (`1e309`, not the `inf` it parses to), where it names one."""
    # the failing cells only, column by column: unpivoting every column of a million failing rows took gigabytes
    named = [c for c in failures.get_column("column_name").unique().drop_nulls().to_list() if c in seed.columns]
    parts = [
        failures.filter(pl.col("column_name") == column)
        .join(raw.select(IDX, pl.col(column).alias("written")), on=IDX, how="left")
        .with_columns(pl.coalesce("written", "bad_value").alias("bad_value"))
        for column in named
    ]
    rest = failures.filter(~pl.col("column_name").is_in(named) | pl.col("column_name").is_null())
    return pl.concat([p.select(list(FAILURE_COLUMNS)) for p in parts] + [rest.select(list(FAILURE_COLUMNS))])


def check(
    raw: pl.DataFrame, seed: Seed, lookup: Lookup, extra_rule: RowRule | None = None, kept_aside: KeptAside | None = None
) -> Checked:
    """Cast, validate and reference-check `raw` (text columns + provenance); split good from bad.
    `extra_rule` adds failures only the caller can judge (e.g. a row's month against its file's);
    `kept_aside` names the referenced rows other seeds kept aside."""
    raw = raw.with_row_index(IDX).with_columns(pl.col(IDX).cast(pl.Int64))
    typed, cast_failed = cast(raw, seed)
    # A value that did not parse is null now: its not-null failure would only repeat the cast failure.
    failed_cells = cast_failed.select(IDX, "column_name")
    failures = pl.concat(
        [
            cast_failed,
            pandera_failures(typed, seed).join(failed_cells, on=[IDX, "column_name"], how="anti", nulls_equal=True),
            reference_failures(typed, seed, lookup, kept_aside),
            layout_failures(raw),
            *([extra_rule(typed)] if extra_rule else []),
        ]
    )
    failures = with_raw_values(pl.concat([failures, dependant_failures(typed, seed, failures)]), raw, seed)
    bad_idx = failures.get_column(IDX).unique()
    good = typed.filter(~pl.col(IDX).is_in(bad_idx.implode())).select(*seed.columns, SOURCE_FILE, ROW_NUMBER)
    raw_records = raw.filter(pl.col(IDX).is_in(bad_idx.implode())).select(  # the kept-aside rows only
        IDX, SOURCE_FILE, ROW_NUMBER, pl.struct(seed.columns).struct.json_encode().alias("raw_record")
    )
    quarantine = (
        failures.join(raw_records, on=IDX, how="left")
        .sort(IDX, "column_name", "rule", nulls_last=True)
        .select(QUARANTINE_COLUMNS)
    )
    return Checked(good=good, quarantine=quarantine, rows_read=raw.height)
