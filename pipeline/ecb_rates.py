"""Real monthly FX rates from the ECB's euro reference rates, written into seeds/fx_rates.csv.

A maintainer's command, run when a newer copy of the ECB file is at hand; the pipeline itself only
reads the rows it wrote (the product never reads the ECB file at run time):

    python -m pipeline.ecb_rates PATH/eurofxref-hist.csv [--seeds seeds]

The ECB file (`Date,USD,JPY,…`; units of currency per euro; `N/A` where not published) is turned
into one `official` row per currency and month: usd_per_unit is the month's average of the daily
cross rates through USD (EUR: USD per EUR that day; another currency C: (USD per EUR) / (C per EUR)
that day). A month is written only when the file runs past it and the ECB published both USD and
the currency on every business day the file has in it, so a month is never an average of a few
days: the ECB stopped RUB after 2022-03-01, so RUB ends with February 2022. Rows the ECB rows
replace (same date, currency and rate type) are dropped; every other row is kept as written, and
the file is written sorted by currency, rate type and date, so a rerun on the same file changes
nothing.
"""

import argparse
import csv
import datetime as dt
from pathlib import Path

import polars as pl

CURRENCIES = ("EUR", "CNY", "TRY", "INR", "RUB", "GBP", "JPY", "CHF")
FIRST_MONTH = dt.date(2010, 1, 1)
RATE_TYPE = "official"
SOURCE = (
    "European Central Bank euro foreign exchange reference rates (eurofxref-hist), monthly average of daily "
    "cross rates through USD"
)
HEADER = ["date", "currency", "rate_type", "usd_per_unit", "source", "approximate"]
SIGNIFICANT_DIGITS = 6  # more than the ECB's own (five), so the average loses nothing it carried


def monthly_rates(ecb_file: Path) -> pl.DataFrame:
    """date (month's first day), currency, usd_per_unit: one row per currency and complete month, sorted."""
    daily = (
        pl.read_csv(ecb_file, infer_schema=False, null_values="N/A", columns=["Date", "USD", *CURRENCIES[1:]])
        .with_columns(pl.col("Date").str.to_date("%Y-%m-%d"), pl.exclude("Date").cast(pl.Float64))
        .with_columns(pl.lit(1.0).alias("EUR"))  # euros per euro: the cross rate is then USD per EUR
    )
    last_day = daily["Date"].max()
    days = daily.unpivot(index=["Date", "USD"], on=list(CURRENCIES), variable_name="currency", value_name="per_eur")
    return (
        days.with_columns(pl.col("Date").dt.month_start().alias("date"), (pl.col("USD") / pl.col("per_eur")).alias("usd"))
        .group_by("date", "currency")
        .agg(pl.col("usd").mean().alias("usd_per_unit"), pl.col("usd").null_count().alias("days_missing"))
        # complete months only: from FIRST_MONTH, the file running past the month's end, every business day published
        .filter(
            (pl.col("date") >= FIRST_MONTH)
            & (pl.col("date").dt.offset_by("1mo") <= last_day)
            & (pl.col("days_missing") == 0)
        )
        .select("date", "currency", "usd_per_unit")
        .sort("currency", "date")
    )


def seed_rows(rates: pl.DataFrame) -> list[dict]:
    return [
        {"date": r["date"].isoformat(), "currency": r["currency"], "rate_type": RATE_TYPE,
         "usd_per_unit": f"{r['usd_per_unit']:.{SIGNIFICANT_DIGITS}g}", "source": SOURCE, "approximate": "false"}
        for r in rates.iter_rows(named=True)
    ]


def merge(existing: list[dict], ecb: list[dict]) -> list[dict]:
    """The ECB rows, and every existing row they do not replace, sorted by currency, rate type and date."""
    key = lambda r: (r["currency"], r["rate_type"], r["date"])  # noqa: E731
    replaced = {key(r) for r in ecb}
    return sorted([*(r for r in existing if key(r) not in replaced), *ecb], key=key)


def write_seed(fx_rates: Path, ecb_file: Path) -> int:
    """Merge the ECB file's monthly rates into fx_rates (a seed file with HEADER). Returns the ECB rows."""
    with open(fx_rates, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != HEADER:
            raise SystemExit(f"{fx_rates}: expected the columns {','.join(HEADER)}, found {','.join(reader.fieldnames or [])}")
        existing = list(reader)
    ecb = seed_rows(monthly_rates(ecb_file))
    with open(fx_rates, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(merge(existing, ecb))
    return len(ecb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ecb_file", type=Path, help="the ECB's eurofxref-hist.csv")
    parser.add_argument("--seeds", type=Path, default=Path("seeds"), help="seeds folder whose fx_rates.csv is updated")
    args = parser.parse_args()
    written = write_seed(args.seeds / "fx_rates.csv", args.ecb_file)
    print(f"{args.seeds / 'fx_rates.csv'}: {written} ECB monthly rates merged")


if __name__ == "__main__":
    main()
