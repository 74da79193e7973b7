-- core.routed_flows: the routed rows with their flow's attributes and their sanctions judgement (from the
-- `covered` temp table of sanctions.sql). restricted_by lists the authorities whose restrictions (not obligations) cover the
-- row; circumvention says the data put it out of all their reach, undetermined that reach rests on an
-- allocated or unknown channel or corridor; avoids_restricting says whether its corridor crosses no
-- jurisdiction of them (NULL when the row is unrestricted or its corridor unknown).
CREATE TABLE IF NOT EXISTS core.routed_flows (
    flow_id             VARCHAR NOT NULL,
    route_seq           BIGINT  NOT NULL,
    period              DATE    NOT NULL,
    exporter_iso3       VARCHAR NOT NULL,
    importer_iso3       VARCHAR NOT NULL,
    hs_code             VARCHAR NOT NULL,
    hs_code_2022        VARCHAR NOT NULL,
    frequency           VARCHAR NOT NULL,
    data_status         VARCHAR NOT NULL,
    category_id         VARCHAR,
    transit_iso3        VARCHAR,
    basis               VARCHAR NOT NULL,
    canonical           BOOLEAN NOT NULL,
    channel_id          VARCHAR NOT NULL,
    channel_basis       VARCHAR NOT NULL,
    channel_rule_id     VARCHAR,
    corridor_id         VARCHAR NOT NULL,
    corridor_basis      VARCHAR NOT NULL,
    corridor_rule_id    VARCHAR,
    share               DOUBLE  NOT NULL,
    value_usd           DECIMAL(18, 2) NOT NULL,
    fx_rate_type        VARCHAR,
    value_usd_alt_rate  DECIMAL(18, 2) NOT NULL,
    quantity_kg         DOUBLE,
    restricted_any      BOOLEAN NOT NULL,
    restricted_by       VARCHAR[] NOT NULL,
    in_reach_any        BOOLEAN NOT NULL,
    circumvention       BOOLEAN NOT NULL,
    undetermined        BOOLEAN NOT NULL,
    obligation_any      BOOLEAN NOT NULL,
    partial_month_any   BOOLEAN NOT NULL,
    measure_ids         VARCHAR[] NOT NULL,
    avoids_restricting  BOOLEAN
);
DELETE FROM core.routed_flows WHERE period >= $window_start AND period < $window_end;
INSERT INTO core.routed_flows
WITH judged AS (
    SELECT route_key,
           coalesce(list(DISTINCT authority ORDER BY authority) FILTER (WHERE NOT is_obligation), []) AS restricted_by,
           coalesce(bool_or(in_reach AND NOT is_obligation), false) AS in_reach_any,
           coalesce(bool_and(in_reach IS FALSE) FILTER (WHERE NOT is_obligation), false) AS out_of_reach_all,
           bool_or(is_obligation) AS obligation_any,
           bool_or(partial_month) AS partial_month_any,
           list(DISTINCT measure_id ORDER BY measure_id) AS measure_ids
    FROM covered GROUP BY ALL
), exposure AS (
    SELECT x.route_key, bool_or(e.crosses) AS crosses_any
    FROM judged x
    JOIN routed r USING (route_key)
    JOIN core.route_exposure e ON e.corridor_id = r.corridor_id AND list_contains(x.restricted_by, e.authority)
    GROUP BY ALL
)
SELECT f.flow_id, r.route_seq, f.period, f.exporter_iso3, f.importer_iso3, f.hs_code, f.hs_code_2022, f.frequency,
       f.data_status, f.category_id, f.transit_iso3,
       f.basis, coalesce(f.canonical, true), r.channel_id, r.channel_basis, r.channel_rule_id, r.corridor_id,
       r.corridor_basis, r.corridor_rule_id, r.share, r.value_usd, f.fx_rate_type, r.value_usd_alt_rate, r.quantity_kg,
       len(coalesce(x.restricted_by, [])) > 0,
       coalesce(x.restricted_by, []),
       coalesce(x.in_reach_any, false),
       coalesce(x.out_of_reach_all, false),
       len(coalesce(x.restricted_by, [])) > 0 AND NOT coalesce(x.in_reach_any, false) AND NOT coalesce(x.out_of_reach_all, false),
       coalesce(x.obligation_any, false),
       coalesce(x.partial_month_any, false),
       coalesce(x.measure_ids, []),
       CASE WHEN len(coalesce(x.restricted_by, [])) > 0 AND r.corridor_id <> 'unknown' THEN NOT coalesce(e.crosses_any, false) END
FROM routed r
JOIN window_flows f ON f.flow_key = r.flow_key
LEFT JOIN judged x USING (route_key)
LEFT JOIN exposure e USING (route_key);

COMMENT ON TABLE core.routed_flows IS 'Every flow split over payment channels and corridors (observed or allocated by rule), with its sanctions judgement. Grain: flow_id × route_seq; per flow the rows add up to its value_usd exactly. Sum value_usd over canonical rows only: mirror reports of one trade are two flows.';
COMMENT ON COLUMN core.routed_flows.flow_id IS 'Flow (core.trade_flows).';
COMMENT ON COLUMN core.routed_flows.route_seq IS 'Row of the flow''s split, 1 = the largest share.';
COMMENT ON COLUMN core.routed_flows.period IS 'First day of the flow''s month (of its year for an annual flow).';
COMMENT ON COLUMN core.routed_flows.exporter_iso3 IS 'Exporting country (ISO3).';
COMMENT ON COLUMN core.routed_flows.importer_iso3 IS 'Importing country (ISO3).';
COMMENT ON COLUMN core.routed_flows.hs_code IS 'HS code of the flow.';
COMMENT ON COLUMN core.routed_flows.hs_code_2022 IS 'HS 2022 code the flow is matched on (core.trade_flows.hs_code_2022).';
COMMENT ON COLUMN core.routed_flows.frequency IS '`monthly`, or annual (period is the year: month-level marts leave these rows out).';
COMMENT ON COLUMN core.routed_flows.data_status IS '`illustrative` (the shipped sample) or real.';
COMMENT ON COLUMN core.routed_flows.category_id IS 'Goods category (longest HS prefix).';
COMMENT ON COLUMN core.routed_flows.transit_iso3 IS 'Observed transit country (ISO3).';
COMMENT ON COLUMN core.routed_flows.basis IS 'Which side reported the flow.';
COMMENT ON COLUMN core.routed_flows.canonical IS 'The flow is the counted report of its trade (core.trade_flows.canonical).';
COMMENT ON COLUMN core.routed_flows.channel_id IS 'Payment channel of this row; unknown where no observation or sourced rule says.';
COMMENT ON COLUMN core.routed_flows.channel_basis IS '`observed`, allocated (by channel_rule_id, whose source ref.allocation_rules cites) or unknown (no rule).';
COMMENT ON COLUMN core.routed_flows.channel_rule_id IS 'Allocation rule that gave the channel share.';
COMMENT ON COLUMN core.routed_flows.corridor_id IS 'Corridor of this row; unknown where no observation or sourced rule says.';
COMMENT ON COLUMN core.routed_flows.corridor_basis IS '`observed`, allocated (by corridor_rule_id, whose source ref.allocation_rules cites) or unknown (no rule).';
COMMENT ON COLUMN core.routed_flows.corridor_rule_id IS 'Allocation rule that gave the corridor share.';
COMMENT ON COLUMN core.routed_flows.share IS 'Share of the flow in this row (channel share × corridor share).';
COMMENT ON COLUMN core.routed_flows.value_usd IS 'Value of this row, USD (cents); rows of a flow sum to its value_usd exactly.';
COMMENT ON COLUMN core.routed_flows.fx_rate_type IS 'FX rate type behind value_usd: market, official, market_approximate or official_approximate where ref.fx_rates flags the rate approximate, usd for a value in US dollars with no FX row.';
COMMENT ON COLUMN core.routed_flows.value_usd_alt_rate IS 'This row''s value at the other rate type where its currency had one that month (IRR until April 2022), else value_usd.';
COMMENT ON COLUMN core.routed_flows.quantity_kg IS 'Net weight of this row, kg.';
COMMENT ON COLUMN core.routed_flows.restricted_any IS 'True when a restriction (not an obligation) in force in the month covers this row.';
COMMENT ON COLUMN core.routed_flows.restricted_by IS 'Authorities whose restrictions cover this row.';
COMMENT ON COLUMN core.routed_flows.in_reach_any IS 'True when some restriction covering the row is within its authority''s reach on what the data say (potential breach).';
COMMENT ON COLUMN core.routed_flows.circumvention IS 'True when restrictions cover the row and the data say none of their authorities can reach it.';
COMMENT ON COLUMN core.routed_flows.undetermined IS 'True when restrictions cover the row, none is in reach on what the data say, and whether one is rests on an allocated or unknown channel or corridor.';
COMMENT ON COLUMN core.routed_flows.obligation_any IS 'True when an obligation (EU no-Russia clause) applies to the row.';
COMMENT ON COLUMN core.routed_flows.partial_month_any IS 'True when a covering measure starts or ends inside the row''s month.';
COMMENT ON COLUMN core.routed_flows.measure_ids IS 'Every measure covering the row (ref.sanctions_measures).';
COMMENT ON COLUMN core.routed_flows.avoids_restricting IS 'True when the row''s corridor crosses no jurisdiction of the authorities restricting it; NULL when unrestricted or the corridor is unknown.';
