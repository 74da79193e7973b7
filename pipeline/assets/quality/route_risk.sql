-- marts.route_risk with audit columns: the mart's total value beside core.trade_flows' total.
SELECT m.*,
       sum(m.value_usd) OVER ()::DOUBLE AS mart_total,
       (SELECT sum(value_usd) FROM core.trade_flows)::DOUBLE AS core_total
FROM marts.route_risk m
