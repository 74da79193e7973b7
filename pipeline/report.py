"""The report people open first: a self-contained HTML page (report.html, plotly.js inlined, no
network needed) and PNG charts of the same (charts/*.png), drawn from the published marts.

Every section says what period it covers, which data_status it rests on, and how much of its value
has its payment channel or corridor allocated by rule rather than observed, and it labels channels,
corridors, categories and countries with their ref names, the same in every chart and table."""

import datetime as dt
import html
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False  # a name with two $ is text, not mathtext (which may not parse)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import plotly.offline  # noqa: E402
import polars as pl  # noqa: E402
import duckdb  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from pipeline.text import visible_text_columns  # noqa: E402
from pipeline.storage.warehouse import run_id_meta  # noqa: E402

RESTRICTED = "rgba(200, 40, 40, 0.55)"
OPEN = "rgba(120, 140, 160, 0.35)"
IN_REACH = "#D55E00"
CIRCUMVENTION = "#56B4E9"
UNKNOWN = "#b0b0b0"  # value no observation or sourced rule places, and reach that rests on it: never a palette colour
# Okabe & Ito's colours, told apart with any common colour-vision deficiency (black is the allocated share's
# line). Past seven series a chart reuses them with a pattern or a dash, so no two series look alike (the
# US dollar and crypto-assets shared a colour when the 14 channels outnumbered a palette of nine).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
PATTERNS = ["", ".", "x"]  # Plotly's fill patterns of the first, second and third round of the palette
HATCHES = ["", "..", "xx"]  # Matplotlib's
DASHES = [("solid", "-"), ("dot", ":"), ("dash", "--")]  # lines': Plotly's, Matplotlib's
STATUS_WORDS = {"illustrative": "illustrative sample", "real": "real data"}
TOP_ROUTES = 10
TOP_INTERMEDIARIES = 6
# The IRN↔RUS routed rows (canonical), read once: every Iran–Russia section's rows are among them, and each scan of
# core.routed_flows costs seconds at 100M flows.
PAIR_FLOWS_SQL = """
CREATE OR REPLACE TEMP TABLE pair_flows AS
SELECT flow_id, route_seq, period, frequency, data_status, category_id, corridor_id, channel_id, value_usd,
       channel_basis, corridor_basis
FROM core.routed_flows
WHERE canonical AND exporter_iso3 IN ('IRN', 'RUS') AND importer_iso3 IN ('IRN', 'RUS')
"""
# The Iran–Russia month-level sections show one data_status (they must never add two): real monthly IRN↔RUS
# rows when an import brought some, else the illustrative sample (real monthly rows of other pairs, such as
# Eurostat's, have their own section).
STATUS_SQL = """
SELECT data_status FROM pair_flows WHERE frequency = 'monthly'
GROUP BY data_status ORDER BY data_status = 'real' DESC, data_status LIMIT 1
"""
# The period and frequency a section's rows come from: all IRN↔RUS rows (the Sankey's and corridor chart's), or
# their monthly ones (the channel chart's).
PERIOD_SQL = """
SELECT min(period), max(period), list(DISTINCT frequency ORDER BY frequency)
FROM pair_flows WHERE data_status = $status AND (frequency = 'monthly' OR NOT $monthly_only)
"""
# Each status's period over all canonical routed rows (the route ranking's), in one scan.
STATUS_PERIODS_SQL = """
SELECT data_status, min(period), max(period), list(DISTINCT frequency ORDER BY frequency)
FROM core.routed_flows WHERE canonical GROUP BY data_status
"""
SANKEY_SQL = """
WITH goods_hits AS (
    SELECT DISTINCT s.flow_id, s.route_seq
    FROM core.route_sanctions s JOIN ref.sanctions_measures m USING (measure_id)
    WHERE m.target_type IN ('hs_code', 'hs_prefix') AND NOT s.is_obligation
)
SELECT coalesce(g.name, 'Uncategorised') AS category, c.name AS corridor, p.name AS channel,
       h.flow_id IS NOT NULL AS restricted_goods, sum(r.value_usd)::DOUBLE / 1e6 AS musd,
       coalesce(sum(r.value_usd) FILTER (WHERE r.channel_basis = 'allocated' OR r.corridor_basis = 'allocated'), 0)::DOUBLE
           / 1e6 AS allocated_musd
FROM pair_flows r
JOIN ref.corridors c USING (corridor_id)
JOIN ref.payment_channels p USING (channel_id)
LEFT JOIN ref.goods_categories g USING (category_id)
LEFT JOIN goods_hits h USING (flow_id, route_seq)
WHERE r.data_status = $status
GROUP BY ALL HAVING sum(r.value_usd) > 0
"""
CHANNEL_MIX_SQL = """
SELECT year(m.month) AS year, p.name AS channel, sum(m.value_usd)::DOUBLE AS value,
       sum(m.value_usd * m.allocated_share)::DOUBLE AS allocated
FROM marts.channel_mix m JOIN ref.payment_channels p USING (channel_id)
WHERE m.data_status = $status AND m.exporter_iso3 IN ('IRN', 'RUS') AND m.importer_iso3 IN ('IRN', 'RUS')
GROUP BY ALL ORDER BY ALL
"""
CORRIDOR_SQL = """
SELECT year(r.period) AS year, c.name AS corridor,
       coalesce(sum(r.value_usd) FILTER (WHERE r.corridor_basis <> 'allocated'), 0)::DOUBLE AS observed,
       coalesce(sum(r.value_usd) FILTER (WHERE r.corridor_basis = 'allocated'), 0)::DOUBLE AS allocated
FROM pair_flows r JOIN ref.corridors c USING (corridor_id)
WHERE r.data_status = $status
GROUP BY ALL ORDER BY ALL
"""
ROUTE_STATUSES_SQL = "SELECT DISTINCT data_status FROM marts.route_risk ORDER BY data_status"
ROUTE_RISK_SQL = """
SELECT r.year, r.frequency, r.risk_rank, coalesce(g.name, r.category_id) AS category, c.name AS corridor, p.name AS channel,
       coalesce(j.name, CASE r.transit_iso3 WHEN 'none' THEN '—' ELSE r.transit_iso3 END) AS transit,
       r.value_usd::DOUBLE AS value_usd, r.risk_score, r.circumvention_share, r.in_reach_share, r.undetermined_share,
       r.covered_share, r.chpl_score, r.traceability_score, r.hub_share, r.size_score, r.rests_on_allocation, r.allocated_share
FROM marts.route_risk r
LEFT JOIN ref.goods_categories g USING (category_id)
LEFT JOIN ref.corridors c USING (corridor_id)
LEFT JOIN ref.payment_channels p USING (channel_id)
LEFT JOIN ref.jurisdictions j ON j.country_iso3 = r.transit_iso3
WHERE r.data_status = $status AND r.risk_rank <= $top
  AND r.year = (SELECT max(year) FROM marts.route_risk WHERE data_status = $status)
ORDER BY r.frequency, r.risk_rank
"""
# The value-weighted allocated share of all of a status's routes, not only the top ones shown.
ROUTE_ALLOCATED_SQL = """
SELECT sum(value_usd * allocated_share)::DOUBLE / nullif(sum(value_usd), 0) FROM marts.route_risk WHERE data_status = $status
"""
# Intermediary-years: value adds up over category and tier (the grain says so). Growth compares the year's
# monthly value with the intermediary's baseline, the sum of its categories' baselines (each category-tier's
# baseline repeats on every year's row, so it is taken once); the mirror gap is recomputed from its sums.
TRANSSHIPMENT_SQL = """
WITH baseline AS (
    SELECT intermediary_iso3, sum(baseline_monthly_usd) AS baseline_monthly_usd
    FROM (SELECT DISTINCT intermediary_iso3, category_id, chpl_tier, baseline_monthly_usd
          FROM marts.transshipment_signals WHERE data_status = $status AND frequency = 'monthly')
    GROUP BY ALL
)
SELECT coalesce(j.name, t.intermediary_iso3) AS intermediary, t.year, any_value(t.baseline_years) AS baseline_years,
       bool_or(t.transshipment_hub) AS hub, sum(t.value_usd)::DOUBLE AS value_usd,
       sum(t.monthly_usd) / nullif(any_value(b.baseline_monthly_usd), 0) - 1 AS growth_vs_baseline,
       sum(t.exporter_reported_usd)::DOUBLE AS exporter_reported_usd, sum(t.importer_reported_usd)::DOUBLE AS importer_reported_usd,
       sum(t.mirror_gap_usd)::DOUBLE / nullif(sum(t.exporter_reported_usd) FILTER (WHERE t.mirror_gap_usd IS NOT NULL), 0)
           AS mirror_gap_share,
       sum(t.reexports_to_targets_usd)::DOUBLE AS reexports_to_targets_usd,
       sum(t.value_usd * t.allocated_share)::DOUBLE AS allocated_usd
FROM marts.transshipment_signals t
LEFT JOIN baseline b USING (intermediary_iso3)
LEFT JOIN ref.jurisdictions j ON j.country_iso3 = t.intermediary_iso3
WHERE t.data_status = $status AND t.frequency = 'monthly'
GROUP BY t.intermediary_iso3, j.name, t.year ORDER BY intermediary, t.year
"""
# The roundabout, real data only: each window's value by destination group and product group, per frequency
# and currency (values in two currencies are never added), from marts.roundabout.
ROUNDABOUT_SQL = """
SELECT frequency, currency, target_iso3, strftime(before_start, '%Y-%m') AS before_start, strftime(before_end, '%Y-%m') AS before_end,
       strftime(after_start, '%Y-%m') AS after_start, strftime(after_end, '%Y-%m') AS after_end, destination_group, product_group,
       sum(before_value)::DOUBLE AS before_value, sum(after_value)::DOUBLE AS after_value,
       sum(after_value) / nullif(sum(before_value), 0) - 1 AS change
FROM marts.roundabout WHERE data_status = 'real'
GROUP BY ALL ORDER BY frequency DESC, currency, after_start, destination_group, product_group
"""
# Month by month, the real exports to each target and its neighbours of the goods an export ban into the target
# lists (by any date of the data), in their currency: the roundabout as a picture.
ROUNDABOUT_MONTHS_SQL = """
WITH destinations AS (
    SELECT DISTINCT target_iso3, target_iso3 AS importer_iso3, 'target' AS destination_group FROM ref.neighbours
    UNION ALL SELECT target_iso3, neighbour_iso3, 'neighbours' FROM ref.neighbours
)
SELECT f.period AS month, f.currency, d.target_iso3, d.destination_group, sum(f.value)::DOUBLE AS value
FROM core.trade_flows f JOIN destinations d USING (importer_iso3)
WHERE f.data_status = 'real' AND f.frequency = 'monthly' AND f.canonical AND f.exporter_iso3 <> d.target_iso3
  AND EXISTS (SELECT 1 FROM core.listed_goods l WHERE l.target_iso3 = d.target_iso3 AND l.hs_code_2022 = f.hs_code_2022
              AND l.hs_code_2017 IS NOT DISTINCT FROM f.hs_code_2017)
GROUP BY ALL ORDER BY ALL
"""
# Total goods of the blocs and countries that report them, real: the published totals (Eurostat), per year.
TOTALS_SQL = """
SELECT exporter_iso3, importer_iso3, year(period) AS year, currency, sum(value) AS value
FROM core.trade_totals WHERE frequency = 'annual' AND data_status = 'real'
  AND importer_iso3 IN (SELECT target_iso3 FROM ref.neighbours UNION SELECT neighbour_iso3 FROM ref.neighbours)
GROUP BY ALL ORDER BY ALL
"""
# Per authority, kind and year: values add up over month, category, corridor and channel, never across
# authorities (a flow covered by two authorities appears under each).
EXPOSURE_SQL = """
SELECT authority, kind, year(month) AS year, sum(covered_value_usd)::DOUBLE AS covered,
       sum(in_reach_value_usd)::DOUBLE AS in_reach, sum(circumvention_value_usd)::DOUBLE AS circumvention,
       sum(undetermined_value_usd)::DOUBLE AS undetermined,
       sum(covered_value_usd * allocated_share)::DOUBLE / nullif(sum(covered_value_usd), 0) AS allocated_share
FROM marts.sanctioned_exposure WHERE data_status = $status
GROUP BY ALL ORDER BY authority, kind DESC, year
"""
EXPOSURE_PERIOD_SQL = "SELECT min(month), max(month) FROM marts.sanctioned_exposure WHERE data_status = $status"
# A claim scoped to one corridor shows the corridor's name, like every other chart and table.
CLAIMS_SQL = """
SELECT k.claim_id AS claim, k.metric, coalesce(c.name, k.scope) AS scope,
       strftime(k.period_start, '%Y-%m') || '..' || strftime(k.period_end, '%Y-%m') AS period,
       k.relation || ' ' || CASE WHEN abs(k.claimed_value) < 10 THEN printf('%.3f', k.claimed_value)
                                 ELSE format('{:,.0f}', k.claimed_value) END AS claimed, k.data_value AS data,
       k.relative_difference AS difference, CASE WHEN k.comparable THEN 'yes' ELSE 'no' END AS comparable, k.verdict,
       k.speaker, k.date_stated AS stated, k.source
FROM marts.claims_check k LEFT JOIN ref.corridors c ON c.corridor_id = k.scope ORDER BY k.metric, k.period_start
"""


def period_text(first: date, last: date, frequencies: list[str], status: str) -> str:
    """'2019-01 to 2024-12, monthly flows, illustrative sample': monthly periods by month, annual by year."""
    fmt = "%Y-%m" if "monthly" in frequencies else "%Y"
    return f"{first:{fmt}} to {last:{fmt}}, {' and '.join(frequencies)} flows, {STATUS_WORDS.get(status, status)}"


def ratio(part: float, whole: float) -> float | None:
    """part / whole, or None (shown as —) for a section with no value."""
    return part / whole if whole else None


def pct(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def musd(value: float | None) -> str:
    return "—" if value is None else f"{value / 1e6:,.1f}"


def plotly_text(text: str) -> str:
    """Plotly reads label and trace-name strings as its own HTML subset (<b>, <br>, <a href>, &amp;): with &, <
    and > escaped it draws the text itself. Quotes are left: Plotly decodes &lt; &gt; &amp;, not &quot;."""
    return html.escape(text, quote=False)


def table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def section(anchor: str, title: str, lead: str, period: str, basis: str, body: str) -> str:
    """A report section: a plain-language lead, then the period and what the figures rest on, then the charts."""
    return (f'<section id="{anchor}"><h2>{html.escape(title)}</h2><p class="lead">{html.escape(lead)}</p>'
            f'<p class="basis"><b>Period:</b> <span class="period">{html.escape(period)}</span>. '
            f'<b>Rests on:</b> {basis}</p>{body}</section>')


def shares_by_year(df: pl.DataFrame, key: str) -> pl.DataFrame:
    """Wide table: one row per year, one column per key, shares of the year summing to 1."""
    wide = df.pivot(on=key, index="year", values="value", aggregate_function="sum").fill_null(0).sort("year")
    columns = [c for c in wide.columns if c != "year"]
    if not columns:  # no rows: no year has a share
        return wide
    total = wide.select(pl.sum_horizontal(columns)).to_series()
    return wide.with_columns(pl.col(c) / total for c in columns)


def allocated_by_year(df: pl.DataFrame, value: str = "value") -> pl.DataFrame:
    return df.group_by("year").agg(share=pl.col("allocated").sum() / pl.col(value).sum()).sort("year")


def color_of(name: str, i: int) -> str:
    """The i-th series' colour, or grey for the unknown channel or corridor, whatever its place."""
    return UNKNOWN if name.startswith("Unknown") else PALETTE[i % len(PALETTE)]


def round_of(i: int) -> int:
    """Which round of the palette the i-th series is in: its pattern or dash (PATTERNS, HATCHES, DASHES)."""
    return i // len(PALETTE) % len(PATTERNS)


def sankey_figure(links: pl.DataFrame, title: str) -> go.Figure:
    nodes = [*links["category"].unique(maintain_order=True), *links["corridor"].unique(maintain_order=True),
             *links["channel"].unique(maintain_order=True)]
    index = {name: i for i, name in enumerate(nodes)}
    first = links.group_by("category", "corridor", "restricted_goods").agg(pl.col("musd").sum())
    second = links.group_by("corridor", "channel", "restricted_goods").agg(pl.col("musd").sum())
    source = [index[c] for c in first["category"]] + [index[c] for c in second["corridor"]]
    target = [index[c] for c in first["corridor"]] + [index[c] for c in second["channel"]]
    restricted = [*first["restricted_goods"], *second["restricted_goods"]]
    figure = go.Figure(
        go.Sankey(
            node={"label": [plotly_text(n) for n in nodes], "pad": 12, "thickness": 14},
            link={
                "source": source,
                "target": target,
                "value": [*first["musd"], *second["musd"]],
                "color": [RESTRICTED if r else OPEN for r in restricted],
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,.0f} M USD<extra></extra>",
            },
        )
    )
    figure.update_layout(title=title, height=700, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return figure


def area_figure(wide: pl.DataFrame, allocated: pl.DataFrame, title: str) -> go.Figure:
    figure = go.Figure()
    for i, column in enumerate(c for c in wide.columns if c != "year"):
        figure.add_trace(go.Scatter(x=wide["year"], y=wide[column], name=plotly_text(column), stackgroup="one", mode="lines",
                                    line={"color": color_of(column, i)}, fillcolor=color_of(column, i),
                                    fillpattern={"shape": PATTERNS[round_of(i)], "fgcolor": "#333"}))
    figure.add_trace(go.Scatter(x=allocated["year"], y=allocated["share"], name="allocated by rule (share of value)",
                                mode="lines+markers", line={"color": "black", "dash": "dash"}))
    figure.update_layout(title=title, yaxis={"tickformat": ".0%"}, xaxis={"dtick": 1}, height=440)
    return figure


def corridor_label(name: str) -> str:
    return f"{name} (no observation or sourced rule)" if name.startswith("Unknown") else f"{name}: observed"


def corridor_figure(corridors: pl.DataFrame, title: str) -> go.Figure:
    """Value by corridor by year, the observed part solid and the part allocated by rule hatched."""
    figure = go.Figure()
    for i, name in enumerate(corridors["corridor"].unique(maintain_order=True)):
        rows = corridors.filter(pl.col("corridor") == name)
        color = color_of(name, i)
        figure.add_trace(go.Bar(x=rows["year"], y=rows["observed"] / 1e9, name=plotly_text(corridor_label(name)),
                                marker={"color": color, "pattern": {"shape": PATTERNS[round_of(i)], "fgcolor": "#333"}}))
        if rows["allocated"].sum():
            figure.add_trace(go.Bar(x=rows["year"], y=rows["allocated"] / 1e9, name=plotly_text(f"{name}: allocated by rule"),
                                    marker={"color": "white", "line": {"color": color, "width": 1.5},
                                            "pattern": {"shape": "/", "fgcolor": color}}))
    figure.update_layout(title=title, barmode="stack", yaxis={"title": "bn USD"}, xaxis={"dtick": 1}, height=480)
    return figure


def transshipment_figure(trans: pl.DataFrame, title: str) -> go.Figure:
    figure = go.Figure()
    for i, name in enumerate(trans["intermediary"].unique(maintain_order=True)):
        rows = trans.filter(pl.col("intermediary") == name)
        figure.add_trace(go.Scatter(x=rows["year"], y=rows["value_usd"] / 1e6, name=plotly_text(name), mode="lines+markers",
                                    line={"color": PALETTE[i % len(PALETTE)], "dash": DASHES[round_of(i)][0]}))
    figure.update_layout(title=title, yaxis={"title": "M USD"}, xaxis={"dtick": 1}, height=420)
    return figure


def roundabout_lines(months: pl.DataFrame):
    """(label, rows) of each line: a destination group of a target, in one currency."""
    keys = months.select("target_iso3", "destination_group", "currency").unique(maintain_order=True).iter_rows()
    for target, group, currency in keys:
        rows = months.filter(pl.col("target_iso3") == target, pl.col("destination_group") == group, pl.col("currency") == currency)
        where = target if group == "target" else f"the neighbours of {target}"
        yield f"to {where} (M {currency})", rows


def roundabout_figure(months: pl.DataFrame, title: str) -> go.Figure:
    figure = go.Figure()
    for i, (label, rows) in enumerate(roundabout_lines(months)):
        figure.add_trace(go.Scatter(x=rows["month"], y=rows["value"] / 1e6, name=plotly_text(label), mode="lines",
                                    line={"color": PALETTE[i % len(PALETTE)], "dash": DASHES[round_of(i)][0]}))
    figure.update_layout(title=title, yaxis={"title": "M of the currency"}, height=420)
    return figure


def draw_roundabout_png(months: pl.DataFrame, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 5))
    for i, (label, rows) in enumerate(roundabout_lines(months)):
        ax.plot(rows["month"], rows["value"] / 1e6, DASHES[round_of(i)][1], label=label, color=PALETTE[i % len(PALETTE)])
    ax.set_ylabel("M of the currency")
    ax.set_title(title, fontsize=10)
    if months.height:
        ax.legend(fontsize=8)
    save(fig, path)


def exposure_figure(exposure: pl.DataFrame, title: str) -> go.Figure:
    """Restrictions only: an obligation (the EU no-Russia clause) is a duty, not a ban, so nothing circumvents it."""
    rows = exposure.filter(pl.col("kind") == "restriction")
    x = [plotly_text(f"{a} {y}") for a, y in zip(rows["authority"], rows["year"], strict=True)]
    figure = go.Figure([
        go.Bar(x=x, y=rows["in_reach"] / 1e6, name="in reach of the authority (potential breach)", marker_color=IN_REACH),
        go.Bar(x=x, y=rows["circumvention"] / 1e6, name="out of its reach (circumvention)", marker_color=CIRCUMVENTION),
        go.Bar(x=x, y=rows["undetermined"] / 1e6, name="undetermined (rests on an allocated or unknown channel or corridor)",
               marker_color=UNKNOWN),
    ])
    figure.update_layout(title=title, barmode="stack", yaxis={"title": "M USD"}, height=440)
    return figure


def claims_table(claims: pl.DataFrame) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
        return html.escape("" if value is None else str(value))

    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in claims.columns)
    rows = []
    for row in claims.iter_rows(named=True):
        mark = row["verdict"].split(" ")[0].replace(" ", "-")  # agrees, disagrees, no, calibrated
        rows.append(f'<tr class="{mark}">' + "".join(f"<td>{cell(v)}</td>" for v in row.values()) + "</tr>")
    return f'<table class="claims"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


# Where the trade flows come from, each source on its own line: what the report's figures rest on.
# Country pairs first: the pair's text is made once per pair, not once per flow (3x faster at 10M flows).
SOURCES_SQL = """
WITH pairs AS (
    SELECT source, data_status, frequency, exporter_iso3, importer_iso3, min(period) AS first, max(period) AS last,
           count(*) AS records
    FROM core.trade_flows GROUP BY ALL
)
SELECT source, data_status, frequency, min(first) AS first, max(last) AS last, sum(records)::BIGINT AS records,
       count(*) AS pairs,
       list(exporter_iso3 || ' → ' || importer_iso3 ORDER BY exporter_iso3 || ' → ' || importer_iso3)[:$named] AS named
FROM pairs GROUP BY ALL ORDER BY data_status DESC, frequency, source
"""
NAMED_PAIRS = 4  # a source with more country pairs than this gives their number


def sources_table(sources: pl.DataFrame) -> str:
    rows = [[r["source"], STATUS_WORDS.get(r["data_status"], r["data_status"]), r["frequency"],
             period_text(r["first"], r["last"], [r["frequency"]], r["data_status"]).split(",")[0],
             ", ".join(r["named"]) if r["pairs"] <= NAMED_PAIRS else f"{r['pairs']:,} exporter → importer pairs",
             f"{r['records']:,}"] for r in sources.iter_rows(named=True)]
    return table(["source", "data", "frequency", "period", "countries", "records"], rows)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">{run_meta}<title>Detour — how trade is routed around sanctions</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }}
table {{ border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1rem; }}
th, td {{ border: 1px solid #ddd; padding: .25rem .4rem; }} th {{ background: #f4f4f4; }}
td:not(:first-child) {{ font-variant-numeric: tabular-nums; }}
tr.disagrees {{ background: #fde2e1; }} tr.agrees {{ background: #e6f4ea; }} tr.calibrated {{ background: #eee; color: #666; }}
.note {{ color: #555; }} table.claims {{ width: 100%; table-layout: fixed; }} .claims td {{ overflow-wrap: anywhere; }}
.lead {{ font-size: 1.05rem; }} .basis {{ color: #444; font-size: .9rem; border-left: 3px solid #bbb; padding-left: .6rem; }}
section {{ margin-bottom: 2.5rem; }} .wide {{ overflow-x: auto; }}
</style>
<script>{plotly_js}</script></head><body>
<h1>Detour: how trade is routed around sanctions</h1>
<p class="published">Published <time datetime="{published_iso}">{published}</time> from {warehouse}. The trade flows it rests on:</p>
{sources}
<p class="note">The Iran–Russia sections rest on <code>data_status = '{status}'</code> rows ({status_words}){status_caveat}.
Real rows of other countries appear in the roundabout section and in the route-risk ranking, each in tables of their
own: no figure adds real and illustrative rows.</p>
<p class="note"><b>Observed or allocated?</b> Where a flow's record does not say how it was paid or which way it went,
Detour assigns its payment channel and corridor by rule (<code>ref.allocation_rules</code>). Of the IRN↔RUS value
behind the corridor charts, <b class="allocated-headline">{headline}</b> has its channel or corridor allocated by rule
rather than observed. Every chart says how much of its value is allocated; read those parts as assumptions, not findings.</p>
{sections}
<p class="note">Dagster run <code>{run_id}</code>.</p>
</body></html>
"""


def draw_sankey_png(links: pl.DataFrame, title: str, path: Path) -> None:
    """A three-column Sankey with matplotlib: stacked node bars joined by bands sized by value."""
    columns = ["category", "corridor", "channel"]
    fig, ax = plt.subplots(figsize=(14, 9))
    total = links["musd"].sum()
    gap = total * 0.015
    positions: dict[tuple[int, str], list[float]] = {}
    for x, column in enumerate(columns):
        sizes = links.group_by(column).agg(pl.col("musd").sum()).sort("musd", descending=True)
        y = 0.0
        for name, size in sizes.iter_rows():
            positions[(x, name)] = [y, y, y + size]  # bottom, next free offset out/in, top
            ax.add_patch(plt.Rectangle((x - 0.02, y), 0.04, size, color="#445"))
            ax.text(x + (0.03 if x < 2 else -0.03), y + size / 2, name, va="center",
                    ha="left" if x < 2 else "right", fontsize=8)
            y += size + gap
    outgoing = {k: v[0] for k, v in positions.items()}
    incoming = dict(outgoing)
    for x, (left, right) in enumerate(zip(columns, columns[1:], strict=False)):
        pairs = links.group_by(left, right, "restricted_goods").agg(pl.col("musd").sum()).sort(left, "restricted_goods", right)
        for a, b, restricted, size in pairs.iter_rows():
            y0, y1 = outgoing[(x, a)], incoming[(x + 1, b)]
            outgoing[(x, a)] += size
            incoming[(x + 1, b)] += size
            xs = [x + 0.02, x + 0.5, x + 0.5, x + 0.98]
            top = list(zip(xs, [y0 + size, y0 + size, y1 + size, y1 + size], strict=True))
            bottom = list(zip(xs[::-1], [y1, y1, y0, y0], strict=True))
            verts = [*top, (x + 0.98, y1), *bottom[1:], (x + 0.02, y0 + size)]
            codes = [MplPath.MOVETO, MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.LINETO,
                     MplPath.CURVE4, MplPath.CURVE4, MplPath.CURVE4, MplPath.CLOSEPOLY]
            color = (0.78, 0.16, 0.16, 0.55) if restricted else (0.47, 0.55, 0.63, 0.35)
            ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=color, edgecolor="none"))
    ax.set_xlim(-0.3, 2.3)
    ax.set_ylim(0, max(v[2] for v in positions.values()) * 1.02)
    ax.axis("off")
    ax.set_title(title)
    save(fig, path)


def save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_area_png(wide: pl.DataFrame, allocated: pl.DataFrame, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 5))
    columns = [c for c in wide.columns if c != "year"]
    if columns:  # a build with no rows here draws empty axes
        areas = ax.stackplot(wide["year"].to_numpy(), np.vstack([wide[c].to_numpy() for c in columns]), labels=columns,
                             colors=[color_of(c, i) for i, c in enumerate(columns)], edgecolor="#333", linewidth=0)
        for i, area in enumerate(areas):
            area.set_hatch(HATCHES[round_of(i)])
    ax.plot(allocated["year"], allocated["share"], "k--o", label="allocated by rule (share of value)")
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    if columns:
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    save(fig, path)


def draw_corridor_png(corridors: pl.DataFrame, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 5))
    years = pl.DataFrame({"year": sorted(corridors["year"].unique())}, schema={"year": corridors.schema["year"]})
    bottom = np.zeros(years.height)
    for i, name in enumerate(corridors["corridor"].unique(maintain_order=True)):
        # every year, 0 where the corridor carried nothing, so the bars stack year on year
        rows = years.join(corridors.filter(pl.col("corridor") == name), on="year", how="left").fill_null(0)
        color = color_of(name, i)
        observed = {"color": color, "hatch": HATCHES[round_of(i)], "edgecolor": "#333", "linewidth": 0}
        for part, style in (("observed", observed), ("allocated", {"facecolor": "white", "edgecolor": color, "hatch": "//"})):
            values = rows[part].to_numpy() / 1e9
            if part == "allocated" and not values.any():
                continue
            label = corridor_label(name) if part == "observed" else f"{name}: allocated by rule"
            ax.bar(rows["year"], values, bottom=bottom, label=label, **style)
            bottom += values
    ax.set_ylabel("bn USD")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    save(fig, path)


def draw_transshipment_png(trans: pl.DataFrame, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 5))
    for i, name in enumerate(trans["intermediary"].unique(maintain_order=True)):
        rows = trans.filter(pl.col("intermediary") == name)
        ax.plot(rows["year"], rows["value_usd"] / 1e6, DASHES[round_of(i)][1] + "o", label=name, color=PALETTE[i % len(PALETTE)])
    ax.set_ylabel("M USD")
    ax.set_title(title, fontsize=10)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    if trans.height:  # a build without intermediaries draws an empty chart, with nothing to name
        ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    save(fig, path)


def draw_exposure_png(exposure: pl.DataFrame, title: str, path: Path) -> None:
    rows = exposure.filter(pl.col("kind") == "restriction")
    labels = [f"{a} {y}" for a, y in zip(rows["authority"], rows["year"], strict=True)]
    fig, ax = plt.subplots(figsize=(11, 5))
    ax.bar(labels, rows["in_reach"] / 1e6, color=IN_REACH, label="in reach of the authority (potential breach)")
    ax.bar(labels, rows["circumvention"] / 1e6, bottom=rows["in_reach"] / 1e6, color=CIRCUMVENTION,
           label="out of its reach (circumvention)")
    ax.bar(labels, rows["undetermined"] / 1e6, bottom=(rows["in_reach"] + rows["circumvention"]) / 1e6, color=UNKNOWN,
           label="undetermined (rests on an allocated or unknown channel or corridor)")
    ax.set_ylabel("M USD")
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(fontsize=8)
    save(fig, path)


def write_report(con: duckdb.DuckDBPyConnection, folder: Path, shown_as: str, run_id: str) -> list[Path]:
    """Write report.html and charts/*.png of the warehouse `con` reads into `folder` (the page names it
    `shown_as`, what SQL clients open, named without a local path, and `run_id`, the run that publishes it);
    return their paths."""
    charts = folder / "charts"
    charts.mkdir(exist_ok=True)
    con.execute(PAIR_FLOWS_SQL)
    found = con.sql(STATUS_SQL).fetchone()
    status = found[0] if found else "illustrative"
    at = {"status": status}

    def period(first: date | None, last: date | None, frequencies: list[str] | None, of: str = status) -> str:
        return period_text(first, last, frequencies, of) if first else f"no rows, {STATUS_WORDS.get(of, of)}"

    def pair_period(monthly_only: bool) -> str:
        return period(*con.execute(PERIOD_SQL, {**at, "monthly_only": monthly_only}).fetchone())

    def rows_of(sql: str, params: dict | None = None) -> pl.DataFrame:
        """The rows of `sql`, control characters in their text made visible, alike in every chart and table."""
        return visible_text_columns(con.execute(sql, params).pl())

    periods = {"corridor": pair_period(False), "pair": pair_period(True)}
    links = rows_of(SANKEY_SQL, at)
    channel_rows = rows_of(CHANNEL_MIX_SQL, at)
    corridors = rows_of(CORRIDOR_SQL, at)
    status_periods = {s: spans for s, *spans in con.sql(STATUS_PERIODS_SQL).fetchall()}
    routes = {s: (rows_of(ROUTE_RISK_SQL, {"status": s, "top": TOP_ROUTES}), period(*status_periods.get(s, (None,) * 3), of=s),
                  con.execute(ROUTE_ALLOCATED_SQL, {"status": s}).fetchone()[0])
              for (s,) in con.sql(ROUTE_STATUSES_SQL).fetchall()}
    trans = rows_of(TRANSSHIPMENT_SQL, at)
    exposure = rows_of(EXPOSURE_SQL, at)
    first_month, last_month = con.execute(EXPOSURE_PERIOD_SQL, at).fetchone()
    claims = rows_of(CLAIMS_SQL)
    sources = rows_of(SOURCES_SQL, {"named": NAMED_PAIRS})
    rests = f"<code>data_status = '{html.escape(status)}'</code> ({html.escape(STATUS_WORDS.get(status, status))})"
    sections, pictures = [], []

    def chart(figure: go.Figure, draw, name: str, *args) -> str:
        draw(*args, charts / f"{name}.png")
        pictures.append(charts / f"{name}.png")
        return figure.to_html(full_html=False, include_plotlyjs=False)

    # The roundabout from real data: first, as it is the finding the real rows support.
    windows, months, totals = rows_of(ROUNDABOUT_SQL), rows_of(ROUNDABOUT_MONTHS_SQL), rows_of(TOTALS_SQL)
    if windows.height:
        first, last = months["month"].min(), months["month"].max()
        months_period = f"{first:%Y-%m} to {last:%Y-%m}, monthly, real data" if months.height else "no monthly rows, real data"
        targets = ", ".join(months["target_iso3"].unique(maintain_order=True).to_list()) or "the target"
        title = f"Real exports of the goods an export ban into {targets} lists: to {targets} and to its neighbours, by month"
        rows = [[r["frequency"], r["currency"], r["target_iso3"], f"{r['before_start']}..{r['before_end']}",
                 f"{r['after_start']}..{r['after_end']}", r["destination_group"], r["product_group"],
                 f"{r['before_value'] / 1e6:,.1f}", f"{r['after_value'] / 1e6:,.1f}",
                 "—" if r["change"] is None else f"{r['change']:+.1%}"] for r in windows.iter_rows(named=True)]
        total_rows = [[r["exporter_iso3"], r["importer_iso3"], r["year"], r["currency"], f"{r['value'] / 1e9:,.2f}"]
                      for r in totals.iter_rows(named=True)]
        sections.append(section(
            "roundabout", "Did trade that sanctions stopped go round through the neighbours?",
            "Exports to the sanctioned country and to its neighbours (ref.neighbours), after the sanctions began against the "
            "same months (or year) before, by product group: chpl (Common High Priority List), sanctioned (an export ban into "
            "the target lists the goods), other.",
            months_period, "<code>data_status = 'real'</code> only (Eurostat Comext, CEPII BACI): observed values, no rule "
            "allocates anything here; each currency as the source reports it, never added across currencies or frequencies.",
            chart(roundabout_figure(months, title), draw_roundabout_png, "roundabout", months, title)
            + table(["frequency", "currency", "target", "before", "after", "destination", "product group",
                     "before (M)", "after (M)", "change"], rows)
            + (table(["exporter", "importer", "year", "currency", "total goods (bn)"], total_rows) if total_rows else "")))

    # Where the value goes: categories → corridors → channels, summed over the whole period.
    sankey_alloc = ratio(links["allocated_musd"].sum(), links["musd"].sum())
    title = f"Goods category → corridor → payment channel, M USD summed over {periods['corridor'].split(',')[0]} (red: goods restricted on their date)"
    sections.append(section(
        "where-value-goes", "Where the value goes",
        "Iran–Russia trade by what is traded, which corridor carries it and how it is paid, with goods restricted on their date in red.",
        periods["corridor"], f"{rests}; <b>{pct(sankey_alloc)}</b> of this value has its corridor or channel allocated by a sourced "
        "rule; value no observation or source places goes to the Unknown nodes.",
        chart(sankey_figure(links, title), draw_sankey_png, "sankey", links, title)))

    # Channel mix: shares per year, with the allocated share drawn on the same axis.
    channels, channel_alloc = shares_by_year(channel_rows, "channel"), allocated_by_year(channel_rows)
    title = f"Payment channels, share of IRN↔RUS value by year ({periods['pair'].split(',')[0]}); dashed: share allocated by rule"
    sections.append(section(
        "channels", "How fast is Iran–Russia trade leaving the dollar?",
        "Each payment channel's share of Iran–Russia trade by year.",
        periods["pair"], f"{rests}; <b>{pct(ratio(channel_rows['allocated'].sum(), channel_rows['value'].sum()))}</b> of this value "
        "has its channel allocated by rule (dashed line, per year): shifts in that part come from the rules, not from observations.",
        chart(area_figure(channels, channel_alloc, title), draw_area_png, "channel_mix", channels, channel_alloc, title)))

    # Corridors in USD: observed, allocated by a sourced rule (hatched), and unknown in grey.
    corridor_alloc = ratio(corridors["allocated"].sum(), corridors["observed"].sum() + corridors["allocated"].sum())
    unknown_route = ratio(corridors.filter(pl.col("corridor").str.starts_with("Unknown"))["observed"].sum(),
                          corridors["observed"].sum() + corridors["allocated"].sum())
    title = f"Corridors, IRN↔RUS value by year ({periods['corridor'].split(',')[0]}); hatched: allocated by rule; grey: unknown"
    sections.append(section(
        "corridors", "Which corridors carry it?",
        "Value carried on each corridor per year, split into what the records show, what a sourced rule assigns, and what "
        "nobody knows.",
        periods["corridor"], f"{rests}; <b>{pct(corridor_alloc)}</b> of this value has its corridor allocated by a sourced rule "
        f"(hatched) and <b>{pct(unknown_route)}</b> has no known corridor (grey): no source splits it, so it is not spread over "
        "the corridors by a guess.",
        chart(corridor_figure(corridors, title), draw_corridor_png, "corridor_flows", corridors, title)))

    # Route risk: the top routes of each data_status, never ranked together.
    headers = ["year", "frequency", "rank", "goods category", "corridor", "payment channel", "transit", "value (M USD)",
               "risk score", "circumvention", "in reach", "undetermined", "covered", "CHPL score", "traceability score",
               "hub share", "size score", "rests on"]
    tables = []
    for s, (top, route_period, route_alloc) in routes.items():
        rows = [[r["year"], r["frequency"], r["risk_rank"], r["category"], r["corridor"], r["channel"], r["transit"],
                 musd(r["value_usd"]), f"{r['risk_score']:.3f}",
                 *(pct(r[c]) for c in ("circumvention_share", "in_reach_share", "undetermined_share", "covered_share")),
                 *(f"{r[c]:.2f}" for c in ("chpl_score", "traceability_score")), pct(r["hub_share"]), f"{r['size_score']:.2f}",
                 "allocation or unknown" if r["rests_on_allocation"] else "observation"]
                for r in top.iter_rows(named=True)]
        tables.append(f'<h3>Top {TOP_ROUTES} routes of the latest year, <code>data_status = \'{html.escape(s)}\'</code></h3>'
                      f'<p class="basis"><b>Period:</b> <span class="period">{html.escape(route_period)}</span>. '
                      f"<b>Rests on:</b> <code>data_status = '{html.escape(s)}'</code>; <b>{pct(route_alloc)}</b> of all its routes' "
                      f"value has its channel or corridor allocated by rule.</p>{table(headers, rows)}")
    sections.append(section(
        "route-risk", "Which routes most look like sanctions evasion?",
        "Routes (goods category, corridor, payment channel, transit country) of a year ranked by a transparent score: "
        "0.30 × circumvention + 0.10 × in reach + 0.20 × CHPL score + 0.15 × traceability score + 0.10 × hub share "
        "+ 0.15 × size score (the route's value on a log scale against the year's largest). Routes whose channel or "
        "corridor is allocated by rule or unknown rest on that and come after the observed ones.",
        "; ".join(p for _, p, _ in routes.values()),
        "each data_status ranked on its own, within a year and frequency. Circumvention: value a targeted restriction covers "
        "that the data say none of its authorities can reach; in reach: covered and reachable on what the data say (potential "
        "breach); undetermined: reach rests on an allocated or unknown channel or corridor, and scores nothing; CHPL score: how high the goods sit on the Common High "
        "Priority List; traceability score: how opaque the channel is; hub share: value through a FinCEN/BIS transshipment hub.",
        "".join(tables)))

    # Transshipment: the third-country surge of the top intermediaries after the baseline, with the mirror gap.
    baseline = trans["baseline_years"][0] if trans.height else "—"
    after = trans.filter(pl.col("year") > int(baseline[-4:])) if trans.height else trans
    top = after.group_by("intermediary").agg(pl.col("value_usd").sum()).sort("value_usd", descending=True)["intermediary"][:TOP_INTERMEDIARIES]
    trans = trans.filter(pl.col("intermediary").is_in(top.implode())).sort(pl.col("intermediary").replace_strict(
        top, list(range(len(top)))), "year") if trans.height else trans
    trans_period = (f"{trans['year'].min()} to {trans['year'].max()}, yearly sums of monthly flows, baseline {baseline}, "
                    f"{STATUS_WORDS.get(status, status)}") if trans.height else "no rows"
    title = f"Imports of third countries from non-targets, top {TOP_INTERMEDIARIES} intermediaries, M USD by year ({trans_period.split(',')[0]})"
    rows = [[r["intermediary"], r["year"], "yes" if r["hub"] else "no", musd(r["value_usd"]),
             "—" if r["growth_vs_baseline"] is None else f"{r['growth_vs_baseline']:+.0%}", musd(r["exporter_reported_usd"]),
             musd(r["importer_reported_usd"]), pct(r["mirror_gap_share"]), musd(r["reexports_to_targets_usd"])]
            for r in trans.filter(pl.col("year") > int(baseline[-4:])).iter_rows(named=True)] if trans.height else []
    trans_alloc = ratio(trans["allocated_usd"].sum(), trans["value_usd"].sum())
    sections.append(section(
        "transshipment", "Where do third countries suddenly import what sanctioned economies may no longer buy?",
        f"Imports of the top intermediaries (countries that are not sanctions targets) from non-targets, against their "
        f"{baseline} monthly average, and how far the exporters' reports exceed the intermediaries' own (the mirror gap).",
        trans_period, f"{rests}; these figures are not split by channel or corridor, so allocation does not change them "
        f"({pct(trans_alloc)} of this value has no observed channel or corridor).",
        chart(transshipment_figure(trans, title), draw_transshipment_png, "transshipment", trans, title)
        + table(["intermediary", "year", "transshipment hub", "value (M USD)", "monthly value vs baseline",
                 "exporter-reported (M USD)", "importer-reported (M USD)", "mirror gap (share of exporter-reported)",
                 "sent on to sanctions targets (M USD)"], rows)))

    # Sanctioned exposure: per authority, never added across authorities.
    exposure_period = (f"{period_text(first_month, last_month, ['monthly'], status)}"
                       if first_month else f"no rows, {STATUS_WORDS.get(status, status)}")
    title = f"Value covered by each authority's restrictions: in reach, out of reach, undetermined, M USD by year ({exposure_period.split(',')[0]})"
    rows = [[r["authority"], r["kind"], r["year"], musd(r["covered"]), musd(r["in_reach"]), musd(r["circumvention"]),
             musd(r["undetermined"]), pct(r["allocated_share"])] for r in exposure.iter_rows(named=True)]
    sections.append(section(
        "sanctioned-exposure", "How much covered trade slips past the authority that covers it?",
        "Trade a sanctions authority's measures cover (for the days they are in force), split into what that authority can "
        "reach (a potential breach), what the data say it cannot (circumvention: lawful for the parties involved, and the "
        "story of this report), and what rests on a channel or corridor nobody observed (undetermined, in grey).",
        exposure_period, f"{rests}; each authority is counted on its own (a flow two authorities cover appears under both, "
        "so the authorities are never added up); the allocated share of each row is in the table.",
        chart(exposure_figure(exposure, title), draw_exposure_png, "sanctioned_exposure", exposure, title)
        + table(["authority", "kind", "year", "covered (M USD)", "in reach (M USD)", "circumvention (M USD)",
                 "undetermined (M USD)", "allocated by rule"], rows)))

    claims_period = (f"{min(claims['period'].str.head(7))} to {max(claims['period'].str.tail(7))}, each claim over its own period"
                     if claims.height else "no claims")
    sections.append(section(
        "claims", "What officials said, and what the data says",
        "Public claims about this trade next to the figure the warehouse gives for the same metric, scope and period.",
        claims_period, "the warehouse rows of each claim's scope. A claim the data were tuned to (the sample was generated to "
        "meet it) is <i>calibrated (no evidence)</i>, in grey: agreement with it proves nothing.", claims_table(claims)))

    published = dt.datetime.now(dt.UTC).replace(microsecond=0)
    caveat = ": generated to match published figures, not customs data" if status == "illustrative" else ""
    page = PAGE.format(plotly_js=plotly.offline.get_plotlyjs(), warehouse=html.escape(shown_as),
                       published_iso=published.isoformat(), published=f"{published:%Y-%m-%d %H:%M} UTC",
                       sources=sources_table(sources), status_caveat=caveat,
                       run_meta=run_id_meta(run_id), run_id=html.escape(run_id),
                       status=html.escape(status), status_words=html.escape(STATUS_WORDS.get(status, status)),
                       headline=pct(sankey_alloc), sections="\n".join(sections))
    report = folder / "report.html"
    staged = folder / "report.html.tmp"
    staged.write_text(page, encoding="utf-8")
    staged.replace(report)
    return [report, *pictures]
