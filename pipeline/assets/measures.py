"""ref.sanctions_measures: the hand-written measures of sanctions_measures.csv and, beside them, the EU HS6
export-sanctions list (lists/eu-hs6/, pipeline/importers/eu_hs6.py) grouped into EU export bans to Russia;
the list's codes, each with its measure, in ref.eu_hs6_list. Both files take the same contracts, quarantine
and audit as every seed: a list row is read, loaded, kept aside (file, row, column, rule) or skipped (not
sanctioned), and its file's audit row says how many of each."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipeline.assets.ingest import (
    OWNERS,
    PROVENANCE,
    QuarantineSummary,
    accounting_check,
    check_rows,
    clear_quarantine,
    comment_sql,
    contract_check,
    record_audit,
    record_load,
    record_quarantine,
    ref_key,
    ref_table,
    seed_columns,
    seed_file_key,
)
from pipeline.assets.tables import table_metadata
from pipeline.importers import SKIP_REASONS, eu_hs6, text_frame
from pipeline.seedfile import ROW_NUMBER, SOURCE_FILE, SeedFileError, inside_seeds, read_seed_file
from schemas.eu_hs6 import SEED as EU_HS6
from schemas.seed import Seed

LIST_KEY = seed_file_key(EU_HS6)
LIST_FILE_SPEC = dg.AssetSpec(
    LIST_KEY,
    description=f"{eu_hs6.LABEL} in DETOUR_SEEDS_DIR/{eu_hs6.FOLDER}/: EU_sanctions_HS6.csv or the deposit's "
    "EU_sanctions_HS6.dta (one of them). Optional.",
    group_name="seeds",
    kinds={"csv"},
    owners=OWNERS,
)
ORPHAN_RULE = "its measure was kept aside by the sanctions_measures contract"


def write_table(con, seed: Seed, rows: pl.DataFrame) -> None:
    table, columns = ref_table(seed), [*seed_columns(seed), *PROVENANCE]
    names = ", ".join(name for name, _, _ in columns)
    con.register("good", rows.select(name for name, _, _ in columns))
    con.execute(f"CREATE OR REPLACE TABLE {table} ({', '.join(f'{n} {t}' for n, t, _ in columns)})")
    con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM good")
    con.execute(comment_sql(table, seed.description, columns))
    con.unregister("good")


def orphans(codes: pl.DataFrame, measures: pl.DataFrame) -> pl.DataFrame:
    """Quarantine records of the codes whose measure did not load (so the list's audit still balances)."""
    return codes.join(measures.select("measure_id"), on="measure_id", how="anti").select(
        pl.col(SOURCE_FILE), pl.col(ROW_NUMBER), pl.lit("measure_id").alias("column_name"), pl.lit(ORPHAN_RULE).alias("rule"),
        pl.col("measure_id").alias("bad_value"), pl.struct(EU_HS6.columns).struct.json_encode().alias("raw_record"),
    )


MEASURES_DESCRIPTION = (
    f"Seed `sanctions_measures.csv` and the {eu_hs6.LABEL} in `{eu_hs6.FOLDER}/` (pipeline/importers/eu_hs6.py; its "
    f"codes in `{ref_table(EU_HS6)}`), contracts `schemas/sanctions_measures.py` and `schemas/eu_hs6.py`."
)


def load_measures(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection, seeds_dir: Path, seed: Seed
                  ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """The hand-written measures and the EU HS6 list's, checked, written and accounted for in one transaction."""
    key = ref_key(seed.name)
    try:
        hand = read_seed_file(seeds_dir / seed.path, seed.columns, seeds_dir, seed.optional_columns)
        path = eu_hs6.list_file(seeds_dir)
        if path:
            inside_seeds(path, seeds_dir)
        listed = eu_hs6.read(path, seeds_dir) if path else None
    except SeedFileError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from None
    codes = check_rows(EU_HS6, listed.rows if listed else text_frame([], EU_HS6.columns), con)
    derived = [eu_hs6.measures(codes.good, listed.name)] if listed else []
    checked = check_rows(seed, pl.concat([hand.rows, *derived]), con)
    list_quarantine = pl.concat([
        *([listed.rejected] if listed else []), codes.quarantine, orphans(codes.good, checked.good),
    ])
    loaded_codes = codes.good.join(checked.good.select("measure_id"), on="measure_id", how="semi")
    con.execute("BEGIN TRANSACTION")
    write_table(con, seed, checked.good)
    write_table(con, EU_HS6, loaded_codes)
    clear_quarantine(con, seed)
    clear_quarantine(con, EU_HS6)
    record_load(con, seed, [hand], checked, context.run_id)
    if listed:
        record_quarantine(con, EU_HS6, list_quarantine, context.run_id)
        record_audit(con, EU_HS6, pl.DataFrame({
            SOURCE_FILE: [listed.name], "file_sha256": [listed.sha256], "rows_read": [listed.rows_read],
            "rows_loaded": [loaded_codes.height],
            "rows_quarantined": [list_quarantine.select(ROW_NUMBER).n_unique()],
            "rows_skipped": [listed.skipped],
            "skip_reasons": [listed.skip_reasons],
        }, schema_overrides={"skip_reasons": SKIP_REASONS}), context.run_id)
    con.execute("COMMIT")
    rows_read = checked.rows_read - len(derived and derived[0]) + (listed.rows_read if listed else 0)
    yield dg.MaterializeResult(
        asset_key=key,
        metadata={
            **table_metadata(con, ref_table(seed)),
            "rows_read": rows_read,
            "rows_quarantined": checked.rows_quarantined + list_quarantine.select(ROW_NUMBER).n_unique(),
            "list_codes_loaded": loaded_codes.height,
            "list_rows_skipped": listed.skipped if listed else 0,
            "list_measures": len(derived and derived[0]),
            "files": dg.MetadataValue.md("\n".join(
                f"- `{name}` sha256 `{sha[:12]}`"
                for name, sha in [(hand.name, hand.sha256), *([(listed.name, listed.sha256)] if listed else [])]
            )),
        },
    )
    yield contract_check(seed, rows_read, QuarantineSummary().add(checked.quarantine).add(list_quarantine), key)
    hand_check = accounting_check(con, seed, ref_table(seed), context.run_id, 1)
    list_check = accounting_check(con, EU_HS6, ref_table(EU_HS6), context.run_id, 1 if listed else 0)
    yield dg.AssetCheckResult(
        check_name="accounting",
        asset_key=key,
        passed=hand_check.passed and list_check.passed,
        description=hand_check.description + f" (and + rows_skipped for the {eu_hs6.LABEL})",
        metadata={"files": 1 + bool(listed), "unbalanced_files": dg.MetadataValue.md(
            "\n\n".join(str(c.metadata["unbalanced_files"].value) for c in (hand_check, list_check) if not c.passed)
            or "_none_")},
    )
