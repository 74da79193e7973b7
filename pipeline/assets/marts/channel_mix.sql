-- marts.channel_mix — How fast is this trade leaving the dollar? Value by month, partner pair and
-- payment channel (canonical reports only: a trade reported by both sides counts once), with each
-- channel's share of the pair's month, how much of it rests on allocation rules, and the FX basis.
CREATE TABLE IF NOT EXISTS marts.channel_mix (
    month               DATE      NOT NULL,
    data_status         VARCHAR   NOT NULL,
    exporter_iso3       VARCHAR   NOT NULL,
    importer_iso3       VARCHAR   NOT NULL,
    channel_id          VARCHAR   NOT NULL,
    channel_kind        VARCHAR,
    value_usd           DECIMAL(18, 2) NOT NULL,
    share_of_month      DOUBLE,
    dollar_clearing     BOOLEAN,
    traceability        VARCHAR,
    allocated_share     DOUBLE    NOT NULL,
    fx_rate_types       VARCHAR[] NOT NULL,
    value_usd_alt_rate  DECIMAL(18, 2) NOT NULL
);
DELETE FROM marts.channel_mix WHERE month >= $window_start AND month < $window_end;
INSERT INTO marts.channel_mix
-- per rate type first: the rate types of a month's channel are then a short list of distinct values, not a
-- DISTINCT over every routed row (that aggregate took half the mart's time at 10M flows)
WITH by_rate_type AS (
    SELECT r.period, r.data_status, r.exporter_iso3, r.importer_iso3, r.channel_id, r.fx_rate_type,
           sum(r.value_usd) AS value_usd,
           sum(r.value_usd) FILTER (WHERE r.channel_basis = 'allocated') AS allocated_usd,
           sum(r.value_usd_alt_rate) AS value_usd_alt_rate
    FROM core.routed_flows r
    WHERE r.period >= $window_start AND r.period < $window_end AND r.canonical AND r.frequency = 'monthly'
    GROUP BY ALL
)
SELECT r.period,
       r.data_status,
       r.exporter_iso3,
       r.importer_iso3,
       r.channel_id,
       any_value(c.kind),
       sum(r.value_usd),
       sum(r.value_usd)::DOUBLE / nullif(sum(sum(r.value_usd)) OVER (PARTITION BY r.period, r.data_status, r.exporter_iso3, r.importer_iso3), 0),
       any_value(c.dollar_clearing),
       any_value(c.traceability),
       coalesce(sum(r.allocated_usd)::DOUBLE / nullif(sum(r.value_usd), 0), 0),
       coalesce(list(r.fx_rate_type ORDER BY r.fx_rate_type) FILTER (WHERE r.fx_rate_type IS NOT NULL), []),
       sum(r.value_usd_alt_rate)
FROM by_rate_type r
LEFT JOIN ref.payment_channels c ON c.channel_id = r.channel_id
GROUP BY r.period, r.data_status, r.exporter_iso3, r.importer_iso3, r.channel_id;

COMMENT ON TABLE marts.channel_mix IS 'How fast is this trade leaving the dollar? Value by month, partner pair and payment channel, with shares of the month.';
COMMENT ON COLUMN marts.channel_mix.month IS 'First day of the month (monthly flows only: annual flows have no month).';
COMMENT ON COLUMN marts.channel_mix.data_status IS '`illustrative` (the shipped sample) or `real`; never add the two.';
COMMENT ON COLUMN marts.channel_mix.exporter_iso3 IS 'Exporting country (ISO3).';
COMMENT ON COLUMN marts.channel_mix.importer_iso3 IS 'Importing country (ISO3).';
COMMENT ON COLUMN marts.channel_mix.channel_id IS 'Payment channel (ref.payment_channels), or unknown (no observation or sourced allocation).';
COMMENT ON COLUMN marts.channel_mix.channel_kind IS 'national_currency, third_country_currency, reserve_currency, commodity, in_kind, digital_asset or unknown.';
COMMENT ON COLUMN marts.channel_mix.value_usd IS 'Value settled through the channel, USD (canonical reports only).';
COMMENT ON COLUMN marts.channel_mix.share_of_month IS 'Share of the pair''s value that month; shares of a month sum to 1.';
COMMENT ON COLUMN marts.channel_mix.dollar_clearing IS 'True when the channel clears through US dollar correspondent banks; NULL when unknown (usd_eur, unknown).';
COMMENT ON COLUMN marts.channel_mix.traceability IS 'How visible the channel is to Western regulators: low, medium, high.';
COMMENT ON COLUMN marts.channel_mix.allocated_share IS 'Share of the value whose channel was allocated by rule rather than observed.';
COMMENT ON COLUMN marts.channel_mix.fx_rate_types IS 'FX rate types behind value_usd (market, official, market_approximate or official_approximate where ref.fx_rates flags the rate approximate, usd for a value in US dollars with no FX row).';
COMMENT ON COLUMN marts.channel_mix.value_usd_alt_rate IS 'value_usd with every flow whose currency had a second rate type that month converted at it instead (IRR official vs market).';
