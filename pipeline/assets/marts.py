"""Summary marts, one .sql file each (marts/<name>.sql), each answering one question in a sentence.
Every table and column carries a COMMENT; the publish step exports each mart to Parquet."""

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from pipeline.assets.core import trade_flows
from pipeline.assets.enrich import ROUTE_EXPOSURE, ROUTED_FLOWS
from pipeline.assets.ingest import OWNERS, ref_key
from pipeline.assets.tables import as_sentence, sample_note, set_table_comment, table_comment, table_metadata
from pipeline import settings
from pipeline.months import chunks, every_month, whole_years, window
from pipeline.resources import SeedsFolder
from pipeline.sample_flows import SOURCE_PREFIX
from pipeline.storage.warehouse import POOL, Warehouse, drop_tables, read_sql, run_sql, settle_window


# Stale when no refresh succeeded in the window (DETOUR_FRESHNESS_HOURS); warned at half of it.
FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=dt.timedelta(hours=settings.freshness_hours()),
    warn_window=dt.timedelta(hours=settings.freshness_hours() / 2),
)


class RoundaboutConfig(dg.Config):
    """When the sanctions began, and the year the trade after them is compared with."""

    first_month_after: str = "2022-03-01"  # the first full month after 24 Feb 2022 and the EU's bans of 25 Feb
    baseline_year: int = 2021


class TransshipmentConfig(dg.Config):
    """The pre-sanction baseline window growth is measured against."""

    baseline_first_year: int = 2019
    baseline_last_year: int = 2021


@dataclass(frozen=True)
class Grain:
    """What one row of a mart is, and which value columns may be summed over which key columns.
    The table comment says it, and a test proves that summing never counts a flow twice."""

    keys: tuple[str, ...]
    values: tuple[str, ...]
    not_summable_over: tuple[str, ...] = ()
    why_not: str = ""

    def sentence(self) -> str:
        over = [k for k in self.keys if k not in (*self.not_summable_over, DATA_STATUS)]
        text = f"Grain: one row per {' × '.join(self.keys)}. " + (
            f"{', '.join(self.values)} add up over {', '.join(over)}" if self.values
            else "It holds no value to add up: each row is read on its own")
        if self.not_summable_over:
            text += f"; not over {', '.join(self.not_summable_over)} ({self.why_not})"
        if DATA_STATUS in self.keys:
            text += f". {DATA_STATUS} keeps illustrative and real rows apart: filter on it, never add the two"
        return text + ". Canonical reports only: a trade both sides report counts once."


VALUE_COLUMNS = ("value_usd", "value_usd_alt_rate")
DATA_STATUS = "data_status"
# Month-level marts (channel_mix, corridor_flows, sanctioned_exposure) take monthly flows only; transshipment_signals
# and roundabout compare each frequency with itself; year-level bilateral_balance and route_risk take annual flows
# (CEPII BACI) too.
GRAINS = {
    "channel_mix": Grain(("month", DATA_STATUS, "exporter_iso3", "importer_iso3", "channel_id"), VALUE_COLUMNS),
    "corridor_flows": Grain(("month", DATA_STATUS, "corridor_id"), (*VALUE_COLUMNS, "tonnes")),
    "sanctioned_exposure": Grain(
        ("month", DATA_STATUS, "authority", "kind", "category_id", "corridor_id", "channel_id"),
        ("covered_value_usd", "in_reach_value_usd", "circumvention_value_usd", "undetermined_value_usd", "partial_month_value_usd",
         "non_dollar_value_usd", "low_traceability_value_usd", "avoiding_authority_value_usd", "value_usd_alt_rate"),
        ("authority",),
        "a flow covered by two authorities appears under each",
    ),
    "route_risk": Grain(
        ("year", "frequency", DATA_STATUS, "category_id", "corridor_id", "channel_id", "transit_iso3"),
        (*VALUE_COLUMNS, "covered_value_usd", "in_reach_value_usd", "circumvention_value_usd", "undetermined_value_usd"),
        ("frequency",), "an annual and a monthly source may report one trade",
    ),
    "transshipment_signals": Grain(
        (DATA_STATUS, "frequency", "intermediary_iso3", "category_id", "chpl_tier", "year"),
        ("value_usd", "reexports_to_targets_usd"), ("frequency",), "a year of monthly flows and an annual flow may be two "
        "sources of one trade",
    ),
    "bilateral_balance": Grain(
        ("year", DATA_STATUS, "exporter_iso3", "importer_iso3", "category_id"), VALUE_COLUMNS, ("category_id",),
        "category_id '*' rows hold each direction's total; sum the other categories or take '*'",
    ),
    "claims_check": Grain(("claim_id",), ()),
    "roundabout": Grain(
        (DATA_STATUS, "frequency", "target_iso3", "exporter_iso3", "destination_group", "product_group", "currency",
         "after_start"),
        ("before_value", "after_value", "change_value", "before_value_usd", "after_value_usd", "change_value_usd"),
        ("frequency", "currency", "after_start"),
        "a year holds its months; values in different currencies do not add (the *_usd columns do, over currency); "
        "windows overlap in their baseline",
    ),
}
def describe(con, name: str) -> None:
    """Append the grain, and whether the figures rest on the illustrative sample, to the table comment."""
    table = f"marts.{name}"
    set_table_comment(con, table, f"{as_sentence(table_comment(con, table))} {GRAINS[name].sentence()}{sample_note(con)}")


# Marts built month by month are refreshed by the run's months like the flows; the others aggregate across months.
BY_MONTH = {"channel_mix", "corridor_flows", "sanctioned_exposure"}
# Rewritten a whole year at a time: route_risk's scores and ranks are within a year; transshipment_signals' figures
# are per year, measured against baseline years that stay as they are unless the run rewrites them (rebuild_reason).
BY_YEAR = {"route_risk", "transshipment_signals"}
TABLE_EXISTS_SQL = ("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                    "AND schema_name || '.' || table_name = $table")


def rebuild_reason(con, table: str, years: dict, params: dict) -> str | None:
    """Why a run over `years` (whole_years) must rebuild a mart measured against baseline years whole, or None
    when it may leave the other years as they are: it would rewrite a baseline year, or the rows kept were
    measured against other baseline years than this run's config names."""
    if "baseline_first_year" not in params:
        return None
    first, last = params["baseline_first_year"], params["baseline_last_year"]
    text = f"{first}–{last}"  # as the mart's baseline_years column writes it
    if years["window_start"].year <= last and years["window_end"].year > first:
        return f"its months fall in the baseline years {text}"
    if (con.execute(TABLE_EXISTS_SQL, {"table": table}).fetchone()[0]
            and con.execute(f"SELECT count(*) FROM {table} WHERE baseline_years <> $text", {"text": text}).fetchone()[0]):
        return f"its rows were measured against other baseline years than {text}"
    return None


MARTS: dict[str, tuple[str, list[dg.AssetKey]]] = {
    "channel_mix": ("How fast is this trade leaving the dollar?", [ROUTED_FLOWS, ref_key("payment_channels")]),
    "corridor_flows": (
        "Which routes carry the trade, and how much shorter than Suez are they?",
        [ROUTED_FLOWS, ref_key("corridors"), ref_key("corridor_legs")],
    ),
    "sanctioned_exposure": (
        "How much restricted trade slips past the restricting authority?",
        [ROUTED_FLOWS, ROUTE_EXPOSURE, ref_key("payment_channels")],
    ),
    "route_risk": (
        "Which routes most look like sanctions evasion?",
        [ROUTED_FLOWS, ref_key("chpl"), ref_key("payment_channels"), ref_key("jurisdictions")],
    ),
    "transshipment_signals": (
        "Where do third countries suddenly import what sanctioned economies may no longer buy?",
        [trade_flows.key, ref_key("chpl"), ref_key("sanctions_measures"), ref_key("jurisdictions")],
    ),
    "bilateral_balance": (
        "Which way does trade with sanctioned economies run, and is it growing?",
        [trade_flows.key, ref_key("sanctions_measures")],
    ),
    "roundabout": (
        "Is trade that sanctions stopped going to the target now going to its neighbours?",
        [trade_flows.key, ref_key("neighbours"), ref_key("chpl"), ref_key("sanctions_measures")],
    ),
    "claims_check": (
        "Where does the data disagree with what officials said?",
        [trade_flows.key, ROUTED_FLOWS, ref_key("claims"), ref_key("goods_categories"), ref_key("corridor_legs")],
    ),
}


def build_mart(name: str, question: str, deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    sql = read_sql(__file__, f"marts/{name}.sql")
    table = f"marts.{name}"
    by_month, by_year = name in BY_MONTH, name in BY_YEAR

    def materialize(context: dg.AssetExecutionContext, warehouse: Warehouse, seeds: SeedsFolder, params: dict) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            con.execute("BEGIN TRANSACTION")
            if by_month or by_year:
                every = every_month(seeds.folder)
                win = window(context, every)
                if not win.full and (why := rebuild_reason(con, table, whole_years(win), params)):
                    context.log.info(f"{table}: every year is rebuilt, not only those of {win.span}: {why}")
                    win = every
                win = settle_window(con, table, win, every, context.run_id)
                params = {**params, **(whole_years(win) if by_year else win.params)}
            if not (by_month or by_year) or win.full:
                drop_tables(con, [table])
            # a mart kept by month is built a chunk of whole months at a time, as routing is: its figures are
            # per month, and one pass over ten years of 10M flows outgrew the memory limit
            for chunk in chunks(con, params) if by_month else [params]:
                run_sql(con, sql, {**chunk, "sample_source": SOURCE_PREFIX})
            describe(con, name)
            con.execute("COMMIT")
            return dg.MaterializeResult(metadata={**table_metadata(con, table), "question": question})

    spec = dict(
        key=dg.AssetKey(["marts", name]),
        description=f"{question}\n\nBuilt by `pipeline/assets/marts/{name}.sql` into `{table}`; exported to `parquet/{name}.parquet`.",
        group_name="marts",
        kinds={"duckdb", "parquet"},
        owners=OWNERS,
        deps=deps,
        pool=POOL,
        freshness_policy=FRESHNESS,
    )
    if name in CONFIGS:
        config_type = CONFIGS[name]

        @dg.asset(**spec)
        def _configured_mart(context: dg.AssetExecutionContext, warehouse: Warehouse, seeds: SeedsFolder,
                             config: config_type) -> dg.MaterializeResult:
            return materialize(context, warehouse, seeds, config.model_dump())

        return _configured_mart

    @dg.asset(**spec)
    def _mart(context: dg.AssetExecutionContext, warehouse: Warehouse, seeds: SeedsFolder) -> dg.MaterializeResult:
        return materialize(context, warehouse, seeds, {})

    return _mart


CONFIGS = {"transshipment_signals": TransshipmentConfig, "roundabout": RoundaboutConfig}
mart_assets = [build_mart(name, question, deps) for name, (question, deps) in MARTS.items()]
# Every table of the marts schema, exported to Parquet and logged in quality.publish_log by each publish: these
# marts and the counterparty screening's hits (lists.py), which the shipped seeds leave empty.
PUBLISHED_MARTS = (*MARTS, "counterparty_hits")
