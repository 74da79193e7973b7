-- The DuckDB-only floor of `make bench`: read the same trade-flow files and FX rates, cast, convert
-- to USD (ASOF join) and compute the same mart aggregates, with no validation, quarantine,
-- allocation or checks. Run by the duckdb CLI after `SET VARIABLE seeds = '<seeds folder>'`.
CREATE OR REPLACE TABLE fx AS
SELECT currency, date, usd_per_unit
FROM read_csv(getvariable('seeds') || '/fx_rates.csv', header = true)
QUALIFY row_number() OVER (PARTITION BY currency, date ORDER BY rate_type = 'market' DESC) = 1;

CREATE OR REPLACE TABLE flows AS
WITH raw AS (
    SELECT * FROM read_csv(getvariable('seeds') || '/trade_flows/*.csv', header = true, all_varchar = true)
)
SELECT flow_id,
       strptime(period || '-01', '%Y-%m-%d')::DATE AS period,
       exporter_iso3, importer_iso3, hs_code,
       TRY_CAST(value AS DOUBLE) AS value, currency,
       TRY_CAST(quantity_kg AS DOUBLE) AS quantity_kg,
       corridor_id, channel_id, transit_iso3, basis
FROM raw;

CREATE OR REPLACE TABLE flows_usd AS
SELECT f.*, CAST(f.value * r.usd_per_unit AS DECIMAL(18, 2)) AS value_usd
FROM flows f ASOF LEFT JOIN fx r ON r.currency = f.currency AND f.period >= r.date;

CREATE OR REPLACE TABLE channel_mix AS
SELECT period, exporter_iso3, importer_iso3, channel_id, sum(value_usd) AS value_usd,
       sum(value_usd) / sum(sum(value_usd)) OVER (PARTITION BY period, exporter_iso3, importer_iso3) AS share
FROM flows_usd GROUP BY period, exporter_iso3, importer_iso3, channel_id;

CREATE OR REPLACE TABLE corridor_flows AS
SELECT period, corridor_id, sum(value_usd) AS value_usd, sum(quantity_kg) / 1000 AS tonnes,
       sum(value_usd) / sum(sum(value_usd)) OVER (PARTITION BY period) AS share
FROM flows_usd WHERE corridor_id IS NOT NULL GROUP BY period, corridor_id;

CREATE OR REPLACE TABLE bilateral_balance AS
SELECT year(period) AS year, exporter_iso3, importer_iso3, left(hs_code, 2) AS chapter, sum(value_usd) AS value_usd
FROM flows_usd GROUP BY ALL;

CREATE OR REPLACE TABLE route_totals AS
SELECT left(hs_code, 4) AS heading, corridor_id, channel_id, transit_iso3, sum(value_usd) AS value_usd, count(*) AS flows
FROM flows_usd GROUP BY ALL;

CHECKPOINT;
SELECT count(*) AS flows, sum(value_usd) AS value_usd FROM flows_usd;
