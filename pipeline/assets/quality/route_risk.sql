-- marts.route_risk with audit columns: the mart's total value beside the canonical total of
-- core.trade_flows, and how far covered_share strays from in_reach_share + circumvention_share.
SELECT m.*,
       sum(m.value_usd) OVER ()::DOUBLE AS mart_total,
       (SELECT sum(value_usd) FROM core.trade_flows WHERE canonical)::DOUBLE AS core_total,
       abs(m.covered_share - m.in_reach_share - m.circumvention_share) AS covered_split_error
FROM marts.route_risk m
