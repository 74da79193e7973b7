import pandera.polars as pa

from schemas.columns import HS6
from schemas.seed import Seed


class HsConversion(pa.DataFrameModel):
    hs2022: str = pa.Field(str_matches=HS6, unique=True, description="HS 2022 subheading.")
    hs2017: str = pa.Field(
        str_matches=HS6,
        description="The one HS 2017 subheading UNSD's conversion table gives it (a split or merged code still gets one): "
        "lists written in HS 2017 are matched on it.",
    )

    class Config:
        strict = True


SEED = Seed(
    name="hs_conversion",
    contract=HsConversion,
    path="hs_conversion.csv",
    description="UN Statistics Division's HS2022→HS2017 conversion table (sheet 'Conversions' of "
    "HS2022toHS2017ConversionAndCorrelationTables.xlsx, 2022-08-01): one HS 2017 code per HS 2022 code. HS 2022 "
    "flows are matched to lists written in HS 2017 (the EU HS6 export-sanctions list) through it "
    "(core.trade_flows.hs_code_2017).",
)
