-- Flows whose routed rows do not add up to the flow's value_usd (should return nothing).
SELECT f.flow_id, f.value_usd, r.routed_usd
FROM core.trade_flows f
FULL JOIN (SELECT flow_id, sum(value_usd) AS routed_usd FROM core.routed_flows GROUP BY ALL) r USING (flow_id)
WHERE f.value_usd IS DISTINCT FROM r.routed_usd
