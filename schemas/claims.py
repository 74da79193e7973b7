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
    claim_id: str = pa.Field(str_matches=SLUG, unique=True, description="Claim key.")
    metric: str = pa.Field(isin=METRICS, description="What the claim measures.")
    scope: str = pa.Field(description="What it is about: a country pair (IRN-RUS) or a corridor.")
    period_start: dt.date = pa.Field(description="First day of the period the claim covers.")
    period_end: dt.date = pa.Field(description="Last day of the period the claim covers.")
    value: float = pa.Field(description="The claimed figure, in `unit`.")
    unit: str = pa.Field(isin=["USD", "ratio", "km", "days"], description="Unit of the value; ratio is a fraction (0.95 = 95%).")
    relation: str = pa.Field(isin=["approx", "at_least", "at_most"], description="Whether the figure is approximate or a bound.")
    tolerance: float = pa.Field(
        ge=0, le=1, description="Relative difference (share of the claimed value) within which data agrees with the claim."
    )
    comparable: bool = pa.Field(
        description="False when the claim's definition or endpoints differ from what the data measures "
        "(e.g. a Mumbai–Moscow length against Bandar Abbas–Moscow legs, or a total that excludes military trade)."
    )
    comparability_note: str = pa.Field(nullable=True, description="Why the claim is not comparable, when it is not.")
    tuned_to: str = pa.Field(
        nullable=True,
        isin=["sample", "reference"],
        description="`sample`: the shipped illustrative trade-flow sample was generated to match this claim; `reference`: a "
        "reference seed was written from it; so agreement with it proves nothing.",
    )
    speaker: str = pa.Field(description="Who stated the figure.")
    date_stated: dt.date = pa.Field(description="When it was stated.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Where it was published.")

    @pa.dataframe_check(name="incomparable_claims_say_why")
    def _why(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("comparable") | pl.col("comparability_note").is_not_null())

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
    row_check_columns=(("period_end_not_before_start", "period_end"), ("incomparable_claims_say_why", "comparability_note")),
)
