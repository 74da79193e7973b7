import pandera.polars as pa

from schemas.columns import iso3_country
from schemas.seed import Ref, Seed, references


class CorridorLegs(pa.DataFrameModel):
    corridor_id: str = pa.Field(description="Corridor the leg belongs to.", metadata=references(Ref("corridors", "corridor_id")))
    leg_seq: int = pa.Field(ge=1, le=50, description="Order of the leg along the corridor, from 1.")
    from_node: str = pa.Field(description="Place the leg starts.")
    from_lat: float = pa.Field(ge=-90, le=90, description="Latitude of the start, degrees.")
    from_lon: float = pa.Field(ge=-180, le=180, description="Longitude of the start, degrees.")
    to_node: str = pa.Field(description="Place the leg ends.")
    to_lat: float = pa.Field(ge=-90, le=90, description="Latitude of the end, degrees.")
    to_lon: float = pa.Field(ge=-180, le=180, description="Longitude of the end, degrees.")
    mode: str = pa.Field(isin=["rail", "road", "sea", "river", "pipeline", "air"], description="Transport mode of the leg.")
    country_iso3: str = pa.Field(
        nullable=True,
        description="Jurisdiction the leg crosses (ISO 3166 alpha-3); empty on the high seas.",
        metadata=references(Ref("jurisdictions", "country_iso3")),
    )
    distance_km: float = pa.Field(gt=0, le=20000, description="Length of the leg in km.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Source or estimate behind the leg.")

    _iso3 = iso3_country("country_iso3")

    class Config:
        strict = True
        unique = ["corridor_id", "leg_seq"]


SEED = Seed(
    name="corridor_legs",
    contract=CorridorLegs,
    path="corridor_legs.csv",
    description="The legs of each corridor, with coordinates for maps, mode, jurisdiction crossed and distance.",
)
