-- marts.counterparty_hits: every flow whose exporter_name, importer_name or vessel_imo hits a
-- sanctions-list entry. `name_hits` (name, party_id, matched_name, score) is the frame
-- pipeline/screening.py made from the flows' distinct names; vessel IMO numbers match exactly (100).
CREATE TABLE marts.counterparty_hits AS
WITH named AS (
    SELECT flow_id, period, exporter_iso3, importer_iso3, value_usd, canonical,
           'exporter_name' AS matched_on, exporter_name AS matched_value
    FROM core.trade_flows WHERE exporter_name IS NOT NULL
    UNION ALL
    SELECT flow_id, period, exporter_iso3, importer_iso3, value_usd, canonical,
           'importer_name', importer_name
    FROM core.trade_flows WHERE importer_name IS NOT NULL
), hits AS (
    SELECT n.*, h.party_id, h.matched_name, h.score
    FROM named n JOIN name_hits h ON h.name = n.matched_value
    UNION ALL
    SELECT f.flow_id, f.period, f.exporter_iso3, f.importer_iso3, f.value_usd, f.canonical,
           'vessel_imo', f.vessel_imo, p.party_id, p.name, 100
    FROM core.trade_flows f JOIN ref.sanctioned_parties p ON p.imo = f.vessel_imo
)
SELECT h.flow_id, h.period, h.exporter_iso3, h.importer_iso3, h.party_id, p.list_name, h.matched_on,
       h.matched_value, h.matched_name, h.score::INTEGER AS score, p.programs, h.value_usd, h.canonical
FROM hits h JOIN ref.sanctioned_parties p USING (party_id)
ORDER BY h.period, h.flow_id, h.matched_on, h.score DESC, h.party_id;
