import pandera.polars as pa

from schemas.columns import HS6
from schemas.seed import Seed

CHPL_TIERS = ["1", "2", "3.A", "3.B", "4.A", "4.B"]


class Chpl(pa.DataFrameModel):
    hs6: str = pa.Field(str_matches=HS6, unique=True, description="HS 2022 six-digit subheading on the list.")
    tier: str = pa.Field(isin=CHPL_TIERS, description="CHPL tier: 1 highest concern … 4.B CNC machine tools.")
    description: str = pa.Field(description="HS 2022 description of the subheading.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Publication of the list.")

    class Config:
        strict = True


SEED = Seed(
    name="chpl",
    contract=Chpl,
    path="chpl.csv",
    description="The 50 HS6 codes of the Common High Priority List (US BIS, EU, UK, Japan) with their tiers.",
)
