import pandera.polars as pa
import polars as pl

from schemas.columns import AUTHORITIES, iso3_country
from schemas.seed import Seed


class Jurisdictions(pa.DataFrameModel):
    country_iso3: str = pa.Field(unique=True, description="Country or territory (ISO 3166 alpha-3).")
    name: str = pa.Field(description="Country name.")
    sanctions_authorities: str = pa.Field(
        nullable=True,
        description=f"The sanctions authorities whose measures it enforces, from {', '.join(AUTHORITIES)} "
        "('|'-separated in the seed file, a list in the table).",
    )
    transshipment_hub: bool = pa.Field(description="On the FinCEN/BIS list of high-risk transshipment jurisdictions.")
    hub_source: str = pa.Field(nullable=True, description="Source of the transshipment-hub flag.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Source for the row.")

    _iso3 = iso3_country("country_iso3")

    @pa.check("sanctions_authorities", name="known_authorities")
    def _authorities(cls, data: pa.PolarsData) -> pl.LazyFrame:
        col = pl.col(data.key)
        known = col.str.split("|").list.eval(pl.element().is_in(list(AUTHORITIES))).list.all()
        return data.lazyframe.select(col.is_null() | known)

    @pa.dataframe_check(name="hub_has_source")
    def _hub_source(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col("transshipment_hub") | pl.col("hub_source").is_not_null())

    class Config:
        strict = True


SEED = Seed(
    name="jurisdictions",
    contract=Jurisdictions,
    path="jurisdictions.csv",
    description="Which sanctions authorities each jurisdiction enforces, and whether it is a transshipment hub.",
    row_check_columns=(("hub_has_source", "hub_source"),),
    list_columns=("sanctions_authorities",),
    # The Council's regulations bind the member states: only they enforce EU sanctions, so the flag is the list's.
    derived_columns=(
        ("eu_member", "BOOLEAN", "coalesce(list_contains(string_split(sanctions_authorities, '|'), 'EU'), false)",
         "Whether the jurisdiction is a member state of the European Union, bound by EU sanctions regulations."),
        ("un_member", "BOOLEAN", "coalesce(list_contains(string_split(sanctions_authorities, '|'), 'UN'), false)",
         "Whether the jurisdiction is a member of the United Nations, bound by Security Council sanctions."),
    ),
)
