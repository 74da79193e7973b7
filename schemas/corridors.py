import pandera.polars as pa
import polars as pl

from schemas.columns import SLUG
from schemas.seed import Seed


class Corridors(pa.DataFrameModel):
    corridor_id: str = pa.Field(str_matches=SLUG, unique=True, description="Corridor key, e.g. instc_west, suez.")
    name: str = pa.Field(description="Human-readable corridor name.")
    branch: str = pa.Field(
        isin=["western", "trans_caspian", "eastern", "suez", "eurasian_roundabout", "unknown"],
        description="INSTC branch, the Suez baseline, eurasian_roundabout (goods exported to one of Russia's "
        "neighbours and sent on to Russia), or unknown (no observation or sourced allocation names the route).",
    )
    endpoints: str = pa.Field(description="The two ends of the route.")
    transit_days_min: int = pa.Field(ge=1, le=120, nullable=True, description="Fastest claimed transit time in days; "
                                     "empty where no source claims one.")
    transit_days_max: int = pa.Field(ge=1, le=120, nullable=True, description="Slowest claimed transit time in days (claims "
                                     "conflict: keep ranges); empty where no source claims one.")
    transit_days_source: str = pa.Field(nullable=True, description="Who claimed the transit-time range.")
    description: str = pa.Field(description="How the route runs.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Sources for the route.")

    @pa.dataframe_check(name="transit_days_min_le_max")
    def _days_range(cls, data: pa.PolarsData) -> pl.LazyFrame:
        days = pl.col("transit_days_min"), pl.col("transit_days_max"), pl.col("transit_days_source")
        # a range and its source come together, or not at all (no source, no figure)
        given = [d.is_not_null() for d in days]
        return data.lazyframe.select(
            (given[0] & given[1] & given[2] & (days[0] <= days[1])) | ~(given[0] | given[1] | given[2])
        )

    class Config:
        strict = True


SEED = Seed(
    name="corridors",
    contract=Corridors,
    path="corridors.csv",
    description="Trade corridors: between Iran and Russia the three INSTC branches and the Suez baseline; into Russia "
    "through its neighbours the routes of the Eurasian roundabout.",
    row_check_columns=(("transit_days_min_le_max", "transit_days_min"),),
)
