import pandera.polars as pa

from schemas.columns import AUTHORITIES, SLUG
from schemas.seed import Ref, Seed, references

CHANNEL_KINDS = [
    "national_currency",
    "third_country_currency",
    "reserve_currency",
    "commodity",
    "in_kind",
    "digital_asset",
    "unknown",  # value no observation or sourced allocation settles: kept apart, not spread by a guess
]


class PaymentChannels(pa.DataFrameModel):
    channel_id: str = pa.Field(str_matches=SLUG, unique=True, description="Payment channel key, e.g. rub, crypto.")
    name: str = pa.Field(description="Human-readable channel name.")
    kind: str = pa.Field(isin=CHANNEL_KINDS, description="What kind of settlement the channel is.")
    currency: str = pa.Field(
        nullable=True,
        description="Currency or unit settled (ISO 4217 or crypto unit); empty for barter.",
        metadata=references(Ref("fx_rates", "currency")),
    )
    rail: str = pa.Field(description="Messaging or settlement rail: SWIFT, SPFS–SEPAM link, Mir–Shetab, CIPS, none ….")
    dollar_clearing: bool = pa.Field(
        nullable=True,
        description="True when payments clear through US dollar correspondent banks; empty when unknown (a channel "
        "grouping dollar and euro, or the unknown channel).",
    )
    clearing_authority: str = pa.Field(
        nullable=True,
        isin=list(AUTHORITIES),
        description="Authority whose jurisdiction the settlement passes through (USD clearing → US, euro clearing → EU); "
        "a measure of that authority reaches flows settled this way.",
    )
    traceability: str = pa.Field(
        isin=["low", "medium", "high"], nullable=True,
        description="How visible payments are to Western regulators; empty for the unknown channel.",
    )
    description: str = pa.Field(description="How the channel works.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Where the channel's use is reported.")

    class Config:
        strict = True


SEED = Seed(
    name="payment_channels",
    contract=PaymentChannels,
    path="payment_channels.csv",
    description="How Iran–Russia trade is settled: rubles, rials, yuan, gold, barter, crypto, against the dollar.",
)
