"""Sanctions lists: the OFAC SDN legacy CSV and OpenSanctions targets.simple.csv importers on the real
files and on small files written in their exact layouts; a wrong layout fails with one message, a
malformed row is kept aside with its reason, every file is accounted for; a real Dagster run loads
the lists and hits a flow that names an SDN vessel's IMO number with score 100."""

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.assets.lists import check_files
from pipeline.importers.ofac import read_ofac
from pipeline.importers.opensanctions import imo_check_digit_ok, imo_of, read_opensanctions
from pipeline.seedfile import SeedFileError
from pipeline.storage.warehouse import SETUP_SQL
from schemas.sanctioned_parties import ADDRESSES, ALIASES, PARTIES
from tests.conftest import materialize
from tests.seededit import read_rows, write_rows

# Exact OFAC layout: no header, CRLF, `-0- ` nulls, programs in one field, Ctrl-Z at the end.
SDN = (
    '306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"a.k.a. \'BNC\'."\r\n'
    '9649,"ISLAMIC REPUBLIC OF IRAN SHIPPING LINES",-0- ,"IRAN] [NPWMD] [IFSR",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    '"Website www.irisl.net; Company Number IMO 1991835."\r\n'
    '25257,"DORITA","vessel","IRAN] [NPWMD] [IFSR",-0- ,-0- ,"General Cargo",-0- ,-0- ,"Iran",-0- ,'
    '"Vessel Registration Identification IMO 8605234; Linked To: ISLAMIC REPUBLIC OF IRAN SHIPPING LINES."\r\n'
    '\x1a'
)
ALT = '9649,1,"aka","IRISL",-0- \r\n25257,2,"fka","DORITA I",-0- \r\n\x1a'
ADD = '306,25,"Zweierstrasse 35","Zurich CH-8022","Switzerland",-0- \r\n9649,26,"No. 37 Asseman Tower",-0- ,"Iran",-0- \r\n\x1a'
OS_HEADER = ('"id","schema","name","aliases","birth_date","countries","addresses","identifiers","sanctions","phones",'
             '"emails","dataset","first_seen","last_seen","last_change"')
OS_ROWS = [
    '"NK-abc","Vessel","SABITI","Satin;ساتین","","ir","","IMO 9187629;9187629","OFAC SDN","","","US OFAC SDN",'
    '"2024-03-09T02:54:48","2024-03-09T02:54:48","2024-03-09T02:54:48"',
    '"Q1","Person","Иван Петров","Ivan Petrov","1960","ru","Moscow, Tverskaya 1","","","","","Wikidata PEPs",'
    '"2024-03-09T02:54:48","2024-03-09T02:54:48","2024-03-09T02:54:48"',
]


def write_lists(seeds: Path, sdn=SDN, alt=ALT, add=ADD, os_rows=OS_ROWS, os_header=OS_HEADER) -> Path:
    for folder in ("lists/ofac", "lists/opensanctions"):
        (seeds / folder).mkdir(parents=True, exist_ok=True)
    for name, text in (("sdn.csv", sdn), ("alt.csv", alt), ("add.csv", add)):
        if text is not None:
            (seeds / "lists/ofac" / name).write_bytes(text.encode("utf-8"))
    (seeds / "lists/opensanctions/targets.simple.csv").write_text("\n".join([os_header, *os_rows]) + "\n", encoding="utf-8")
    return seeds


def refs_of(party_ids) -> duckdb.DuckDBPyConnection:
    """The connection check_files looks references up in: the entries loaded so far, as the asset's
    transaction holds them, in a real in-memory DuckDB with the warehouse's quality tables."""
    con = duckdb.connect()
    con.execute(SETUP_SQL)
    con.execute("CREATE TABLE ref.sanctioned_parties AS SELECT unnest(?::VARCHAR[]) AS party_id", [list(party_ids)])
    return con


def load(seeds: Path):
    """Importers + contracts, as the asset runs them (no warehouse)."""
    ofac, opensanctions = read_ofac(seeds), read_opensanctions(seeds)
    parties = check_files(PARTIES, [*ofac.parties, *opensanctions.parties], None)
    refs = refs_of(parties.good["party_id"])
    return ofac, opensanctions, parties, check_files(ALIASES, ofac.aliases, refs), check_files(ADDRESSES, ofac.addresses, refs)


def test_small_files_in_the_exact_layouts_load(tmp_path):
    ofac, opensanctions, parties, aliases, addresses = load(write_lists(tmp_path))
    good = {r["party_id"]: r for r in parties.good.iter_rows(named=True)}
    assert parties.quarantine.height == aliases.quarantine.height == addresses.quarantine.height == 0
    assert good["ofac:9649"]["programs"] == "IRAN;NPWMD;IFSR"  # `] [` split, brackets stripped
    assert good["ofac:9649"]["party_type"] == "entity"  # `-0-` type
    assert good["ofac:9649"]["imo"] is None  # an IMO *company* number is no vessel's
    assert good["ofac:9649"]["identifiers"] == "Company Number IMO 1991835"
    assert good["ofac:25257"]["imo"] == "IMO8605234" and good["ofac:25257"]["party_type"] == "vessel"
    assert good["ofac:306"]["remarks"] == "a.k.a. 'BNC'." and good["ofac:306"]["title"] is None  # `-0- ` is null
    assert good["ofac:306"]["row_number"] == 1  # no header: the first row is line 1
    assert good["os:NK-abc"]["imo"] == "IMO9187629" and good["os:NK-abc"]["party_type"] == "vessel"
    assert good["os:Q1"]["party_type"] == "individual" and good["os:Q1"]["row_number"] == 3  # header is line 1
    assert aliases.good.select("party_id", "alias", "alias_type").rows() == [
        ("ofac:9649", "IRISL", "aka"), ("ofac:25257", "DORITA I", "fka")
    ]
    assert addresses.good["city"].to_list() == ["Zurich CH-8022", None]
    assert opensanctions.aliases["alias"].to_list() == ["Satin", "ساتین", "Ivan Petrov"]
    assert opensanctions.addresses["address"].to_list() == ["Moscow, Tverskaya 1"]


def test_file_names_match_whatever_their_case_and_add_and_alt_are_optional(tmp_path):
    seeds = write_lists(tmp_path, alt=None, add=None)
    (seeds / "lists/ofac/sdn.csv").rename(seeds / "lists/ofac/SDN.CSV")
    ofac = read_ofac(seeds)
    assert [f.name for f in ofac.parties] == ["lists/ofac/SDN.CSV"] and ofac.aliases == ofac.addresses == []


def test_absent_list_folders_give_nothing_to_load(tmp_path):
    ofac, opensanctions = read_ofac(tmp_path), read_opensanctions(tmp_path)
    assert ofac.parties == ofac.aliases == ofac.addresses == opensanctions.parties == []


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("lists/ofac/sdn.csv", ALT, "not the OFAC sdn.csv layout: expected 12 fields per row (ent_num, SDN_Name"),
        ("lists/ofac/sdn.csv", ALT, "line 1 has 5; it looks like alt.csv"),
        ("lists/ofac/alt.csv", SDN, "not the OFAC alt.csv layout: expected 5 fields per row"),
        ("lists/ofac/add.csv", "\x1a", "file is empty"),
        ("lists/opensanctions/targets.simple.csv", '"id","name"\n"x","y"\n', "missing column(s): schema, aliases"),
        ("lists/opensanctions/targets.simple.csv", OS_HEADER + ',"extra"\n', "unknown column(s): extra"),
    ],
)
def test_a_file_of_the_wrong_layout_fails_with_one_message_naming_it(tmp_path, file, text, message):
    seeds = write_lists(tmp_path)
    (seeds / file).write_bytes(text.encode())
    with pytest.raises(SeedFileError) as err:
        read_ofac(seeds) if "ofac" in file else read_opensanctions(seeds)
    assert str(err.value).startswith(str(seeds / file) + ": ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("sdn", "message"),
    [  # a byte no Windows-1252 character has; a Windows-1252 é in a file that is UTF-8 elsewhere
        (SDN.encode().replace(b"CUBA", b"CU\x81A"), "neither UTF-8 nor cp1252 (line 1, byte "),
        (SDN.encode().replace(b"CUBA", "CUBÁ".encode()).replace(b"DORITA\"", b"DOR\xc9TA\""),
         "not valid UTF-8 (line 3, byte "),
    ],
)
def test_a_wrong_byte_in_an_ofac_file_is_named_with_its_line_never_mojibake(tmp_path, sdn, message):
    seeds = write_lists(tmp_path)
    (seeds / "lists/ofac/sdn.csv").write_bytes(sdn)
    with pytest.raises(SeedFileError) as err:
        read_ofac(seeds)
    assert str(err.value).startswith(f"{seeds / 'lists/ofac/sdn.csv'}: ") and message in str(err.value)


def test_an_ofac_file_in_windows_1252_alone_still_reads(tmp_path):
    seeds = write_lists(tmp_path)
    (seeds / "lists/ofac/sdn.csv").write_bytes(SDN.replace("DORITA\"", "DORÉTA\"").encode("cp1252"))
    names = read_ofac(seeds).parties[0].rows["name"].to_list()
    assert "DORÉTA" in names


def test_a_sixteen_column_export_with_program_ids_loads_its_programs(tmp_path):
    header = OS_HEADER.replace('"dataset"', '"program_ids","dataset"')
    rows = [r.replace('"OFAC SDN","","",', '"OFAC SDN","","","IRAN;SDGT",') for r in OS_ROWS[:1]]
    seeds = write_lists(tmp_path, os_rows=rows, os_header=header)
    party = read_opensanctions(seeds).parties[0].rows.row(0, named=True)
    assert party["programs"] == "IRAN;SDGT" and party["datasets"] == "US OFAC SDN"


def test_malformed_rows_are_kept_aside_with_file_row_column_and_rule_and_every_file_balances(tmp_path):
    sdn = SDN.replace('9649,', 'x9649,').replace('"vessel","IRAN] [NPWMD] [IFSR",-0- ,', '"vessel","IRAN] [NPWMD] [IFSR",')
    alt = ALT.replace("\x1a", '99999,3,"aka","NOBODY",-0- \r\n306,4,"maybe","BNC",-0- \r\n\x1a')
    os_rows = [OS_ROWS[0], OS_ROWS[1].replace('"Person","Иван Петров"', '"Person",""')]
    ofac, opensanctions, parties, aliases, addresses = load(write_lists(tmp_path, sdn=sdn, alt=alt, os_rows=os_rows))
    reasons = parties.quarantine.select("source_file", "row_number", "column_name", "rule").rows()
    assert ("lists/ofac/sdn.csv", 2, "party_id", "str_matches('^(ofac:\\d+|os:\\S+)$')") in reasons
    assert ("lists/ofac/sdn.csv", 3, None, "layout: 11 fields, expected 12 (sdn.csv)") in reasons
    assert ("lists/opensanctions/targets.simple.csv", 3, "name", "not_nullable") in reasons
    alias_reasons = aliases.quarantine.select("row_number", "column_name", "rule").rows()
    # alt row 1 names ofac:9649, whose sdn row was kept aside; row 3 names no entry at all
    assert (1, "party_id", "references ref.sanctioned_parties.party_id") in alias_reasons
    assert (2, "party_id", "references ref.sanctioned_parties.party_id") in alias_reasons  # its sdn row too
    assert (3, "party_id", "references ref.sanctioned_parties.party_id") in alias_reasons
    assert (4, "alias_type", "isin(['aka', 'fka', 'nka'])") in alias_reasons
    for result, files in ((parties, [*ofac.parties, *opensanctions.parties]), (aliases, ofac.aliases), (addresses, ofac.addresses)):
        for f in files:
            loaded = result.good.filter(pl.col("source_file") == f.name).height
            kept_aside = result.quarantine.filter(pl.col("source_file") == f.name)["row_number"].n_unique()
            assert f.rows.height == loaded + kept_aside, f.name
    assert parties.rows_quarantined == 3 and aliases.rows_quarantined == 4


def test_imo_numbers_are_recognised_by_tag_or_by_check_digit_on_vessels():
    assert imo_check_digit_ok("9187629") and not imo_check_digit_ok("9187628")
    assert imo_of(["IMO9187629"], "entity") == "IMO9187629"
    assert imo_of(["9187629"], "vessel") == "IMO9187629"
    assert imo_of(["9187628"], "vessel") is None  # seven digits but no IMO number
    assert imo_of(["9187629"], "entity") is None  # an untagged number on a company is not an IMO number


def test_the_real_ofac_2021_files_hold_their_programs_and_vessels(shared_data, tmp_path):
    (tmp_path / "lists/ofac").mkdir(parents=True)
    for name in ("sdn.csv", "alt.csv", "add.csv"):
        shutil.copy(shared_data / "ofac-sdn-2021" / name, tmp_path / "lists/ofac" / name)
    ofac, _, parties, aliases, addresses = load(tmp_path)
    assert (parties.rows_read, aliases.rows_read, addresses.rows_read) == (8890, 11742, 13761)
    assert parties.rows_quarantined == 0, parties.quarantine
    programs = parties.good["programs"].str.split(";").explode()
    assert {"IRAN", "IRGC", "SDGT", "NPWMD", "IFSR"} <= set(programs)
    assert parties.good.filter(pl.col("party_type") == "vessel").height == 403
    dorita = parties.good.filter(pl.col("party_id") == "ofac:25257").row(0, named=True)
    assert (dorita["name"], dorita["imo"]) == ("DORITA", "IMO8605234")
    assert parties.good["imo"].drop_nulls().str.contains(r"^IMO\d{7}$").all()


def test_the_real_opensanctions_sample_loads_with_its_non_latin_aliases(shared_data, tmp_path):
    (tmp_path / "lists/opensanctions").mkdir(parents=True)
    shutil.copy(shared_data / "opensanctions-sample/targets.simple.csv", tmp_path / "lists/opensanctions")
    _, opensanctions, parties, _, _ = load(tmp_path)
    assert parties.rows_read == 10 and parties.rows_quarantined == 0
    assert set(parties.good["party_type"]) == {"individual"}
    assert "Харири, Саад" in opensanctions.aliases["alias"].to_list()
    hariri = parties.good.filter(pl.col("name") == "Saad Hariri").row(0, named=True)
    assert hariri["countries"] == "fr;lb;sa" and hariri["datasets"] == "Wikidata Politically Exposed Persons"


def built_month(seeds: Path, tmp_path: Path):
    """A real Dagster run of one month (quick); the claims checks that need every month fail and stop
    the publish step, so queries read the build file."""
    build = materialize(seeds, tmp_path / "detour.duckdb", month="2023-05")
    assert build.succeeded("ref__sanctioned_parties") and build.succeeded("marts__counterparty_hits")
    query = build.query
    build.query = lambda sql, params=None: query(sql, params, published=False)
    return build


def add_named_flows(seeds: Path) -> None:
    """Three flows of May 2023 that name their parties: one carried by an SDN vessel (DORITA, IMO8605234),
    one sold to IRISL under its listed name, one under a spelling of its own (a legal form added)."""
    header, rows = read_rows(seeds / "trade_flows/2023-05.csv")
    template = rows[0]
    flows = [
        {**template, "flow_id": "NAMED-1", "exporter_name": "Volga Shipping Ltd", "importer_name": "Tehran Food Co",
         "vessel_imo": "IMO8605234"},
        {**template, "flow_id": "NAMED-2", "exporter_name": "Astrakhan Port LLC",
         "importer_name": "Islamic Republic of Iran Shipping Lines", "vessel_imo": ""},
        {**template, "flow_id": "NAMED-3", "exporter_name": "Astrakhan Port LLC",
         "importer_name": "Islamic Republic of Iran Shipping Lines Co.", "vessel_imo": ""},
    ]
    write_rows(seeds / "trade_flows/2023-05-named.csv", header, flows)


def test_a_run_loads_the_real_lists_and_hits_a_flow_naming_an_sdn_vessel_with_score_100(shared_data, seeds, tmp_path):
    (seeds / "lists/ofac").mkdir(parents=True)
    for name in ("sdn.csv", "alt.csv", "add.csv"):
        shutil.copy(shared_data / "ofac-sdn-2021" / name, seeds / "lists/ofac" / name.upper())
    (seeds / "lists/opensanctions").mkdir(parents=True)
    shutil.copy(shared_data / "opensanctions-sample/targets.simple.csv", seeds / "lists/opensanctions")
    add_named_flows(seeds)
    build = built_month(seeds, tmp_path)

    assert build.query("SELECT list_name, count(*) FROM ref.sanctioned_parties GROUP BY ALL ORDER BY 1") == [
        ("ofac_sdn", 8890), ("opensanctions", 10)
    ]
    ((irgc,),) = build.query("SELECT programs FROM ref.sanctioned_parties WHERE name = 'ISLAMIC REVOLUTIONARY GUARD CORPS'")
    assert {"IRGC", "SDGT"} <= set(irgc)
    assert build.query("SELECT typeof(programs), typeof(identifiers) FROM ref.sanctioned_parties LIMIT 1") == [
        ("VARCHAR[]", "VARCHAR[]")
    ]
    audit = build.query(
        "SELECT source_file, rows_read, rows_loaded, rows_quarantined FROM quality.load_audit "
        "WHERE seed LIKE 'sanctioned%' ORDER BY 1"
    )
    assert [(f, r) for f, r, *_ in audit] == [
        ("lists/ofac/ADD.CSV", 13761), ("lists/ofac/ALT.CSV", 11742), ("lists/ofac/SDN.CSV", 8890),
        ("lists/opensanctions/targets.simple.csv", 10),
    ]
    assert all(read == loaded + kept_aside for _, read, loaded, kept_aside in audit)

    hits = build.query(
        """SELECT flow_id, party_id, list_name, matched_on, matched_value, score, list_contains(programs, 'IRAN'), canonical
           FROM marts.counterparty_hits ORDER BY flow_id, matched_on, score DESC"""
    )
    assert ("NAMED-1", "ofac:25257", "ofac_sdn", "vessel_imo", "IMO8605234", 100, True, True) in hits
    irisl = [h for h in hits if h[0] == "NAMED-2" and h[3] == "importer_name"]
    ((irisl_id,),) = build.query("SELECT party_id FROM ref.sanctioned_parties WHERE name = 'ISLAMIC REPUBLIC OF IRAN SHIPPING LINES'")
    assert (irisl[0][1], irisl[0][5]) == (irisl_id, 100)  # listed under this very name
    assert not [h for h in hits if h[3] == "exporter_name"]  # neither exporter is listed
    assert build.query("SELECT count(*) FROM marts.counterparty_hits WHERE flow_id NOT LIKE 'NAMED-%'") == [(0,)]
    # the listed entry feeds the IRISL measure: NAMED-2 matches its name outright, NAMED-3 only through screening
    irisl_measure = dict(build.query(
        "SELECT flow_id, matched_on FROM core.flow_sanctions WHERE measure_id = 'us_irisl_designation' ORDER BY flow_id"
    ))
    assert irisl_measure == {"NAMED-2": ["importer_name", "listed_party:importer_name"],
                             "NAMED-3": ["listed_party:importer_name"]}
    uncommented = build.query(
        """SELECT table_name || '.' || column_name FROM duckdb_columns()
           WHERE (table_name LIKE 'sanctioned_part%' OR table_name = 'counterparty_hits') AND coalesce(comment, '') = ''"""
    )
    assert uncommented == []
    ((comment,),) = build.query("SELECT comment FROM duckdb_tables() WHERE table_name = 'counterparty_hits'")
    assert "one row per flow × party_id × matched_on" in comment


def test_without_list_files_the_tables_exist_empty(seeds, tmp_path):
    build = built_month(seeds, tmp_path)
    counts = build.query(
        """SELECT (SELECT count(*) FROM ref.sanctioned_parties), (SELECT count(*) FROM ref.sanctioned_party_aliases),
                  (SELECT count(*) FROM ref.sanctioned_party_addresses), (SELECT count(*) FROM marts.counterparty_hits)"""
    )
    assert counts == [(0, 0, 0, 0)]
