-- marts.corridor_flows with audit columns: the total of shares per month, and the month's total in
-- the mart beside the canonical routed value with a corridor in core.routed_flows.
WITH core_months AS (
    SELECT period AS month, sum(value_usd) AS core_total
    FROM core.routed_flows WHERE corridor_id IS NOT NULL AND canonical AND frequency = 'monthly' GROUP BY ALL
)
SELECT m.* EXCLUDE (jurisdictions_crossed),
       sum(m.share_of_month) OVER (PARTITION BY m.month, m.data_status) AS month_share_total,
       sum(m.value_usd) OVER (PARTITION BY m.month)::DOUBLE AS mart_total,
       c.core_total::DOUBLE AS core_total
FROM marts.corridor_flows m
LEFT JOIN core_months c USING (month)
