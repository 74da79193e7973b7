-- marts.bilateral_balance — Which way does trade with sanctioned economies run, and is it growing? Value
-- by year, direction and category of every pair with a country that is the target of a sanctions measure on
-- one side or both (China–Russia, EU member states–Russia, Iran–Russia; category '*' is the direction's
-- total), with the change on the year before.
-- Canonical reports only: a trade both sides report counts once. Year-level: annual flows (CEPII BACI,
-- annual UN Comtrade) count here beside the months of monthly ones.
-- Grain: one row per (year, data_status, exporter_iso3, importer_iso3, category_id); DuckLake tables take no keys, so the grain is checked by its Great Expectations suite (unique).
CREATE OR REPLACE TABLE marts.bilateral_balance (
    year             INTEGER NOT NULL,
    data_status      VARCHAR NOT NULL,
    exporter_iso3    VARCHAR NOT NULL,
    importer_iso3    VARCHAR NOT NULL,
    category_id      VARCHAR NOT NULL,
    value_usd        DECIMAL(18, 2) NOT NULL,
    tonnes           DOUBLE,
    fx_rate_types    VARCHAR[] NOT NULL,
    value_usd_alt_rate DECIMAL(18, 2) NOT NULL,
    allocated_share  DOUBLE  NOT NULL,
    prev_value_usd   DECIMAL(18, 2),
    yoy_change       DOUBLE
);
INSERT INTO marts.bilateral_balance
WITH targets AS (
    SELECT DISTINCT target_country AS iso3 FROM ref.sanctions_measures
), yearly AS (
    SELECT year(period) AS year, data_status, exporter_iso3, importer_iso3,
           coalesce(category_id, 'uncategorised') AS category_id, value_usd, quantity_kg, fx_rate_type,
           coalesce(value_usd_alt_rate, value_usd) AS value_usd_alt_rate,
           channel_id IS NULL OR corridor_id IS NULL AS unobserved
    FROM core.trade_flows
    WHERE (exporter_iso3 IN (SELECT iso3 FROM targets) OR importer_iso3 IN (SELECT iso3 FROM targets)) AND canonical
), totals AS (
    SELECT year, data_status, exporter_iso3, importer_iso3, coalesce(category_id, '*') AS category_id,
           sum(value_usd) AS value_usd, sum(quantity_kg) / 1000 AS tonnes,
           coalesce(list(DISTINCT fx_rate_type ORDER BY fx_rate_type) FILTER (WHERE fx_rate_type IS NOT NULL), []) AS fx_rate_types,
           sum(value_usd_alt_rate) AS value_usd_alt_rate,
           coalesce(sum(value_usd) FILTER (WHERE unobserved)::DOUBLE / nullif(sum(value_usd), 0), 0) AS allocated_share
    FROM yearly
    GROUP BY GROUPING SETS ((year, data_status, exporter_iso3, importer_iso3, category_id), (year, data_status, exporter_iso3, importer_iso3))
)
SELECT t.*, p.value_usd, t.value_usd::DOUBLE / nullif(p.value_usd, 0) - 1
FROM totals t
LEFT JOIN totals p ON p.year = t.year - 1 AND p.data_status = t.data_status AND p.exporter_iso3 = t.exporter_iso3
 AND p.importer_iso3 = t.importer_iso3 AND p.category_id = t.category_id;

COMMENT ON TABLE marts.bilateral_balance IS 'Which way does trade with sanctioned economies run? Value by year, direction and category of every pair with a sanctions target on one side or both, with year-on-year change.';
COMMENT ON COLUMN marts.bilateral_balance.year IS 'Calendar year (monthly flows of the year and annual flows of it).';
COMMENT ON COLUMN marts.bilateral_balance.data_status IS '`illustrative` (the shipped sample) or `real`; never add the two.';
COMMENT ON COLUMN marts.bilateral_balance.exporter_iso3 IS 'Exporting country (a sanctions target, or the partner of one).';
COMMENT ON COLUMN marts.bilateral_balance.importer_iso3 IS 'Importing country (a sanctions target, or the partner of one).';
COMMENT ON COLUMN marts.bilateral_balance.category_id IS 'Goods category; * for the direction''s total.';
COMMENT ON COLUMN marts.bilateral_balance.value_usd IS 'Value, USD (canonical reports only).';
COMMENT ON COLUMN marts.bilateral_balance.tonnes IS 'Net weight, tonnes.';
COMMENT ON COLUMN marts.bilateral_balance.allocated_share IS 'Share of value_usd whose channel or corridor is not observed (allocated by rule in core.routed_flows; this mart does not split by them).';
COMMENT ON COLUMN marts.bilateral_balance.fx_rate_types IS 'FX rate types behind value_usd (market, official, market_approximate or official_approximate where ref.fx_rates flags the rate approximate, usd for a value in US dollars with no FX row).';
COMMENT ON COLUMN marts.bilateral_balance.value_usd_alt_rate IS 'value_usd with every flow whose currency had a second rate type that month converted at it instead.';
COMMENT ON COLUMN marts.bilateral_balance.prev_value_usd IS 'Value the year before, USD.';
COMMENT ON COLUMN marts.bilateral_balance.yoy_change IS 'value_usd / prev_value_usd - 1.';
