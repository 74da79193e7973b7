"""The EU's Russia export-sanctions list at HS6 as researchers use it (Chupilkin, Javorcik, Peeva &
Plekhanov, openICPSR 229004): one row per sanctioned HS 2017 code, as the list gives it. The codes are
grouped into measures of ref.sanctions_measures (pipeline/importers/eu_hs6.py); this table keeps each
code with its measure, its wind-down date and its partial-exemption flag, and where it was read."""

import datetime as dt

import pandera.polars as pa

from schemas.columns import HS6, SLUG
from schemas.seed import Seed

# The list's category flags, in its column order.
CATEGORIES = ("aviation", "dual_use", "firearms", "industrial_cap", "luxury", "military_tech", "oil_exploration",
              "oil_refining")


class EuHs6Codes(pa.DataFrameModel):
    code: str = pa.Field(str_matches=HS6, unique=True, description="HS 2017 subheading the list marks sanctioned (its Code).")
    effective_from: dt.date = pa.Field(description="Entry into force the list gives the code (its Date).")
    wind_down_date: dt.date = pa.Field(
        nullable=True,
        description="The list's Winddowndate, as given (by its name, the end of the wind-down for earlier contracts); "
        "kept for reference, not applied: flows in between count as covered.",
    )
    partially_exempt: bool = pa.Field(
        description="The list's partially_exempt flag: some goods of the code are exempt. Which ones the list does not "
        "say, so no exclusion is modelled: flows of the code count as covered."
    )
    max_price_eur: float = pa.Field(
        gt=0, nullable=True,
        description="The list's Maxprice: luxury goods of the code are banned only above this price per item, in EUR.",
    )
    categories: str = pa.Field(
        str_matches=rf"^({'|'.join(CATEGORIES)})(\|({'|'.join(CATEGORIES)}))*$",
        description="The list's category flags set for the code, |-separated in the list's column order.",
    )
    measure_id: str = pa.Field(
        str_matches=SLUG, description="Measure of ref.sanctions_measures the code belongs to: one per (date, categories, Maxprice)."
    )

    class Config:
        strict = True


SEED = Seed(
    name="eu_hs6_list",
    contract=EuHs6Codes,
    path="lists/eu-hs6",
    description="The EU Russia export-sanctions list at HS6 (Chupilkin, Javorcik, Peeva & Plekhanov, AEA P&P 2025, "
    "openICPSR 229004, CC BY 4.0): each sanctioned HS 2017 code with its measure in ref.sanctions_measures, its date, "
    "wind-down date, partial-exemption flag, luxury price threshold and categories, as the list gives them.",
)
