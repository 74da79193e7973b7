-- Flows of core.trade_flows that could not be converted to USD or put in a goods category, and
-- flow_ids loaded more than once (from different files).
SELECT count(*) FILTER (WHERE value_usd IS NULL) AS without_usd,
       count(*) FILTER (WHERE category_id IS NULL) AS without_category,
       count(*) - count(DISTINCT flow_id) AS duplicate_flow_ids,
       count(*) AS flows
FROM core.trade_flows
