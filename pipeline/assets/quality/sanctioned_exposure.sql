-- marts.sanctioned_exposure audited per month and authority: duplicate keys, the smallest value and
-- the extremes of its shares (GE checks these aggregates, never the whole mart).
SELECT month, authority,
       count(*) - count(DISTINCT (measure_type, category_id, corridor_id, channel_id)) AS duplicate_keys,
       min(restricted_value_usd) AS min_value_usd,
       least(min(share_non_dollar), min(share_low_traceability), min(share_avoiding_authority)) AS min_share,
       greatest(max(share_non_dollar), max(share_low_traceability), max(share_avoiding_authority)) AS max_share
FROM marts.sanctioned_exposure GROUP BY ALL
