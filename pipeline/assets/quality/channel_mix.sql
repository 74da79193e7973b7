-- marts.channel_mix audited per month (a mart of millions of rows becomes one row per month, so
-- GE checks aggregates, never a huge frame): duplicate keys, the extremes of the shares, how far
-- the shares of a partner pair stray from 1, the smallest value, and the month's total in the mart
-- beside the same total of canonical flows in core.trade_flows.
WITH pairs AS (
    SELECT month, data_status, exporter_iso3, importer_iso3, sum(share_of_month) AS share_total
    FROM marts.channel_mix GROUP BY ALL
), keys AS (
    SELECT month, count(*) - count(DISTINCT (data_status, exporter_iso3, importer_iso3, channel_id)) AS duplicate_keys,
           min(share_of_month) AS min_share, max(share_of_month) AS max_share, min(value_usd) AS min_value_usd,
           sum(value_usd)::DOUBLE AS mart_total
    FROM marts.channel_mix GROUP BY ALL
), core_months AS (
    SELECT period AS month, sum(value_usd)::DOUBLE AS core_total FROM core.trade_flows WHERE canonical AND frequency = 'monthly' GROUP BY ALL
)
SELECT k.*, p.worst_share_total_error, c.core_total
FROM keys k
JOIN (SELECT month, max(abs(share_total - 1)) AS worst_share_total_error FROM pairs GROUP BY ALL) p USING (month)
LEFT JOIN core_months c USING (month)
