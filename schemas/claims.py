import datetime as dt

import pandera.polars as pa
import polars as pl

from schemas.columns import SLUG
from schemas.seed import Seed

METRICS = [
    "bilateral_trade_usd",
    "bilateral_trade_yoy",
    "agri_share",
    "national_currency_share",
    "corridor_distance_km",
    "corridor_transit_days_max",
]


class Claims(pa.DataFrameModel):
    claim_id: str = pa.Field(str_matches=SLUG, unique=True, description="Claim key")
    metric: str = pa.Field(isin=METRICS, description="What the claim measures")
    scope: str = pa.Field(description="What it is about: a country pair (IRN-RUS) or a corridor")
    period_start: dt.date = pa.Field(description="First day of the period the claim covers")
    period_end: dt.date = pa.Field(description="Last day of the period the claim covers")
    value: float = pa.Field(description="The claimed figure, in `unit`")
    unit: str = pa.Field(isin=["USD", "ratio", "km", "days"], description="Unit of the value; ratio is a fraction (0.95 = 95%)")
    relation: str = pa.Field(isin=["approx", "at_least", "at_most"], description="Whether the figure is approximate or a bound")
    tolerance: float = pa.Field(ge=0, le=1, description="Relative difference within which data agrees with the claim")
    speaker: str = pa.Field(description="Who stated the figure")
    date_stated: dt.date = pa.Field(description="When it was stated")
    source: str = pa.Field(str_length={"min_value": 3}, description="Where it was published")

    @pa.dataframe_check(name="period_end_not_before_start")
    def _period(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("period_end") >= pl.col("period_start"))

    class Config:
        strict = True


SEED = Seed(
    name="claims",
    contract=Claims,
    path="claims.csv",
    description="Dated published figures (trade totals, currency shares, corridor claims) with speaker and source.",
    row_check_columns=(("period_end_not_before_start", "period_end"),),
)
