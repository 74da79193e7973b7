import pandera.polars as pa

from schemas.columns import SLUG
from schemas.seed import Seed


class GoodsCategories(pa.DataFrameModel):
    category_id: str = pa.Field(str_matches=SLUG, unique=True, description="Goods category key, e.g. uav_drones.")
    name: str = pa.Field(str_length={"min_value": 2, "max_value": 120}, description="Human-readable category name.")
    sector: str = pa.Field(
        isin=["military", "dual_use_industrial", "agriculture", "industrial", "energy", "financial"],
        description="Broad sector of the category.",
    )
    dual_use: bool = pa.Field(description="True when goods of the category can serve military end use.")
    description: str = pa.Field(description="What the category holds, with example HS headings.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Where the category and its examples come from.")

    class Config:
        strict = True


SEED = Seed(
    name="goods_categories",
    contract=GoodsCategories,
    path="goods_categories.csv",
    description="Goods categories of Iran–Russia trade named in the seed article (drones to pistachios).",
)
