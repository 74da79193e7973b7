"""`make bench-import` (python -m pipeline.tools.bench_import): how long, and in how much memory, one CEPII BACI year of
N rows takes to import: reading, mapping, pandera validation, quarantine, audit and the insert into
core.trade_flows (the reference tables and core/trade_flows only; nothing downstream).

It writes a BACI-layout file (`t,i,j,k,v,q`, HS17, 2023) of N rows over the real HS codes of
detour-synth and 200 country codes, plus its country dictionary, beside the shipped reference seeds,
then materializes in a child process and reads its peak RSS with wait4.

    python -m pipeline.tools.bench_import --rows 10000000

With --comext DIR it imports every Eurostat Comext download below DIR instead (spreadsheets and
relational-view CSVs, sub-folders kept), then prints the published findings they reproduce.

    python -m pipeline.tools.bench_import --comext path/to/comext-downloads
"""

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pycountry

from pipeline.tools.bench import REPO, measure
from pipeline.tools.synth import HS6

YEAR = 2023
COUNTRIES = 200


def write_baci(rows: int, folder: Path) -> Path:
    """The BACI file and its dictionary in `folder`; codes 1..COUNTRIES are fictitious countries mapped to
    real ISO3 codes, so every row maps."""
    folder.mkdir(parents=True, exist_ok=True)
    iso3 = sorted({c.alpha_3 for c in pycountry.countries})[:COUNTRIES]
    pl.DataFrame({
        "country_code": [str(n) for n in range(1, COUNTRIES + 1)], "country_name": iso3,
        "country_iso2": ["XX"] * COUNTRIES, "country_iso3": iso3,
    }).write_csv(folder / "country_codes_V202501.csv")
    rng = np.random.default_rng(2023)
    # distinct (exporter, importer, code) triples, as in a real BACI year
    triple = rng.choice(COUNTRIES * (COUNTRIES - 1) * len(HS6), rows, replace=False)
    pair, code = np.divmod(triple, len(HS6))
    exporter, other = np.divmod(pair, COUNTRIES - 1)
    importer = other + (other >= exporter)
    pl.DataFrame({
        "t": np.full(rows, YEAR), "i": exporter + 1, "j": importer + 1, "k": np.array(HS6)[code],
        "v": np.round(rng.lognormal(3, 2, rows), 3), "q": np.round(rng.lognormal(1, 2, rows), 3),
    }).write_csv(folder / f"BACI_HS17_Y{YEAR}_V202501.csv")
    return folder / f"BACI_HS17_Y{YEAR}_V202501.csv"


# From the imported rows: sanctioned EU exports (every CN8 row of the spreadsheets), March-November 2022 against
# 2021, to Russia and its neighbours (V. Zemlys-Balevičius, Jan 2023); EU27 total exports 2022 against 2021
# (Eric Dor, IÉSEG, 2023).
ZEMLYS_SQL = """
SELECT CASE WHEN importer_iso3 = 'RUS' THEN 'Russia' ELSE 'six neighbours' END AS destination,
       sum(value) FILTER (WHERE period BETWEEN '2022-03-01' AND '2022-11-01')
       / sum(value) FILTER (WHERE period BETWEEN '2021-03-01' AND '2021-11-01') - 1 AS change
FROM core.trade_flows
WHERE source_file LIKE 'imports/comext/%' AND length(hs_code) = 8 AND frequency = 'monthly'
GROUP BY ALL ORDER BY ALL
"""
DOR_SQL = """
SELECT importer_iso3, sum(value) FILTER (WHERE year(period) = 2022) - sum(value) FILTER (WHERE year(period) = 2021) AS change_eur,
       sum(value) FILTER (WHERE year(period) = 2022) / sum(value) FILTER (WHERE year(period) = 2021) - 1 AS change
FROM core.trade_totals
WHERE exporter_iso3 = 'EU27' AND frequency = 'annual' AND importer_iso3 IN ('RUS', 'KGZ')
GROUP BY ALL ORDER BY ALL
"""
AUDIT_SQL = """
SELECT count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(rows_skipped),
       bool_and(rows_read = rows_loaded + rows_quarantined + rows_skipped)
FROM quality.load_audit_latest WHERE source_file LIKE 'imports/comext/%'
"""


def import_comext(source: Path, folder: Path) -> None:
    """Import every Comext download below `source` beside the shipped reference seeds; print the time, the
    cells per second, the peak memory and the findings."""
    import duckdb

    shutil.rmtree(folder, ignore_errors=True)
    seeds = folder / "seeds"
    shutil.copytree(REPO / "seeds", seeds, ignore=shutil.ignore_patterns("imports", "trade_flows"))
    (seeds / "trade_flows").mkdir()
    shutil.copy(REPO / "seeds" / "trade_flows" / "2023-05.csv", seeds / "trade_flows")
    shutil.copytree(source, seeds / "imports" / "comext", ignore=lambda _, names: [
        n for n in names if Path(n).suffix.lower() in (".md", ".txt") or n == "export_sanctions_codes.csv" or n == "input_codes.csv"])
    warehouse = folder / "detour.duckdb"
    seconds, peak = measure(
        [sys.executable, "-m", "pipeline.tools.bench_import", "--materialize", str(seeds), str(warehouse)], log=folder / "import.log")
    with duckdb.connect(str(warehouse.with_name("detour.build.duckdb")), read_only=True) as con:
        files, read, loaded, quarantined, skipped, balanced = con.execute(AUDIT_SQL).fetchone()
        zemlys, dor = con.execute(ZEMLYS_SQL).fetchall(), con.execute(DOR_SQL).fetchall()
    print(f"import of {files} Comext files (reference tables + core/trade_flows): {seconds:.1f} s, peak RSS {peak:,.0f} MB; "
          f"{read:,} cells read ({read / seconds:,.0f}/s): {loaded:,} loaded ({loaded / seconds:,.0f}/s), "
          f"{quarantined:,} kept aside, {skipped:,} skipped; every file balanced: {balanced}")
    for destination, change in zemlys:
        print(f"  sanctioned EU exports (CN8), Mar-Nov 2022 against Mar-Nov 2021, to {destination}: {change:+.1%}")
    for partner, change_eur, change in dor:
        print(f"  EU27 total exports to {partner}, 2022 against 2021: {change_eur / 1e9:+,.1f} bn EUR ({change:+.1%})")


def materialize(seeds: Path, warehouse: Path) -> None:
    import dagster as dg

    from pipeline.definitions import defs
    from pipeline.resources import SeedsFolder
    from pipeline.storage.warehouse import Warehouse

    # the import path: the reference tables and core/trade_flows, without routing and marts
    selection = dg.AssetSelection.groups("reference") | dg.AssetSelection.assets(["core", "trade_flows"])
    result = dg.materialize(
        [*defs.assets], selection=selection, instance=dg.DagsterInstance.ephemeral(),
        resources={"warehouse": Warehouse(path=str(warehouse)), "seeds": SeedsFolder(path=str(seeds))},
    )
    if not result.success:
        raise SystemExit("import failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=Path("bench"))
    parser.add_argument("--comext", type=Path, help="import the Eurostat Comext downloads below this folder instead")
    parser.add_argument("--materialize", nargs=2, type=Path, metavar=("SEEDS", "WAREHOUSE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.materialize:
        materialize(*args.materialize)
        return
    if args.comext:
        import_comext(args.comext.resolve(), args.dir.resolve() / "comext")
        return
    folder = args.dir.resolve() / f"baci-{args.rows}"
    shutil.rmtree(folder, ignore_errors=True)
    seeds = folder / "seeds"
    shutil.copytree(REPO / "seeds", seeds, ignore=shutil.ignore_patterns("imports", "trade_flows"))
    (seeds / "trade_flows").mkdir()
    shutil.copy(REPO / "seeds" / "trade_flows" / "2023-05.csv", seeds / "trade_flows")
    started = time.perf_counter()
    path = write_baci(args.rows, seeds / "imports" / "baci")
    print(f"wrote {args.rows:,} BACI rows ({path.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - started:.1f} s")
    seconds, peak = measure(
        [sys.executable, "-m", "pipeline.tools.bench_import", "--materialize", str(seeds), str(folder / "detour.duckdb")],
        log=folder / "import.log",
    )
    print(f"import of {args.rows:,} BACI rows (reference tables + core/trade_flows): {seconds:.1f} s, "
          f"{args.rows / seconds:,.0f} rows/s, peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
