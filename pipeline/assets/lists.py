"""Sanctions lists → ref.sanctioned_parties with its aliases and addresses (OFAC SDN legacy CSV in
lists/ofac/, OpenSanctions targets.simple.csv in lists/opensanctions/, either may be absent), checked
by the same contracts, quarantine and audit as the seeds; then the trade flows' parties and vessels
screened against them → marts.counterparty_hits."""

import time

import dagster as dg
import duckdb
import polars as pl

from pipeline.assets.core import trade_flows
from pipeline.assets.ingest import (
    check_rows,
    OWNERS,
    accounting_check,
    check_specs,
    clear_quarantine,
    comment_sql,
    contract_check,
    QuarantineSummary,
    record_load,
    seed_columns,
)
from pipeline.assets.tables import markdown_table, table_metadata
from pipeline.contract import Checked
from pipeline.importers import text_frame
from pipeline.importers.ofac import read_ofac
from pipeline.importers.opensanctions import read_opensanctions
from pipeline.resources import SeedsFolder
from pipeline.screening import THRESHOLD, normalise, screen
from pipeline.seedfile import ROW_NUMBER, SOURCE_FILE, RawFile, SeedFileError
from pipeline.storage.warehouse import POOL, Warehouse, drop_tables, read_sql, run_sql
from schemas.sanctioned_parties import ADDRESSES, ALIASES, LIST_COLUMNS, PARTIES
from schemas.seed import Seed

KEY = dg.AssetKey(["ref", "sanctioned_parties"])
HITS_KEY = dg.AssetKey(["marts", "counterparty_hits"])
HITS_TABLE = "marts.counterparty_hits"
HITS_SQL = read_sql(__file__, "lists/counterparty_hits.sql")
NAMES_SQL = """
SELECT DISTINCT name FROM (
    SELECT exporter_name AS name FROM core.trade_flows UNION ALL SELECT importer_name FROM core.trade_flows
) WHERE name IS NOT NULL
"""
LIST_PROVENANCE = (
    (SOURCE_FILE, "VARCHAR", "List file the row was read from, relative to the seeds folder."),
    (ROW_NUMBER, "BIGINT", "Line of the row in its file: OFAC files have no header, so their first row is line 1; "
     "in targets.simple.csv the header is line 1 (aliases and addresses carry their entry's line)."),
)
NORMALISED = {
    PARTIES.name: ("name", "name_normalised", "`name` as screening compares it (pipeline/screening.py normalise)."),
    ALIASES.name: ("alias", "alias_normalised", "`alias` as screening compares it (pipeline/screening.py normalise)."),
}
LIST_FILE_SPECS = [
    dg.AssetSpec(
        dg.AssetKey(["seeds", key]),
        description=description,
        group_name="seeds",
        kinds={"csv"},
        owners=OWNERS,
    )
    for key, description in (
        ("ofac_sdn", "OFAC SDN legacy CSV in DETOUR_SEEDS_DIR/lists/ofac/: sdn.csv, and add.csv and alt.csv when "
         "present (no header, `-0-` as null). Optional."),
        ("opensanctions", "OpenSanctions targets.simple.csv in DETOUR_SEEDS_DIR/lists/opensanctions/ (15 columns, "
         "or 16 with program_ids). Optional."),
    )
]
HIT_COLUMNS = [
    ("flow_id", "Flow that hit (core.trade_flows)."),
    ("period", "First day of the flow's month."),
    ("exporter_iso3", "Exporting country of the flow."),
    ("importer_iso3", "Importing country of the flow."),
    ("party_id", "List entry hit (ref.sanctioned_parties)."),
    ("list_name", "List of the entry: ofac_sdn or opensanctions."),
    ("matched_on", "Flow column that hit: exporter_name, importer_name or vessel_imo."),
    ("matched_value", "The flow's text in that column."),
    ("matched_name", "The entry's name or alias that scored best (the entry's name for a vessel IMO)."),
    ("score", f"Match score 0-100: 100 for an exact IMO number, else the fuzzy name score (hits from {THRESHOLD})."),
    ("programs", "Sanctions programs of the entry."),
    ("value_usd", "The flow's value in USD (not to be summed over party_id or matched_on)."),
    ("canonical", "The flow is the one report of its trade that value sums count (core.trade_flows.canonical)."),
]
HITS_COMMENT = (
    "Trade flows whose named exporter, importer or vessel hits a sanctions-list entry. Grain: one row per "
    "flow × party_id × matched_on. value_usd is the flow's: do not sum it over party_id or matched_on (one flow "
    "can hit several entries, on several columns); count each flow once (DISTINCT flow_id) and restrict sums to "
    "canonical rows."
)


def table_of(seed: Seed) -> str:
    return f"ref.{seed.name}"


def table_columns(seed: Seed) -> list[tuple[str, str, str]]:
    columns = [(n, "VARCHAR[]" if n in LIST_COLUMNS else t, text) for n, t, text in seed_columns(seed)]
    if seed.name in NORMALISED:
        _, column, text = NORMALISED[seed.name]
        columns.append((column, "VARCHAR", text))
    return [*columns, *LIST_PROVENANCE]


def check_files(seed: Seed, files: list[RawFile], con: duckdb.DuckDBPyConnection) -> Checked:
    return check_rows(seed, pl.concat([text_frame([], seed.columns), *(f.rows for f in files)]), con)


def write_table(con: duckdb.DuckDBPyConnection, seed: Seed, rows: pl.DataFrame) -> None:
    """CREATE OR REPLACE ref.<seed> and insert `rows` (contract columns as text, ';'-joined lists)."""
    table = table_of(seed)
    columns = table_columns(seed)
    if seed.name in NORMALISED:
        source, column, _ = NORMALISED[seed.name]
        rows = rows.with_columns(pl.col(source).map_elements(normalise, return_dtype=pl.String).alias(column))
    con.register("incoming", rows)
    names = [n for n, _, _ in columns]
    values = [f"coalesce(string_split({n}, ';'), []::VARCHAR[])" if n in LIST_COLUMNS else n for n in names]
    con.execute(f"CREATE OR REPLACE TABLE {table} ({', '.join(f'{n} {t}' for n, t, _ in columns)})")
    con.execute(f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM incoming")
    con.execute(comment_sql(table, seed.description, columns))
    con.unregister("incoming")


def derived(rows: pl.DataFrame, seed: Seed, parties: pl.DataFrame) -> pl.DataFrame:
    """Aliases or addresses taken from the entries' rows (OpenSanctions), for the entries that loaded."""
    if rows.height == 0:
        return pl.DataFrame(schema={c: pl.String for c in seed.columns} | {SOURCE_FILE: pl.String, ROW_NUMBER: pl.Int64})
    return rows.join(parties.select("party_id"), on="party_id", how="semi").select(*seed.columns, SOURCE_FILE, ROW_NUMBER)


def _value(result: dg.AssetCheckResult, name: str):
    value = result.metadata[name]
    return getattr(value, "value", value)


@dg.asset(
    key=KEY,
    description=(
        "Sanctions-list entries, one row per entry (OFAC SDN and OpenSanctions), with their aliases and addresses "
        "in ref.sanctioned_party_aliases and ref.sanctioned_party_addresses. Either list may be absent: the tables "
        "are then empty.\n\nFiles `lists/ofac/{sdn,alt,add}.csv` and `lists/opensanctions/targets.simple.csv`, "
        "importers `pipeline/importers/`, contracts `schemas/sanctioned_parties.py`."
    ),
    group_name="reference",
    kinds={"polars", "pandera", "duckdb"},
    owners=OWNERS,
    deps=[spec.key for spec in LIST_FILE_SPECS],
    check_specs=check_specs(KEY),
    pool=POOL,
)
def sanctioned_parties(context: dg.AssetExecutionContext, warehouse: Warehouse, seeds: SeedsFolder):
    try:
        ofac = read_ofac(seeds.folder)
        opensanctions = read_opensanctions(seeds.folder)
    except SeedFileError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from None
    files = {PARTIES: [*ofac.parties, *opensanctions.parties], ALIASES: ofac.aliases, ADDRESSES: ofac.addresses}
    checked: dict[Seed, Checked] = {}
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")
        # Entries first: the aliases and addresses reference the entries that loaded.
        checked[PARTIES] = check_files(PARTIES, files[PARTIES], con)
        write_table(con, PARTIES, checked[PARTIES].good)
        for seed, from_entries in ((ALIASES, opensanctions.aliases), (ADDRESSES, opensanctions.addresses)):
            checked[seed] = check_files(seed, files[seed], con)
            rows = pl.concat([checked[seed].good, derived(from_entries, seed, checked[PARTIES].good)])
            write_table(con, seed, rows)
        for seed, result in checked.items():
            clear_quarantine(con, seed)
            if files[seed]:  # no file, nothing to account for
                record_load(con, seed, files[seed], result, context.run_id)
        con.execute("COMMIT")

        parties = checked[PARTIES]
        yield dg.MaterializeResult(
            metadata={
                **table_metadata(con, table_of(PARTIES)),
                **{f"{seed.name}_rows": con.execute(f"SELECT count(*) FROM {table_of(seed)}").fetchone()[0]
                   for seed in (ALIASES, ADDRESSES)},
                "rows_read": sum(c.rows_read for c in checked.values()),
                "rows_quarantined": sum(c.rows_quarantined for c in checked.values()),
                "files": dg.MetadataValue.md(
                    "\n".join(f"- `{f.name}` sha256 `{f.sha256[:12]}`" for fs in files.values() for f in fs) or "_none_"
                ),
                "entries_by_list": dg.MetadataValue.md(markdown_table(parties.good.group_by("list_name", "party_type").len().sort("list_name", "party_type"))),
            }
        )
        kept_aside = QuarantineSummary()
        for c in checked.values():
            kept_aside.add(c.quarantine)
        yield contract_check(PARTIES, sum(c.rows_read for c in checked.values()), kept_aside)
        accounting = [accounting_check(con, seed, table_of(seed), context.run_id, len(files[seed])) for seed in checked]
        yield dg.AssetCheckResult(
            check_name="accounting",
            passed=all(a.passed for a in accounting),
            description=accounting[0].description + " (entries, aliases and addresses files)",
            metadata={
                "files": sum(_value(a, "files") for a in accounting),
                "rows_read": sum(_value(a, "rows_read") for a in accounting),
                "unbalanced_files": dg.MetadataValue.md(
                    "\n\n".join(_value(a, "unbalanced_files") for a in accounting if not a.passed) or "_none_"
                ),
            },
        )


@dg.asset(
    key=HITS_KEY,
    description=(
        "Which trade flows name a sanctioned party or vessel? Exact on vessel IMO numbers (score 100), fuzzy on "
        "exporter and importer names after normalisation (pipeline/screening.py).\n\nBuilt by "
        "`pipeline/assets/lists/counterparty_hits.sql` into `marts.counterparty_hits`."
    ),
    group_name="marts",
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    deps=[trade_flows.key, KEY],
    pool=POOL,
)
def counterparty_hits(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        names = con.sql(NAMES_SQL).pl()
        parties = con.sql(f"SELECT party_id, name FROM {table_of(PARTIES)}").pl()
        aliases = con.sql(f"SELECT party_id, alias FROM {table_of(ALIASES)}").pl()
        started = time.perf_counter()
        name_hits = screen(names, parties, aliases)
        seconds = time.perf_counter() - started
        con.register("name_hits", name_hits)
        con.execute("BEGIN TRANSACTION")
        drop_tables(con, [HITS_TABLE])
        run_sql(con, HITS_SQL)
        con.execute(comment_sql(HITS_TABLE, HITS_COMMENT, [(n, "", text) for n, text in HIT_COLUMNS]))
        con.execute("COMMIT")
        con.unregister("name_hits")
        context.log.info(f"screened {names.height} names against {parties.height} entries in {seconds:.2f}s")
        return dg.MaterializeResult(
            metadata={
                **table_metadata(con, HITS_TABLE),
                "names_screened": names.height,
                "name_hits": name_hits.height,
                "screening_seconds": round(seconds, 2),
                "threshold": THRESHOLD,
            }
        )


list_assets = [sanctioned_parties, counterparty_hits]
