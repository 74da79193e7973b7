-- Flows of core.trade_flows that could not be converted to USD, flows of the illustrative sample in no
-- goods category (real imports cover every HS code, most outside the categories), and flow_ids loaded
-- more than once (from different files), and flows converted at a stale or fallback rate (fx_rate_stale).
-- Repeated flow_ids are counted by their 64-bit hash: two ids may share a hash, one id never has two, so 0 here
-- means none, and anything else is counted again exactly (DUPLICATE_COUNT_SQL). The distinct count of hashes
-- took 1.05-1.11 s at 10M flows, of the ids 1.32-1.43 s.
SELECT count(*) FILTER (WHERE value_usd IS NULL) AS without_usd,
       count(*) FILTER (WHERE category_id IS NULL AND data_status = 'illustrative') AS without_category,
       count(*) - count(DISTINCT hash(flow_id)) AS possible_duplicate_flow_ids,
       count(*) AS flows,
       count(*) FILTER (WHERE fx_rate_stale) AS stale_flows,
       coalesce(sum(value_usd) FILTER (WHERE fx_rate_stale), 0)::DOUBLE AS stale_usd,
       string_agg(DISTINCT currency || ' ' || strftime(period, '%Y-%m'), ', ' ORDER BY currency || ' ' || strftime(period, '%Y-%m'))
           FILTER (WHERE fx_rate_stale) AS stale_months
FROM core.trade_flows
