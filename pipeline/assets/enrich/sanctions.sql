-- Point-in-time sanctions: every measure in force in a routed row's month that hits it, by HS code
-- or HS prefix (equi-joins on the 2-, 4- and 6-digit prefixes), by channel, or by country
-- (exporter, importer, transit country, or a country the corridor crosses).
-- In force: the measure starts before the month ends and has not ended by the month's first day,
-- so a measure effective 2022-03-12 flags March 2022 flows and never an earlier one.
-- Goods and channel measures aimed at a country apply in their direction: an export ban (or a
-- no-Russia clause) to flows into the target country, an import ban to flows out of it, anything
-- else to flows to or from it.
CREATE OR REPLACE TEMP TABLE hits AS
WITH measures AS (
    SELECT *,
           -- in force in a month: starts before the month ends, has not ended by its first day
           date_trunc('month', effective_from) AS first_month
    FROM ref.sanctions_measures
), goods_and_channels AS (  -- each branch carries what the filters below need: no join back to `routed`
    SELECT r.flow_id, r.route_seq, r.period, r.exporter_iso3, r.importer_iso3, m.measure_id, m.authority,
           m.measure_type, m.target_country, m.first_month, m.effective_to,
           'hs_code' AS matched_on, left(r.hs_code, 6) AS matched_value, 'observed' AS basis
    FROM routed r JOIN measures m ON m.target_type = 'hs_code' AND m.target = left(r.hs_code, 6) AND length(r.hs_code) >= 6
    UNION ALL
    SELECT r.flow_id, r.route_seq, r.period, r.exporter_iso3, r.importer_iso3, m.measure_id, m.authority,
           m.measure_type, m.target_country, m.first_month, m.effective_to, 'hs_prefix', m.target, 'observed'
    FROM routed r JOIN measures m ON m.target_type = 'hs_prefix' AND m.target = left(r.hs_code, 2)
    UNION ALL
    SELECT r.flow_id, r.route_seq, r.period, r.exporter_iso3, r.importer_iso3, m.measure_id, m.authority,
           m.measure_type, m.target_country, m.first_month, m.effective_to, 'hs_prefix', m.target, 'observed'
    FROM routed r JOIN measures m ON m.target_type = 'hs_prefix' AND m.target = left(r.hs_code, 4) AND length(r.hs_code) >= 4
    UNION ALL
    SELECT r.flow_id, r.route_seq, r.period, r.exporter_iso3, r.importer_iso3, m.measure_id, m.authority,
           m.measure_type, m.target_country, m.first_month, m.effective_to, 'hs_prefix', m.target, 'observed'
    FROM routed r JOIN measures m ON m.target_type = 'hs_prefix' AND m.target = left(r.hs_code, 6) AND length(r.hs_code) >= 6
    UNION ALL
    SELECT r.flow_id, r.route_seq, r.period, r.exporter_iso3, r.importer_iso3, m.measure_id, m.authority,
           m.measure_type, m.target_country, m.first_month, m.effective_to, 'channel', m.target, r.channel_basis
    FROM routed r JOIN measures m ON m.target_type = 'channel' AND m.target = r.channel_id
), countries AS (
    SELECT r.flow_id, r.route_seq, r.period, m.measure_id, m.authority, m.measure_type, m.first_month, m.effective_to,
           'exporter' AS matched_on, m.target AS matched_value, 'observed' AS basis
    FROM routed r JOIN measures m ON m.target_type = 'country' AND m.target = r.exporter_iso3
    UNION ALL
    SELECT r.flow_id, r.route_seq, r.period, m.measure_id, m.authority, m.measure_type, m.first_month, m.effective_to,
           'importer', m.target, 'observed'
    FROM routed r JOIN measures m ON m.target_type = 'country' AND m.target = r.importer_iso3
    UNION ALL
    SELECT r.flow_id, r.route_seq, r.period, m.measure_id, m.authority, m.measure_type, m.first_month, m.effective_to,
           'transit_country', m.target, 'observed'
    FROM routed r JOIN measures m ON m.target_type = 'country' AND m.target = r.transit_iso3
    UNION ALL
    SELECT DISTINCT r.flow_id, r.route_seq, r.period, m.measure_id, m.authority, m.measure_type, m.first_month,
           m.effective_to, 'corridor_transit', m.target, r.corridor_basis
    FROM routed r
    JOIN ref.corridor_legs l ON l.corridor_id = r.corridor_id
    JOIN measures m ON m.target_type = 'country' AND m.target = l.country_iso3
), directed AS (
    SELECT flow_id, route_seq, period, measure_id, authority, measure_type, first_month, effective_to,
           matched_on, matched_value, basis
    FROM goods_and_channels
    WHERE CASE WHEN measure_type IN ('export_ban', 'no_russia_clause') THEN importer_iso3 = target_country
               WHEN measure_type = 'import_ban' THEN exporter_iso3 = target_country
               ELSE target_country IN (exporter_iso3, importer_iso3) END
    UNION ALL
    SELECT * FROM countries
)
SELECT flow_id, route_seq, period, measure_id, authority, measure_type, matched_on, matched_value, basis
FROM directed
WHERE first_month <= period AND (effective_to IS NULL OR effective_to > period);

CREATE TABLE IF NOT EXISTS core.flow_sanctions (
    flow_id              VARCHAR NOT NULL,
    period               DATE    NOT NULL,
    measure_id           VARCHAR NOT NULL,
    authority            VARCHAR NOT NULL,
    measure_type         VARCHAR NOT NULL,
    matched_on           VARCHAR NOT NULL,
    matched_value        VARCHAR NOT NULL,
    basis                VARCHAR NOT NULL,
    value_usd_affected   DECIMAL(18, 2) NOT NULL
);
DELETE FROM core.flow_sanctions WHERE period >= $window_start AND period < $window_end;
INSERT INTO core.flow_sanctions
    (flow_id, period, measure_id, authority, measure_type, matched_on, matched_value, basis, value_usd_affected)
SELECT h.flow_id, h.period, h.measure_id, h.authority, h.measure_type, h.matched_on, h.matched_value, h.basis,
       sum(r.value_usd)
FROM hits h JOIN routed r USING (flow_id, route_seq)
GROUP BY ALL;

COMMENT ON TABLE core.flow_sanctions IS 'Every sanctions measure in force in a flow''s month that hits the flow, and how it hits it';
COMMENT ON COLUMN core.flow_sanctions.flow_id IS 'Flow (core.trade_flows)';
COMMENT ON COLUMN core.flow_sanctions.period IS 'First day of the flow''s month';
COMMENT ON COLUMN core.flow_sanctions.measure_id IS 'Measure (ref.sanctions_measures)';
COMMENT ON COLUMN core.flow_sanctions.authority IS 'Authority of the measure';
COMMENT ON COLUMN core.flow_sanctions.measure_type IS 'Kind of restriction';
COMMENT ON COLUMN core.flow_sanctions.matched_on IS 'What matched: hs_code, hs_prefix, channel, exporter, importer, transit_country, corridor_transit';
COMMENT ON COLUMN core.flow_sanctions.matched_value IS 'The code, channel or country that matched';
COMMENT ON COLUMN core.flow_sanctions.basis IS 'observed, or allocated when the match rests on an allocated channel or corridor';
COMMENT ON COLUMN core.flow_sanctions.value_usd_affected IS 'Value of the flow''s routed rows the measure hits, USD';

-- The same hits per routed row, for marts that split flows by channel and corridor.
CREATE TABLE IF NOT EXISTS core.route_sanctions (
    flow_id       VARCHAR NOT NULL,
    route_seq     BIGINT  NOT NULL,
    period        DATE    NOT NULL,
    measure_id    VARCHAR NOT NULL,
    authority     VARCHAR NOT NULL,
    measure_type  VARCHAR NOT NULL
);
DELETE FROM core.route_sanctions WHERE period >= $window_start AND period < $window_end;
INSERT INTO core.route_sanctions (flow_id, route_seq, period, measure_id, authority, measure_type)
SELECT DISTINCT flow_id, route_seq, period, measure_id, authority, measure_type FROM hits;

COMMENT ON TABLE core.route_sanctions IS 'Measures hitting each routed row (core.routed_flows); a hit on an allocated channel or corridor touches only the rows that carry it';
COMMENT ON COLUMN core.route_sanctions.flow_id IS 'Flow';
COMMENT ON COLUMN core.route_sanctions.route_seq IS 'Routed row of the flow (core.routed_flows.route_seq)';
COMMENT ON COLUMN core.route_sanctions.period IS 'First day of the flow''s month';
COMMENT ON COLUMN core.route_sanctions.measure_id IS 'Measure (ref.sanctions_measures)';
COMMENT ON COLUMN core.route_sanctions.authority IS 'Authority of the measure';
COMMENT ON COLUMN core.route_sanctions.measure_type IS 'Kind of restriction';
