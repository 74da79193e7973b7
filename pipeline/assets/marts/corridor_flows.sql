-- marts.corridor_flows — Which routes carry the trade? Value and tonnes by month and corridor
-- (canonical reports only), with km and days saved against the Suez baseline (claims conflict, so
-- days are ranges), the jurisdictions each corridor crosses and how much of it is allocated by rule.
CREATE TABLE IF NOT EXISTS marts.corridor_flows (
    month                 DATE      NOT NULL,
    data_status           VARCHAR   NOT NULL,
    corridor_id           VARCHAR   NOT NULL,
    value_usd             DECIMAL(18, 2) NOT NULL,
    tonnes                DOUBLE,
    share_of_month        DOUBLE,
    route_km              DOUBLE,
    km_saved_vs_suez      DOUBLE,
    days_min              INTEGER,
    days_max              INTEGER,
    days_saved_vs_suez_min INTEGER,
    days_saved_vs_suez_max INTEGER,
    jurisdictions_crossed VARCHAR[],
    allocated_share       DOUBLE    NOT NULL,
    fx_rate_types         VARCHAR[] NOT NULL,
    value_usd_alt_rate    DECIMAL(18, 2) NOT NULL
);
DELETE FROM marts.corridor_flows WHERE month >= $window_start AND month < $window_end;
INSERT INTO marts.corridor_flows
WITH routes AS (
    SELECT c.corridor_id, c.branch, c.transit_days_min, c.transit_days_max,
           sum(l.distance_km) AS route_km,
           list(DISTINCT l.country_iso3 ORDER BY l.country_iso3) FILTER (WHERE l.country_iso3 IS NOT NULL) AS crossed
    FROM ref.corridors c LEFT JOIN ref.corridor_legs l USING (corridor_id)
    GROUP BY ALL
), suez AS (
    SELECT route_km, transit_days_min, transit_days_max FROM routes WHERE branch = 'suez'
)
SELECT r.period,
       r.data_status,
       r.corridor_id,
       sum(r.value_usd),
       -- summed as exact grams: a float sum would change in its last digits with the order of summation
       (sum(r.quantity_kg::DECIMAL(38, 3)) / 1000)::DOUBLE,
       sum(r.value_usd)::DOUBLE / nullif(sum(sum(r.value_usd)) OVER (PARTITION BY r.period, r.data_status), 0),
       any_value(t.route_km),
       any_value(s.route_km - t.route_km),
       any_value(t.transit_days_min),
       any_value(t.transit_days_max),
       any_value(s.transit_days_min - t.transit_days_max),
       any_value(s.transit_days_max - t.transit_days_min),
       any_value(t.crossed),
       coalesce(sum(r.value_usd) FILTER (WHERE r.corridor_basis = 'allocated')::DOUBLE / nullif(sum(r.value_usd), 0), 0),
       coalesce(list(DISTINCT r.fx_rate_type ORDER BY r.fx_rate_type) FILTER (WHERE r.fx_rate_type IS NOT NULL), []),
       sum(r.value_usd_alt_rate)
FROM core.routed_flows r
JOIN routes t USING (corridor_id)
LEFT JOIN suez s ON true
WHERE r.period >= $window_start AND r.period < $window_end AND r.canonical AND r.frequency = 'monthly'
GROUP BY r.period, r.data_status, r.corridor_id;

COMMENT ON TABLE marts.corridor_flows IS 'Which routes carry the trade? Value and tonnes by month and corridor, with km and days saved against the Suez baseline.';
COMMENT ON COLUMN marts.corridor_flows.month IS 'First day of the month (monthly flows only: annual flows have no month).';
COMMENT ON COLUMN marts.corridor_flows.data_status IS '`illustrative` (the shipped sample) or `real`; never add the two.';
COMMENT ON COLUMN marts.corridor_flows.corridor_id IS 'Corridor (ref.corridors), or unknown where no observation or sourced allocation names the route (its own row, not spread over the others).';
COMMENT ON COLUMN marts.corridor_flows.value_usd IS 'Value moved along the corridor, USD (canonical reports only).';
COMMENT ON COLUMN marts.corridor_flows.tonnes IS 'Net weight moved, tonnes.';
COMMENT ON COLUMN marts.corridor_flows.share_of_month IS 'Share of the month''s value, unknown included; shares of a month sum to 1.';
COMMENT ON COLUMN marts.corridor_flows.route_km IS 'Length of the corridor (sum of its legs), km.';
COMMENT ON COLUMN marts.corridor_flows.km_saved_vs_suez IS 'Suez baseline km minus the corridor''s km.';
COMMENT ON COLUMN marts.corridor_flows.days_min IS 'Fastest claimed transit time, days.';
COMMENT ON COLUMN marts.corridor_flows.days_max IS 'Slowest claimed transit time, days.';
COMMENT ON COLUMN marts.corridor_flows.days_saved_vs_suez_min IS 'Least days saved against Suez: Suez fastest minus corridor slowest.';
COMMENT ON COLUMN marts.corridor_flows.days_saved_vs_suez_max IS 'Most days saved against Suez: Suez slowest minus corridor fastest.';
COMMENT ON COLUMN marts.corridor_flows.jurisdictions_crossed IS 'Countries the corridor''s legs cross (ISO3); NULL where ref.corridor_legs has no legs for it (unknown, the Eurasian roundabout).';
COMMENT ON COLUMN marts.corridor_flows.allocated_share IS 'Share of the value whose corridor was allocated by rule rather than observed.';
COMMENT ON COLUMN marts.corridor_flows.fx_rate_types IS 'FX rate types behind value_usd (market, official, market_approximate or official_approximate where ref.fx_rates flags the rate approximate, usd for a value in US dollars with no FX row).';
COMMENT ON COLUMN marts.corridor_flows.value_usd_alt_rate IS 'value_usd with every flow whose currency had a second rate type that month converted at it instead.';
