"""Each seed's contract: its shipped rows pass; a bad row is kept aside naming file, row, column and
rule, and the good rows still load."""

import csv
import shutil

import polars as pl
import pytest

from pipeline.assets.ingest import QuarantineSummary, contract_check
from pipeline.contract import check
from pipeline.seedfile import read_seed_file
from schemas import SEEDS
from tests.conftest import SHIPPED_SEEDS
from tests.seededit import read_rows, set_cell, write_rows


def shipped_lookup(seed: str, column: str) -> list:
    """Values of a column in the shipped (valid) seeds, as the ref tables hold them."""
    with open(SHIPPED_SEEDS / SEEDS[seed].path, newline="", encoding="utf-8") as f:
        return [row[column] for row in csv.DictReader(f)]


def checked(seeds, name, file=None):
    seed = SEEDS[name]
    path = seeds / (file or seed.path)
    return check(read_seed_file(path, seed.columns, seeds, seed.optional_columns).rows, seed, shipped_lookup)


@pytest.mark.parametrize("name", [n for n, s in SEEDS.items() if s.path.endswith(".csv")])
def test_every_shipped_reference_row_passes_its_contract(name):
    result = checked(SHIPPED_SEEDS, name)
    assert result.quarantine.height == 0, result.quarantine
    assert result.good.height == result.rows_read > 0


BAD_CELLS = [
    ("goods_categories", "category_id", "Bad Id", "str_matches"),
    ("goods_categories", "sector", "space", "isin"),
    ("goods_categories", "dual_use", "maybe", "type: not true/false"),
    ("hs_categories", "hs_prefix", "123", "str_matches"),
    ("hs_categories", "category_id", "nope", "references ref.goods_categories.category_id"),
    ("chpl", "hs6", "85423", "str_matches"),
    ("chpl", "tier", "5", "isin"),
    ("fx_rates", "date", "2019-02-30", "type: not a date (YYYY-MM-DD)"),
    ("fx_rates", "usd_per_unit", "0", "greater_than(0)"),
    ("fx_rates", "currency", "ABC", "iso4217_currency"),
    ("fx_rates", "approximate", "roughly", "type: not true/false"),
    ("payment_channels", "kind", "cash", "isin"),
    ("payment_channels", "currency", "ZZZ", "references ref.fx_rates.currency"),
    ("corridors", "transit_days_min", "60", "transit_days_min_le_max"),
    ("corridors", "transit_days_max", "2 weeks", "type: not a whole number"),
    ("corridor_legs", "corridor_id", "nowhere", "references ref.corridors.corridor_id"),
    ("corridor_legs", "from_lat", "95", "less_than_or_equal_to(90)"),
    ("corridor_legs", "country_iso3", "XXX", "iso3_country"),
    ("jurisdictions", "country_iso3", "ZZZ", "iso3_country"),
    ("jurisdictions", "sanctions_authorities", "EU|ZZ", "known_authorities"),
    ("jurisdictions", "hub_source", "", "hub_has_source"),  # row 3 (KAZ) is a hub
    ("sanctions_measures", "effective_to", "1990-01-01", "effective_to_after_from"),
    ("sanctions_measures", "target", "ABC", "target_matches_target_type"),  # row 3 targets IRN (country)
    ("sanctions_measures", "authority", "XX", "isin"),
    ("claims", "metric", "gdp", "isin"),
    ("claims", "period_end", "2000-01-01", "period_end_not_before_start"),
    ("allocation_rules", "share", "0.5", "shares_of_key_sum_to_1"),
    ("allocation_rules", "exporter_iso3", "ZZZ", "iso3_country"),
    ("trade_flows", "hs_code", "8542a", "str_matches"),
    ("trade_flows", "quantity_kg", "-1", "greater_than_or_equal_to(0)"),
    ("trade_flows", "value", "inf", "less_than(1000000000000000.0)"),
    ("trade_flows", "value", "1e309", "less_than(1000000000000000.0)"),
    ("trade_flows", "value", "1e20", "less_than(1000000000000000.0)"),
    ("trade_flows", "value", "NaN", "less_than(1000000000000000.0)"),  # polars orders NaN above every number
    ("trade_flows", "quantity_kg", "inf", "less_than(1000000000000000.0)"),
    ("trade_flows", "transit_iso3", "XXX", "iso3_country"),
    ("trade_flows", "corridor_id", "nope", "references ref.corridors.corridor_id"),
    ("trade_flows", "basis", "guess", "isin"),
]


@pytest.mark.parametrize(("name", "column", "value", "rule"), BAD_CELLS, ids=[f"{n}.{c}" for n, c, *_ in BAD_CELLS])
def test_a_bad_value_quarantines_its_row_and_keeps_the_rest(seeds, name, column, value, rule):
    file = "trade_flows/2022-06.csv" if name == "trade_flows" else SEEDS[name].path
    row = 3
    set_cell(seeds / file, row, column, value)
    result = checked(seeds, name, file)
    bad = result.quarantine.filter(result.quarantine["row_number"] == row + 2)
    assert bad.height >= 1, result.quarantine
    hit = bad.filter(bad["column_name"] == column, bad["rule"].str.contains(rule, literal=True))
    assert hit.height == 1, bad
    assert hit["source_file"][0] == file
    assert str(hit["bad_value"][0]).startswith(value.split("|")[0][:2]) or value == ""
    assert value in hit["raw_record"][0] or value == ""
    if name != "allocation_rules":  # there, a changed key column also breaks its key's share sum
        assert result.rows_quarantined == 1
    assert result.good.height == result.rows_read - result.rows_quarantined


def test_shares_of_one_allocation_key_that_do_not_sum_to_1_quarantine_the_whole_key(seeds):
    set_cell(seeds / "allocation_rules.csv", 0, "share", "0.5")
    result = checked(seeds, "allocation_rules")
    assert set(result.quarantine["rule"]) == {"shares_of_key_sum_to_1"}
    assert sorted(result.quarantine["row_number"]) == [2, 3, 4, 5]  # the four channels of that key


def test_a_duplicate_key_quarantines_both_rows(seeds):
    header, rows = read_rows(seeds / "chpl.csv")
    rows[5]["hs6"] = rows[4]["hs6"]
    write_rows(seeds / "chpl.csv", header, rows)
    result = checked(seeds, "chpl")
    assert sorted(result.quarantine["row_number"].to_list()) == [6, 7]
    assert set(result.quarantine["rule"]) == {"field_uniqueness"}
    assert result.good.height == 48


def test_a_reference_applies_only_where_its_condition_holds(seeds):
    # target "usd" names a channel only when target_type = channel; an entity may be called anything.
    _, measures = read_rows(seeds / "sanctions_measures.csv")
    row = next(i for i, m in enumerate(measures) if m["target_type"] == "channel")
    set_cell(seeds / "sanctions_measures.csv", row, "target", "swiftnet")
    result = checked(seeds, "sanctions_measures")
    assert result.quarantine["rule"].to_list() == ["references ref.payment_channels.channel_id when target_type=channel"]
    assert result.quarantine["row_number"].to_list() == [row + 2]


def test_unparseable_values_get_one_type_failure_not_a_second_not_null_one(seeds):
    set_cell(seeds / "fx_rates.csv", 0, "usd_per_unit", "n/a")
    result = checked(seeds, "fx_rates")
    assert result.quarantine.select("row_number", "column_name", "rule").rows() == [
        (2, "usd_per_unit", "type: not a number")
    ]


def test_cells_are_trimmed_and_empty_cells_are_null(seeds):
    set_cell(seeds / "corridor_legs.csv", 0, "distance_km", "  1350 ")
    result = checked(seeds, "corridor_legs")
    assert result.quarantine.height == 0
    assert result.good["distance_km"][0] == 1350.0


def test_the_shipped_chpl_matches_the_real_list(shared_data):
    shipped = {(r["hs6"], r["tier"]) for r in csv.DictReader(open(SHIPPED_SEEDS / "chpl.csv", encoding="utf-8"))}
    real = {(r["hs6"], r["tier"]) for r in csv.DictReader(open(shared_data / "chpl/chpl_hs6.csv", encoding="utf-8"))}
    assert shipped == real and len(real) == 50


def test_every_hs_prefix_of_the_seeds_exists_in_the_hs2022_nomenclature(shared_data):
    with open(shared_data / "hs-nomenclature/harmonized-system.csv", encoding="utf-8") as f:
        codes = {row["hscode"] for row in csv.DictReader(f)}
    prefixes = [r["hs_prefix"] for r in csv.DictReader(open(SHIPPED_SEEDS / "hs_categories.csv", encoding="utf-8"))]
    assert [p for p in prefixes if p not in codes] == []


def test_the_real_country_list_passes_the_iso3_rule(shared_data, seeds):
    """Every ISO 3166 alpha-3 code of the public country list is accepted as a jurisdiction."""
    with open(shared_data / "country-codes/country-codes.csv", encoding="utf-8") as f:
        iso3 = sorted({r["ISO3166-1-Alpha-3"] for r in csv.DictReader(f) if r["ISO3166-1-Alpha-3"]})
    header, rows = read_rows(seeds / "jurisdictions.csv")
    template = rows[0]
    write_rows(seeds / "jurisdictions.csv", header, [{**template, "country_iso3": code} for code in iso3])
    result = checked(seeds, "jurisdictions")
    assert result.quarantine["bad_value"].to_list() == []
    shutil.rmtree(seeds)


def test_no_corridor_leg_is_shorter_than_the_great_circle_between_its_ends():
    from math import asin, cos, radians, sin, sqrt

    _, legs = read_rows(SHIPPED_SEEDS / "corridor_legs.csv")
    for leg in legs:
        lat1, lon1, lat2, lon2 = (radians(float(leg[c])) for c in ("from_lat", "from_lon", "to_lat", "to_lon"))
        great_circle = 2 * 6371 * asin(sqrt(sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2))
        assert float(leg["distance_km"]) >= great_circle, (leg["corridor_id"], leg["leg_seq"], round(great_circle))


def test_the_contract_check_of_batches_says_what_it_says_of_their_rows_together(seeds):
    """core.trade_flows sums up the rows kept aside batch by batch (holding them all took gigabytes at
    100M flows): counts, failures by rule and the first examples must be those of the rows together."""
    flows = seeds / "trade_flows" / "2023-05.csv"  # the shipped month with 6 bad rows, near its end
    header, rows = read_rows(flows)
    for row in rows[10:15]:
        row["value"] = "-1"
    rows[20]["hs_code"], rows[20]["value"] = "8A", "x"  # two rules on one row
    write_rows(flows, header, rows)
    whole = checked(seeds, "trade_flows", "trade_flows/2023-05.csv").quarantine
    assert whole.select("source_file", "row_number").n_unique() == 12 and whole.height == 14
    first = pl.col("row_number") < 100  # two batches of different rows, as files and importer chunks are
    summary = QuarantineSummary().add(whole.filter(first)).add(whole.filter(~first))
    together = QuarantineSummary().add(whole)
    assert summary.rows == together.rows == 12
    assert summary.by_rule.sort(pl.all()).equals(together.by_rule.sort(pl.all()))
    assert summary.by_rule["len"].sum() == 14
    assert summary.examples.equals(whole.head(10).select(summary.examples.columns))
    result = contract_check(SEEDS["trade_flows"], 100, summary)
    assert "12 of 100 rows kept aside" in result.description and result.metadata["rows_quarantined"].value == 12


def test_every_source_cell_of_the_seeds_cites_something_a_reader_can_open():
    """A clone has neither the internal research notes nor ../shared: a seed's source names the publication."""
    unreadable = []
    for path in sorted(SHIPPED_SEEDS.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            columns = [c for c in reader.fieldnames or [] if c == "source" or c.endswith("_source")]
            if not columns:
                continue
            for row_number, row in enumerate(reader, start=2):
                for column in columns:
                    cell = row[column] or ""
                    if "domain research" in cell.lower() or "../shared" in cell:
                        unreadable.append((str(path.relative_to(SHIPPED_SEEDS)), row_number, column, cell[:60]))
    assert unreadable == []
