import pandera.polars as pa

from schemas.columns import HS6
from schemas.seed import Seed

RELATIONSHIPS = ["1:1", "n:1", "1:n", "n:n"]


class HsConcordance(pa.DataFrameModel):
    hs2022: str = pa.Field(str_matches=HS6, description="HS 2022 subheading.")
    hs2017: str = pa.Field(str_matches=HS6, description="HS 2017 subheading the HS 2022 one corresponds to, in part or whole.")
    relationship: str = pa.Field(
        isin=RELATIONSHIPS,
        description="UNSD's relationship HS2022:HS2017: 1:1 the same goods; n:1 several HS 2022 codes split one HS 2017 "
        "code; 1:n one HS 2022 code merges several HS 2017 codes; n:n both.",
    )

    class Config:
        strict = True
        unique = ["hs2022", "hs2017"]


SEED = Seed(
    name="hs_concordance",
    contract=HsConcordance,
    path="hs_concordance.csv",
    description="UN Statistics Division's HS2022–HS2017 correlation table (sheet 'HS2022-HS2017 Correlations' of "
    "HS2022toHS2017ConversionAndCorrelationTables.xlsx, 2022-08-01), one row per linked pair: HS 2017 flows "
    "are matched to HS 2022 categories, CHPL tiers and measures through it.",
)
