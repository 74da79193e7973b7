"""Sanctions-list entries (OFAC SDN legacy CSV, OpenSanctions targets.simple.csv) in one shape, with
their aliases and addresses. The importers hand rows as text; multi-valued columns (programs,
identifiers, countries, datasets) are ';'-joined here and become VARCHAR[] lists in the tables."""

import pandera.polars as pa

from schemas.seed import Ref, Seed, references

LIST_NAMES = ["ofac_sdn", "opensanctions"]
PARTY_TYPES = ["individual", "entity", "vessel", "aircraft"]  # other OpenSanctions schemas: lower-cased
IMO = r"^IMO\d{7}$"  # as core.trade_flows.vessel_imo
MULTI = r"^[^;\[\]]+(;[^;\[\]]+)*$"  # ';'-joined values, none empty, no brackets left over
LIST_COLUMNS = ("programs", "identifiers", "countries", "datasets")


class SanctionedParties(pa.DataFrameModel):
    party_id: str = pa.Field(
        unique=True, str_matches=r"^(ofac:\d+|os:\S+)$", description="Entry key: ofac:<ent_num> or os:<OpenSanctions id>."
    )
    list_name: str = pa.Field(isin=LIST_NAMES, description="List the entry comes from: ofac_sdn or opensanctions.")
    name: str = pa.Field(str_length={"min_value": 1}, description="Primary name as listed.")
    party_type: str = pa.Field(
        str_matches=r"^[a-z]+$",
        description="`individual`, `entity`, `vessel` or `aircraft` (OFAC '-0-' is entity; other OpenSanctions schemas lower-cased).",
    )
    programs: str = pa.Field(
        nullable=True, str_matches=MULTI, description="Sanctions programs (OFAC, e.g. IRAN, SDGT, IRGC; OpenSanctions program_ids)."
    )
    imo: str = pa.Field(nullable=True, str_matches=IMO, description="IMO number of a vessel, IMO1234567 (OFAC remarks, OpenSanctions identifiers).")
    identifiers: str = pa.Field(nullable=True, str_matches=MULTI, description="Identifiers as listed (OpenSanctions).")
    countries: str = pa.Field(nullable=True, str_matches=MULTI, description="Countries linked to the entry, ISO2 lower case (OpenSanctions).")
    birth_date: str = pa.Field(nullable=True, description="Birth date as listed, possibly partial (OpenSanctions).")
    title: str = pa.Field(nullable=True, description="Title of an individual (OFAC).")
    call_sign: str = pa.Field(nullable=True, description="Call sign of a vessel (OFAC).")
    vessel_type: str = pa.Field(nullable=True, description="Vessel type (OFAC).")
    vessel_flag: str = pa.Field(nullable=True, description="Vessel flag country (OFAC).")
    vessel_owner: str = pa.Field(nullable=True, description="Vessel owner (OFAC).")
    remarks: str = pa.Field(nullable=True, description="OFAC remarks, or OpenSanctions sanctions text.")
    datasets: str = pa.Field(nullable=True, str_matches=MULTI, description="OpenSanctions datasets holding the entry (titles).")
    last_change: str = pa.Field(nullable=True, description="When OpenSanctions last saw the entry change.")

    class Config:
        strict = True


class SanctionedPartyAliases(pa.DataFrameModel):
    party_id: str = pa.Field(
        description="Entry the alias belongs to.", metadata=references(Ref("sanctioned_parties", "party_id"))
    )
    alias: str = pa.Field(str_length={"min_value": 1}, description="Other name of the entry, as listed.")
    alias_type: str = pa.Field(isin=["aka", "fka", "nka"], description="`aka`, `fka` (formerly) or `nka` (now known as).")
    remarks: str = pa.Field(nullable=True, description="Remarks on the alias (OFAC alt_remarks, e.g. weak aka).")

    class Config:
        strict = True


class SanctionedPartyAddresses(pa.DataFrameModel):
    party_id: str = pa.Field(
        description="Entry the address belongs to.", metadata=references(Ref("sanctioned_parties", "party_id"))
    )
    address: str = pa.Field(nullable=True, description="Street address (OpenSanctions: the whole address).")
    city: str = pa.Field(nullable=True, description="City, state or province, postal code (OFAC).")
    country: str = pa.Field(nullable=True, description="Country name (OFAC).")
    remarks: str = pa.Field(nullable=True, description="Remarks on the address (OFAC).")

    class Config:
        strict = True


PARTIES = Seed(
    name="sanctioned_parties",
    contract=SanctionedParties,
    path="lists",
    description="Sanctions-list entries, one row per list entry: OFAC SDN (lists/ofac/sdn.csv) and OpenSanctions "
    "(lists/opensanctions/targets.simple.csv).",
)
ALIASES = Seed(
    name="sanctioned_party_aliases",
    contract=SanctionedPartyAliases,
    path="lists",
    description="Other names of the sanctions-list entries: OFAC alt.csv and OpenSanctions aliases, one row per alias.",
)
ADDRESSES = Seed(
    name="sanctioned_party_addresses",
    contract=SanctionedPartyAddresses,
    path="lists",
    description="Addresses of the sanctions-list entries: OFAC add.csv and OpenSanctions addresses, one row per address.",
)
LIST_SEEDS = (PARTIES, ALIASES, ADDRESSES)
