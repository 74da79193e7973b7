-- marts.sanctioned_exposure audited per month and authority: duplicate keys, the smallest value, the
-- extremes of its shares, how far in reach + circumvention + undetermined stray from covered, and the covered value
-- beside the distinct canonical flows' value the authority covers (counted once, pro-rated by days in force,
-- it can be no more).
WITH covered_flows AS (
    SELECT s.period AS month, s.authority, sum(CAST(r.value_usd * s.in_force_share AS DECIMAL(18, 2)))::DOUBLE AS distinct_total
    FROM (  -- each row once per authority, at the days in force of its measures of the kind it counts under
        SELECT flow_id, route_seq, period, authority,
               coalesce(max(in_force_share) FILTER (WHERE NOT is_obligation), max(in_force_share)) AS in_force_share
        FROM core.route_sanctions GROUP BY ALL
    ) s
    JOIN core.routed_flows r USING (flow_id, route_seq)
    WHERE r.canonical AND r.frequency = 'monthly'
    GROUP BY ALL
)
SELECT month, authority,
       count(*) - count(DISTINCT (data_status, kind, category_id, corridor_id, channel_id)) AS duplicate_keys,
       min(covered_value_usd) AS min_value_usd,
       least(min(share_in_reach), min(share_non_dollar), min(share_low_traceability), min(share_avoiding_authority)) AS min_share,
       greatest(max(share_in_reach), max(share_non_dollar), max(share_low_traceability), max(share_avoiding_authority)) AS max_share,
       max(abs(covered_value_usd - in_reach_value_usd - circumvention_value_usd - undetermined_value_usd))::DOUBLE AS split_error,
       sum(covered_value_usd)::DOUBLE AS mart_total,
       any_value(c.distinct_total) AS core_total
FROM marts.sanctioned_exposure
LEFT JOIN covered_flows c USING (month, authority)
GROUP BY ALL
