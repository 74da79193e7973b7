import pandera.polars as pa

from schemas.columns import HS_PREFIX
from schemas.seed import Ref, Seed, references


class HsCategories(pa.DataFrameModel):
    hs_prefix: str = pa.Field(
        str_matches=HS_PREFIX, unique=True, description="HS chapter (2), heading (4) or subheading (6) digits."
    )
    category_id: str = pa.Field(
        description="Category of every HS code starting with the prefix; the longest prefix wins.",
        metadata=references(Ref("goods_categories", "category_id")),
    )
    source: str = pa.Field(str_length={"min_value": 3}, description="HS nomenclature entry or list behind the mapping.")

    class Config:
        strict = True


SEED = Seed(
    name="hs_categories",
    contract=HsCategories,
    path="hs_categories.csv",
    description="Maps HS code prefixes to goods categories; a flow takes the category of its longest matching prefix.",
)
