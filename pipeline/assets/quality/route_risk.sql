-- marts.route_risk with audit columns: the mart's total value beside the canonical total of
-- core.trade_flows, and how far covered value strays from in reach + circumvention + undetermined.
SELECT m.*,
       sum(m.value_usd) OVER ()::DOUBLE AS mart_total,
       (SELECT sum(value_usd) FROM core.trade_flows WHERE canonical)::DOUBLE AS core_total,
       abs(m.covered_value_usd - m.in_reach_value_usd - m.circumvention_value_usd - m.undetermined_value_usd)::DOUBLE AS covered_split_error
FROM marts.route_risk m
