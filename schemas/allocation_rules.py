import datetime as dt

import pandera.polars as pa
import polars as pl

from schemas.columns import ANY, SLUG, iso3_country
from schemas.seed import Ref, Seed, references

RULE_KEY = ["dimension", "exporter_iso3", "importer_iso3", "category_id", "valid_from"]
SHARE_TOLERANCE = 1e-9


class AllocationRules(pa.DataFrameModel):
    rule_id: str = pa.Field(str_matches=r"^[A-Za-z0-9_\-]+$", unique=True, description="Rule key.")
    dimension: str = pa.Field(isin=["channel", "corridor"], description="What the rule allocates: payment channel or corridor.")
    exporter_iso3: str = pa.Field(description="Exporter it applies to (ISO3) or * for any.")
    importer_iso3: str = pa.Field(description="Importer it applies to (ISO3) or * for any.")
    category_id: str = pa.Field(
        description="Goods category it applies to, or * for any.",
        metadata=references(Ref("goods_categories", "category_id", wildcard=ANY)),
    )
    valid_from: dt.date = pa.Field(description="First period the rule applies to.")
    valid_to: dt.date = pa.Field(nullable=True, description="First period it no longer applies to; empty while valid.")
    target_id: str = pa.Field(
        str_matches=SLUG,
        description="Channel or corridor receiving the share.",
        metadata=references(
            Ref("payment_channels", "channel_id", when=("dimension", "channel")),
            Ref("corridors", "corridor_id", when=("dimension", "corridor")),
        ),
    )
    share: float = pa.Field(gt=0, le=1, description="Share of the flow's value given to the target.")
    source: str = pa.Field(
        str_contains=r"https?://\S+",
        description="The published figure or statement behind the share, with an address a reader can open; a share "
        "no source gives is not written: that value stays under the unknown channel or corridor.",
    )

    _iso3 = iso3_country("exporter_iso3", "importer_iso3", allow=(ANY,))

    @pa.dataframe_check(name="shares_of_key_sum_to_1")
    def _shares(cls, data: pa.PolarsData) -> pl.LazyFrame:
        total = pl.col("share").sum().over(RULE_KEY)
        return data.lazyframe.select((total - 1).abs() <= SHARE_TOLERANCE)

    @pa.dataframe_check(name="valid_to_after_from")
    def _dates(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("valid_from")))

    class Config:
        strict = True
        unique = [*RULE_KEY, "target_id"]


SEED = Seed(
    name="allocation_rules",
    contract=AllocationRules,
    path="allocation_rules.csv",
    description="How flows without an observed channel or corridor are split; shares of one key sum to 1.",
    row_check_columns=(("shares_of_key_sum_to_1", "share"), ("valid_to_after_from", "valid_to")),
    key_checks=(("shares_of_key_sum_to_1", tuple(RULE_KEY)),),
)
