"""Column types shared by the seed contracts: HS codes, ISO 3166 countries, ISO 4217 currencies."""

import pandera.polars as pa
import polars as pl
import pycountry

ISO3_COUNTRIES = frozenset(c.alpha_3 for c in pycountry.countries)
# Crypto units have no ISO 4217 code; the project names them itself.
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies) | {"USDT", "BTC"}
# Reporter aggregates of Eurostat: the EU of 27 and the euro area of 20, and each as it was at the time
# (EU, EA). Kept under these codes only where a file has no member-state rows of the same trade.
BLOCS = ("EU27", "EA20", "EU", "EA")
AUTHORITIES = ("UN", "EU", "US", "UK", "CA", "JP", "CH", "NO", "AU", "KR")

HS_CODE = r"^(\d{2}){1,5}$"  # chapter (2) to national tariff line (10 digits), even lengths
HS_PREFIX = r"^(\d{2}|\d{4}|\d{6})$"
HS6 = r"^\d{6}$"
SLUG = r"^[a-z][a-z0-9_]*$"
ANY = "*"  # wildcard in allocation rules


def _member_of(values: frozenset[str], allow: tuple[str, ...] = ()):
    def check(data: pa.PolarsData) -> pl.LazyFrame:
        col = pl.col(data.key)
        return data.lazyframe.select(col.is_null() | col.is_in(list(values)) | col.is_in(list(allow)))

    return check


def iso3_country(*columns: str, allow: tuple[str, ...] = ()):
    """A contract check: the columns hold ISO 3166-1 alpha-3 codes (pycountry)."""
    return pa.check(*columns, name="iso3_country")(classmethod(lambda cls, data: _member_of(ISO3_COUNTRIES, allow)(data)))


def iso4217_currency(*columns: str):
    """A contract check: the columns hold ISO 4217 codes or a known crypto unit."""
    return pa.check(*columns, name="iso4217_currency")(classmethod(lambda cls, data: _member_of(CURRENCIES)(data)))
