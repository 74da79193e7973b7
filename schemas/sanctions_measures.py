import datetime as dt

import pandera.polars as pa
import polars as pl

from schemas.columns import AUTHORITIES, HS6, HS_PREFIX, ISO3_COUNTRIES, SLUG, iso3_country
from schemas.seed import Ref, Seed, references
from schemas.trade_flows import HS_EDITIONS

LIST_SEPARATOR = "|"  # several targets (or excluded countries) of one measure, e.g. 2709|2710
TARGET_TYPES = ["hs_code", "hs_prefix", "channel", "country", "entity", "vessel"]
# Restrictions forbid a flow; an obligation (the EU no-Russia clause) binds a party to do
# something when it trades, and is reported apart from restrictions.
MEASURE_TYPES = [
    "embargo",
    "export_ban",
    "import_ban",
    "payment_ban",
    "service_ban",  # no shipping, insurance or finance for the goods (the UK's maritime oil ban)
    "secondary_sanction",
    "asset_freeze",
    "obligation",
]
# Whom a measure's legal text binds. A country embargo binding only the authority's own territory and persons
# (31 CFR 560.204/206) covers only flows with that nexus; a goods ban names goods the authority means to keep
# from the target, so their supply by others is covered and, out of its reach, circumvention.
BINDS = {
    "territory_and_persons": "the authority's territory and its persons (nationals, residents, companies) wherever "
    "they are, e.g. Art. 13 of EU Reg. 833/2014, US persons and exports from the United States",
    "all_un_members": "every UN member state (a Security Council resolution under Chapter VII)",
    "any_person": "any person wherever based who engages in the covered trade (secondary sanctions): the authority "
    "reaches parties outside its jurisdiction by design",
}
# Which flows a measure aimed at target_country covers: into it, out of it, or both ways.
DIRECTIONS = ["to_target", "from_target", "either"]


def _every_item(column: str, ok: pl.Expr) -> pl.Expr:
    """`ok` holds for every |-separated item of `column` (written with pl.element())."""
    return pl.col(column).str.split(LIST_SEPARATOR).list.eval(ok).list.all()


def _each_target(pattern: str) -> pl.Expr:
    return _every_item("target", pl.element().str.contains(pattern))


class SanctionsMeasures(pa.DataFrameModel):
    measure_id: str = pa.Field(str_matches=SLUG, unique=True, description="Measure key.")
    authority: str = pa.Field(isin=list(AUTHORITIES), description="Sanctioning authority (EU, US, UK, UN, …).")
    target_country: str = pa.Field(description="Country the measure is aimed at (ISO 3166 alpha-3).")
    target_type: str = pa.Field(isin=TARGET_TYPES, description="What the target names: HS code or prefix, channel, country, entity, vessel.")
    target: str = pa.Field(
        description="What the measure covers, |-separated when several: HS codes or prefixes, entity names or vessel IMO "
        "numbers (IMO1234567); one channel_id or one ISO3 country.",
        metadata=references(Ref("payment_channels", "channel_id", when=("target_type", "channel"))),
    )
    direction: str = pa.Field(
        isin=DIRECTIONS,
        description="Flows covered: to_target (into target_country), from_target (out of it) or either; "
        "entity and vessel measures cover a named party or vessel whichever way it trades (either).",
    )
    measure_type: str = pa.Field(isin=MEASURE_TYPES, description="Kind of measure; obligation is a duty on parties, not a ban.")
    effective_from: dt.date = pa.Field(description="First day the measure is in force.")
    effective_to: dt.date = pa.Field(nullable=True, description="First day it is no longer in force; empty while in force.")
    binds: str = pa.Field(
        isin=list(BINDS),
        description="Whom the legal text binds: " + "; ".join(f"{k}: {v}" for k, v in BINDS.items()) + ".",
    )
    own_imports_only: bool = pa.Field(
        description="True when the legal text bans only importation into the authority's own jurisdiction (e.g. EO 14066: "
        "importation into the United States): flows to other countries are not covered."
    )
    excluded_countries: str = pa.Field(
        nullable=True,
        description="Importing countries the measure does not apply to (ISO3, |-separated), e.g. the partner countries "
        "of Annex VIII exempt from the EU no-Russia clause, or holders of a significant reduction exception.",
    )
    excluded_hs_prefixes: str = pa.Field(
        nullable=True,
        description="HS prefixes the measure does not cover (|-separated), e.g. goods a general licence authorises.",
    )
    hs_edition: str = pa.Field(
        isin=HS_EDITIONS,
        description="HS edition the measure's HS codes or prefixes are written in: HS2022 (matched on "
        "core.trade_flows.hs_code_2022) or HS2017 (matched on hs_code_2017, e.g. the EU HS6 export-sanctions list).",
    )
    min_unit_value_eur: float = pa.Field(
        gt=0, nullable=True,
        description="The measure covers only goods worth more than this per item, in EUR (EU luxury goods, Art. 3h of "
        "Reg. 833/2014): a flow is covered when its value per item is known and above it; empty: whatever the value.",
    )
    legal_reference: str = pa.Field(description="Regulation, order or resolution, with the article or section.")
    description: str = pa.Field(description="What the measure restricts or requires, in the words of its legal text.")
    source: str = pa.Field(str_length={"min_value": 3}, description="Publication of the legal text (journal, register, press release).")

    _iso3 = iso3_country("target_country")

    @pa.dataframe_check(name="target_matches_target_type")
    def _target_form(cls, data: pa.PolarsData) -> pl.LazyFrame:
        t, target = pl.col("target_type"), pl.col("target")
        ok = (
            pl.when(t == "hs_code").then(_each_target(HS6))
            .when(t == "hs_prefix").then(_each_target(HS_PREFIX))
            .when(t == "country").then(target.is_in(list(ISO3_COUNTRIES)))
            .when(t == "vessel").then(_each_target(r"^IMO\d{7}$"))
            .when(t == "channel").then(target.str.contains(SLUG))
            .otherwise(target.str.len_chars() >= 2)
        )
        return data.lazyframe.select(ok.fill_null(False))

    @pa.dataframe_check(name="party_measures_apply_either_way")
    def _party_direction(cls, data: pa.PolarsData) -> pl.LazyFrame:
        party = pl.col("target_type").is_in(["entity", "vessel"])
        return data.lazyframe.select(~party | (pl.col("direction") == "either"))

    @pa.dataframe_check(name="excluded_countries_are_iso3")
    def _excluded(cls, data: pa.PolarsData) -> pl.LazyFrame:
        ok = _every_item("excluded_countries", pl.element().is_in(list(ISO3_COUNTRIES)))
        return data.lazyframe.select(pl.col("excluded_countries").is_null() | ok)

    @pa.dataframe_check(name="excluded_hs_prefixes_are_hs_prefixes")
    def _excluded_hs(cls, data: pa.PolarsData) -> pl.LazyFrame:
        ok = _every_item("excluded_hs_prefixes", pl.element().str.contains(HS_PREFIX))
        return data.lazyframe.select(pl.col("excluded_hs_prefixes").is_null() | ok)

    @pa.dataframe_check(name="un_measures_bind_all_members")
    def _un_binds(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("authority") == "UN") == (pl.col("binds") == "all_un_members"))

    @pa.dataframe_check(name="effective_to_after_from")
    def _dates(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("effective_to").is_null() | (pl.col("effective_to") > pl.col("effective_from")))

    class Config:
        strict = True


SEED = Seed(
    name="sanctions_measures",
    contract=SanctionsMeasures,
    path="sanctions_measures.csv",
    description="Sanctions measures: what each covers (goods, channel, country, party, vessel), in which direction, "
    "the days it is in force, and whom its legal text binds; each row cites its legal text.",
    row_check_columns=(
        ("target_matches_target_type", "target"),
        ("party_measures_apply_either_way", "direction"),
        ("excluded_countries_are_iso3", "excluded_countries"),
        ("excluded_hs_prefixes_are_hs_prefixes", "excluded_hs_prefixes"),
        ("un_measures_bind_all_members", "binds"),
        ("effective_to_after_from", "effective_to"),
    ),
)
