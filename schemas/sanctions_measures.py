import datetime as dt

import pandera.polars as pa
import polars as pl

from schemas.columns import AUTHORITIES, HS6, HS_PREFIX, ISO3_COUNTRIES, SLUG, iso3_country
from schemas.seed import Ref, Seed, references

TARGET_TYPES = ["hs_code", "hs_prefix", "channel", "country", "entity", "vessel"]
MEASURE_TYPES = [
    "embargo",
    "export_ban",
    "import_ban",
    "payment_ban",
    "secondary_sanction",
    "no_russia_clause",
    "asset_freeze",
    "transit_ban",
]


class SanctionsMeasures(pa.DataFrameModel):
    measure_id: str = pa.Field(str_matches=SLUG, unique=True, description="Measure key")
    authority: str = pa.Field(isin=list(AUTHORITIES), description="Sanctioning authority (EU, US, UK, UN, …)")
    target_country: str = pa.Field(description="Country the measure is aimed at (ISO 3166 alpha-3)")
    target_type: str = pa.Field(isin=TARGET_TYPES, description="What the target names: HS code or prefix, channel, country, entity, vessel")
    target: str = pa.Field(
        description="The HS code/prefix, channel_id, ISO3 country, entity name or IMO number hit",
        metadata=references(Ref("payment_channels", "channel_id", when=("target_type", "channel"))),
    )
    measure_type: str = pa.Field(isin=MEASURE_TYPES, description="Kind of restriction")
    effective_from: dt.date = pa.Field(description="First day the measure is in force")
    effective_to: dt.date = pa.Field(nullable=True, description="First day it is no longer in force; empty while in force")
    legal_reference: str = pa.Field(description="Regulation, order or resolution")
    description: str = pa.Field(description="What the measure restricts")
    source: str = pa.Field(str_length={"min_value": 3}, description="Publication of the measure")

    _iso3 = iso3_country("target_country")

    @pa.dataframe_check(name="target_matches_target_type")
    def _target_form(cls, data: pa.PolarsData) -> pl.LazyFrame:
        t, target = pl.col("target_type"), pl.col("target")
        ok = (
            pl.when(t == "hs_code").then(target.str.contains(HS6))
            .when(t == "hs_prefix").then(target.str.contains(HS_PREFIX))
            .when(t == "country").then(target.is_in(list(ISO3_COUNTRIES)))
            .when(t == "vessel").then(target.str.contains(r"^IMO\d{7}$"))
            .otherwise(target.str.len_chars() >= 2)
        )
        return data.lazyframe.select(ok.fill_null(False))

    @pa.dataframe_check(name="effective_to_after_from")
    def _dates(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("effective_to").is_null() | (pl.col("effective_to") > pl.col("effective_from")))

    class Config:
        strict = True


SEED = Seed(
    name="sanctions_measures",
    contract=SanctionsMeasures,
    path="sanctions_measures.csv",
    description="Sanctions measures with what they target and the dates they are in force.",
    row_check_columns=(("target_matches_target_type", "target"), ("effective_to_after_from", "effective_to")),
)
