"""Golden sanctions cases: hand-written flows, each with the measures that must cover it (or must
not), whether the authority reaches it (true, false, or undetermined when that would rest on an
allocated or unknown channel or corridor), why, whether the month is partial and, where given, the
days of the period the measure is in force; one line of legal reasoning per expectation. They run
through the real pipeline on the shipped reference seeds."""

import csv
import shutil
from collections import defaultdict
from pathlib import Path

import pycountry
import pytest

from pipeline.contract import check
from pipeline.importers import eu_hs6
from schemas import SEEDS
from schemas.eu_hs6 import SEED as EU_HS6
from schemas.sanctions_measures import DIRECTIONS
from tests.conftest import SHIPPED_SEEDS, materialize
from tests.seededit import read_rows, write_rows

CASES = Path(__file__).parent / "golden" / "sanctions_cases.csv"
FLOW_COLUMNS = ["period", "exporter_iso3", "importer_iso3", "hs_code", "channel_id", "corridor_id", "transit_iso3",
                "basis", "exporter_name", "importer_name", "vessel_imo", "quantity_units", "canonical"]
REACH_REASONS = ["un_binding", "exporter_jurisdiction", "importer_jurisdiction", "transit", "currency:usd",
                 "currency:eur", "secondary"]


def read_cases() -> dict[str, list[dict]]:
    with open(CASES, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    cases = defaultdict(list)
    for row in rows:
        cases[row["case_id"]].append(row)
    return dict(cases)


def truth(text: str) -> bool | None:
    return {"true": True, "false": False, "": None, "undetermined": None}[text]


BACI_RELEASE = "202501"


def baci_code(iso3: str) -> str:
    """A country's code in CEPII BACI files: its ISO 3166 numeric code without leading zeros."""
    return str(int(pycountry.countries.get(alpha_3=iso3).numeric))


def baci_flow_id(flow: dict) -> str:
    """The flow_id pipeline/importers/baci.py gives an annual golden flow (see golden_build)."""
    return f"baci:V{BACI_RELEASE}:{flow['period']}:{baci_code(flow['exporter_iso3'])}:{baci_code(flow['importer_iso3'])}:{flow['hs_code']}"


def case_ids() -> dict[str, str]:
    """flow_id → golden case: monthly flows keep the case id, annual ones come in as CEPII BACI rows."""
    cases = read_cases()
    return {baci_flow_id(rows[0]) if len(rows[0]["period"]) == 4 else case_id: case_id for case_id, rows in cases.items()}


@pytest.fixture(scope="module")
def golden_build(tmp_path_factory):
    """The shipped reference seeds, with the golden flows as the only trade flows: monthly ones one file a month,
    annual ones (period YYYY) as a CEPII BACI file (HS 2017, thousands of USD), the way annual data arrive."""
    root = tmp_path_factory.mktemp("golden")
    seeds = Path(shutil.copytree(SHIPPED_SEEDS, root / "seeds"))
    shutil.rmtree(seeds / "trade_flows")
    shutil.rmtree(seeds / "imports")
    (seeds / "trade_flows").mkdir()
    (seeds / "imports" / "baci").mkdir(parents=True)
    header = SEEDS["trade_flows"].columns
    by_month, annual = defaultdict(list), []
    for case_id, rows in read_cases().items():
        flow = {c: rows[0][c] for c in FLOW_COLUMNS if c in header}
        if len(flow["period"]) == 4:
            annual.append(flow)
            continue
        by_month[flow["period"]].append({**flow, "flow_id": case_id, "value": "1000000.00", "currency": "USD",
                                         "quantity_kg": "", "hs_edition": "HS2022",
                                         "source": "golden case (tests/golden/sanctions_cases.csv)"})
    for month, flows in by_month.items():
        write_rows(seeds / "trade_flows" / f"{month}-golden.csv", header, flows)
    countries = {c for f in annual for c in (f["exporter_iso3"], f["importer_iso3"])}
    write_rows(seeds / "imports" / "baci" / f"country_codes_V{BACI_RELEASE}.csv",
               ["country_code", "country_name", "country_iso2", "country_iso3"],
               [{"country_code": baci_code(c.alpha_3), "country_name": c.name, "country_iso2": c.alpha_2, "country_iso3": c.alpha_3}
                for c in (pycountry.countries.get(alpha_3=iso3) for iso3 in sorted(countries))])
    years = sorted({f["period"] for f in annual})
    write_rows(seeds / "imports" / "baci" / f"BACI_HS17_Y{years[0]}-{years[-1]}_V{BACI_RELEASE}_golden.csv",
               ["t", "i", "j", "k", "v", "q"],
               [{"t": f["period"], "i": baci_code(f["exporter_iso3"]), "j": baci_code(f["importer_iso3"]),
                 "k": f["hs_code"], "v": "1000", "q": "NA"} for f in annual])
    build = materialize(seeds, root / "detour.duckdb")
    assert build.result.success
    return build


def test_every_case_states_one_flow_and_gives_its_reasons():
    for case_id, rows in read_cases().items():
        for row in rows:
            assert all(row[c] == rows[0][c] for c in FLOW_COLUMNS), f"{case_id}: its rows describe different flows"
            assert row["reasoning"].strip(), f"{case_id} {row['measure_id']}: no reasoning"
            if truth(row["covered"]):
                assert row["in_reach"] and row["partial_month"], f"{case_id} {row['measure_id']}: say in_reach and partial_month"
                assert bool(row["reach_reason"]) == (row["in_reach"] == "true"), f"{case_id}: a reach reason exactly when in reach"
                # in reach on what the data say (observed); undetermined waits on an allocated or unknown route
                assert row["reach_basis"] == {"true": "observed", "false": ""}.get(row["in_reach"], row["reach_basis"]), case_id
                assert row["in_reach"] != "undetermined" or row["reach_basis"] in ("allocated", "unknown"), case_id


def shipped_measures() -> list[dict]:
    """The hand-written measures and those the shipped EU HS6 list makes (pipeline/importers/eu_hs6.py)."""
    _, measures = read_rows(SHIPPED_SEEDS / "sanctions_measures.csv")
    listed = eu_hs6.read(eu_hs6.list_file(SHIPPED_SEEDS), SHIPPED_SEEDS)
    codes = check(listed.rows, EU_HS6, lambda seed, column: [])
    return measures + eu_hs6.measures(codes.good, listed.name).to_dicts()


def test_the_cases_cover_every_measure_type_direction_and_reach_reason():
    measures = shipped_measures()
    kind = {m["measure_id"]: (m["measure_type"], m["direction"], m["target_type"]) for m in measures}
    covered = [r for rows in read_cases().values() for r in rows if truth(r["covered"])]
    assert {kind[r["measure_id"]][0] for r in covered} == {m["measure_type"] for m in measures}
    assert {kind[r["measure_id"]][1] for r in covered} == set(DIRECTIONS)
    assert {kind[r["measure_id"]][2] for r in covered} == {m["target_type"] for m in measures}
    assert {r["reach_reason"] for r in covered if r["reach_reason"]} == set(REACH_REASONS)
    flagged = [r for rows in read_cases().values() for r in rows]
    assert any(truth(r["partial_month"]) for r in covered) and any(not r["measure_id"] for r in flagged)
    assert any(r["covered"] == "false" and r["measure_id"] for r in flagged)
    assert {r["reach_basis"] for r in covered if r["reach_basis"]} == {"observed", "allocated", "unknown"}
    assert {r["in_reach"] for r in covered} == {"true", "false", "undetermined"}
    assert any(r["days_in_force"] for r in covered if r["period"][4:] == "") and any(r["days_in_force"] for r in covered if r["period"][4:])


def test_golden_cases_are_judged_as_written(golden_build):
    found, case_of = defaultdict(dict), case_ids()
    for flow_id, measure_id, in_reach, reason, partial, reach_basis, days in golden_build.query(
        "SELECT flow_id, measure_id, in_reach, reach_reason, partial_month, reach_basis, days_in_force FROM core.flow_sanctions"
    ):
        found[case_of[flow_id]][measure_id] = (in_reach, reason or "", partial, reach_basis or "", days)
    problems = []
    for case_id, rows in read_cases().items():
        expected = {r["measure_id"]: r for r in rows if truth(r["covered"])}
        if set(found[case_id]) != set(expected):
            problems.append(f"{case_id}: covered by {sorted(found[case_id])}, expected {sorted(expected)}")
            continue
        for measure_id, row in expected.items():
            got = found[case_id][measure_id]
            want = (truth(row["in_reach"]), row["reach_reason"], truth(row["partial_month"]), row["reach_basis"],
                    int(row["days_in_force"]) if row["days_in_force"] else got[4])
            if got != want:
                problems.append(f"{case_id} {measure_id}: (in_reach, reason, partial, reach basis, days in force) = {got}, expected {want}: {row['reasoning']}")
    assert not problems, "\n".join(problems)


def test_mirror_reports_of_one_trade_count_once(golden_build):
    case_of = case_ids()
    canonical = {case_of[flow_id]: c for flow_id, c in golden_build.query("SELECT flow_id, canonical FROM core.trade_flows")}
    assert canonical == {case_id: truth(rows[0]["canonical"]) for case_id, rows in read_cases().items()}
    ((exposure,),) = golden_build.query(
        """SELECT sum(covered_value_usd) FROM marts.sanctioned_exposure
           WHERE authority = 'EU' AND kind = 'obligation' AND month = '2024-06-01'"""
    )
    assert exposure == 1_000_000  # G30 and G31 are one trade of $1M seen from both sides


def test_tables_say_they_rest_on_the_sample_only_when_they_do(golden_build):
    comments = golden_build.query(
        """SELECT schema_name || '.' || table_name, comment FROM duckdb_tables()
           WHERE schema_name = 'marts' OR table_name IN ('routed_flows', 'flow_sanctions', 'route_sanctions')"""
    )
    assert len(comments) == 12  # 8 marts, counterparty_hits, 3 enriched tables
    assert all("illustrative sample" not in comment for _, comment in comments), comments


def test_covered_value_is_the_days_in_force_and_splits_in_three(golden_build):
    """Every golden flow is worth $1M: a measure in force d of the period's D days covers the value it matches
    (the whole $1M, or the allocated share it covers) × d / D, all of it in reach, out of reach or undetermined;
    the whole value stays in flow_value_usd."""
    rows = golden_build.query(
        """SELECT flow_id, measure_id, days_in_force, days_in_period, flow_value_usd, value_usd_affected,
                  in_reach_value_usd, circumvention_value_usd, undetermined_value_usd, in_reach, finding, reach_basis
           FROM core.flow_sanctions"""
    )
    assert rows
    for flow_id, measure_id, days, period_days, whole, affected, in_reach_usd, circumvention, undetermined, in_reach, finding, basis in rows:
        assert (basis is None) == (in_reach is False), (flow_id, measure_id)  # a basis whenever not out of reach
        assert 0 < whole <= 1_000_000 and 0 < days <= period_days, (flow_id, measure_id)
        # cents are rounded per routed row: at most a cent apart per row of the flow's split (five at most here)
        assert abs(float(affected) - float(whole) * days / period_days) <= 0.05, (flow_id, measure_id, days, affected)
        assert affected == in_reach_usd + circumvention + undetermined, (flow_id, measure_id)
        part = {True: in_reach_usd, False: circumvention, None: undetermined}[in_reach]
        assert part == affected or finding == "partly_in_reach", (flow_id, measure_id, in_reach, finding)
