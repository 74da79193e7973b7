-- core.flow_sanctions per measure: the earliest month it flags beside the month it took effect.
SELECT s.measure_id, min(f.period) AS first_month_flagged, date_trunc('month', m.effective_from) AS effective_month
FROM core.flow_sanctions s
JOIN core.trade_flows f USING (flow_id)
JOIN ref.sanctions_measures m USING (measure_id)
GROUP BY s.measure_id, m.effective_from
