-- Counting each trade once: the exporter's and the importer's report of one trade are two
-- observations of one flow. Per (data status, frequency, exporter, importer, HS code, period) the rows
-- of one reporting side are canonical: CEPII BACI's reconciled figure where there is one, else the
-- importer's where it reports, else the exporter's. Imports are declared to customs for duty and are the
-- side mirror statistics (UN Comtrade, CEPII BACI) trust first. Re-exports and re-imports (flow_kind)
-- are never canonical: the country's exports and imports already hold them. The illustrative sample
-- and real data are never compared: they are different worlds, shown apart.
-- Value marts sum canonical rows only; the mirror gap compares both sides.
UPDATE core.trade_flows SET canonical = false
WHERE period >= $window_start AND period < $window_end AND flow_kind IS NOT NULL;

UPDATE core.trade_flows t
SET canonical = (t.basis = k.kept_basis)
FROM (
    SELECT data_status, frequency, exporter_iso3, importer_iso3, hs_code, period,
           CASE WHEN bool_or(basis = 'baci_reconciled') THEN 'baci_reconciled'
                WHEN bool_or(basis = 'importer_reported') THEN 'importer_reported'
                ELSE 'exporter_reported' END AS kept_basis
    FROM core.trade_flows
    WHERE period >= $window_start AND period < $window_end AND flow_kind IS NULL
    GROUP BY ALL
) k
WHERE t.period >= $window_start AND t.period < $window_end AND t.flow_kind IS NULL
  AND t.data_status = k.data_status AND t.frequency = k.frequency
  AND t.exporter_iso3 = k.exporter_iso3 AND t.importer_iso3 = k.importer_iso3
  AND t.hs_code = k.hs_code AND t.period = k.period;
