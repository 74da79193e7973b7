-- marts.sanctioned_exposure — How much restricted trade slips past the restricting authority?
-- Value of routed rows hit on their date by a measure, by month, authority, measure type,
-- category, corridor and channel, and how much of it moved through non-dollar channels,
-- low-traceability channels, and routes that cross no jurisdiction of that authority.
CREATE TABLE IF NOT EXISTS marts.sanctioned_exposure (
    month                         DATE    NOT NULL,
    authority                     VARCHAR NOT NULL,
    measure_type                  VARCHAR NOT NULL,
    category_id                   VARCHAR NOT NULL,
    corridor_id                   VARCHAR NOT NULL,
    channel_id                    VARCHAR NOT NULL,
    restricted_value_usd          DECIMAL(18, 2) NOT NULL,
    non_dollar_value_usd          DECIMAL(18, 2) NOT NULL,
    low_traceability_value_usd    DECIMAL(18, 2) NOT NULL,
    avoiding_authority_value_usd  DECIMAL(18, 2) NOT NULL,
    share_non_dollar              DOUBLE,
    share_low_traceability        DOUBLE,
    share_avoiding_authority      DOUBLE,
    flows                         BIGINT  NOT NULL
);
DELETE FROM marts.sanctioned_exposure WHERE month >= $window_start AND month < $window_end;
INSERT INTO marts.sanctioned_exposure
WITH hit_rows AS (  -- a routed row counts once per authority and measure type, however many measures hit it
    SELECT DISTINCT authority, measure_type, flow_id, route_seq FROM core.route_sanctions
    WHERE period >= $window_start AND period < $window_end
), rows AS (
    SELECT h.authority, h.measure_type, r.flow_id, r.period, r.category_id, r.corridor_id, r.channel_id, r.value_usd,
           coalesce(NOT c.dollar_clearing, false) AS non_dollar,
           coalesce(c.traceability = 'low', false) AS low_traceability,
           coalesce(NOT e.crosses, false) AS avoids
    FROM hit_rows h
    JOIN core.routed_flows r USING (flow_id, route_seq)
    LEFT JOIN ref.payment_channels c ON c.channel_id = r.channel_id
    LEFT JOIN core.route_exposure e ON e.corridor_id = r.corridor_id AND e.authority = h.authority
)
SELECT period, authority, measure_type,
       coalesce(category_id, 'uncategorised'), coalesce(corridor_id, 'unallocated'), coalesce(channel_id, 'unallocated'),
       sum(value_usd),
       coalesce(sum(value_usd) FILTER (WHERE non_dollar), 0),
       coalesce(sum(value_usd) FILTER (WHERE low_traceability), 0),
       coalesce(sum(value_usd) FILTER (WHERE avoids), 0),
       coalesce(sum(value_usd) FILTER (WHERE non_dollar), 0)::DOUBLE / nullif(sum(value_usd), 0),
       coalesce(sum(value_usd) FILTER (WHERE low_traceability), 0)::DOUBLE / nullif(sum(value_usd), 0),
       coalesce(sum(value_usd) FILTER (WHERE avoids), 0)::DOUBLE / nullif(sum(value_usd), 0),
       count(*)  -- a flow's routed rows differ in channel or corridor: at most one per group
FROM rows
GROUP BY ALL;

COMMENT ON TABLE marts.sanctioned_exposure IS 'How much restricted trade slips past the restricting authority? Value hit by measures in force on its date, and how it moved';
COMMENT ON COLUMN marts.sanctioned_exposure.month IS 'First day of the month';
COMMENT ON COLUMN marts.sanctioned_exposure.authority IS 'Authority whose measures hit the value';
COMMENT ON COLUMN marts.sanctioned_exposure.measure_type IS 'Kind of restriction';
COMMENT ON COLUMN marts.sanctioned_exposure.category_id IS 'Goods category';
COMMENT ON COLUMN marts.sanctioned_exposure.corridor_id IS 'Corridor, or unallocated';
COMMENT ON COLUMN marts.sanctioned_exposure.channel_id IS 'Payment channel, or unallocated';
COMMENT ON COLUMN marts.sanctioned_exposure.restricted_value_usd IS 'Value of routed rows hit by a measure of this authority and type, USD (each row once)';
COMMENT ON COLUMN marts.sanctioned_exposure.non_dollar_value_usd IS 'Of which settled through channels without dollar clearing';
COMMENT ON COLUMN marts.sanctioned_exposure.low_traceability_value_usd IS 'Of which settled through low-traceability channels';
COMMENT ON COLUMN marts.sanctioned_exposure.avoiding_authority_value_usd IS 'Of which moved on corridors that cross no jurisdiction enforcing this authority';
COMMENT ON COLUMN marts.sanctioned_exposure.share_non_dollar IS 'non_dollar_value_usd / restricted_value_usd';
COMMENT ON COLUMN marts.sanctioned_exposure.share_low_traceability IS 'low_traceability_value_usd / restricted_value_usd';
COMMENT ON COLUMN marts.sanctioned_exposure.share_avoiding_authority IS 'avoiding_authority_value_usd / restricted_value_usd';
COMMENT ON COLUMN marts.sanctioned_exposure.flows IS 'Distinct flows behind the value';
