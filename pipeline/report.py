"""The report people open first: a self-contained HTML page (report.html, plotly.js inlined, no
network needed) and PNG charts of the same (charts/*.png), drawn from the published marts."""

import html
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import plotly.offline  # noqa: E402
import polars as pl  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

RESTRICTED = "rgba(200, 40, 40, 0.55)"
OPEN = "rgba(120, 140, 160, 0.35)"
SANKEY_SQL = """
WITH goods_hits AS (
    SELECT DISTINCT s.flow_id, s.route_seq
    FROM core.route_sanctions s JOIN ref.sanctions_measures m USING (measure_id)
    WHERE m.target_type IN ('hs_code', 'hs_prefix') AND NOT s.is_obligation
)
SELECT coalesce(g.name, 'Uncategorised') AS category, c.name AS corridor, p.name AS channel,
       h.flow_id IS NOT NULL AS restricted_goods, sum(r.value_usd)::DOUBLE / 1e6 AS musd
FROM core.routed_flows r
JOIN ref.corridors c USING (corridor_id)
JOIN ref.payment_channels p USING (channel_id)
LEFT JOIN ref.goods_categories g USING (category_id)
LEFT JOIN goods_hits h USING (flow_id, route_seq)
WHERE r.canonical
GROUP BY ALL HAVING sum(r.value_usd) > 0
"""
CHANNEL_MIX_SQL = """
SELECT year(month) AS year, channel_id, sum(value_usd)::DOUBLE AS value
FROM marts.channel_mix
WHERE exporter_iso3 IN ('IRN', 'RUS') AND importer_iso3 IN ('IRN', 'RUS')
GROUP BY ALL ORDER BY ALL
"""
CORRIDOR_SQL = "SELECT year(month) AS year, corridor_id, sum(value_usd)::DOUBLE AS value FROM marts.corridor_flows GROUP BY ALL ORDER BY ALL"
CLAIMS_SQL = """
SELECT claim_id, metric, scope, period_start, period_end, claimed_value, relation, tolerance, data_value,
       relative_difference, agrees, comparable, calibrated, speaker, source
FROM marts.claims_check ORDER BY metric, period_start
"""


def shares_by_year(df: pl.DataFrame, key: str) -> pl.DataFrame:
    """Wide table: one row per year, one column per key, shares of the year summing to 1."""
    wide = df.pivot(on=key, index="year", values="value").fill_null(0).sort("year")
    columns = [c for c in wide.columns if c != "year"]
    total = wide.select(pl.sum_horizontal(columns)).to_series()
    return wide.with_columns(pl.col(c) / total for c in columns)


def sankey_figure(links: pl.DataFrame) -> go.Figure:
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
            node={"label": nodes, "pad": 12, "thickness": 14},
            link={
                "source": source,
                "target": target,
                "value": [*first["musd"], *second["musd"]],
                "color": [RESTRICTED if r else OPEN for r in restricted],
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,.0f} M USD<extra></extra>",
            },
        )
    )
    figure.update_layout(
        title="Goods category → corridor → payment channel (M USD; red: goods restricted on their date)",
        height=700, margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return figure


def area_figure(wide: pl.DataFrame, title: str) -> go.Figure:
    figure = go.Figure()
    for column in [c for c in wide.columns if c != "year"]:
        figure.add_trace(go.Scatter(x=wide["year"], y=wide[column], name=column, stackgroup="one", mode="lines"))
    figure.update_layout(title=title, yaxis={"tickformat": ".0%"}, height=420)
    return figure


def claims_table(claims: pl.DataFrame) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
        return html.escape("" if value is None else str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in claims.columns)
    rows = []
    for row in claims.iter_rows(named=True):
        mark = {True: "agrees", False: "disagrees", None: "no-data"}[row["agrees"]]
        rows.append(f'<tr class="{mark}">' + "".join(f"<td>{cell(v)}</td>" for v in row.values()) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Detour — how trade is routed around sanctions</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; font-size: .85rem; }} th, td {{ border: 1px solid #ddd; padding: .25rem .4rem; }}
tr.disagrees {{ background: #fde2e1; }} tr.agrees {{ background: #e6f4ea; }} .note {{ color: #555; }}
</style>
<script>{plotly_js}</script></head><body>
<h1>Detour: how trade is routed around sanctions</h1>
<p class="note">Built from <code>{warehouse}</code>. The charts add up monthly flows: the shipped ones are an
illustrative sample calibrated to published figures, not customs data (<code>data_status = 'illustrative'</code>).
The real rows the warehouse also ships, CEPII, BACI (Gaulier &amp; Zignago 2010), China↔Russia 2017–2023, are annual
(<code>data_status = 'real'</code>) and are not in these month-level charts; see the README's first worked example.</p>
<h2>Where the value goes</h2>{sankey}
<h2>How fast is IRN↔RUS trade leaving the dollar?</h2>{channels}
<h2>Which corridors carry it?</h2>{corridors}
<h2>What officials said, and what the data says</h2>{claims}
</body></html>
"""


def draw_sankey_png(links: pl.DataFrame, path: Path) -> None:
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
    ax.set_title("Goods category → corridor → payment channel (red: goods restricted on their date)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_area_png(wide: pl.DataFrame, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(10, 5))
    columns = [c for c in wide.columns if c != "year"]
    ax.stackplot(wide["year"].to_numpy(), np.vstack([wide[c].to_numpy() for c in columns]), labels=columns)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.legend(loc="center left", bbox_to_anchor=(1, 0.5), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(warehouse: Path) -> list[Path]:
    """Write report.html and charts/*.png beside the published warehouse; return their paths."""
    folder = warehouse.parent
    charts = folder / "charts"
    charts.mkdir(exist_ok=True)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        links = con.sql(SANKEY_SQL).pl()
        channels = shares_by_year(con.sql(CHANNEL_MIX_SQL).pl(), "channel_id")
        corridors = shares_by_year(con.sql(CORRIDOR_SQL).pl(), "corridor_id")
        claims = con.sql(CLAIMS_SQL).pl()
    channel_title = "Payment channels, share of IRN↔RUS value by year"
    corridor_title = "Corridors, share of value by year"
    figures = [sankey_figure(links), area_figure(channels, channel_title), area_figure(corridors, corridor_title)]
    sankey, channel_html, corridor_html = (f.to_html(full_html=False, include_plotlyjs=False) for f in figures)
    page = PAGE.format(
        plotly_js=plotly.offline.get_plotlyjs(),
        warehouse=html.escape(str(warehouse)),
        sankey=sankey,
        channels=channel_html,
        corridors=corridor_html,
        claims=claims_table(claims),
    )
    report = folder / "report.html"
    staged = folder / "report.html.tmp"
    staged.write_text(page, encoding="utf-8")
    staged.replace(report)
    draw_sankey_png(links, charts / "sankey.png")
    draw_area_png(channels, channel_title, charts / "channel_mix.png")
    draw_area_png(corridors, corridor_title, charts / "corridor_shares.png")
    return [report, charts / "sankey.png", charts / "channel_mix.png", charts / "corridor_shares.png"]
