"""OpenSanctions `targets.simple.csv`: a header of 15 columns, or 16 with `program_ids` (exports
since Aug 2025), every field quoted, multi-values `;`-joined, names in any script. A file without
those columns fails with one message; a row with another field count is kept aside. Aliases and
addresses come from the entry's row (same file and line)."""

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.importers import find_file, multi, raw_file, read_text, relative_name, text_frame
from pipeline.seedfile import LAYOUT, LAYOUT_RULE_PREFIX, csv_records
from pipeline.seedfile import ROW_NUMBER, SOURCE_FILE, RawFile, SeedFileError, inside_seeds
from schemas.sanctioned_parties import PARTIES

LIST_NAME = "opensanctions"
FOLDER = "lists/opensanctions"
FILE = "targets.simple.csv"
COLUMNS = ("id", "schema", "name", "aliases", "birth_date", "countries", "addresses", "identifiers", "sanctions",
           "phones", "emails", "dataset", "first_seen", "last_seen", "last_change")
OPTIONAL = ("program_ids",)
PARTY_TYPES = {
    "Person": "individual",
    "Organization": "entity",
    "Company": "entity",
    "LegalEntity": "entity",
    "PublicBody": "entity",
    "Vessel": "vessel",
    "Airplane": "aircraft",
}
TAGGED_IMO = re.compile(r"^IMO\s*:?\s*(\d{7})$", re.IGNORECASE)
DIGITS7 = re.compile(r"^\d{7}$")


@dataclass(frozen=True)
class OpenSanctionsFile:
    parties: list[RawFile]  # targets.simple.csv in the sanctioned_parties contract's shape
    aliases: pl.DataFrame  # party_id, alias, alias_type, remarks + provenance (the entry's file and line)
    addresses: pl.DataFrame  # party_id, address, city, country, remarks + provenance


def imo_check_digit_ok(digits: str) -> bool:
    """IMO numbers end in a check digit: the first six digits weighted 7..2, summed, mod 10."""
    return sum(int(d) * w for d, w in zip(digits[:6], range(7, 1, -1))) % 10 == int(digits[6])


def imo_of(identifiers: list[str], party_type: str) -> str | None:
    """The vessel's IMO number among its identifiers: `IMO1234567` / `IMO 1234567`, or, for a vessel,
    seven digits with a valid IMO check digit."""
    for value in identifiers:
        tagged = TAGGED_IMO.match(value)
        if tagged:
            return f"IMO{tagged.group(1)}"
    for value in identifiers:
        if party_type == "vessel" and DIGITS7.match(value) and imo_check_digit_ok(value):
            return f"IMO{value}"
    return None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(";") if v.strip()]


def read_opensanctions(seeds_dir: Path) -> OpenSanctionsFile:
    """seeds_dir/lists/opensanctions/targets.simple.csv; no folder: nothing."""
    folder = seeds_dir / FOLDER
    empty = OpenSanctionsFile([], pl.DataFrame(), pl.DataFrame())
    if not folder.is_dir():
        return empty
    path = find_file(folder, FILE)
    if path is None:
        raise SeedFileError(f"{folder}: holds no {FILE} (the OpenSanctions simple CSV export)")
    text, sha256 = read_text(inside_seeds(path, seeds_dir))
    name = relative_name(path, seeds_dir)
    records = csv_records(path, text)
    header = [h.strip() for h in next(records)[1]]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS and h not in OPTIONAL]
    if missing or unknown:
        problems = [f"missing column(s): {', '.join(missing)}"] if missing else []
        problems += [f"unknown column(s): {', '.join(unknown)}"] if unknown else []
        raise SeedFileError(
            f"{path}: not the OpenSanctions targets.simple.csv layout: {'; '.join(problems)} "
            f"(expected the 15 columns {','.join(COLUMNS)}, and optionally program_ids)"
        )
    at = {h: i for i, h in enumerate(header)}
    parties, aliases, addresses = [], [], []
    for line, row in records:
        layout = None if len(row) == len(header) else f"{LAYOUT_RULE_PREFIX}{len(row)} fields, expected {len(header)} ({FILE})"
        cells = row + [""] * len(header)

        def get(column: str) -> str | None:
            return cells[at[column]].strip() or None if column in at else None

        schema = get("schema") or ""
        party_type = PARTY_TYPES.get(schema, schema.lower() or None)
        identifiers = _split(get("identifiers"))
        party_id = f"os:{get('id') or ''}"
        provenance = {SOURCE_FILE: name, ROW_NUMBER: line}
        parties.append({
            "party_id": party_id,
            "list_name": LIST_NAME,
            "name": get("name"),
            "party_type": party_type,
            "programs": multi(_split(get("program_ids"))),
            "imo": imo_of(identifiers, party_type or ""),
            "identifiers": multi(identifiers),
            "countries": multi(_split(get("countries"))),
            "birth_date": multi(_split(get("birth_date"))),
            "title": None,
            "call_sign": None,
            "vessel_type": None,
            "vessel_flag": None,
            "vessel_owner": None,
            "remarks": get("sanctions"),
            "datasets": multi(_split(get("dataset"))),
            "last_change": get("last_change"),
            **provenance,
            LAYOUT: layout,
        })
        aliases += [{"party_id": party_id, "alias": a, "alias_type": "aka", "remarks": None, **provenance}
                    for a in dict.fromkeys(_split(get("aliases")))]
        addresses += [{"party_id": party_id, "address": a, "city": None, "country": None, "remarks": None, **provenance}
                      for a in dict.fromkeys(_split(get("addresses")))]
    if not parties:
        raise SeedFileError(f"{path}: has a header but no data rows")
    provenance_schema = {SOURCE_FILE: pl.String, ROW_NUMBER: pl.Int64}
    alias_schema = {c: pl.String for c in ("party_id", "alias", "alias_type", "remarks")} | provenance_schema
    address_schema = {c: pl.String for c in ("party_id", "address", "city", "country", "remarks")} | provenance_schema
    return OpenSanctionsFile(
        parties=[raw_file(path, seeds_dir, sha256, text_frame(parties, PARTIES.columns))],
        aliases=pl.DataFrame(aliases, schema=alias_schema, orient="row"),
        addresses=pl.DataFrame(addresses, schema=address_schema, orient="row"),
    )
