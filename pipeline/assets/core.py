"""Trade-flow files → read & cast → validate → core.trade_flows, typed, categorised by longest HS
prefix and converted to USD with an ASOF join on the monthly FX rates. Partitioned by month: files
are named by their month (YYYY-MM*.csv), a run reads the files of its window's months and rewrites
those months only. Downloaded files (pipeline/importers: UN Comtrade, CEPII BACI) take the same way in
on every full run; a month's run leaves their rows as they are, as an annual file has no month."""

from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipeline.assets.ingest import (
    OWNERS,
    PROVENANCE,
    accounting_check,
    check_specs,
    comment_sql,
    contract_check,
    check_rows,
    read_and_check,
    clear_quarantine,
    QuarantineSummary,
    record_audit,
    record_load,
    record_quarantine,
    ref_key,
    seed_file_key,
    seed_columns,
)
from pipeline.assets.tables import table_metadata
from pipeline.contract import FAILURE_COLUMNS, IDX, RowRule, failures_where
from pipeline.importers import SKIP_REASONS, baci, comext, comtrade, header_of
from pipeline.months import Window, chunks, every_month, file_month, window
from pipeline.resources import SeedsFolder
from pipeline.sample_flows import SOURCE_PREFIX
from pipeline.seedfile import PIECE_BYTES, ROW_NUMBER, SOURCE_FILE, SeedFileError, inside_seeds, read_seed_pieces, seed_files
from pipeline.storage.warehouse import POOL, Warehouse, begin_window, end_window, read_sql, run_sql, settle_window
from schemas import TRADE_FLOWS

TABLE = "core.trade_flows"
KEY = dg.AssetKey(["core", "trade_flows"])
CREATE_SQL = read_sql(__file__, "core/create_trade_flows.sql")
INSERT_SQL = read_sql(__file__, "core/insert_trade_flows.sql")
RATES_SQL = read_sql(__file__, "core/rates.sql")
CHECKS_SQL = read_sql(__file__, "core/checks_trade_flows.sql")
FILES_LOADED_NOTHING_SQL = read_sql(__file__, "core/files_loaded_nothing.sql")
CANONICAL_SQL = read_sql(__file__, "core/canonical_trade_flows.sql")
ONCE_PER_TRADE_SQL = read_sql(__file__, "core/once_per_trade.sql")
FX_RATE_TYPES = (
    "market where published, else official; market_approximate or official_approximate where ref.fx_rates flags "
    "the rate approximate (no shipped source publishes it); usd for a value in US dollars with no FX row (imported "
    "files need none)."
)
TOTALS_TABLE = "core.trade_totals"
CREATE_TOTALS_SQL = read_sql(__file__, "core/create_trade_totals.sql")
INSERT_TOTALS_SQL = read_sql(__file__, "core/insert_trade_totals.sql")
TOTALS_DESCRIPTION = (
    "Total goods between two countries, or a bloc (EU27, EA20; EU and EA as of their time) and a country, per "
    "month or year, as the source reports it (Eurostat Comext's TOTAL product). Never add these to "
    "core.trade_flows: a total already holds every product flow of the pair. Grain: exporter_iso3 × importer_iso3 "
    "× period × frequency × basis × file; value and value_usd add up over exporters or importers of one frequency "
    "and basis, never across frequencies (a year holds its months) nor a bloc with its members."
)
TOTALS_COLUMNS = (
    ("exporter_iso3", "VARCHAR", "Exporting country (ISO 3166 alpha-3) or bloc (EU27, EA20, EU, EA)."),
    ("importer_iso3", "VARCHAR", "Importing country (ISO 3166 alpha-3) or bloc."),
    ("period", "DATE", "First day of the month, or of the year for an annual total."),
    ("frequency", "VARCHAR", "`monthly` or `annual`."),
    ("basis", "VARCHAR", "exporter_reported (the reporter's exports) or importer_reported (its imports)."),
    ("value", "DOUBLE", "Value in `currency` as the source reports it."),
    ("currency", "VARCHAR", "Currency of value (EUR for Eurostat)."),
    ("value_usd", "DECIMAL(18,2)", "`value` in US dollars at the rate in force for the period (see fx_rate_type)."),
    ("fx_usd_per_unit", "DOUBLE", "Rate used: US dollars per unit of currency."),
    ("fx_rate_type", "VARCHAR", "Rate type used (ref.fx_rates, by the rule of core.trade_flows): " + FX_RATE_TYPES),
    ("fx_rate_date", "DATE", "Date of the rate used (the year's first day where an annual total takes its year's mean)."),
    ("source", "VARCHAR", "Publisher and dataset."),
    ("file", "VARCHAR", "File the row was read from, relative to the seeds folder."),
    ("row", "BIGINT", "Record of the row in its file: a CSV's line (the header is line 1); a spreadsheet's value "
     "cells numbered sheet by sheet, row by row, period by period."),
    ("data_status", "VARCHAR", "`real`: a downloaded file (totals come only from imports)."),
)
DERIVED_COLUMNS = (
    ("canonical", "BOOLEAN", "True for the one report of a trade that value marts count: per (exporter, importer, HS code, "
     "month) the importer's rows where it reports, else the exporter's (mirror reports are two observations of one trade)."),
    ("frequency", "VARCHAR", "`monthly` (period is the month) or `annual` (period is the year's first day: never a January "
     "figure; month-level marts leave annual flows out)."),
    ("period_end", "DATE", "First day after the flow's month or year."),
    ("data_status", "VARCHAR", "`illustrative`: the shipped sample (pipeline/sample_flows.py), not real customs data; "
     "`real`: a downloaded or user-written file."),
    ("hs_code_2022", "VARCHAR", "HS 2022 code the flow is matched on (categories, CHPL, measures): hs_code for HS 2022 "
     "flows; for HS 2017 through ref.hs_concordance, the heading (4 digits) where the code was split and renumbered."),
    ("hs_match", "VARCHAR", "`exact`: hs_code_2022 holds the same goods; `approximate`: the HS 2017 code was split among "
     "several HS 2022 codes, so a match on it may take in goods the HS 2022 code leaves out."),
    ("hs_code_2017", "VARCHAR", "HS 2017 six-digit code lists written in HS 2017 are matched on (the EU HS6 export-sanctions "
     "list): the first six digits of an HS 2017 code; for an HS 2022 code, its HS6 through ref.hs_conversion (UNSD's "
     "conversion table, one HS 2017 code per HS 2022 code); NULL for a code shorter than six digits."),
    ("category_id", "VARCHAR", "Goods category of the longest matching prefix of hs_code_2022 in ref.hs_categories."),
    ("value_usd", "DECIMAL(18,2)", "`value` converted to US dollars (cents) at the rate in force for the period; an annual "
     "flow at the mean of its year's 12 monthly rates where all exist."),
    ("unit_value_eur", "DOUBLE", "Value per item in EUR (value / quantity_units; the value itself for a flow in EUR, else "
     "value_usd at the EUR rate of its period by the same rule): measures bound to a price per item (EU luxury goods) cover the flow only "
     "above theirs; NULL when the number of items (or the EUR rate) is unknown."),
    ("fx_usd_per_unit", "DOUBLE", "Rate used: US dollars per unit of currency."),
    ("fx_rate_type", "VARCHAR", f"Rate type used: {FX_RATE_TYPES}"),
    ("fx_rate_date", "DATE", "Date of the rate used (the latest on or before the period; an annual flow converted at "
     "its year's mean: the year's first day)."),
    ("fx_rate_stale", "BOOLEAN", "True when value_usd rests on a fallback rate: dated more than a week before the "
     "period (the currency's rates end before it, or skip it), or official where the currency's market series spans "
     "the period (its market row is missing or was kept aside); counted by the publish guard (kept_aside_within_limit)."),
    ("value_usd_alt_rate", "DECIMAL(18,2)", "`value` at the other rate type of the same date (official where value_usd uses "
     "the market rate, and the reverse); NULL when the currency has one rate type then."),
    ("fx_alt_rate_type", "VARCHAR", "Rate type of value_usd_alt_rate: market, official, market_approximate or "
     "official_approximate."),
)
CORE_PROVENANCE = (
    *PROVENANCE,
    ("file_sha256", "VARCHAR", "SHA-256 of the file the row was read from."),
    ("run_id", "VARCHAR", "Dagster run that loaded the row."),
)
COLUMNS = [
    *[
        (name, type_, "First day of the flow's month." if name == "period" else text)
        for name, type_, text in seed_columns(TRADE_FLOWS)
    ],
    *DERIVED_COLUMNS,
    *CORE_PROVENANCE,
]


PERIOD_RULE = "period is the month in the file's name"
NEVER_ACROSS_STATUS = (
    " Never sum across data_status: real rows and the illustrative sample are different worlds (a query of both "
    "counts invented trade with real trade); core.trade_flows_real and core.trade_flows_illustrative hold each alone."
)
# what a trade-flow file loads: product flows, and the total-goods rows of imported files
LOADED_ROWS = (
    f"(SELECT source_file FROM {TABLE} UNION ALL SELECT file AS source_file FROM {TOTALS_TABLE})"
)
# Files are read, checked and loaded up to a piece's worth at a time: the unit a large file goes in (bounded
# memory), and each batch's insert and commit has a fixed cost (32 MB batches made the 10M load 10-20% slower).
BATCH_BYTES = PIECE_BYTES
IMPORTERS = (comtrade, baci, comext)
HS2022_IN_FORCE = "2022-01-01"
FIRST_RATES_SQL = """SELECT currency, strftime(min(date), '%Y-%m-%d') AS first_rate, max(usd_per_unit) AS top_rate
                     FROM ref.fx_rates GROUP BY ALL"""
MAX_USD = 1e15  # what value_usd (DECIMAL(18,2)) holds with room, and beyond any one trade flow
# flow_ids loaded more than once (from different files), counted by their 64-bit hash: two ids may share a hash,
# one id never has two, so 0 means none, and anything else is counted again exactly (DUPLICATE_COUNT_SQL). Every
# id against every other took 12 s at 100M flows. A refresh of some months checks its months' ids among
# themselves and against the other months' (1.7 s), which earlier runs found unique: unless one of them left its
# flows unchecked (quality.unchecked_flow_ids), or in lake mode, where another run may load between this run's
# load and its check.
POSSIBLE_DUPLICATES_SQL = "SELECT count(*) - count(DISTINCT hash(flow_id)) FROM core.trade_flows"
POSSIBLE_WINDOW_DUPLICATES_SQL = """
WITH window_ids AS (SELECT hash(flow_id) AS id FROM core.trade_flows WHERE period >= $window_start AND period < $window_end)
SELECT (SELECT count(*) - count(DISTINCT id) FROM window_ids)
       + (SELECT count(*) FROM core.trade_flows
          WHERE (period < $window_start OR period >= $window_end) AND hash(flow_id) IN (SELECT id FROM window_ids))
"""
UNCHECKED_BY_OTHERS_SQL = "SELECT count(*) FROM quality.unchecked_flow_ids WHERE run_id <> $run_id"
DUPLICATE_COUNT_SQL = "SELECT count(*) - count(DISTINCT flow_id) FROM core.trade_flows"
DUPLICATES_SQL = """
SELECT flow_id, string_agg(source_file || ' row ' || row_number, ' and ' ORDER BY source_file, row_number) AS places
FROM core.trade_flows GROUP BY flow_id HAVING count(*) > 1 ORDER BY flow_id LIMIT 10
"""
HS_IN_FORCE_RULE = "code exists only from HS 2022 (in force 1 Jan 2022), so a flow before 2022 cannot carry it"
NEW_IN_HS2022_SQL = """
SELECT DISTINCT hs2022 FROM ref.hs_concordance WHERE hs2022 NOT IN (SELECT hs2017 FROM ref.hs_concordance)
"""


def files_of(seeds_dir: Path, win: Window) -> list[Path]:
    """The trade-flow files of the window's months. A full window also vets every file's name."""
    paths = []
    for path in seed_files(seeds_dir, TRADE_FLOWS.path):
        downloaded = next((fmt for fmt in IMPORTERS if fmt.recognises(first_line(path))), None)
        if downloaded:
            raise SeedFileError(
                f"{path}: a {downloaded.LABEL} file: put it, unchanged, in {seeds_dir / downloaded.FOLDER}/ "
                "(see README, Bring your own data)"
            )
        month = file_month(path.name)
        if month is None:
            raise SeedFileError(f"{path}: name trade-flow files by their month, YYYY-MM*.csv (e.g. 2023-05.csv)")
        if win.full and month not in win.months:
            raise SeedFileError(
                f"{path}: month {month} is outside the months {win.span} "
                "(DETOUR_FIRST_MONTH and DETOUR_LAST_MONTH set them)"
            )
        if month in win.months:
            paths.append(path)
    return paths


def first_line(path: Path) -> list[str]:
    """The file's header, or nothing when it has none: reading the file then names its fault, with the others'."""
    try:
        return header_of(path)
    except SeedFileError:
        return []


def period_matches_file(typed: pl.DataFrame) -> pl.DataFrame:
    """A flow's period must be the month its file is named after, so a month's refresh is complete."""
    month_of_file = pl.col(SOURCE_FILE).str.extract(r"(\d{4}-\d{2})[^/]*$", 1)
    return failures_where(typed, pl.col("period") != month_of_file, "period", PERIOD_RULE, pl.col("period"))


def hs_in_force(con: duckdb.DuckDBPyConnection) -> RowRule:
    """A code HS 2022 introduced (heading 8806 unmanned aircraft, 851713 smartphones, …) cannot describe a
    flow before HS 2022 entered into force on 1 Jan 2022: such a row is a data error."""
    new_codes = pl.Series([code for (code,) in con.execute(NEW_IN_HS2022_SQL).fetchall()], dtype=pl.String)

    def rule(typed: pl.DataFrame) -> pl.DataFrame:
        code = pl.col("hs_code")
        new = code.str.slice(0, 6).is_in(new_codes.implode()) | code.str.starts_with("8806")
        return failures_where(typed, new & (pl.col("period") < HS2022_IN_FORCE[:7]), "hs_code", HS_IN_FORCE_RULE, code)

    return rule


# YYYY-MM of a period: a month's own, or its year's January for an annual flow
MONTH_OF_PERIOD = pl.when(pl.col("period").str.len_chars() == 4).then(pl.col("period") + "-01").otherwise(pl.col("period"))


def fx_in_force(con: duckdb.DuckDBPyConnection) -> RowRule:
    """A flow in a currency whose first rate in ref.fx_rates comes after its month cannot be converted, and a value
    worth more than 1e15 USD at the currency's highest rate cannot be held: each is kept aside, naming the currency
    and where its rates start, or the dollar amount, instead of stopping the run."""
    first = con.execute(FIRST_RATES_SQL).pl()

    def rule(typed: pl.DataFrame) -> pl.DataFrame:
        day = MONTH_OF_PERIOD + "-01"
        joined = typed.join(first, on="currency", how="left")
        too_early = (pl.col("currency") != "USD") & (day < pl.col("first_rate"))
        usd = pl.col("value") * pl.when(pl.col("currency") == "USD").then(1.0).otherwise(pl.col("top_rate"))
        return pl.concat([
            joined.filter(too_early).select(
                pl.col(IDX), pl.lit("currency").alias("column_name"),
                pl.format("no FX rate for {} on or before {}: ref.fx_rates starts it on {}", "currency", "period", "first_rate").alias("rule"),
                pl.col("currency").alias("bad_value"),
            ).cast(FAILURE_COLUMNS),
            # a quantity of gold or crypto whose dollar value no trade has: named here, never a cast error later
            # a value that is not finite is the contract's to name (less_than(1e15))
            joined.filter(~too_early.fill_null(False) & (usd.is_finite() & (usd >= MAX_USD)).fill_null(False)).select(
                pl.col(IDX), pl.lit("value").alias("column_name"),
                pl.format("value in USD would reach {} at the highest {} rate: at most 1e15 USD per flow "
                          "(value_usd holds 18 digits)",
                          usd.round(0).cast(pl.Int128, strict=False).cast(pl.String).fill_null("more than 1e38"),
                          pl.col("currency").fill_null("?")).alias("rule"),
                pl.col("value").cast(pl.String).alias("bad_value"),
            ).cast(FAILURE_COLUMNS),
        ])

    return rule


def seed_file_rules(con: duckdb.DuckDBPyConnection) -> RowRule:
    """What only this asset can judge of a trade-flow seed file's rows: the period against the file's
    month, HS 2022 codes before 2022, and currencies with no rate yet."""
    return both(period_matches_file, hs_in_force(con), fx_in_force(con))


def in_months(win: Window) -> RowRule:
    """An imported flow's month (or its year's January) must be one of the run's months."""
    first, last = win.months[0], win.months[-1]

    def rule(typed: pl.DataFrame) -> pl.DataFrame:
        month = MONTH_OF_PERIOD
        rule_text = f"period outside the months {first}..{last} (DETOUR_FIRST_MONTH and DETOUR_LAST_MONTH set them)"
        return failures_where(typed, (month < first) | (month > last), "period", rule_text, pl.col("period"))

    return rule


def both(*rules: RowRule) -> RowRule:
    return lambda typed: pl.concat([rule(typed) for rule in rules])


@dg.asset(
    key=KEY,
    description=(
        "Every valid trade flow, typed (`period` a DATE), with its goods category (longest HS prefix) "
        "and its value in USD (ASOF join on monthly FX rates).\n\n"
        "Seed folder `trade_flows/` and, on full runs, the downloaded files of `imports/comtrade/` and "
        "`imports/baci/` (pipeline/importers); contract `schemas/trade_flows.py`, table `core.trade_flows`."
    ),
    group_name="core",
    kinds={"polars", "pandera", "duckdb"},
    owners=OWNERS,
    pool=POOL,
    deps=[
        seed_file_key(TRADE_FLOWS),
        *(ref_key(name) for name in (*TRADE_FLOWS.upstream, "hs_categories", "hs_concordance", "hs_conversion")),
    ],
    check_specs=check_specs(
        KEY,
        dg.AssetCheckSpec("converted_to_usd", asset=KEY, blocking=True, description="Every flow has a value in USD"),
        dg.AssetCheckSpec("unique_flow_ids", asset=KEY, blocking=True, description="No flow_id appears twice"),
        dg.AssetCheckSpec("fx_rate_current", asset=KEY, description="No flow is converted at a stale or fallback rate "
                          "(fx_rate_stale); their value counts toward the publish guard"),
        dg.AssetCheckSpec("every_file_loaded", asset=KEY, description="Every file this run read gave flows: a file whose "
                          "rows were all kept aside loaded nothing (the run still publishes what did load)"),
        dg.AssetCheckSpec("categorised", asset=KEY, description="Every flow of the illustrative sample maps to a goods category"),
    ),
)
def trade_flows(context: dg.AssetExecutionContext, warehouse: Warehouse, seeds: SeedsFolder):
    every = every_month(seeds.folder)
    win = window(context, every)
    try:
        paths = files_of(seeds.folder, win)
    except SeedFileError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from None
    params = {**win.params, "full_window": win.full, "seed_folder": f"{TRADE_FLOWS.path}/", "run_id": context.run_id,
              "sample_source": SOURCE_PREFIX}
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        settled = settle_window(con, TABLE, win, every, context.run_id)
        if settled is not win:
            win = settled
            try:
                paths = files_of(seeds.folder, win)
            except SeedFileError as err:
                raise dg.Failure(description=str(err), allow_retries=False) from None
            params = {**params, **win.params, "full_window": win.full}
        begin_window(con, TABLE, win.full, context.run_id)
        if win.full:  # rebuild from scratch, so a changed layout takes effect; totals come from imports only
            con.execute(f"DROP TABLE IF EXISTS {TABLE}")
            con.execute(f"DROP TABLE IF EXISTS {TOTALS_TABLE}")
        run_sql(con, CREATE_TOTALS_SQL, params)  # a month's run on a new warehouse audits against it too
        con.execute(comment_sql(TOTALS_TABLE, TOTALS_DESCRIPTION, TOTALS_COLUMNS))
        run_sql(con, CREATE_SQL, params)
        clear_quarantine(con, TRADE_FLOWS, None if win.full else win.months)
        con.execute(comment_sql(TABLE, TRADE_FLOWS.description + NEVER_ACROSS_STATUS, COLUMNS))
        hs_rule, file_rules = hs_in_force(con), seed_file_rules(con)
        rows_read, kept_aside, files = 0, QuarantineSummary(), len(paths)
        # Bounded memory: a batch of files at a time, each committed (the first together with the
        # window's delete, so a one-month refresh is one transaction). Readers only ever see the
        # published file, swapped in after every step succeeded.
        # a file larger than a piece goes a piece at a time, whatever its content (1M identical rows took 3 GB whole)
        for path in (p for p in paths if p.stat().st_size > PIECE_BYTES):
            rows_read += load_in_pieces(con, path, seeds.folder, file_rules, params, kept_aside)
        for batch in batches([p for p in paths if p.stat().st_size <= PIECE_BYTES]):
            raw_files, checked = read_and_check(TRADE_FLOWS, seeds.folder, con, batch, file_rules)
            hashes = pl.DataFrame({SOURCE_FILE: [f.name for f in raw_files], "file_sha256": [f.sha256 for f in raw_files]})
            con.register("incoming", checked.good.join(hashes, on=SOURCE_FILE, how="left"))
            insert(con, "incoming", INSERT_SQL, params)
            record_load(con, TRADE_FLOWS, raw_files, checked, context.run_id)
            con.unregister("incoming")
            con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")
            rows_read += checked.rows_read
            kept_aside.add(checked.quarantine)
            del raw_files, checked
        if win.full:
            for fmt in IMPORTERS:
                folder = seeds.folder / fmt.FOLDER
                for path in fmt.files(folder) if folder.is_dir() else []:
                    rows_read += import_file(con, fmt, path, seeds.folder, both(in_months(win), hs_rule), params, kept_aside)
                    files += 1
            run_sql(con, ONCE_PER_TRADE_SQL, params)
        # a chunk of months at a time: a trade's reports share its month, and one pass over 100M flows spilled
        # gigabytes to disk
        for chunk in chunks(con, win.params):
            run_sql(con, CANONICAL_SQL, {**params, **chunk})
        end_window(con, TABLE)
        if not warehouse.lake:
            con.execute("INSERT INTO quality.unchecked_flow_ids VALUES ($run_id, now())", {"run_id": context.run_id})
        con.execute("COMMIT")

        without_usd, without_category, flows, stale, stale_usd, stale_months = con.execute(CHECKS_SQL).fetchone()
        if win.full or warehouse.lake or con.execute(UNCHECKED_BY_OTHERS_SQL, {"run_id": context.run_id}).fetchone()[0]:
            (possible_duplicates,) = con.execute(POSSIBLE_DUPLICATES_SQL).fetchone()
        else:
            (possible_duplicates,) = con.execute(POSSIBLE_WINDOW_DUPLICATES_SQL, win.params).fetchone()
        duplicates = con.execute(DUPLICATE_COUNT_SQL).fetchone()[0] if possible_duplicates else 0
        if not duplicates and not warehouse.lake:  # every flow_id is unique now, whichever run loaded it
            con.execute("DELETE FROM quality.unchecked_flow_ids")
        # where duplicates are, looked up only when there are some: listing every flow's places is slow
        duplicated = con.execute(DUPLICATES_SQL).fetchall() if duplicates else []
        nothing_loaded = con.execute(FILES_LOADED_NOTHING_SQL, {"run_id": context.run_id}).fetchall()
        yield dg.MaterializeResult(
            metadata={
                **table_metadata(con, TABLE),
                "rows_read": rows_read,
                "files": files,
                "months": win.span,
            }
        )
        yield contract_check(TRADE_FLOWS, rows_read, kept_aside)
        yield accounting_check(con, TRADE_FLOWS, LOADED_ROWS, context.run_id, files)
        yield dg.AssetCheckResult(
            check_name="converted_to_usd",
            passed=without_usd == 0,
            description=f"{without_usd} of {flows} flows have no FX rate on or before their period",
        )
        yield dg.AssetCheckResult(
            check_name="fx_rate_current",
            passed=stale == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{stale} of {flows} flows ({stale_usd:,.0f} USD) are converted at a rate older than their period or "
            "of another type than the currency's own (fx_rate_stale)" + (f": {stale_months}" if stale else ""),
            metadata={"stale_flows": stale, "stale_usd": stale_usd},
        )
        yield dg.AssetCheckResult(
            check_name="unique_flow_ids",
            passed=duplicates == 0,
            description=f"{duplicates} flow_ids appear more than once (across files; within a file the contract catches them)"
            + "".join(f"; {flow_id} in {places}" for flow_id, places in duplicated),
        )
        yield dg.AssetCheckResult(
            check_name="every_file_loaded",
            passed=not nothing_loaded,
            description=f"{len(nothing_loaded)} file{'' if len(nothing_loaded) == 1 else 's'} loaded nothing: "
            "every row was kept aside" + "".join(
                f"; {file}: {refused:,} of {read:,} rows, most for {column}: {rule}"
                for file, read, refused, column, rule in nothing_loaded),
            metadata={"files_loaded_nothing": dg.MetadataValue.json([file for file, *_ in nothing_loaded])},
        )
        yield dg.AssetCheckResult(
            check_name="categorised",
            passed=without_category == 0,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"{without_category} flows of the illustrative sample have an HS code no prefix in ref.hs_categories "
            "covers (real imports span every HS code; theirs are 'uncategorised' by design)",
        )


def load_in_pieces(
    con: duckdb.DuckDBPyConnection, path: Path, seeds_dir: Path, rule: RowRule, params: dict, kept_aside: QuarantineSummary,
) -> int:
    """One large trade-flow seed file, a piece at a time (each committed), then its one audit row. A flow_id
    repeated in two pieces is left to the blocking unique_flow_ids check, which names both places."""
    read = loaded = quarantined = 0
    name = sha256 = None
    try:
        for piece in read_seed_pieces(path, TRADE_FLOWS.columns, seeds_dir, TRADE_FLOWS.optional_columns):
            name, sha256 = piece.name, piece.sha256
            checked = check_rows(TRADE_FLOWS, piece.rows, con, rule)
            con.register("incoming", checked.good.with_columns(pl.lit(sha256).alias("file_sha256")))
            insert(con, "incoming", INSERT_SQL, params)
            con.unregister("incoming")
            record_quarantine(con, TRADE_FLOWS, checked.quarantine, params["run_id"])
            con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")
            read += checked.rows_read
            loaded += checked.good.height
            quarantined += checked.rows_quarantined
            kept_aside.add(checked.quarantine)
    except SeedFileError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from None
    record_audit(con, TRADE_FLOWS, pl.DataFrame(
        {SOURCE_FILE: [name], "file_sha256": [sha256], "rows_read": [read], "rows_loaded": [loaded],
         "rows_quarantined": [quarantined], "rows_skipped": [0]}), params["run_id"])
    return read


def import_file(
    con: duckdb.DuckDBPyConnection, fmt, path: Path, seeds_dir: Path, rule: RowRule, params: dict,
    kept_aside: QuarantineSummary,
) -> int:
    """One downloaded file through its format's importer, a chunk at a time (each chunk committed), then
    its audit row. Returns the rows read; the rows kept aside are added to `kept_aside`."""
    try:
        imported = fmt.read(inside_seeds(path, seeds_dir), seeds_dir)
        read = loaded = quarantined = skipped = 0
        skip_reasons: dict[str, int] = {}
        for chunk in imported.chunks():
            checked = check_rows(TRADE_FLOWS, chunk.rows, con, rule)
            quarantine = pl.concat([chunk.rejected, checked.quarantine])
            rejected = chunk.rejected.select(ROW_NUMBER).n_unique()
            con.register("incoming", checked.good.with_columns(pl.lit(imported.sha256).alias("file_sha256")))
            insert(con, "incoming", INSERT_SQL, params)
            con.unregister("incoming")
            totals = chunk.totals.height if chunk.totals is not None else 0
            if totals:
                con.register("incoming_totals", chunk.totals)
                insert(con, "incoming_totals", INSERT_TOTALS_SQL, params)
                con.unregister("incoming_totals")
            record_quarantine(con, TRADE_FLOWS, quarantine, params["run_id"])
            con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")
            read += chunk.rows.height + totals + rejected + chunk.skipped
            loaded += checked.good.height + totals
            quarantined += rejected + checked.rows_quarantined
            skipped += chunk.skipped
            for reason, rows in chunk.skip_reasons.items():
                skip_reasons[reason] = skip_reasons.get(reason, 0) + rows
            kept_aside.add(quarantine)
    except SeedFileError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from None
    audit = pl.DataFrame(
        {SOURCE_FILE: [imported.name], "file_sha256": [imported.sha256], "rows_read": [read], "rows_loaded": [loaded],
         "rows_quarantined": [quarantined], "rows_skipped": [skipped],
         "skip_reasons": [[{"reason": r, "rows": n} for r, n in sorted(skip_reasons.items())]]},
        schema_overrides={"skip_reasons": SKIP_REASONS},
    )
    record_audit(con, TRADE_FLOWS, audit, params["run_id"])
    return read


def insert(con: duckdb.DuckDBPyConnection, relation: str, sql: str, params: dict) -> None:
    """Rate the rows of `relation` (a name of the code: incoming, incoming_totals) by rates.sql, then run `sql`,
    which joins rated_keys: one conversion rule for every table that converts."""
    # EUR for every period too: a price per item in EUR (unit_value_eur) takes the same rule
    con.execute(f"CREATE OR REPLACE TEMP VIEW rate_source AS SELECT currency, period FROM {relation} "
                f"UNION ALL SELECT 'EUR', period FROM {relation}")
    run_sql(con, RATES_SQL, params)
    run_sql(con, sql, params)


def batches(paths: list[Path]) -> list[list[Path]]:
    """Consecutive files grouped into batches of at most BATCH_BYTES (a file alone when larger)."""
    groups: list[list[Path]] = [[]]
    size = 0
    for path in paths:
        file_size = path.stat().st_size
        if groups[-1] and size + file_size > BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(path)
        size += file_size
    return groups if groups[0] else []
