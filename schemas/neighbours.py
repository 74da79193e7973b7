import pandera.polars as pa

from schemas.columns import iso3_country
from schemas.seed import Seed


class Neighbours(pa.DataFrameModel):
    target_iso3: str = pa.Field(description="Country under sanctions (ISO 3166 alpha-3).")
    neighbour_iso3: str = pa.Field(description="A neighbour its trade may be routed through (ISO 3166 alpha-3).")
    source: str = pa.Field(str_length={"min_value": 3}, description="Study that compares trade with the target against "
                           "trade with this neighbour.")

    _iso3 = iso3_country("target_iso3", "neighbour_iso3")

    class Config:
        strict = True
        unique = ["target_iso3", "neighbour_iso3"]


SEED = Seed(
    name="neighbours",
    contract=Neighbours,
    path="neighbours.csv",
    description="The neighbours of a sanctioned country that published studies of re-routed trade compare it with "
    "(the destination groups of marts.roundabout).",
)
