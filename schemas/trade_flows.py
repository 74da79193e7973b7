import pandera.polars as pa
import polars as pl

from schemas.columns import BLOCS, HS_CODE, iso3_country
from schemas.seed import Ref, Seed, references

PERIOD = r"^\d{4}(-(0[1-9]|1[0-2]))?$"  # YYYY-MM, or YYYY for an annual flow
HS_EDITIONS = ["HS2017", "HS2022"]  # the editions ref.hs_concordance links
BASES = ["exporter_reported", "importer_reported", "baci_reconciled"]
FLOW_KINDS = ["re_export", "re_import"]


class TradeFlows(pa.DataFrameModel):
    flow_id: str = pa.Field(str_matches=r"^[A-Za-z0-9_\-.:]+$", unique=True, description="Flow key, unique across all files.")
    period: str = pa.Field(str_matches=PERIOD, description="Month of the flow, YYYY-MM, or its year, YYYY, for an annual flow")
    exporter_iso3: str = pa.Field(description="Exporting country (ISO 3166 alpha-3), or a bloc (EU27, EA20, EU, EA) "
                                  "where the source reports only the bloc.")
    importer_iso3: str = pa.Field(description="Importing country (ISO 3166 alpha-3), or a bloc (EU27, EA20, EU, EA) "
                                  "where the source reports only the bloc.")
    hs_code: str = pa.Field(str_matches=HS_CODE, description="HS code as text (2 to 10 digits, leading zeros kept).")
    hs_edition: str = pa.Field(isin=HS_EDITIONS, description="HS edition hs_code is written in: HS2017 or HS2022.")
    # below 10^15 in any currency: finite, and its USD value fits the warehouse's DECIMAL(18, 2)
    value: float = pa.Field(ge=0, lt=1e15, description="Value of the flow in `currency`.")
    currency: str = pa.Field(description="Currency of `value`.", metadata=references(Ref("fx_rates", "currency")))
    quantity_kg: float = pa.Field(ge=0, lt=1e15, nullable=True, description="Net weight in kg, when known.")
    quantity_units: float = pa.Field(
        ge=0, lt=1e15, nullable=True,
        description="Number of items (supplementary units: pieces, pairs), when known; with the value it gives the value "
        "per item that price-bound measures (EU luxury goods above EUR 300 an item) need.",
    )
    corridor_id: str = pa.Field(
        nullable=True, description="Observed corridor; empty when unknown.", metadata=references(Ref("corridors", "corridor_id"))
    )
    channel_id: str = pa.Field(
        nullable=True,
        description="Observed payment channel; empty when unknown.",
        metadata=references(Ref("payment_channels", "channel_id")),
    )
    transit_iso3: str = pa.Field(nullable=True, description="Third country the goods passed through (ISO3), when known.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Where the flow comes from (the shipped sample says it is illustrative).")
    basis: str = pa.Field(
        isin=BASES,
        description="Which side reported the flow; baci_reconciled: CEPII BACI's reconciliation of both reports.",
    )
    flow_kind: str = pa.Field(
        isin=FLOW_KINDS,
        nullable=True,
        description="re_export / re_import (UN Comtrade RX / RM): kept apart, never counted as trade; empty for ordinary flows.",
    )
    exporter_name: str = pa.Field(nullable=True, description="Name of the exporting party (company, bank), when the source names it.")
    importer_name: str = pa.Field(nullable=True, description="Name of the importing party (company, bank), when the source names it.")
    vessel_imo: str = pa.Field(
        nullable=True, str_matches=r"^(IMO ?)?\d{7}$",
        description="IMO number of the vessel that carried the goods, when known: IMO1234567, or the seven digits alone as "
        "shipping data write them; its last digit must be the IMO check digit. Stored as IMO1234567.",
    )

    _iso3 = iso3_country("exporter_iso3", "importer_iso3", allow=BLOCS)
    _transit_iso3 = iso3_country("transit_iso3")

    @pa.dataframe_check(name="imo_check_digit")
    def _imo(cls, data: pa.PolarsData) -> pl.LazyFrame:
        """The first six digits weighted 7..2, summed, mod 10, are the seventh: a mistyped number is refused."""
        digits = pl.col("vessel_imo").str.extract(r"(\d{7})$", 1)
        weighted = pl.sum_horizontal([digits.str.slice(i, 1).cast(pl.Int32, strict=False) * (7 - i) for i in range(6)])
        last = digits.str.slice(6, 1).cast(pl.Int32, strict=False)
        return data.lazyframe.select(digits.is_null() | (weighted % 10 == last))

    @pa.dataframe_check(name="exporter_differs_from_importer")
    def _partners(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("exporter_iso3") != pl.col("importer_iso3"))

    class Config:
        strict = True


SEED = Seed(
    name="trade_flows",
    contract=TradeFlows,
    path="trade_flows",
    description="Trade flows by month, partner pair and HS code, one or more CSV files.",
    row_check_columns=(("exporter_differs_from_importer", "importer_iso3"), ("imo_check_digit", "vessel_imo")),
    optional_columns=("exporter_name", "importer_name", "vessel_imo", "flow_kind", "quantity_units"),
)
