import datetime as dt

import pandera.polars as pa

from schemas.columns import iso4217_currency
from schemas.seed import Seed


class FxRates(pa.DataFrameModel):
    date: dt.date = pa.Field(ge=dt.date(1990, 1, 1), description="First day the rate applies (monthly: the 1st).")
    currency: str = pa.Field(description="Currency or unit (ISO 4217, XAU for gold per troy ounce, USDT).")
    rate_type: str = pa.Field(isin=["official", "market"], description="Official (central bank) or market rate.")
    usd_per_unit: float = pa.Field(gt=0, description="US dollars for one unit of the currency.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Publisher and method of the rate.")
    approximate: bool = pa.Field(
        description="True when no shipped source gives the rate and it is an estimate (interpolated between rounded "
        "anchors, or a peg held though the market strayed); false for published rates (the ECB's) and exact ones "
        "(USD, legal pegs, rates fixed by decision)."
    )

    _currency = iso4217_currency("currency")

    class Config:
        strict = True
        unique = ["date", "currency", "rate_type"]


SEED = Seed(
    name="fx_rates",
    contract=FxRates,
    path="fx_rates.csv",
    description="Monthly exchange rates to US dollars: ECB monthly averages where the ECB publishes the currency, else "
    "approximations flagged `approximate`; IRR has official and market rates an order of magnitude apart.",
)
