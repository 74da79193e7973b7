"""Referential damage is loud: a reference row kept aside takes with it the rows whose meaning it
changes, names itself in their quarantine reason, and above DETOUR_MAX_QUARANTINED_VALUE_SHARE of
the value read stops the publish. The guard values every kept-aside row, of every seed kind and of the
importers, at the flows it moves; it never prints nan or inf. Allocation uses shares as written, to the cent."""

import re

from pipeline.assets.enrich import share_of
from pipeline.importers import baci
from tests.conftest import materialize
from tests.seededit import read_rows, set_cell, write_rows

RUB_CNY_2023 = "channel_CHN_RUS_any_2023-01_rub_cny"  # 0.8 of China→Russia channel value in 2023 (Putin, 4 Jul 2023)


def quarantined(build, seed: str) -> list[tuple]:
    return build.query(
        "SELECT row_number, column_name, rule, bad_value FROM quality.quarantine WHERE seed = ? ORDER BY row_number",
        [seed], published=False,
    )


def check_description(build, name: str) -> tuple[bool, str]:
    (evaluation,) = [
        e.event_specific_data for e in build.result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == name
    ]
    return evaluation.passed, evaluation.description


def test_a_rule_kept_aside_takes_its_whole_key_with_it_and_stops_the_publish(seeds, tmp_path):
    path = seeds / "allocation_rules.csv"
    header, rows = read_rows(path)
    write_rows(path, header, [{**r, "target_id": "rubb"} if r["rule_id"] == RUB_CNY_2023 else r for r in rows])
    build = materialize(seeds, tmp_path / "detour.duckdb")

    kept = quarantined(build, "allocation_rules")
    key = [i + 2 for i, r in enumerate(rows) if r["rule_id"].startswith("channel_CHN_RUS_any_2023-01_")]
    bad_line = next(i + 2 for i, r in enumerate(rows) if r["rule_id"] == RUB_CNY_2023)
    # the bad row for its own reason; its key's other rule, whose share now sums to 0.2, because of it
    assert [k[0] for k in kept] == key
    assert all(
        rule == f"shares_of_key_sum_to_1 once row {bad_line} was kept aside"
        for line, _, rule, _ in kept if line != bad_line
    )
    # China→Russia flows of 2023 (CEPII BACI) lose their rules: more than 0.1% of value moves
    passed, description = check_description(build, "kept_aside_within_limit")
    assert not passed and "of flows whose reference rows were kept aside" in description and "allocation_rules 2 row(s)" in description
    assert not build.succeeded("published_warehouse") and not build.warehouse.exists()


def test_a_flow_whose_channel_row_was_kept_aside_names_that_row(seeds, tmp_path):
    path = seeds / "payment_channels.csv"
    header, rows = read_rows(path)
    eur_line = next(i + 2 for i, r in enumerate(rows) if r["channel_id"] == "eur")
    write_rows(path, header, [*rows, next(r for r in rows if r["channel_id"] == "eur")])  # an exact duplicate line
    build = materialize(seeds, tmp_path / "detour.duckdb")

    reasons = build.query(
        """SELECT DISTINCT rule FROM quality.quarantine
           WHERE seed = 'trade_flows' AND column_name = 'channel_id' AND bad_value = 'eur'""",
        published=False,
    )
    assert reasons == [(
        f"references ref.payment_channels.channel_id: its row was kept aside, payment_channels.csv row {eur_line} (field_uniqueness)",
    )]
    passed, description = check_description(build, "kept_aside_within_limit")
    assert not passed and "USD of flows kept aside" in description
    assert not build.succeeded("published_warehouse")


def test_allocation_uses_shares_as_written_to_the_cent(shipped_build):
    # every routed row is its flow's value times its share to the cent: within one cent, however many routes
    ((worst, off),) = shipped_build.query(
        """SELECT max(abs(r.value_usd - f.value_usd * r.share)), count(*) FILTER (WHERE abs(r.value_usd - f.value_usd * r.share) >= 0.01)
           FROM core.routed_flows r JOIN core.trade_flows f USING (flow_id)"""
    )
    assert worst < 0.01 and off == 0, (worst, off)
    (allocated,) = shipped_build.query("SELECT count(*) FROM core.routed_flows WHERE channel_basis = 'allocated'")[0]
    assert allocated > 1000


def row_of(path, **match) -> int:
    """0-based data row of the first row whose columns hold these values."""
    _, rows = read_rows(path)
    return next(i for i, r in enumerate(rows) if all(r[k] == v for k, v in match.items()))


# One broken cell per reference seed, each in a row the shipped flows use: (file, row match, column, value)
DAMAGE = {
    "fx_rates": ("fx_rates.csv", {"currency": "EUR"}, "date", "2023-02-30"),
    "sanctions_measures": ("sanctions_measures.csv", {"measure_id": "us_russia_energy_import"}, "effective_from", "2022-13-08"),
    "hs_categories": ("hs_categories.csv", {"hs_prefix": "8806"}, "hs_prefix", "88O6"),
    "chpl": ("chpl.csv", {"hs6": "854231"}, "tier", "9"),
    "hs_concordance": ("hs_concordance.csv", {"hs2022": "854231"}, "relationship", "many"),
    "hs_conversion": ("hs_conversion.csv", {"hs2022": "854231"}, "hs2017", "85423"),
    "neighbours": ("neighbours.csv", {"neighbour_iso3": "KGZ"}, "source", ""),
    "claims": ("claims.csv", {}, "value", "lots"),
    "allocation_rules": ("allocation_rules.csv", {"rule_id": "channel_CHN_RUS_any_2023-01_rub_cny"}, "share", "0,8"),
    "eu_hs6_list": ("lists/eu-hs6/EU_sanctions_HS6.csv", {"Code": "854231"}, "partially_exempt", "maybe"),
    "goods_categories": ("goods_categories.csv", {"category_id": "uav_drones"}, "dual_use", "maybe"),
    "jurisdictions": ("jurisdictions.csv", {"country_iso3": "IRN"}, "transshipment_hub", "maybe"),
    "corridors": ("corridors.csv", {"corridor_id": "instc_west"}, "transit_days_min", "many"),
    "corridor_legs": ("corridor_legs.csv", {"corridor_id": "instc_west", "leg_seq": "1"}, "distance_km", "far"),
    "payment_channels": ("payment_channels.csv", {"channel_id": "rub"}, "dollar_clearing", "maybe"),
}


def test_the_guard_values_reference_damage_of_every_seed_kind_and_blocks(seeds, tmp_path):
    for file, match, column, value in DAMAGE.values():
        set_cell(seeds / file, row_of(seeds / file, **match), column, value)
    build = materialize(seeds, tmp_path / "detour.duckdb")

    kept = dict(build.query("SELECT seed, count(DISTINCT row_number) FROM quality.quarantine GROUP BY seed", published=False))
    assert set(DAMAGE) <= set(kept), kept
    passed, description = check_description(build, "kept_aside_within_limit")
    assert not passed and not build.succeeded("published_warehouse")
    by_seed = dict(re.findall(r"(\w+) \d[\d,]* row\(s\) of [\d,]+ \([\d.]+%\)(?:, [^;]*?)?, ([\d,]+) USD", description))
    moved = {seed: int(usd.replace(",", "")) for seed, usd in by_seed.items()}
    # every damaged seed is named; all but claims (no flow rests on a claim) move money
    assert set(DAMAGE) <= set(moved), description
    assert moved["claims"] == 0 and [seed for seed in DAMAGE if seed != "claims" and not moved[seed]] == [], moved
    assert "nan" not in description and "inf" not in description


def test_a_dictionary_line_lost_keeps_real_trade_aside_at_its_value_and_blocks(seeds, tmp_path):
    folder = seeds / baci.FOLDER
    (dictionary,) = folder.glob("country_codes_V*.csv")
    lines = dictionary.read_text(encoding="utf-8").splitlines(keepends=True)
    dictionary.write_text("".join(line for line in lines if not line.startswith("643,")), encoding="utf-8")
    build = materialize(seeds, tmp_path / "detour.duckdb")

    passed, description = check_description(build, "kept_aside_within_limit")
    ((kept_usd,),) = build.query(
        "SELECT sum(try_cast(json_extract_string(raw_record, '$.v') AS DOUBLE)) * 1000 FROM "
        "(SELECT DISTINCT source_file, row_number, raw_record FROM quality.quarantine WHERE seed = 'trade_flows')",
        published=False,
    )
    # every China-Russia row of BACI names Russia (643): hundreds of billions of USD kept aside, not $0
    assert kept_usd > 5e11
    (said,) = re.findall(r"([\d,]+) USD of flows kept aside", description)
    assert not passed and int(said.replace(",", "")) >= kept_usd
    assert not build.succeeded("published_warehouse")


def test_a_month_written_with_decimal_commas_counts_by_its_rows_and_blocks(seeds, tmp_path):
    month = seeds / "trade_flows" / "2023-04.csv"
    header, rows = read_rows(month)
    write_rows(month, header, [{**r, "value": r["value"].replace(".", ",") if "." in r["value"] else r["value"] + ",5"} for r in rows])
    build = materialize(seeds, tmp_path / "detour.duckdb")

    passed, description = check_description(build, "kept_aside_within_limit")
    (unreadable,) = re.findall(r"trade_flows [\d,]+ row\(s\) of [\d,]+ \([\d.]+%\), ([\d,]+) of them with a value that cannot be read", description)
    assert int(unreadable.replace(",", "")) >= len(rows), description
    assert not passed and not build.succeeded("published_warehouse")


def test_shares_are_never_nan_or_inf():
    assert share_of(0.0, 0.0) == 0.0 and share_of(5.0, 0.0) == 1.0 and share_of(2.0, 4.0) == 0.5
    assert share_of(float("inf"), 1.0) == 1.0


def test_an_fx_file_not_extended_to_the_flows_year_is_flagged_and_blocks(seeds, tmp_path):
    path = seeds / "fx_rates.csv"
    header, rows = read_rows(path)
    write_rows(path, header, [r for r in rows if not (r["currency"] == "RUB" and r["date"] >= "2023-01-01")])
    build = materialize(seeds, tmp_path / "detour.duckdb")

    ((stale, latest),) = build.query(
        "SELECT count(*), max(fx_rate_date) FROM core.trade_flows WHERE fx_rate_stale AND currency = 'RUB'", published=False)
    (fresh,) = build.query("SELECT count(*) FROM core.trade_flows WHERE fx_rate_stale AND currency <> 'RUB'", published=False)[0]
    # every ruble flow from 2023 rests on December 2022's rate, and says so; no other flow is flagged
    assert stale > 0 and str(latest) == "2022-12-01" and fresh == 0
    passed, description = check_description(build, "fx_rate_current")
    assert not passed and "RUB 2023-01" in description
    passed, description = check_description(build, "kept_aside_within_limit")
    assert "fx_rates (stale or fallback rate)" in description
