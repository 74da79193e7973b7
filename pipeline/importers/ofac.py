"""OFAC SDN legacy CSV: sdn.csv (12 fields), add.csv (6) and alt.csv (5), as OFAC publishes them:
no header, CRLF, text quoted, null written `-0-` (with a trailing space), a Ctrl-Z (0x1A) byte at
the end, several programs in one field (`IRAN] [SDGT] [IRGC`), a vessel's IMO number in Remarks.
A file is recognised by its field count; a file of another layout fails with one message, a row of
another field count is kept aside. Rows are numbered by their line (no header: the first is line 1)."""

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.importers import find_file, multi, raw_file, read_text, relative_name, text_frame
from pipeline.seedfile import LAYOUT, LAYOUT_RULE_PREFIX, csv_records
from pipeline.seedfile import ROW_NUMBER, SOURCE_FILE, RawFile, SeedFileError, inside_seeds
from schemas.sanctioned_parties import ADDRESSES, ALIASES, PARTIES

LIST_NAME = "ofac_sdn"
FOLDER = "lists/ofac"
LAYOUTS = {
    "sdn.csv": ("ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type", "Tonnage", "GRT",
                "Vess_flag", "Vess_owner", "Remarks"),
    "add.csv": ("Ent_num", "Add_num", "Address", "City/State/Province/Postal Code", "Country", "Add_remarks"),
    "alt.csv": ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks"),
}
NULLS = {"", "-0-"}
# A vessel's IMO number: "Vessel Registration Identification IMO 9187629". Shipping companies carry
# IMO company numbers ("Company Number IMO 1991835"): kept among the identifiers, never in `imo`.
VESSEL_IMO = re.compile(r"Vessel Registration Identification IMO (\d{7})\b")
ANY_IMO = re.compile(r"\bIMO (\d{7})\b")
IMO_IDENTIFIER = re.compile(r"(?:[A-Z][A-Za-z.]*(?: [A-Z][A-Za-z]*)* )?IMO \d{7}\b")
# Files are ASCII in practice; older downloads may hold Windows-1252 (accented names).
FALLBACK_ENCODING = "cp1252"


@dataclass(frozen=True)
class OfacFiles:
    parties: list[RawFile]  # sdn.csv, in the sanctioned_parties contract's shape
    aliases: list[RawFile]  # alt.csv, when present
    addresses: list[RawFile]  # add.csv, when present


def _records(path: Path, kind: str) -> tuple[list[tuple[int, list[str | None]]], str]:
    """(line, fields) of every record and the file's sha256, `-0-` as None; the first record must have the layout's field count."""
    fields = LAYOUTS[kind]
    text, sha256 = read_text(path, FALLBACK_ENCODING)
    records = [
        (line, [None if v.strip() in NULLS else v.strip() for v in row])
        for line, row in csv_records(path, text.replace("\x1a", ""))
    ]
    first_line, first = records[0]
    if len(first) != len(fields):
        looks_like = [name for name, layout in LAYOUTS.items() if len(layout) == len(first)]
        hint = f"; it looks like {looks_like[0]}" if looks_like else ""
        raise SeedFileError(
            f"{path}: not the OFAC {kind} layout: expected {len(fields)} fields per row ({', '.join(fields)}), "
            f"line {first_line} has {len(first)}{hint}"
        )
    return records, sha256


def _layout(row: list, kind: str) -> str | None:
    expected = len(LAYOUTS[kind])
    return None if len(row) == expected else f"{LAYOUT_RULE_PREFIX}{len(row)} fields, expected {expected} ({kind})"


def _programs(field: str | None) -> str | None:
    """`IRAN] [SDGT] [IRGC` (or `[IRAN] [SDGT]`) → IRAN;SDGT;IRGC."""
    return multi([p.strip(" []") for p in field.split("] [")]) if field else None


def _party(line: int, row: list, name: str) -> dict:
    f = (row + [None] * 12)[:12]
    ent_num, sdn_name, sdn_type, program, title, call_sign, vess_type, _tonnage, _grt, vess_flag, vess_owner, remarks = f
    party_type = (sdn_type or "entity").lower()
    imo = VESSEL_IMO.search(remarks or "") or (ANY_IMO.search(remarks or "") if party_type == "vessel" else None)
    return {
        "party_id": f"ofac:{ent_num or ''}",
        "list_name": LIST_NAME,
        "name": sdn_name,
        "party_type": party_type,
        "programs": _programs(program),
        "imo": f"IMO{imo.group(1)}" if imo else None,
        "identifiers": multi(IMO_IDENTIFIER.findall(remarks or "")),
        "countries": None,
        "birth_date": None,
        "title": title,
        "call_sign": call_sign,
        "vessel_type": vess_type,
        "vessel_flag": vess_flag,
        "vessel_owner": vess_owner,
        "remarks": remarks,
        "datasets": None,
        "last_change": None,
        SOURCE_FILE: name,
        ROW_NUMBER: line,
        LAYOUT: _layout(row, "sdn.csv"),
    }


def _alias(line: int, row: list, name: str) -> dict:
    ent_num, _alt_num, alt_type, alt_name, alt_remarks = (row + [None] * 5)[:5]
    return {
        "party_id": f"ofac:{ent_num or ''}",
        "alias": alt_name,
        "alias_type": (alt_type or "").lower() or None,
        "remarks": alt_remarks,
        SOURCE_FILE: name,
        ROW_NUMBER: line,
        LAYOUT: _layout(row, "alt.csv"),
    }


def _address(line: int, row: list, name: str) -> dict:
    ent_num, _add_num, address, city, country, add_remarks = (row + [None] * 6)[:6]
    return {
        "party_id": f"ofac:{ent_num or ''}",
        "address": address,
        "city": city,
        "country": country,
        "remarks": add_remarks,
        SOURCE_FILE: name,
        ROW_NUMBER: line,
        LAYOUT: _layout(row, "add.csv"),
    }


def read_ofac(seeds_dir: Path) -> OfacFiles:
    """The OFAC files in seeds_dir/lists/ofac/. No folder: nothing. A folder needs sdn.csv;
    add.csv and alt.csv are optional."""
    folder = seeds_dir / FOLDER
    if not folder.is_dir():
        return OfacFiles([], [], [])
    sdn = find_file(folder, "sdn.csv")
    if sdn is None:
        raise SeedFileError(f"{folder}: holds no sdn.csv (the OFAC SDN list; add.csv and alt.csv are optional)")
    out = {}
    for kind, builder, seed in (("sdn.csv", _party, PARTIES), ("alt.csv", _alias, ALIASES), ("add.csv", _address, ADDRESSES)):
        path = sdn if kind == "sdn.csv" else find_file(folder, kind)
        if path is None:
            out[kind] = []
            continue
        inside_seeds(path, seeds_dir)
        name = relative_name(path, seeds_dir)
        records, sha256 = _records(path, kind)
        rows = text_frame([builder(line, row, name) for line, row in records], seed.columns)
        out[kind] = [raw_file(path, seeds_dir, sha256, rows)]
    return OfacFiles(parties=out["sdn.csv"], aliases=out["alt.csv"], addresses=out["add.csv"])
