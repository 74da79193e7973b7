-- marts.sanctioned_exposure — How much covered trade slips past the authority that covers it?
-- Value of canonical routed rows covered on their date by a measure, counted once per authority,
-- by month, kind (restriction, or obligation such as the EU no-Russia clause), category, corridor and
-- channel; split into what the authority can reach (potential breach), what the data say it cannot
-- (circumvention) and what rests on an allocated or unknown channel or corridor (undetermined), with
-- the partial-month value, how it moved, and what it rests on. A row covered only part of the month
-- counts for the days in force of the longest-running of the authority's measures covering it.
CREATE TABLE IF NOT EXISTS marts.sanctioned_exposure (
    month                         DATE      NOT NULL,
    data_status                   VARCHAR   NOT NULL,
    authority                     VARCHAR   NOT NULL,
    kind                          VARCHAR   NOT NULL,
    category_id                   VARCHAR   NOT NULL,
    corridor_id                   VARCHAR   NOT NULL,
    channel_id                    VARCHAR   NOT NULL,
    covered_value_usd             DECIMAL(18, 2) NOT NULL,
    in_reach_value_usd            DECIMAL(18, 2) NOT NULL,
    circumvention_value_usd       DECIMAL(18, 2) NOT NULL,
    undetermined_value_usd        DECIMAL(18, 2) NOT NULL,
    partial_month_value_usd       DECIMAL(18, 2) NOT NULL,
    non_dollar_value_usd          DECIMAL(18, 2) NOT NULL,
    low_traceability_value_usd    DECIMAL(18, 2) NOT NULL,
    avoiding_authority_value_usd  DECIMAL(18, 2) NOT NULL,
    share_in_reach                DOUBLE,
    share_non_dollar              DOUBLE,
    share_low_traceability        DOUBLE,
    share_avoiding_authority      DOUBLE,
    allocated_share               DOUBLE    NOT NULL,
    measure_ids                   VARCHAR[] NOT NULL,
    measure_types                 VARCHAR[] NOT NULL,
    fx_rate_types                 VARCHAR[] NOT NULL,
    value_usd_alt_rate            DECIMAL(18, 2) NOT NULL,
    flows                         BIGINT    NOT NULL
);
DELETE FROM marts.sanctioned_exposure WHERE month >= $window_start AND month < $window_end;
INSERT INTO marts.sanctioned_exposure
WITH window_hits AS (
    SELECT * FROM core.route_sanctions WHERE period >= $window_start AND period < $window_end
), kinds AS (  -- a row covered by both a restriction and an obligation of one authority counts as restricted
    SELECT flow_id, route_seq, authority, bool_or(NOT is_obligation) AS restricted
    FROM window_hits GROUP BY ALL
), per_row AS (  -- each routed row once per authority, however many of its measures cover it
    SELECT h.flow_id, h.route_seq, h.authority,
           CASE WHEN k.restricted THEN 'restriction' ELSE 'obligation' END AS kind,
           CASE WHEN bool_or(h.in_reach) THEN true WHEN bool_and(h.in_reach IS FALSE) THEN false END AS in_reach,
           max(h.in_force_share) AS in_force_share,
           bool_and(h.partial_month) AS partial_month,  -- a measure in force all month makes it whole
           list(DISTINCT h.measure_id ORDER BY h.measure_id) AS measure_ids,
           list(DISTINCT h.measure_type ORDER BY h.measure_type) AS measure_types
    FROM window_hits h JOIN kinds k USING (flow_id, route_seq, authority)
    WHERE h.is_obligation = NOT k.restricted
    GROUP BY ALL
), rows AS (
    SELECT p.*, r.period, r.data_status, r.category_id, r.corridor_id, r.channel_id, r.fx_rate_type,
           CAST(r.value_usd * p.in_force_share AS DECIMAL(18, 2)) AS value_usd,
           CAST(r.value_usd_alt_rate * p.in_force_share AS DECIMAL(18, 2)) AS value_usd_alt_rate,
           r.channel_basis = 'allocated' OR r.corridor_basis = 'allocated' AS allocated,
           coalesce(NOT c.dollar_clearing, false) AS non_dollar,
           coalesce(c.traceability = 'low', false) AS low_traceability,
           coalesce(NOT e.crosses, false) AS avoids
    FROM per_row p
    JOIN core.routed_flows r USING (flow_id, route_seq)
    LEFT JOIN ref.payment_channels c ON c.channel_id = r.channel_id
    LEFT JOIN core.route_exposure e ON e.corridor_id = r.corridor_id AND e.authority = p.authority
    WHERE r.canonical AND r.frequency = 'monthly'  -- an annual flow has no month: see core.flow_sanctions
)
SELECT period, data_status, authority, kind,
       coalesce(category_id, 'uncategorised'), corridor_id, channel_id,
       sum(value_usd),
       coalesce(sum(value_usd) FILTER (WHERE in_reach), 0),
       coalesce(sum(value_usd) FILTER (WHERE NOT in_reach), 0),
       coalesce(sum(value_usd) FILTER (WHERE in_reach IS NULL), 0),
       coalesce(sum(value_usd) FILTER (WHERE partial_month), 0),
       coalesce(sum(value_usd) FILTER (WHERE non_dollar), 0),
       coalesce(sum(value_usd) FILTER (WHERE low_traceability), 0),
       coalesce(sum(value_usd) FILTER (WHERE avoids), 0),
       coalesce(sum(value_usd) FILTER (WHERE in_reach), 0)::DOUBLE / nullif(sum(value_usd), 0),
       coalesce(sum(value_usd) FILTER (WHERE non_dollar), 0)::DOUBLE / nullif(sum(value_usd), 0),
       coalesce(sum(value_usd) FILTER (WHERE low_traceability), 0)::DOUBLE / nullif(sum(value_usd), 0),
       coalesce(sum(value_usd) FILTER (WHERE avoids), 0)::DOUBLE / nullif(sum(value_usd), 0),
       coalesce(sum(value_usd) FILTER (WHERE allocated)::DOUBLE / nullif(sum(value_usd), 0), 0),
       list_sort(list_distinct(flatten(list(DISTINCT measure_ids)))),
       list_sort(list_distinct(flatten(list(DISTINCT measure_types)))),
       coalesce(list(DISTINCT fx_rate_type ORDER BY fx_rate_type) FILTER (WHERE fx_rate_type IS NOT NULL), []),
       sum(value_usd_alt_rate),
       count(*)  -- a flow's routed rows differ in channel or corridor: at most one per group
FROM rows
GROUP BY ALL;

COMMENT ON TABLE marts.sanctioned_exposure IS 'How much covered trade slips past the authority that covers it? Value covered by measures in force on its date (pro-rated by their days in force in the month), once per authority, split into in reach (potential breach), out of reach (circumvention) and undetermined (reach rests on an allocated or unknown channel or corridor); covered = in reach + circumvention + undetermined.';
COMMENT ON COLUMN marts.sanctioned_exposure.month IS 'First day of the month (monthly flows only; annual flows such as CEPII BACI''s are judged in core.flow_sanctions).';
COMMENT ON COLUMN marts.sanctioned_exposure.data_status IS '`illustrative` (the shipped sample) or `real`; never add the two.';
COMMENT ON COLUMN marts.sanctioned_exposure.authority IS 'Authority whose measures cover the value.';
COMMENT ON COLUMN marts.sanctioned_exposure.kind IS '`restriction` (bans, embargoes, payment bans, secondary sanctions, asset freezes) or `obligation` (EU no-Russia clause: a duty on EU exporters, not a ban).';
COMMENT ON COLUMN marts.sanctioned_exposure.category_id IS 'Goods category.';
COMMENT ON COLUMN marts.sanctioned_exposure.corridor_id IS 'Corridor, or unknown.';
COMMENT ON COLUMN marts.sanctioned_exposure.channel_id IS 'Payment channel, or unknown.';
COMMENT ON COLUMN marts.sanctioned_exposure.covered_value_usd IS 'Value of canonical routed rows covered by a measure of this authority and kind, USD (each row once), pro-rated by the days in force of the longest-running measure covering it.';
COMMENT ON COLUMN marts.sanctioned_exposure.in_reach_value_usd IS 'Of which the authority can reach on what the data say (a party, observed transit or currency in its jurisdiction, UN binding force, or secondary sanctions): potential breach.';
COMMENT ON COLUMN marts.sanctioned_exposure.circumvention_value_usd IS 'Of which the data say the authority cannot reach (channel and corridor observed): the goods reach the target lawfully for those parties.';
COMMENT ON COLUMN marts.sanctioned_exposure.undetermined_value_usd IS 'Of which reach rests on an allocated or unknown channel or corridor: neither breach nor circumvention.';
COMMENT ON COLUMN marts.sanctioned_exposure.partial_month_value_usd IS 'Of which is covered only by measures that start or end inside the month (the flow may fall outside them).';
COMMENT ON COLUMN marts.sanctioned_exposure.non_dollar_value_usd IS 'Of which settled through channels without dollar clearing.';
COMMENT ON COLUMN marts.sanctioned_exposure.low_traceability_value_usd IS 'Of which settled through low-traceability channels.';
COMMENT ON COLUMN marts.sanctioned_exposure.avoiding_authority_value_usd IS 'Of which moved on corridors that cross no jurisdiction enforcing this authority.';
COMMENT ON COLUMN marts.sanctioned_exposure.share_in_reach IS 'in_reach_value_usd / covered_value_usd.';
COMMENT ON COLUMN marts.sanctioned_exposure.share_non_dollar IS 'non_dollar_value_usd / covered_value_usd.';
COMMENT ON COLUMN marts.sanctioned_exposure.share_low_traceability IS 'low_traceability_value_usd / covered_value_usd.';
COMMENT ON COLUMN marts.sanctioned_exposure.share_avoiding_authority IS 'avoiding_authority_value_usd / covered_value_usd.';
COMMENT ON COLUMN marts.sanctioned_exposure.allocated_share IS 'Share of covered_value_usd whose channel or corridor was allocated by rule rather than observed.';
COMMENT ON COLUMN marts.sanctioned_exposure.measure_ids IS 'Measures behind the value (ref.sanctions_measures).';
COMMENT ON COLUMN marts.sanctioned_exposure.measure_types IS 'Kinds of those measures.';
COMMENT ON COLUMN marts.sanctioned_exposure.fx_rate_types IS 'FX rate types behind the value (market, official, market_approximate or official_approximate where ref.fx_rates flags the rate approximate, usd for a value in US dollars with no FX row).';
COMMENT ON COLUMN marts.sanctioned_exposure.value_usd_alt_rate IS 'covered_value_usd with every flow whose currency had a second rate type that month converted at it instead.';
COMMENT ON COLUMN marts.sanctioned_exposure.flows IS 'Distinct flows behind the value.';
