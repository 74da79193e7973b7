-- Flows of the step's months whose routed rows do not add up to the flow's value_usd (should return
-- nothing). Its months only: they are what the step wrote, and in lake mode another run may be mid-way
-- through other months.
SELECT f.flow_id, f.value_usd, r.routed_usd
FROM (SELECT flow_id, value_usd FROM core.trade_flows WHERE period >= $window_start AND period < $window_end) f
FULL JOIN (
    SELECT flow_id, sum(value_usd) AS routed_usd FROM core.routed_flows
    WHERE period >= $window_start AND period < $window_end GROUP BY ALL
) r USING (flow_id)
WHERE f.value_usd IS DISTINCT FROM r.routed_usd
