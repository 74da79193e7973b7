-- Hits of a measure on a flow from a month (or year) that ended before the measure took effect, or began
-- after it ended; in the step's months (see audit_totals.sql).
SELECT s.flow_id, s.measure_id, f.period, m.effective_from, m.effective_to
FROM core.flow_sanctions s
JOIN core.trade_flows f USING (flow_id)
JOIN ref.sanctions_measures m USING (measure_id)
WHERE s.period >= $window_start AND s.period < $window_end
  AND (m.effective_from >= f.period_end OR m.effective_to <= f.period)
