"""Hostile strings (SQL, HTML/JS, markdown, control characters, a right-to-left override, non-Latin
script, Plotly's label markup) planted in text fields of a private copy of the seeds."""

from pathlib import Path

from tests.seededit import read_rows, set_cell, write_rows

HOSTILE = {
    "sql": "'); DROP TABLE ref.countries; --",
    "script": "<script>window.__pwned=1</script>",
    "img": '<img src=x onerror="window.__pwned=1">',
    "markdown": "a|b **c** [x](javascript:window.__pwned=1)",
    "control": "tab\there bell\x07 escape\x1b[31mred\nnext line",
    "rtl": "\u202egpj.exe",
    "non_latin": "الإمارات العربية المتحدة",
    "markup": "<b>AT&amp;T</b> $\\frac$ <br>",  # Plotly's own label markup, and mathtext to matplotlib
}
# (seed file, key column, key, column) → the hostile string put there. Names chosen to reach the
# report's tables and charts: the channels, corridors and category of top routes label the Sankey, the
# charts and the route-risk table, the sample's intermediaries (ARE, TUR) label the transshipment chart and
# table, and the claims table shows speaker and source.
PLACED = {
    ("payment_channels.csv", "channel_id", "irr", "name"): HOSTILE["script"],
    ("payment_channels.csv", "channel_id", "crypto", "name"): HOSTILE["img"],
    ("corridors.csv", "corridor_id", "instc_caspian", "name"): HOSTILE["rtl"],
    ("corridors.csv", "corridor_id", "instc_west", "name"): HOSTILE["markup"],
    ("goods_categories.csv", "category_id", "vegetables", "name"): HOSTILE["sql"],
    ("jurisdictions.csv", "country_iso3", "ARE", "name"): HOSTILE["non_latin"],
    ("jurisdictions.csv", "country_iso3", "TUR", "name"): HOSTILE["markdown"],
    ("jurisdictions.csv", "country_iso3", "GEO", "name"): HOSTILE["control"],
    ("payment_channels.csv", "channel_id", "barter", "name"): HOSTILE["control"],
    ("sanctions_measures.csv", "measure_id", "us_itsr_exports", "legal_reference"): HOSTILE["markdown"],
    ("sanctions_measures.csv", "measure_id", "us_itsr_exports", "description"): HOSTILE["img"],
    ("sanctions_measures.csv", "measure_id", "us_itsr_exports", "source"): HOSTILE["script"],
    ("claims.csv", "claim_id", "trade_2019_morgulov", "speaker"): HOSTILE["control"],
    ("claims.csv", "claim_id", "trade_2019_morgulov", "source"): HOSTILE["markdown"],
}
# One trade flow per hostile string with it as its currency: not in ref.fx_rates, so the row is kept aside,
# in the first file, so that they lead the contract check's examples.
BAD_FLOWS = "trade_flows/2019-01.csv"


def plant(seeds: Path) -> None:
    for (path, key_column, key, column), value in PLACED.items():
        header, rows = read_rows(seeds / path)
        (row,) = [i for i, r in enumerate(rows) if r[key_column] == key]
        set_cell(seeds / path, row, column, value)
    header, rows = read_rows(seeds / BAD_FLOWS)
    for row, value in zip(rows, HOSTILE.values(), strict=False):
        row["currency"] = value
    write_rows(seeds / BAD_FLOWS, header, rows)
