-- marts.roundabout — Is trade that sanctions stopped going to the target now going to its neighbours?
-- Per exporter, destination group (the target itself, or its neighbours in ref.neighbours), product group
-- and window: the value in the months (or years) after the sanctions began against the same months (or
-- year) of the baseline year, and the change. Canonical reports only: a trade both sides report counts once.
--
-- Windows, per data status and frequency (a window never mixes monthly and annual flows):
--   monthly: each calendar year from $first_month_after on, from its first month after the sanctions
--     began to the last month the data has, against the same calendar months of $baseline_year
--     (e.g. 2022-03..2022-11 against 2021-03..2021-11);
--   annual: each year from the year of $first_month_after on against $baseline_year.
-- Product groups (disjoint; they add up to all goods):
--   chpl: on the Common High Priority List (ref.chpl, matched on the HS 2022 six digits);
--   sanctioned: the goods of an export ban or embargo aimed at the target (ref.sanctions_measures, HS
--     targets, into the target or either way, matched in the edition the list is written in: hs_code_2017 for
--     the EU's HS6 list, hs_code_2022 for the others) in force by the end of the window, and not chpl;
--   other: neither.
-- core.listed_goods: the codes of the trade flows that an export ban or embargo into a target lists (HS targets of
-- ref.sanctions_measures into the target or either way), matched in the edition the list is written in
-- (hs_code_2017 for the EU's HS6 list, hs_code_2022 for the others) by equi-joins on expanded keys (never LIKE
-- in a join). Built here for this mart and the report's roundabout chart.
CREATE OR REPLACE TABLE core.listed_goods AS
WITH listed AS (
    SELECT m.target_country, m.authority, m.effective_from, m.hs_edition, unnest(string_split(m.target, '|')) AS item
    FROM ref.sanctions_measures m
    WHERE m.target_type IN ('hs_code', 'hs_prefix') AND m.measure_type IN ('export_ban', 'embargo')
      AND m.direction IN ('to_target', 'either')
), codes AS (  -- each code as a list would write it: 2-, 4- and 6-digit prefixes in either edition
    SELECT hs_code_2022, hs_code_2017, unnest([
        {'edition': 'HS2022', 'item': left(hs_code_2022, 2)}, {'edition': 'HS2022', 'item': left(hs_code_2022, 4)},
        {'edition': 'HS2022', 'item': left(hs_code_2022, 6)}, {'edition': 'HS2017', 'item': left(hs_code_2017, 2)},
        {'edition': 'HS2017', 'item': left(hs_code_2017, 4)}, {'edition': 'HS2017', 'item': hs_code_2017}]) AS key
    FROM (SELECT DISTINCT hs_code_2022, hs_code_2017 FROM core.trade_flows)
)
SELECT DISTINCT c.hs_code_2022, c.hs_code_2017, l.target_country AS target_iso3, l.authority, l.effective_from
FROM codes c JOIN listed l ON l.hs_edition = c.key.edition AND l.item = c.key.item;
COMMENT ON TABLE core.listed_goods IS 'The trade flows'' codes an export ban or embargo into a target lists, with the authority and the day it took effect (built with marts.roundabout). Grain: hs_code_2022 × hs_code_2017 × target_iso3 × authority × effective_from.';
COMMENT ON COLUMN core.listed_goods.hs_code_2022 IS 'The flows'' hs_code_2022 (core.trade_flows).';
COMMENT ON COLUMN core.listed_goods.hs_code_2017 IS 'The flows'' hs_code_2017 (core.trade_flows).';
COMMENT ON COLUMN core.listed_goods.target_iso3 IS 'Country the ban is aimed at.';
COMMENT ON COLUMN core.listed_goods.authority IS 'Authority of the ban.';
COMMENT ON COLUMN core.listed_goods.effective_from IS 'First day the ban is in force.';

CREATE OR REPLACE TABLE marts.roundabout (
    data_status          VARCHAR NOT NULL,
    frequency            VARCHAR NOT NULL,
    target_iso3          VARCHAR NOT NULL,
    exporter_iso3        VARCHAR NOT NULL,
    destination_group    VARCHAR NOT NULL,
    product_group        VARCHAR NOT NULL,
    currency             VARCHAR NOT NULL,
    before_start         DATE    NOT NULL,
    before_end           DATE    NOT NULL,
    after_start          DATE    NOT NULL,
    after_end            DATE    NOT NULL,
    destinations         VARCHAR[] NOT NULL,
    before_value         DECIMAL(38, 2) NOT NULL,
    after_value          DECIMAL(38, 2) NOT NULL,
    change_value         DECIMAL(38, 2) NOT NULL,
    change_share         DOUBLE,
    before_value_usd     DECIMAL(18, 2) NOT NULL,
    after_value_usd      DECIMAL(18, 2) NOT NULL,
    change_value_usd     DECIMAL(18, 2) NOT NULL,
    fx_rate_types        VARCHAR[] NOT NULL,
    listed_by            VARCHAR[] NOT NULL
);
INSERT INTO marts.roundabout
WITH destinations AS (
    SELECT target_iso3, target_iso3 AS importer_iso3, 'target' AS destination_group FROM (SELECT DISTINCT target_iso3 FROM ref.neighbours)
    UNION ALL
    SELECT target_iso3, neighbour_iso3, 'neighbours' FROM ref.neighbours
), flows AS (
    SELECT f.data_status, f.frequency, d.target_iso3, d.destination_group, f.exporter_iso3, f.importer_iso3,
           f.period, f.hs_code_2022, f.hs_code_2017, f.currency,
           -- exact decimals: a sum of doubles depends on the order of its terms, and the same inputs must give the
           -- same mart (quality.publish_log's checksum)
           CAST(f.value AS DECIMAL(38, 6)) AS value, f.value_usd, f.fx_rate_type
    FROM core.trade_flows f JOIN destinations d USING (importer_iso3)
    WHERE f.canonical AND f.exporter_iso3 <> d.target_iso3
), years AS (  -- the after windows of each data status and frequency, the data's last month bounding them
    SELECT data_status, frequency, y AS after_year,
           CASE WHEN frequency = 'monthly' THEN greatest(make_date(y, 1, 1), $first_month_after::DATE) ELSE make_date(y, 1, 1) END AS after_start,
           CASE WHEN frequency = 'monthly' THEN least(make_date(y, 12, 1), last_period) ELSE make_date(y, 1, 1) END AS after_end
    FROM (SELECT data_status, frequency, max(period) AS last_period FROM flows GROUP BY ALL) l,
         range(year($first_month_after::DATE), year(l.last_period) + 1) r(y)
), windows AS (
    SELECT *, after_start - (after_year - $baseline_year) * INTERVAL 1 YEAR AS before_start,
           after_end - (after_year - $baseline_year) * INTERVAL 1 YEAR AS before_end
    FROM years WHERE after_start <= after_end
), in_window AS (
    SELECT w.before_start, w.before_end, w.after_start, w.after_end, f.*, f.period >= w.after_start AS after,
           -- the window's last day: a listing in force by then counts
           w.after_end + CASE WHEN f.frequency = 'annual' THEN INTERVAL 1 YEAR ELSE INTERVAL 1 MONTH END - INTERVAL 1 DAY AS last_day,
           c.hs6 IS NOT NULL AS chpl
    FROM flows f JOIN windows w USING (data_status, frequency)
    LEFT JOIN ref.chpl c ON c.hs6 = CASE WHEN length(f.hs_code_2022) >= 6 THEN left(f.hs_code_2022, 6) END
    WHERE f.period BETWEEN w.before_start AND w.before_end OR f.period BETWEEN w.after_start AND w.after_end
), code_groups AS (  -- each code's listings in a window, once per code and not per flow (per flow, the grouping
                     -- outgrew the memory limit at 100M flows); a code listed by several measures counts once
    SELECT k.hs_code_2022, k.hs_code_2017, k.target_iso3, k.last_day,
           coalesce(list(DISTINCT l.authority ORDER BY l.authority) FILTER (WHERE l.authority IS NOT NULL), []) AS listed_by,
           count(l.authority) AS listings
    FROM (SELECT DISTINCT hs_code_2022, hs_code_2017, target_iso3, last_day FROM in_window) k
    LEFT JOIN core.listed_goods l ON l.hs_code_2022 = k.hs_code_2022 AND l.hs_code_2017 IS NOT DISTINCT FROM k.hs_code_2017
     AND l.target_iso3 = k.target_iso3 AND l.effective_from <= k.last_day
    GROUP BY ALL
), products AS (  -- each flow's product group in its window
    SELECT i.*, g.listed_by, CASE WHEN i.chpl THEN 'chpl' WHEN g.listings > 0 THEN 'sanctioned' ELSE 'other' END AS product_group
    FROM in_window i
    JOIN code_groups g ON g.hs_code_2022 = i.hs_code_2022 AND g.hs_code_2017 IS NOT DISTINCT FROM i.hs_code_2017
     AND g.target_iso3 = i.target_iso3 AND g.last_day = i.last_day
)
SELECT data_status, frequency, target_iso3, exporter_iso3, destination_group, product_group, currency,
       before_start, before_end, after_start, after_end,
       list(DISTINCT importer_iso3 ORDER BY importer_iso3),
       coalesce(sum(value) FILTER (WHERE NOT after), 0), coalesce(sum(value) FILTER (WHERE after), 0),
       coalesce(sum(value) FILTER (WHERE after), 0) - coalesce(sum(value) FILTER (WHERE NOT after), 0),
       sum(value) FILTER (WHERE after) / nullif(sum(value) FILTER (WHERE NOT after), 0) - 1,
       coalesce(sum(value_usd) FILTER (WHERE NOT after), 0), coalesce(sum(value_usd) FILTER (WHERE after), 0),
       coalesce(sum(value_usd) FILTER (WHERE after), 0) - coalesce(sum(value_usd) FILTER (WHERE NOT after), 0),
       coalesce(list(DISTINCT fx_rate_type ORDER BY fx_rate_type) FILTER (WHERE fx_rate_type IS NOT NULL), []),
       -- DISTINCT: a plain list() would hold every flow's list
       list_sort(list_distinct(flatten(list(DISTINCT listed_by))))
FROM products
GROUP BY ALL;

COMMENT ON TABLE marts.roundabout IS 'Is trade that sanctions stopped going to the target now going to its neighbours? Value per exporter, destination group (the target, or its neighbours in ref.neighbours) and product group (chpl, sanctioned, other) in the months or years after the sanctions began against the same months or year of the baseline year.';
COMMENT ON COLUMN marts.roundabout.data_status IS '`illustrative` (the shipped sample) or `real`; never add the two.';
COMMENT ON COLUMN marts.roundabout.frequency IS '`monthly` or `annual`: the flows the window compares (an annual value is twelve months of trade; the two are never mixed).';
COMMENT ON COLUMN marts.roundabout.target_iso3 IS 'Country under sanctions the trade may be routed around (ref.neighbours).';
COMMENT ON COLUMN marts.roundabout.exporter_iso3 IS 'Exporting country, or a bloc where the source reports only the bloc.';
COMMENT ON COLUMN marts.roundabout.destination_group IS '`target`: exports to the target itself; `neighbours`: exports to its neighbours (ref.neighbours).';
COMMENT ON COLUMN marts.roundabout.product_group IS '`chpl`: on the Common High Priority List; `sanctioned`: the goods of an export ban or embargo into the target in force by the end of the window (ref.sanctions_measures), not chpl; `other`: neither. Disjoint.';
COMMENT ON COLUMN marts.roundabout.currency IS 'Currency of before_value and after_value, as the source reports the flows (EUR for Eurostat, USD for CEPII BACI).';
COMMENT ON COLUMN marts.roundabout.before_start IS 'First month (or year) of the baseline window.';
COMMENT ON COLUMN marts.roundabout.before_end IS 'Last month (or year) of the baseline window: the same calendar months as the after window, in the baseline year.';
COMMENT ON COLUMN marts.roundabout.after_start IS 'First month (or year) after the sanctions began.';
COMMENT ON COLUMN marts.roundabout.after_end IS 'Last month (or year) of the window: the last the data has, at most the calendar year''s end.';
COMMENT ON COLUMN marts.roundabout.destinations IS 'The importing countries with flows in the row.';
COMMENT ON COLUMN marts.roundabout.before_value IS 'Value in the baseline window, in currency.';
COMMENT ON COLUMN marts.roundabout.after_value IS 'Value in the after window, in currency.';
COMMENT ON COLUMN marts.roundabout.change_value IS 'after_value - before_value, in currency.';
COMMENT ON COLUMN marts.roundabout.change_share IS 'after_value / before_value - 1 (NULL without a baseline value); recompute it from summed values, never add it.';
COMMENT ON COLUMN marts.roundabout.before_value_usd IS 'before_value in US dollars at the rate of each flow''s period (fx_rate_types).';
COMMENT ON COLUMN marts.roundabout.after_value_usd IS 'after_value in US dollars at the rate of each flow''s period.';
COMMENT ON COLUMN marts.roundabout.change_value_usd IS 'after_value_usd - before_value_usd: moves with the exchange rate too, so read the change in currency first.';
COMMENT ON COLUMN marts.roundabout.fx_rate_types IS 'FX rate types behind the USD values (market, official, usd).';
COMMENT ON COLUMN marts.roundabout.listed_by IS 'Authorities whose export bans list the row''s goods (empty for other).';
