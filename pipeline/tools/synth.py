"""detour-synth: deterministic synthetic trade flows at scale, in the seed trade-flow layout (one
CSV per month, so DETOUR_SEEDS_DIR can point at a copy of the seeds whose trade_flows/ holds them).

Like real bilateral trade: ~200 countries whose trade follows a Zipf law (few big partners, many
small), real HS6 codes (pipeline/tools/synth_hs6.txt), the shipped payment channels and corridors
(observed for a share of flows, the rest left to the allocation rules), and 0.1% bad rows of
several kinds for the quarantine. Values are in USD before 2019 (the shipped FX rates start then).

    detour-synth --rows 10000000 --out bench/10m/trade_flows
"""

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl
import pycountry

HS6 = [
    line for line in (Path(__file__).parent / "synth_hs6.txt").read_text().splitlines() if not line.startswith("#")
]
COUNTRIES = sorted(c.alpha_3 for c in pycountry.countries)
CHANNELS = ["rub", "irr", "mir_shetab", "cny", "aed", "gold", "barter", "crypto", "usd", "eur"]
CHANNEL_CURRENCY = {"rub": "RUB", "irr": "IRR", "mir_shetab": "RUB", "cny": "CNY", "aed": "AED", "gold": "XAU",
                    "barter": "USD", "crypto": "USDT", "usd": "USD", "eur": "EUR"}
CHANNEL_WEIGHTS = np.array([0.08, 0.05, 0.01, 0.08, 0.04, 0.01, 0.02, 0.01, 0.45, 0.25])
CORRIDORS = ["instc_west", "instc_caspian", "instc_east", "suez"]
FIRST_YEAR, YEARS = 2016, 10
FX_FROM = "2019-01"  # first month of the shipped FX rates; earlier flows are in USD
IRN_RUS_SHARE = 0.05
OBSERVED_SHARE = 0.3
BAD_SHARE = 0.001
SOURCE = "synthetic benchmark data from detour-synth; not real trade"
COLUMNS = ["flow_id", "period", "exporter_iso3", "importer_iso3", "hs_code", "value", "currency", "quantity_kg",
           "corridor_id", "channel_id", "transit_iso3", "source", "basis", "hs_edition"]


def usd_per_unit(fx_rates: Path) -> dict[tuple[str, str], float]:
    """USD per unit by (currency, YYYY-MM), market rate preferred and carried forward, as the pipeline converts."""
    rates = pl.read_csv(fx_rates).sort("rate_type")  # official < market: market wins below
    latest: dict[str, float] = {}
    by_month: dict[tuple[str, str], float] = {}
    months = sorted({d[:7] for d in rates["date"]} | {f"{y}-{m:02d}" for y in range(FIRST_YEAR, FIRST_YEAR + YEARS) for m in range(1, 13)})
    table = {(r["currency"], r["date"][:7]): r["usd_per_unit"] for r in rates.iter_rows(named=True)}
    for month in months:
        for currency in {c for c, _ in table}:
            if (currency, month) in table:
                latest[currency] = table[(currency, month)]
            if currency in latest:
                by_month[(currency, month)] = latest[currency]
    return by_month


def month_frame(rng: np.random.Generator, year: int, month: int, n: int, rates: dict) -> pl.DataFrame:
    period = f"{year}-{month:02d}"
    zipf = 1 / np.arange(1, len(COUNTRIES) + 1) ** 1.1
    zipf /= zipf.sum()
    exporter = rng.choice(len(COUNTRIES), n, p=zipf)
    importer = rng.choice(len(COUNTRIES), n, p=zipf)
    importer = np.where(importer == exporter, (importer + 1) % len(COUNTRIES), importer)
    exporters, importers = np.array(COUNTRIES)[exporter], np.array(COUNTRIES)[importer]
    pair = rng.random(n) < IRN_RUS_SHARE  # the case at hand: Iran–Russia trade
    flip = rng.random(n) < 0.5
    exporters = np.where(pair, np.where(flip, "IRN", "RUS"), exporters)
    importers = np.where(pair, np.where(flip, "RUS", "IRN"), importers)
    value_usd = np.round(rng.lognormal(11, 2.2, n), 2)  # heavy-tailed shipment values
    channel = rng.choice(len(CHANNELS), n, p=CHANNEL_WEIGHTS / CHANNEL_WEIGHTS.sum())
    currency = np.array([CHANNEL_CURRENCY[c] for c in CHANNELS])[channel]
    if period < FX_FROM:
        currency = np.full(n, "USD")
    per_unit = np.array([rates.get((c, period), 1.0) if c != "USD" else 1.0 for c in currency])
    observed = rng.random(n) < OBSERVED_SHARE
    corridor = np.where(pair & observed, np.array(CORRIDORS)[rng.integers(0, 3, n)], "")  # "" is an empty cell
    frame = pl.DataFrame({
        "flow_id": [f"X{year}{month:02d}-{i:08d}" for i in range(n)],
        "period": period,
        "exporter_iso3": exporters,
        "importer_iso3": importers,
        "hs_code": np.array(HS6)[rng.integers(0, len(HS6), n)],
        "value": np.round(value_usd / per_unit, 2),
        "currency": currency,
        "quantity_kg": np.round(value_usd / rng.uniform(0.2, 50, n)),
        "corridor_id": corridor,
        "channel_id": np.where(observed, np.array(CHANNELS)[channel], ""),
        "transit_iso3": np.where(rng.random(n) < 0.02, np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)], ""),
        "source": SOURCE,
        "basis": np.where(rng.random(n) < 0.5, "exporter_reported", "importer_reported"),
        "hs_edition": "HS2022",
    }).with_columns(
        pl.col("value").cast(pl.String),
        pl.col("quantity_kg").cast(pl.Int64).cast(pl.String),
        *(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in ("corridor_id", "channel_id", "transit_iso3")),
    )
    return corrupt(rng, frame)


def corrupt(rng: np.random.Generator, frame: pl.DataFrame) -> pl.DataFrame:
    """0.1% bad rows, each breaking one rule: HS code, value, currency, partner, channel."""
    n = frame.height
    bad = rng.random(n) < BAD_SHARE
    kind = rng.integers(0, 5, n)
    return frame.with_columns(
        pl.when(pl.lit(bad & (kind == 0))).then(pl.lit("85AB31")).otherwise(pl.col("hs_code")).alias("hs_code"),
        pl.when(pl.lit(bad & (kind == 1))).then(pl.lit("-1")).otherwise(pl.col("value")).alias("value"),
        pl.when(pl.lit(bad & (kind == 2))).then(pl.lit("XYZ")).otherwise(pl.col("currency")).alias("currency"),
        pl.when(pl.lit(bad & (kind == 3))).then(pl.col("exporter_iso3")).otherwise(pl.col("importer_iso3")).alias("importer_iso3"),
        pl.when(pl.lit(bad & (kind == 4))).then(pl.lit("swift")).otherwise(pl.col("channel_id")).alias("channel_id"),
    )


def write(rows: int, out: Path, fx_rates: Path, seed: int = 20250101) -> int:
    rng = np.random.default_rng(seed)
    rates = usd_per_unit(fx_rates)
    months = [(y, m) for y in range(FIRST_YEAR, FIRST_YEAR + YEARS) for m in range(1, 13)]
    growth = np.linspace(0.7, 1.3, len(months))  # trade grows over the decade
    counts = np.floor(rows * growth / growth.sum()).astype(int)
    counts[-1] += rows - counts.sum()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.csv"):
        old.unlink()
    for (year, month), n in zip(months, counts, strict=True):
        month_frame(rng, year, month, int(n), rates).write_csv(out / f"{year}-{month:02d}.csv")
    return int(counts.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description="Write synthetic trade flows, one CSV per month, ~10 years.")
    parser.add_argument("--rows", type=int, default=10_000_000, help="number of flows (default 10,000,000)")
    parser.add_argument("--out", type=Path, required=True, help="output folder, e.g. <seeds copy>/trade_flows")
    parser.add_argument("--fx-rates", type=Path, default=Path("seeds/fx_rates.csv"), help="FX rates to price flows with")
    parser.add_argument("--seed", type=int, default=20250101, help="random seed (same seed, same files)")
    args = parser.parse_args()
    started = time.perf_counter()
    written = write(args.rows, args.out, args.fx_rates, args.seed)
    print(f"wrote {written:,} flows to {args.out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
