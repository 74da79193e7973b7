-- core.flow_sanctions per measure: the earliest end of a flagged flow's period (month, or year for an
-- annual flow) beside the day after the measure took effect; a flow whose period ended before can't be hit.
SELECT s.measure_id, min(f.period_end) AS first_period_end_flagged, m.effective_from + 1 AS day_after_effective
FROM core.flow_sanctions s
JOIN core.trade_flows f USING (flow_id)
JOIN ref.sanctions_measures m USING (measure_id)
GROUP BY s.measure_id, m.effective_from
