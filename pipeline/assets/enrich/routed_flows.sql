-- core.routed_flows: the routed rows with their sanctions flags. restricted_by lists the
-- authorities whose measures hit the row; avoids_restricting says whether its corridor crosses
-- none of them (NULL when the row is unrestricted or has no corridor).
CREATE TABLE IF NOT EXISTS core.routed_flows (
    flow_id             VARCHAR NOT NULL,
    route_seq           BIGINT  NOT NULL,
    period              DATE    NOT NULL,
    exporter_iso3       VARCHAR NOT NULL,
    importer_iso3       VARCHAR NOT NULL,
    hs_code             VARCHAR NOT NULL,
    category_id         VARCHAR,
    transit_iso3        VARCHAR,
    basis               VARCHAR NOT NULL,
    channel_id          VARCHAR,
    channel_basis       VARCHAR NOT NULL,
    channel_rule_id     VARCHAR,
    corridor_id         VARCHAR,
    corridor_basis      VARCHAR NOT NULL,
    corridor_rule_id    VARCHAR,
    share               DOUBLE  NOT NULL,
    value_usd           DECIMAL(18, 2) NOT NULL,
    quantity_kg         DOUBLE,
    restricted_any      BOOLEAN NOT NULL,
    restricted_by       VARCHAR[] NOT NULL,
    avoids_restricting  BOOLEAN
);
DELETE FROM core.routed_flows WHERE period >= $window_start AND period < $window_end;
INSERT INTO core.routed_flows
WITH restrictions AS (
    SELECT flow_id, route_seq, list(DISTINCT authority ORDER BY authority) AS restricted_by
    FROM hits GROUP BY ALL
), exposure AS (
    SELECT x.flow_id, x.route_seq, bool_or(e.crosses) AS crosses_any
    FROM restrictions x
    JOIN routed r USING (flow_id, route_seq)
    JOIN core.route_exposure e ON e.corridor_id = r.corridor_id AND list_contains(x.restricted_by, e.authority)
    GROUP BY ALL
)
SELECT r.flow_id, r.route_seq, r.period, r.exporter_iso3, r.importer_iso3, r.hs_code, r.category_id, r.transit_iso3,
       r.basis, r.channel_id, r.channel_basis, r.channel_rule_id, r.corridor_id, r.corridor_basis, r.corridor_rule_id,
       r.share, r.value_usd, r.quantity_kg,
       x.flow_id IS NOT NULL,
       coalesce(x.restricted_by, []),
       CASE WHEN x.flow_id IS NOT NULL AND r.corridor_id IS NOT NULL THEN NOT coalesce(e.crosses_any, false) END
FROM routed r
LEFT JOIN restrictions x USING (flow_id, route_seq)
LEFT JOIN exposure e USING (flow_id, route_seq);

COMMENT ON TABLE core.routed_flows IS 'Every flow split over payment channels and corridors (observed or allocated by rule), with its sanctions flags; per flow the rows add up to its value_usd exactly';
COMMENT ON COLUMN core.routed_flows.flow_id IS 'Flow (core.trade_flows)';
COMMENT ON COLUMN core.routed_flows.route_seq IS 'Row of the flow''s split, 1 = the largest share';
COMMENT ON COLUMN core.routed_flows.period IS 'First day of the flow''s month';
COMMENT ON COLUMN core.routed_flows.exporter_iso3 IS 'Exporting country (ISO3)';
COMMENT ON COLUMN core.routed_flows.importer_iso3 IS 'Importing country (ISO3)';
COMMENT ON COLUMN core.routed_flows.hs_code IS 'HS code of the flow';
COMMENT ON COLUMN core.routed_flows.category_id IS 'Goods category (longest HS prefix)';
COMMENT ON COLUMN core.routed_flows.transit_iso3 IS 'Observed transit country (ISO3)';
COMMENT ON COLUMN core.routed_flows.basis IS 'Which side reported the flow';
COMMENT ON COLUMN core.routed_flows.channel_id IS 'Payment channel of this row; NULL when unallocated';
COMMENT ON COLUMN core.routed_flows.channel_basis IS 'observed, allocated (by channel_rule_id) or unallocated';
COMMENT ON COLUMN core.routed_flows.channel_rule_id IS 'Allocation rule that gave the channel share';
COMMENT ON COLUMN core.routed_flows.corridor_id IS 'Corridor of this row; NULL when unallocated';
COMMENT ON COLUMN core.routed_flows.corridor_basis IS 'observed, allocated (by corridor_rule_id) or unallocated';
COMMENT ON COLUMN core.routed_flows.corridor_rule_id IS 'Allocation rule that gave the corridor share';
COMMENT ON COLUMN core.routed_flows.share IS 'Share of the flow in this row (channel share × corridor share)';
COMMENT ON COLUMN core.routed_flows.value_usd IS 'Value of this row, USD (cents); rows of a flow sum to its value_usd exactly';
COMMENT ON COLUMN core.routed_flows.quantity_kg IS 'Net weight of this row, kg';
COMMENT ON COLUMN core.routed_flows.restricted_any IS 'True when a measure in force in the month hits this row';
COMMENT ON COLUMN core.routed_flows.restricted_by IS 'Authorities whose measures hit this row';
COMMENT ON COLUMN core.routed_flows.avoids_restricting IS 'True when the row''s corridor crosses no jurisdiction of the authorities restricting it';
