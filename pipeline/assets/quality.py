"""Great Expectations suites on the reference tables, the marts and the sanctions hits, run as one
Dagster multi-asset check (one GE context, one import) with a blocking check per table. GE runs on
pandas frames of small tables or of audit queries (quality/*.sql) that reduce a big mart to one row
per month, never on the big flow tables. A run over some months checks only those months of the marts kept
by month (their audit queries give a row per month), unless it rebuilt the mart whole: the other months are as
the runs that built them left them, and were checked by those.
An expectation that raised an exception counts as failed. Data Docs are rebuilt on every run and
made readable offline."""

import html
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from pipeline.assets.enrich import ROUTED_FLOWS
from pipeline.assets.ingest import ref_key
from pipeline.assets.marts import BY_MONTH, mart_assets
from pipeline.assets.tables import markdown_table
from pipeline.months import Window, every_month, window
from pipeline.resources import SeedsFolder
from pipeline.storage.warehouse import POOL, Warehouse, read_sql, run_id_meta
from schemas import REFERENCE_SEEDS

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
SHARE_SLACK = 1e-9
ROUTE = ("data_status", "year", "frequency", "category_id", "corridor_id", "channel_id", "transit_iso3")
CENT = 0.01


@dataclass
class Suite:
    table: str
    asset_key: dg.AssetKey
    query: str
    expectations: list = field(default_factory=list)

    @property
    def checked_columns(self) -> list[str]:
        """The columns its expectations name (none: a table-level expectation only)."""
        names = []
        for expectation in self.expectations:
            names += [getattr(expectation, name, None) for name in ("column", "column_A", "column_B")]
            names += getattr(expectation, "column_list", None) or []
        return list(dict.fromkeys(name for name in names if name))

    @property
    def by_month(self) -> bool:
        """A mart kept by month, whose audit query gives a row per `month`."""
        return self.table.removeprefix("marts.") in BY_MONTH

    @property
    def on_audit_query(self) -> bool:
        """The expectations run on the rows of an audit query (quality/*.sql), not on the table's own."""
        return self.query != f"SELECT * FROM {self.table}"


def unique(*columns: str):
    import great_expectations.expectations as gxe

    if len(columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(column=columns[0])
    return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(columns))


def suites() -> list[Suite]:
    import great_expectations.expectations as gxe

    def between(column, low, high):
        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)

    def sums_to_one(column="month_share_total"):
        return between(column, 1 - SHARE_SLACK, 1 + SHARE_SLACK)

    def totals_match():
        return gxe.ExpectColumnPairValuesToBeEqual(column_A="mart_total", column_B="core_total")

    def audit(name):
        return read_sql(__file__, f"quality/{name}.sql")

    result = [
        Suite(
            f"ref.{seed.name}",
            ref_key(seed.name),
            f"SELECT * FROM ref.{seed.name}",
            [unique(*key) for key in seed.key_columns] + [gxe.ExpectTableRowCountToBeBetween(min_value=1)],
        )
        for seed in REFERENCE_SEEDS
    ]
    mart = lambda name: dg.AssetKey(["marts", name])  # noqa: E731
    result += [
        Suite(
            "marts.channel_mix",
            mart("channel_mix"),
            audit("channel_mix"),
            [
                unique("month"),
                between("duplicate_keys", 0, 0),
                between("min_share", 0, 1),
                between("max_share", 0, 1),
                between("worst_share_total_error", 0, SHARE_SLACK),
                between("min_value_usd", 0, None),
                totals_match(),
            ],
        ),
        Suite(
            "marts.corridor_flows",
            mart("corridor_flows"),
            audit("corridor_flows"),
            [unique("month", "data_status", "corridor_id"), between("share_of_month", 0, 1), sums_to_one(), between("value_usd", 0, None), totals_match()],
        ),
        Suite(
            "marts.sanctioned_exposure",
            mart("sanctioned_exposure"),
            audit("sanctioned_exposure"),
            [
                unique("month", "authority"),
                between("duplicate_keys", 0, 0),
                between("min_value_usd", 0, None),
                between("min_share", 0, 1),
                between("max_share", 0, 1),
                between("split_error", 0, 0),
                totals_match(),
            ],
        ),
        Suite(
            "marts.route_risk",
            mart("route_risk"),
            audit("route_risk"),
            [unique(*ROUTE), unique("data_status", "year", "frequency", "risk_rank")]
            + [between(c, 0, 1) for c in ("covered_share", "in_reach_share", "circumvention_share", "undetermined_share",
                                          "chpl_score", "traceability_score", "avoids_restricting_share", "hub_share",
                                          "size_score", "risk_score")]
            + [between("covered_split_error", 0, 0), between("value_usd", 0, None), totals_match()],
        ),
        Suite(
            "marts.transshipment_signals",
            mart("transshipment_signals"),
            "SELECT * FROM marts.transshipment_signals",
            [unique("data_status", "frequency", "intermediary_iso3", "category_id", "chpl_tier", "year"),
             between("value_usd", 0, None)],
        ),
        Suite(
            "marts.bilateral_balance",
            mart("bilateral_balance"),
            audit("bilateral_balance"),
            [unique("year", "data_status", "exporter_iso3", "importer_iso3", "category_id"), between("value_usd", 0, None), totals_match()],
        ),
        Suite(
            "marts.roundabout",
            mart("roundabout"),
            audit("roundabout"),
            [unique("data_status", "frequency", "target_iso3", "currency", "after_start"),
             between("mart_total", 0, None), between("relative_error", 0, 1e-12)],
        ),
        Suite(
            "marts.claims_check",
            mart("claims_check"),
            "SELECT * FROM marts.claims_check",
            [unique("claim_id"), gxe.ExpectColumnValuesToNotBeNull(column="data_value", mostly=0.5)],
        ),
        Suite(
            "core.flow_sanctions",
            ROUTED_FLOWS,
            audit("flow_sanctions"),
            [
                unique("measure_id"),
                gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                    column_A="first_period_end_flagged", column_B="day_after_effective", or_equal=True
                ),
            ],
        ),
    ]
    return result


@dataclass
class SuiteResult:
    suite: Suite
    evaluated: int
    failed: list[tuple[str, str, str]]  # (expectation, column, unexpected count or "exception")
    checked_rows: int  # of the suite's query
    table_rows: int
    months: str | None = None  # YYYY-MM..YYYY-MM: the months checked, where not every month was

    @property
    def rows_text(self) -> str:
        checked = f"; checked on {self.checked_rows_text} of its audit query" if self.suite.on_audit_query else ""
        return f"{self.table_rows:,} rows{checked}{self.months_text}"

    @property
    def checked_rows_text(self) -> str:
        return f"{self.checked_rows:,} row{'' if self.checked_rows == 1 else 's'}"

    @property
    def months_text(self) -> str:
        return f", months {self.months} (the months this run rebuilt)" if self.months else ""


CHECK_NAME = "great_expectations"
CHECKED_KEYS = [
    *(ref_key(s.name) for s in REFERENCE_SEEDS),
    *(a.key for a in mart_assets),
    ROUTED_FLOWS,
]


def raised(exception_info) -> bool:
    """GE nests exception info by metric; any raised exception anywhere means the engine failed."""
    if isinstance(exception_info, dict):
        if exception_info.get("raised_exception"):
            return True
        return any(raised(v) for v in exception_info.values() if isinstance(v, dict))
    return bool(getattr(exception_info, "raised_exception", False))




# A CDN file GE's pages load → its local copy in static/vendor/ (from the XStatic packages). The
# Bootstrap bundle carries the Popper that GE loads on its own. The other CDN files are dropped:
# bootstrap-table and its datepicker fill only GE's own index, which ours replaces; Vega draws only
# the charts of profiling pages, which are not built; bootstrap-dark would only restyle for a dark
# desktop theme.
VENDOR = {
    r"/jquery-[\d.]+\.min\.js$": "jquery.min.js",
    r"/bootstrap/4[\d.]+/css/bootstrap\.min\.css$": "bootstrap.min.css",
    r"/bootstrap/4[\d.]+/js/bootstrap\.min\.js$": "bootstrap.bundle.min.js",
    r"/font-awesome/6[\d.]+/css/all\.min\.css$": "fontawesome/css/all.min.css",
}
CDN_TAG = re.compile(r'<link[^>]+href="https?://[^"]+"[^>]*>|<script[^>]+src="https?://[^"]+"[^>]*>\s*</script>')
GE_IMAGE = re.compile(r"https://great-expectations-web-assets[^\"')]+")


def copy_vendor(static: Path) -> None:
    import xstatic.pkg.bootstrap
    import xstatic.pkg.font_awesome
    import xstatic.pkg.jquery

    vendor = static / "vendor"
    fonts = Path(xstatic.pkg.font_awesome.BASE_DIR)
    (vendor / "fontawesome" / "css").mkdir(parents=True)
    (vendor / "fontawesome" / "webfonts").mkdir()
    shutil.copy(Path(xstatic.pkg.jquery.BASE_DIR, "jquery.min.js"), vendor)
    shutil.copy(Path(xstatic.pkg.bootstrap.BASE_DIR, "css", "bootstrap.min.css"), vendor)
    shutil.copy(Path(xstatic.pkg.bootstrap.BASE_DIR, "js", "bootstrap.bundle.min.js"), vendor)
    shutil.copy(fonts / "LICENSE.txt", vendor / "fontawesome")  # CC BY: the icons' credit travels with them
    shutil.copy(fonts / "css" / "all.min.css", vendor / "fontawesome" / "css")
    for font in (fonts / "webfonts").glob("*.woff2"):  # every browser that runs the pages reads woff2
        shutil.copy(font, vendor / "fontawesome" / "webfonts")


def local_tag(tag: str, static: str) -> str:
    url = re.search(r'(?:href|src)="([^"]+)"', tag)[1]
    local = next((name for pattern, name in VENDOR.items() if re.search(pattern, url)), None)
    if local is None:
        return ""
    # integrity/crossorigin would make Chromium fetch a file:// script in CORS mode and refuse it.
    return re.sub(r'\s(?:integrity|crossorigin)="[^"]*"', "", tag.replace(url, f"{static}/vendor/{local}"))


def offline_css(text: str, static: str) -> str:
    """The logo from S3 → the local one; GE's dark-theme overrides off, as bootstrap-dark (which
    they complete) is not shipped and half a dark theme leaves light text on white."""
    text = GE_IMAGE.sub(f"{static}/images/logo-long.png", text)
    return text.replace("@media (prefers-color-scheme: dark)", "@media not all")


def make_offline(site: Path) -> None:
    """GE's pages load jQuery, Bootstrap, Font Awesome, Vega, ... from CDNs and the logo from S3,
    and end with a newsletter banner. Point them at local copies, drop the rest, so the pages render
    and run without a network (and tell nobody that they were opened)."""
    copy_vendor(site / "static")
    for css in (site / "static" / "styles").glob("*.css"):
        css.write_text(offline_css(css.read_text(encoding="utf-8"), ".."), encoding="utf-8")
    for page in site.rglob("*.html"):
        static = "/".join([".."] * (len(page.relative_to(site).parts) - 1) + ["static"])
        html = CDN_TAG.sub(lambda tag: local_tag(tag[0], static), page.read_text(encoding="utf-8"))
        html = re.sub(r'((?:href|src)=")(?:\.\./)*static/', rf"\g<1>{static}/", html)  # GE's favicon path is one level short
        html = re.sub(r"<footer>.*?</footer>", "", html, flags=re.S)  # GE's only footer: "Subscribe" to the newsletter
        page.write_text(offline_css(html, static), encoding="utf-8")


# Blocking on the marts, so a failed suite stops the publish. On the reference tables and the
# sanctions hits a blocking check would make every downstream asset wait for this one step, which
# itself waits for the marts: they are checked (and guarded by their contracts and SQL audits) but
# do not block.
BLOCKING_KEYS = {a.key for a in mart_assets}


# The tables the run rebuilt whole (settle_window records each full rebuild, and a window widened to every month).
REBUILT_WHOLE_SQL = "SELECT table_name FROM quality.window_basis WHERE run_id = $run_id"


def run_suites(con, site: Path, run_id: str, months: Window | None = None) -> list[SuiteResult]:
    """Validate every suite on frames read through `con` (a mart kept by month: on `months` only, where given, not
    every month, and run `run_id` did not rebuild it whole); write Data Docs (offline) into `site`, their index
    naming the run that validated."""
    import great_expectations as gx

    partial = months is not None and not months.full
    whole = {table for (table,) in con.execute(REBUILT_WHOLE_SQL, {"run_id": run_id}).fetchall()} if partial else set()

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False}
    ctx.add_data_docs_site(
        "detour",
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    datasource = ctx.data_sources.add_pandas("warehouse")
    results = []
    for suite in suites():
        batch = datasource.add_dataframe_asset(suite.table).add_batch_definition_whole_dataframe("all")
        gx_suite = ctx.suites.add(gx.ExpectationSuite(name=suite.table, expectations=suite.expectations))
        definition = ctx.validation_definitions.add(gx.ValidationDefinition(name=suite.table, data=batch, suite=gx_suite))
        # GE gets the columns its expectations name (a missing one fails its expectation): it fingerprints every
        # frame, and one with list columns (`fx_rate_types`, `measure_ids`) it can only pickle, which took 2.7 s of 9.5 at 10M
        scoped = partial and suite.by_month and suite.table not in whole
        relation = (con.sql(f"SELECT * FROM ({suite.query}) WHERE month >= $window_start AND month < $window_end",
                            params=months.params) if scoped else con.sql(suite.query))
        present = [f'"{column}"' for column in suite.checked_columns if column in relation.columns]
        frame = (relation.project(", ".join(present)) if present else relation).df()
        validation = definition.run(batch_parameters={"dataframe": frame})
        failed = [
            (
                r.expectation_config.type,
                str(r.expectation_config.kwargs.get("column") or r.expectation_config.kwargs.get("column_list") or ""),
                "exception" if raised(r.exception_info) else str(r.result.get("unexpected_count", "")),
            )
            for r in validation.results
            if not r.success or raised(r.exception_info)
        ]
        table_rows = con.sql(f"SELECT count(*) FROM {suite.table}").fetchone()[0]
        results.append(SuiteResult(suite, len(validation.results), failed, len(frame), table_rows,
                                   months.span if scoped else None))
    ctx.build_data_docs(site_names=["detour"])
    make_offline(site)
    write_index(site, results, run_id)
    return results


def write_index(site: Path, results: list[SuiteResult], run_id: str) -> None:
    """Our index in place of GE's, which fills its tables with bootstrap-table (not shipped) and
    lists the same pages; ours also gives each table's own row count."""
    rows = []
    for result in results:
        parts = result.suite.table.split(".")
        validation = next((site / "validations").joinpath(*parts).rglob("*.html"), None)
        suite_page = (site / "expectations").joinpath(*parts[:-1], parts[-1] + ".html")
        status = "passed" if not result.failed else f"failed: {', '.join(f'{t} {c}' for t, c, _ in result.failed)}"
        checked = f"audit query: {result.checked_rows_text}" if result.suite.on_audit_query else "the table"
        checked += result.months_text
        rows.append(
            f'<tr><th scope="row">{html.escape(result.suite.table)}</th>'
            f'<td class="{"text-success" if not result.failed else "text-danger"}">{html.escape(status)}</td>'
            f'<td class="text-right">{result.evaluated - len(result.failed)} / {result.evaluated}</td>'
            f'<td class="text-right">{result.table_rows:,}</td><td>{checked}</td>'
            f'<td><a href="{validation.relative_to(site) if validation else ""}">validation</a> · '
            f'<a href="{suite_page.relative_to(site)}">suite</a></td></tr>'
        )
    page = INDEX.format(run_meta=run_id_meta(run_id), run_id=html.escape(run_id), rows="\n".join(rows))
    (site / "index.html").write_text(page, encoding="utf-8")


INDEX = """<!doctype html><html lang="en"><head><meta charset="utf-8">{run_meta}<title>Detour · Data Docs</title>
<link rel="stylesheet" href="static/vendor/bootstrap.min.css">
<link rel="shortcut icon" href="static/images/favicon.ico" type="image/x-icon">
</head><body><main class="container-fluid px-5 py-4">
<h1 class="h3">Detour · Great Expectations Data Docs</h1>
<p class="lead">One suite per reference table and mart, validated on the last build. "Rows" counts the
table; most marts are checked on an audit query that adds check columns or reduces them to a row per month. A run
over some months checks those months of the marts kept by month, and "checked on" names them.
Validated by run <code>{run_id}</code>.</p>
<table class="table table-sm table-hover"><thead class="thead-light"><tr><th>table</th><th>result</th>
<th class="text-right">expectations met</th><th class="text-right">rows</th><th>checked on</th><th>pages</th></tr></thead>
<tbody>
{rows}
</tbody></table></main></body></html>
"""


BUILD_SNAPSHOT = "build_snapshot"


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            blocking=key in BLOCKING_KEYS,
            description="Great Expectations suite (Data Docs in docs/ beside the published warehouse)",
        )
        for key in CHECKED_KEYS
    ],
    description="Great Expectations suites on reference tables, marts and sanctions hits; Data Docs rebuilt offline.",
    pool=POOL,
    can_subset=True,
)
def great_expectations_suites(context: dg.AssetCheckExecutionContext, warehouse: Warehouse, seeds: SeedsFolder):
    # Every suite runs (they are small) so the Data Docs stay whole; results go to the selected checks.
    selected = {key.asset_key for key in context.selected_asset_check_keys}
    # Data Docs of the build, beside it; the publish puts them in the published set with the database
    staging = warehouse.docs_staging()
    months = window(context, every_month(seeds.folder))
    with warehouse.settled() as (con, snapshot):
        results = run_suites(con, staging, context.run.run_id, months)
    warehouse.swap_docs(staging)
    docs = warehouse.published_path.parent / "docs"
    for result in results:
        if result.suite.asset_key not in selected:
            continue
        yield dg.AssetCheckResult(
            asset_key=result.suite.asset_key,
            check_name=CHECK_NAME,
            passed=not result.failed,
            description=f"{result.evaluated - len(result.failed)} of {result.evaluated} expectations met ({result.rows_text})",
            metadata={
                "failed_expectations": dg.MetadataValue.md(
                    markdown_table(pl.DataFrame(result.failed, schema=["expectation", "column", "unexpected"], orient="row"))
                ),
                "data_docs": dg.MetadataValue.path(str(docs / "index.html")),
                # lake mode: the build's snapshot the suites read, which this run's publish must copy
                **({BUILD_SNAPSHOT: snapshot} if snapshot is not None else {}),
            },
        )
