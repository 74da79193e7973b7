"""pipeline.ecb_rates: the shipped ECB rows of seeds/fx_rates.csv are what the command makes of the ECB's
file (read from ../shared/data beside the repository; skipped where it is absent)."""

import shutil

import polars as pl

from pipeline import ecb_rates
from tests.conftest import SHIPPED_SEEDS
from tests.seededit import read_rows

ECB_FILE = "fx/ecb-eurofxref-hist.csv"


def test_the_command_reproduces_the_shipped_fx_rates_exactly(shared_data, tmp_path):
    shutil.copy(SHIPPED_SEEDS / "fx_rates.csv", tmp_path / "fx_rates.csv")
    written = ecb_rates.write_seed(tmp_path / "fx_rates.csv", shared_data / ECB_FILE)
    assert (tmp_path / "fx_rates.csv").read_bytes() == (SHIPPED_SEEDS / "fx_rates.csv").read_bytes()
    # 8 currencies × 177 months (2010-01..2024-09), less RUB's 31 months after February 2022
    assert written == 8 * 177 - 31


def test_the_ecb_rows_are_the_months_the_ecb_covers_whole(shared_data):
    months = ecb_rates.monthly_rates(shared_data / ECB_FILE).group_by("currency").agg(
        first=pl.col("date").min().cast(str), last=pl.col("date").max().cast(str)
    )
    assert sorted(months.iter_rows()) == sorted(
        (c, "2010-01-01", "2022-02-01" if c == "RUB" else "2024-09-01") for c in ecb_rates.CURRENCIES
    )


# The 22 USD-per-EUR reference rates of June 2021, as the ECB file has them (its lines 847-868)
JUNE_2021 = {
    "2021-06-01": 1.2225, "2021-06-02": 1.2186, "2021-06-03": 1.2187, "2021-06-04": 1.2117, "2021-06-07": 1.2162,
    "2021-06-08": 1.2182, "2021-06-09": 1.2195, "2021-06-10": 1.2174, "2021-06-11": 1.2125, "2021-06-14": 1.2112,
    "2021-06-15": 1.2108, "2021-06-16": 1.2124, "2021-06-17": 1.1937, "2021-06-18": 1.1898, "2021-06-21": 1.1891,
    "2021-06-22": 1.1894, "2021-06-23": 1.1951, "2021-06-24": 1.1936, "2021-06-25": 1.1950, "2021-06-28": 1.1910,
    "2021-06-29": 1.1888, "2021-06-30": 1.1884,
}


def test_eur_of_june_2021_is_the_average_of_its_22_daily_rates(shared_data):
    lines = (shared_data / ECB_FILE).read_text(encoding="utf-8").splitlines()
    june = {line.split(",")[0]: float(line.split(",")[1]) for line in lines if line.startswith("2021-06-")}
    assert june == JUNE_2021
    # by hand: the 22 rates sum to 26.5036, and 26.5036 / 22 = 1.2047091, so 1.20471 to 6 significant digits
    _, rates = read_rows(SHIPPED_SEEDS / "fx_rates.csv")
    (eur,) = [r for r in rates if (r["date"], r["currency"]) == ("2021-06-01", "EUR")]
    assert (eur["usd_per_unit"], eur["rate_type"], eur["approximate"]) == ("1.20471", "official", "false")
    assert "European Central Bank" in eur["source"]


def test_every_row_not_from_the_ecb_says_whether_it_is_approximate():
    _, rates = read_rows(SHIPPED_SEEDS / "fx_rates.csv")
    exact = {(r["currency"], r["rate_type"]) for r in rates if r["approximate"] == "false" and r["source"] != ecb_rates.SOURCE}
    # by definition and a legal peg; the rial rates (official and market) no shipped source publishes: approximate
    assert exact == {("USD", "official"), ("AED", "official")}
    ecb = [r for r in rates if r["source"] == ecb_rates.SOURCE]
    assert {r["approximate"] for r in ecb} == {"false"}
    approximate = {(r["currency"], r["date"][:4]) for r in rates if r["approximate"] == "true"}
    assert ("RUB", "2022") in approximate and ("EUR", "2025") in approximate and ("XAU", "2019") in approximate
    assert not any(c in {"TRY", "INR", "GBP", "JPY", "CHF"} for c, _ in approximate)
