-- Point-in-time sanctions. For every routed row of the run's months and every measure, two questions:
--
-- covered  — the measure's target matches the row (HS code, HS prefix by equi-joins on the 2-, 4- and
--            6-digit prefixes of the code in the measure's HS edition: hs_code_2022, or hs_code_2017 for a
--            list written in HS 2017; channel, country, a named party or vessel), a measure bound to a price
--            per item (min_unit_value_eur, EU luxury goods) covers it only when its value per item is known
--            and above that price (the rest are kept in core.flow_sanctions_unpriced, not dropped silently) and its goods are not among the
--            measure's excluded HS prefixes (general licences), the flow runs in the
--            measure's direction (to_target: into target_country; from_target: out of it; either), and
--            the measure is in force on some day of the flow's month. A country embargo that binds only the
--            authority's territory and persons (binds = territory_and_persons, e.g. 31 CFR 560.204/206)
--            covers only flows with that nexus, observed: the exporter or importer, an observed transit
--            country or corridor, or an observed channel is the authority's. An obligation (the EU no-Russia
--            clause) instead covers exports by a party of the authority's jurisdiction to a third
--            country that is neither the target nor under the same authority. No measure covers flows
--            into its excluded_countries (Annex VIII partners, holders of an exception).
--            A ban on importation into the authority's own territory (own_imports_only) covers only
--            flows into it.
-- in_reach — three states, and only what the data say decides them. true: the authority reaches the row
--            by un_binding (UN measures bind every member state), exporter_jurisdiction /
--            importer_jurisdiction (a party in a country enforcing it), transit (an observed transit
--            country, or a leg of an observed corridor, enforcing it), currency:<code> (an observed channel
--            in a currency the authority clears: USD → US, EUR → EU) or secondary (the legal text
--            sanctions any person who engages, wherever based). false: none of these, and the row's channel
--            and corridor are both observed, so nothing unseen could bring it in reach. NULL (undetermined):
--            none of these, but the channel or corridor is allocated by rule or unknown, or the measure
--            covers the row only through an allocated channel or corridor: an assumption never makes a
--            finding.
-- Covered and in reach is a potential breach; covered and out of reach is circumvention: the goods
-- reach the target lawfully for those parties. A measure in force for part of the flow's month (or
-- year) covers that part: in_force_share = its days in force / the period's days pro-rates the value,
-- and partial_month says the data cannot tell the day.
CREATE OR REPLACE TEMP TABLE measures AS
SELECT measure_id, authority, target_country, target_type, direction, measure_type, own_imports_only,
       binds = 'any_person' AS secondary,
       binds = 'territory_and_persons' AND target_type = 'country' AS nexus_only,
       measure_type = 'obligation' AS is_obligation,
       coalesce(string_split(excluded_countries, '|'), []) AS excluded,
       coalesce(string_split(excluded_hs_prefixes, '|'), []) AS excluded_hs,
       hs_edition, min_unit_value_eur, effective_from, effective_to
FROM ref.sanctions_measures;

CREATE OR REPLACE TEMP TABLE measure_targets AS  -- one row per item of a measure's |-separated target
SELECT measure_id, target_type, direction, hs_edition, unnest(string_split(target, '|')) AS target_item
FROM ref.sanctions_measures;

CREATE OR REPLACE TEMP TABLE flow_codes AS  -- each flow's HS code in each edition a measure may be written in
SELECT flow_key, 'HS2022' AS hs_edition, hs_code_2022 AS code FROM window_flows
UNION ALL
SELECT flow_key, 'HS2017', hs_code_2017 FROM window_flows WHERE hs_code_2017 IS NOT NULL;

CREATE OR REPLACE TEMP TABLE listed_targets AS  -- the list entries a measure names: an entity by its normalised
-- name or alias (`measure_names`, normalised by pipeline/screening.py), a vessel by its IMO number
SELECT DISTINCT n.measure_id, p.party_id
FROM measure_names n
JOIN (SELECT party_id, name_normalised AS normalised FROM ref.sanctioned_parties
      UNION ALL SELECT party_id, alias_normalised FROM ref.sanctioned_party_aliases) p
  ON p.normalised = n.normalised AND n.normalised <> ''
UNION
SELECT m.measure_id, p.party_id
FROM measure_targets m JOIN ref.sanctioned_parties p ON m.target_type = 'vessel' AND p.imo = m.target_item;

CREATE OR REPLACE TEMP TABLE authorities_of AS
SELECT country_iso3, sanctions_authorities AS authorities FROM ref.jurisdictions;

-- Every way a measure's target matches a flow: what the flow itself says (goods, countries, names, vessel, a
-- screened party) is matched once per flow; only the channel and the corridor are matched per routed row.
CREATE OR REPLACE TEMP TABLE flow_matches AS
SELECT r.flow_key, m.measure_id, 'hs_code' AS matched_on, m.target_item AS matched_value
FROM flow_codes r JOIN measure_targets m
  ON m.target_type = 'hs_code' AND m.hs_edition = r.hs_edition AND m.target_item = left(r.code, 6) AND length(r.code) >= 6
UNION ALL
SELECT r.flow_key, m.measure_id, 'hs_prefix', m.target_item
FROM flow_codes r JOIN measure_targets m
  ON m.target_type = 'hs_prefix' AND m.hs_edition = r.hs_edition AND m.target_item = left(r.code, 2)
UNION ALL
SELECT r.flow_key, m.measure_id, 'hs_prefix', m.target_item
FROM flow_codes r JOIN measure_targets m
  ON m.target_type = 'hs_prefix' AND m.hs_edition = r.hs_edition AND m.target_item = left(r.code, 4) AND length(r.code) >= 4
UNION ALL
SELECT r.flow_key, m.measure_id, 'hs_prefix', m.target_item
FROM flow_codes r JOIN measure_targets m
  ON m.target_type = 'hs_prefix' AND m.hs_edition = r.hs_edition AND m.target_item = left(r.code, 6) AND length(r.code) >= 6
UNION ALL  -- a country measure: the flow runs to or from it, or (direction either) passes through it
SELECT f.flow_key, m.measure_id, 'exporter', m.target_item
FROM window_flows f JOIN measure_targets m ON m.target_type = 'country' AND m.target_item = f.exporter_iso3
WHERE m.direction IN ('from_target', 'either')
UNION ALL
SELECT f.flow_key, m.measure_id, 'importer', m.target_item
FROM window_flows f JOIN measure_targets m ON m.target_type = 'country' AND m.target_item = f.importer_iso3
WHERE m.direction IN ('to_target', 'either')
UNION ALL
SELECT f.flow_key, m.measure_id, 'transit_country', m.target_item
FROM window_flows f JOIN measure_targets m ON m.target_type = 'country' AND m.direction = 'either' AND m.target_item = f.transit_iso3
UNION ALL  -- a named party or vessel, compared without regard to case or surrounding blanks
SELECT f.flow_key, m.measure_id, 'exporter_name', m.target_item
FROM window_flows f JOIN measure_targets m ON m.target_type = 'entity' AND lower(trim(m.target_item)) = lower(trim(f.exporter_name))
UNION ALL
SELECT f.flow_key, m.measure_id, 'importer_name', m.target_item
FROM window_flows f JOIN measure_targets m ON m.target_type = 'entity' AND lower(trim(m.target_item)) = lower(trim(f.importer_name))
UNION ALL
SELECT f.flow_key, m.measure_id, 'vessel', m.target_item
FROM window_flows f JOIN measure_targets m ON m.target_type = 'vessel' AND m.target_item = f.vessel_imo
UNION ALL  -- a party or vessel screening put on a list entry the measure names (marts.counterparty_hits:
           -- names after normalisation with a fuzzy score, IMO numbers exactly)
SELECT f.flow_key, t.measure_id, 'listed_party:' || h.matched_on, h.party_id || ' (score ' || h.score || ')'
FROM window_flows f JOIN marts.counterparty_hits h USING (flow_id) JOIN listed_targets t USING (party_id);

CREATE OR REPLACE TEMP TABLE route_matches AS
SELECT r.route_key, r.flow_key, m.measure_id, 'channel' AS matched_on, m.target_item AS matched_value, r.channel_basis AS basis
FROM routed r JOIN measure_targets m ON m.target_type = 'channel' AND m.target_item = r.channel_id
UNION ALL
SELECT DISTINCT r.route_key, r.flow_key, m.measure_id, 'corridor_transit', m.target_item, r.corridor_basis
FROM routed r
JOIN ref.corridor_legs l ON l.corridor_id = r.corridor_id
JOIN measure_targets m ON m.target_type = 'country' AND m.direction = 'either' AND m.target_item = l.country_iso3;

-- The (flow, measure) pairs a match could make covered, judged on the flow alone before they are multiplied by
-- routes (most matches end here: a goods measure matches the goods bound anywhere):
--   in force on some day of the flow's month (or year), its goods not among the measure's excluded HS prefixes,
--   and the flow runs the measure's way.
CREATE OR REPLACE TEMP TABLE flow_pairs AS
SELECT p.flow_key, p.measure_id
FROM (SELECT flow_key, measure_id FROM flow_matches UNION SELECT flow_key, measure_id FROM route_matches) p
JOIN window_flows f USING (flow_key)
JOIN measures m USING (measure_id)
LEFT JOIN authorities_of je ON je.country_iso3 = f.exporter_iso3
LEFT JOIN authorities_of ji ON ji.country_iso3 = f.importer_iso3
WHERE m.effective_from < f.period_end
  AND (m.effective_to IS NULL OR m.effective_to > f.period)
  AND NOT list_has_any(m.excluded_hs, CASE WHEN m.hs_edition = 'HS2017'
      THEN [left(f.hs_code_2017, 2), left(f.hs_code_2017, 4), left(f.hs_code_2017, 6)]
      ELSE [left(f.hs_code_2022, 2), left(f.hs_code_2022, 4), left(f.hs_code_2022, 6)] END)
  AND CASE
          WHEN m.is_obligation THEN
              list_contains(coalesce(je.authorities, []), m.authority)
              AND f.importer_iso3 <> m.target_country
              AND NOT list_contains(coalesce(ji.authorities, []), m.authority)
          WHEN m.target_type IN ('entity', 'vessel', 'country') THEN true  -- the match itself is directed
          WHEN m.direction = 'to_target' THEN f.importer_iso3 = m.target_country
          WHEN m.direction = 'from_target' THEN f.exporter_iso3 = m.target_country
          ELSE m.target_country IN (f.exporter_iso3, f.importer_iso3)
      END
  -- a ban on importation into the authority's own territory covers nothing bound elsewhere
  AND (NOT m.own_imports_only OR list_contains(coalesce(ji.authorities, []), m.authority))
  -- importing countries the measure leaves out (Annex VIII partners, exception holders)
  AND NOT list_contains(m.excluded, f.importer_iso3);

CREATE OR REPLACE TEMP TABLE matches AS  -- every way a measure of flow_pairs matches a routed row: its flow's, and its own
SELECT r.route_key, x.measure_id, x.matched_on, x.matched_value, 'observed' AS basis
FROM flow_matches x SEMI JOIN flow_pairs USING (flow_key, measure_id) JOIN routed r USING (flow_key)
UNION ALL
SELECT route_key, measure_id, matched_on, matched_value, basis
FROM route_matches SEMI JOIN flow_pairs USING (flow_key, measure_id);

-- Temporary tables, not CTEs: the planner knows their sizes (a CTE's estimate of 0 rows once made it
-- pair every routed row with every measure), and they spill to disk past the memory limit.
CREATE OR REPLACE TEMP TABLE pair_rows AS  -- each (routed row, measure) of `matches`, with the row
SELECT p.route_key, p.measure_id, r.flow_key, f.flow_id, r.route_seq, f.period, f.period_end, f.exporter_iso3,
       f.importer_iso3, f.transit_iso3, f.unit_value_eur, r.channel_id, r.corridor_id,
       r.channel_basis, r.corridor_basis, r.value_usd, r.value_usd_alt_rate
FROM (SELECT DISTINCT route_key, measure_id FROM matches) p JOIN routed r USING (route_key) JOIN window_flows f ON f.flow_key = r.flow_key;

CREATE OR REPLACE TEMP TABLE reached AS  -- the pairs the measure covers, with whether and why its authority reaches them
WITH in_force AS (  -- each match with its measure and what the row's parties, transit and channel enforce
    SELECT x.* EXCLUDE (transit_iso3, channel_id, corridor_id), m.* EXCLUDE (measure_id),
           coalesce(je.authorities, []) AS exporter_enforces,
           coalesce(ji.authorities, []) AS importer_enforces,
           coalesce(jt.authorities, []) AS transit_enforces,
           c.clearing_authority, lower(c.currency) AS currency,
           coalesce(e.crosses, false) AS corridor_crosses
    FROM pair_rows x
    JOIN measures m USING (measure_id)
    LEFT JOIN authorities_of je ON je.country_iso3 = x.exporter_iso3
    LEFT JOIN authorities_of ji ON ji.country_iso3 = x.importer_iso3
    LEFT JOIN authorities_of jt ON jt.country_iso3 = x.transit_iso3
    LEFT JOIN ref.payment_channels c ON c.channel_id = x.channel_id
    LEFT JOIN core.route_exposure e ON e.corridor_id = x.corridor_id AND e.authority = m.authority
), judged AS (
    SELECT *,
           -- in force on some day of the month (or year, for an annual flow), and on every day of it or not
           effective_from > period OR coalesce(effective_to < period_end, false) AS partial_month,
           -- a price-bound measure (EU luxury goods): above its price per item, or unknown (kept apart, not covered)
           min_unit_value_eur IS NULL OR unit_value_eur > min_unit_value_eur AS priced,
           min_unit_value_eur IS NOT NULL AND unit_value_eur IS NULL AS price_unknown,
           -- each way the authority reaches the row, once
           authority = 'UN' AND (list_contains(exporter_enforces, 'UN') OR list_contains(importer_enforces, 'UN')) AS un_binding,
           list_contains(exporter_enforces, authority) AS by_exporter,
           list_contains(importer_enforces, authority) AS by_importer,
           list_contains(transit_enforces, authority) AS by_transit_country,
           -- an allocated or unknown corridor or channel is no evidence of either
           corridor_crosses AND corridor_basis = 'observed' AS by_corridor,
           clearing_authority IS NOT DISTINCT FROM authority AND channel_basis = 'observed' AS by_currency,
           channel_basis = 'observed' AND corridor_basis = 'observed' AS route_observed,
           -- the days of the period the measure is in force, of its days
           date_diff('day', greatest(period, effective_from), least(period_end, coalesce(effective_to, period_end)))
               / date_diff('day', period, period_end) AS in_force_share
    FROM in_force
), reached AS (
    SELECT *,
           list_filter([
               CASE WHEN un_binding THEN 'un_binding' END,
               CASE WHEN by_exporter THEN 'exporter_jurisdiction' END,
               CASE WHEN by_importer THEN 'importer_jurisdiction' END,
               CASE WHEN by_transit_country OR by_corridor THEN 'transit' END,
               CASE WHEN by_currency THEN 'currency:' || currency END,
               CASE WHEN secondary THEN 'secondary' END
           ], reason -> reason IS NOT NULL) AS reach_reasons
    FROM judged
    -- a country embargo binding only the authority's own territory and persons needs their nexus
    WHERE (NOT nexus_only OR by_exporter OR by_importer OR by_transit_country OR by_corridor OR by_currency)
)
SELECT * FROM reached;

-- The flows a price-bound measure would cover but for an unknown value per item: not covered, and kept here
-- with their value, so the measure's coverage says what it leaves out.
CREATE TABLE IF NOT EXISTS core.flow_sanctions_unpriced (
    flow_id             VARCHAR       NOT NULL,
    period              DATE          NOT NULL,
    measure_id          VARCHAR       NOT NULL,
    min_unit_value_eur  DOUBLE        NOT NULL,
    canonical           BOOLEAN       NOT NULL,
    data_status         VARCHAR       NOT NULL,
    value_usd           DECIMAL(18, 2) NOT NULL
);
DELETE FROM core.flow_sanctions_unpriced WHERE period >= $window_start AND period < $window_end;
INSERT INTO core.flow_sanctions_unpriced
SELECT f.flow_id, f.period, u.measure_id, u.min_unit_value_eur, f.canonical, f.data_status, sum(u.value_usd)
FROM (SELECT flow_key, measure_id, min_unit_value_eur, value_usd FROM reached WHERE price_unknown) u
JOIN window_flows f USING (flow_key)
GROUP BY ALL;
COMMENT ON TABLE core.flow_sanctions_unpriced IS 'Flows a measure bound to a price per item (EU luxury goods above EUR 300 an item) would cover but for an unknown value per item (no quantity_units): not counted as covered. Grain: flow_id × measure_id.';
COMMENT ON COLUMN core.flow_sanctions_unpriced.flow_id IS 'Flow (core.trade_flows).';
COMMENT ON COLUMN core.flow_sanctions_unpriced.period IS 'First day of the flow''s month (of its year for an annual flow).';
COMMENT ON COLUMN core.flow_sanctions_unpriced.measure_id IS 'Measure (ref.sanctions_measures) whose price the flow cannot be compared with.';
COMMENT ON COLUMN core.flow_sanctions_unpriced.min_unit_value_eur IS 'The measure''s price per item, EUR.';
COMMENT ON COLUMN core.flow_sanctions_unpriced.canonical IS 'The flow is the counted report of its trade; sum canonical rows only.';
COMMENT ON COLUMN core.flow_sanctions_unpriced.data_status IS '`illustrative` (the shipped sample) or real.';
COMMENT ON COLUMN core.flow_sanctions_unpriced.value_usd IS 'Value of the flow, USD.';

CREATE OR REPLACE TEMP TABLE covered AS  -- one row per (routed row, measure) that the measure covers, with how it matched
WITH matched AS (  -- a pair may match several ways
    SELECT route_key, measure_id,
           list(DISTINCT matched_on ORDER BY matched_on) AS matched_on,
           list(DISTINCT matched_value ORDER BY matched_value) AS matched_values,
           bool_or(basis = 'observed') AS observed
    FROM matches SEMI JOIN (SELECT route_key, measure_id FROM reached WHERE priced) USING (route_key, measure_id)
    GROUP BY ALL
)
SELECT route_key, flow_key, flow_id, route_seq, period, measure_id, authority, measure_type, direction, is_obligation,
       matched_on, matched_values, observed, partial_month, in_force_share, value_usd,
       CAST(value_usd * in_force_share AS DECIMAL(18, 2)) AS value_usd_in_force,
       CAST(value_usd_alt_rate * in_force_share AS DECIMAL(18, 2)) AS value_usd_alt_rate_in_force,
       CASE WHEN reached_on_data THEN true WHEN observed AND route_observed THEN false END AS in_reach,
       CASE WHEN reached_on_data THEN reach_reasons ELSE [] END AS reach_reasons,
       -- what an undetermined row waits on: an allocated channel or corridor (or coverage through one), or
       -- a channel or corridor nobody knows
       CASE WHEN reached_on_data OR (observed AND route_observed) THEN NULL
            WHEN NOT observed OR 'allocated' IN (channel_basis, corridor_basis) THEN 'allocated'
            ELSE 'unknown' END AS undetermined_basis
FROM (
    SELECT *, observed AND len(reach_reasons) > 0 AS reached_on_data
    FROM reached JOIN matched USING (route_key, measure_id)
    WHERE priced
);

CREATE TABLE IF NOT EXISTS core.flow_sanctions (
    flow_id                  VARCHAR   NOT NULL,
    period                   DATE      NOT NULL,
    measure_id               VARCHAR   NOT NULL,
    authority                VARCHAR   NOT NULL,
    measure_type             VARCHAR   NOT NULL,
    direction                VARCHAR   NOT NULL,
    is_obligation            BOOLEAN   NOT NULL,
    matched_on               VARCHAR[] NOT NULL,
    matched_values           VARCHAR[] NOT NULL,
    basis                    VARCHAR   NOT NULL,
    partial_month            BOOLEAN   NOT NULL,
    days_in_force            INTEGER   NOT NULL,
    days_in_period           INTEGER   NOT NULL,
    in_reach                 BOOLEAN,
    reach_reason             VARCHAR,
    reach_reasons            VARCHAR[] NOT NULL,
    reach_basis              VARCHAR,
    finding                  VARCHAR   NOT NULL,
    canonical                BOOLEAN   NOT NULL,
    frequency                VARCHAR   NOT NULL,
    data_status              VARCHAR   NOT NULL,
    hs_match                 VARCHAR   NOT NULL,
    fx_rate_type             VARCHAR,
    flow_value_usd           DECIMAL(18, 2) NOT NULL,
    value_usd_affected       DECIMAL(18, 2) NOT NULL,
    in_reach_value_usd       DECIMAL(18, 2) NOT NULL,
    circumvention_value_usd  DECIMAL(18, 2) NOT NULL,
    undetermined_value_usd   DECIMAL(18, 2) NOT NULL,
    value_usd_alt_rate       DECIMAL(18, 2) NOT NULL
);
DELETE FROM core.flow_sanctions WHERE period >= $window_start AND period < $window_end;
INSERT INTO core.flow_sanctions
WITH per_flow AS (
    SELECT flow_key, period, measure_id, authority, measure_type, direction, is_obligation,
           list_distinct(flatten(list(matched_on))) AS matched_on,
           list_distinct(flatten(list(matched_values))) AS matched_values,
           CASE WHEN bool_or(observed) THEN 'observed' ELSE 'allocated' END AS basis,
           bool_or(partial_month) AS partial_month,
           max(in_force_share) AS in_force_share,  -- one measure, one period: the same on every routed row
           list_distinct(flatten(list(reach_reasons))) AS reasons,
           bool_or(in_reach) AS any_in_reach,
           bool_or(in_reach IS NULL) AS any_undetermined,
           bool_or(undetermined_basis = 'allocated') AS waits_on_allocation,
           CASE WHEN bool_and(in_reach IS TRUE) THEN 'in_reach' WHEN bool_and(in_reach IS FALSE) THEN 'out_of_reach'
                WHEN bool_and(in_reach IS NULL) THEN 'undetermined' ELSE 'split' END AS reach_state,
           sum(value_usd) AS flow_value_usd,
           coalesce(sum(value_usd_in_force) FILTER (WHERE in_reach), 0) AS in_reach_value_usd,
           coalesce(sum(value_usd_in_force) FILTER (WHERE NOT in_reach), 0) AS circumvention_value_usd,
           coalesce(sum(value_usd_in_force) FILTER (WHERE in_reach IS NULL), 0) AS undetermined_value_usd,
           sum(value_usd_alt_rate_in_force) AS value_usd_alt_rate
    FROM covered GROUP BY ALL
), ranked AS (  -- reach reasons in a fixed order, the strongest first
    SELECT * EXCLUDE (reasons),
           in_reach_value_usd + circumvention_value_usd + undetermined_value_usd AS value_usd_affected,
           list_concat(
               list_filter(['un_binding', 'exporter_jurisdiction', 'importer_jurisdiction', 'transit', 'currency:usd', 'currency:eur', 'secondary'], reason -> list_contains(reasons, reason)),
               list_sort(list_filter(reasons, reason -> NOT list_contains(['un_binding', 'exporter_jurisdiction', 'importer_jurisdiction', 'transit', 'currency:usd', 'currency:eur', 'secondary'], reason)))
           ) AS reach_reasons
    FROM per_flow
)
SELECT f.flow_id, k.period, k.measure_id, k.authority, k.measure_type, k.direction, k.is_obligation,
       list_sort(k.matched_on), list_sort(k.matched_values), k.basis, k.partial_month,
       round(k.in_force_share * date_diff('day', f.period, f.period_end))::INTEGER, date_diff('day', f.period, f.period_end),
       CASE k.reach_state WHEN 'in_reach' THEN true WHEN 'out_of_reach' THEN false END,
       k.reach_reasons[1], k.reach_reasons,
       -- from the rows' states, not their values: a flow worth nothing is still judged
       CASE WHEN k.any_in_reach THEN 'observed'
            WHEN k.any_undetermined THEN CASE WHEN k.waits_on_allocation THEN 'allocated' ELSE 'unknown' END END,
       CASE WHEN k.is_obligation THEN 'obligation'
            WHEN k.reach_state = 'in_reach' THEN 'potential_breach'
            WHEN k.reach_state = 'out_of_reach' THEN 'circumvention'
            WHEN k.reach_state = 'undetermined' THEN 'undetermined'
            ELSE 'partly_in_reach' END,
       f.canonical, f.frequency, f.data_status, f.hs_match, f.fx_rate_type,
       k.flow_value_usd, k.value_usd_affected, k.in_reach_value_usd, k.circumvention_value_usd, k.undetermined_value_usd,
       k.value_usd_alt_rate
FROM ranked k
JOIN window_flows f USING (flow_key);

COMMENT ON TABLE core.flow_sanctions IS 'One row per (flow, measure) the measure covers on the flow''s date: how it matched, whether the authority can reach it (potential breach), cannot (circumvention) or whether that rests on a channel or corridor nobody observed (undetermined), and the value once. Values are pro-rated by the days the measure is in force in the flow''s month or year (flow_value_usd keeps the whole); value_usd_affected = in_reach_value_usd + circumvention_value_usd + undetermined_value_usd. Grain: flow_id × measure_id. Value columns add up over flows for one measure (or one authority only after taking distinct flows: a flow may be covered by several measures).';
COMMENT ON COLUMN core.flow_sanctions.flow_id IS 'Flow (core.trade_flows).';
COMMENT ON COLUMN core.flow_sanctions.period IS 'First day of the flow''s month (of its year for an annual flow).';
COMMENT ON COLUMN core.flow_sanctions.measure_id IS 'Measure (ref.sanctions_measures).';
COMMENT ON COLUMN core.flow_sanctions.authority IS 'Authority of the measure.';
COMMENT ON COLUMN core.flow_sanctions.measure_type IS 'Kind of measure (obligation: a duty on parties, not a ban).';
COMMENT ON COLUMN core.flow_sanctions.direction IS 'Direction of the measure: to_target, from_target or either.';
COMMENT ON COLUMN core.flow_sanctions.is_obligation IS 'True for obligations (no-Russia clause), reported apart from restrictions.';
COMMENT ON COLUMN core.flow_sanctions.matched_on IS 'Every way the target matched: hs_code, hs_prefix, channel, exporter, importer, transit_country, corridor_transit, exporter_name, importer_name, vessel (exactly), or listed_party:<exporter_name|importer_name|vessel_imo> (screened onto a list entry the measure names; matched_values gives party and score).';
COMMENT ON COLUMN core.flow_sanctions.matched_values IS 'The codes, channels, countries, names or IMO numbers that matched.';
COMMENT ON COLUMN core.flow_sanctions.basis IS '`observed`, or allocated when coverage rests only on an allocated channel or corridor.';
COMMENT ON COLUMN core.flow_sanctions.partial_month IS 'True when the measure starts or ends inside the flow''s month (its year, for an annual flow): the flow may predate or postdate it (the data cannot tell the day), so its value is pro-rated by days_in_force.';
COMMENT ON COLUMN core.flow_sanctions.days_in_force IS 'Days of the flow''s month (year) the measure is in force.';
COMMENT ON COLUMN core.flow_sanctions.days_in_period IS 'Days of the flow''s month (year): the values are flow_value_usd × days_in_force / days_in_period.';
COMMENT ON COLUMN core.flow_sanctions.in_reach IS 'True when what the data say brings the flow in the authority''s reach (see reach_reasons), false when the data say nothing could (channel and corridor observed, none of them the authority''s), NULL when it is undetermined (reach would rest on an allocated or unknown channel or corridor) or differs between routed rows.';
COMMENT ON COLUMN core.flow_sanctions.reach_reason IS 'The first reach reason in the order un_binding, exporter_jurisdiction, importer_jurisdiction, transit, currency:usd, currency:eur, secondary; NULL when out of reach.';
COMMENT ON COLUMN core.flow_sanctions.reach_reasons IS 'Every reason the authority reaches the flow, in that order.';
COMMENT ON COLUMN core.flow_sanctions.reach_basis IS '`observed` when the flow is in reach on what the data say (parties, observed transit, channel or corridor, UN or secondary design); for an undetermined flow, allocated (its channel or corridor was allocated by rule, or coverage rests on one) or unknown (no observation and no sourced rule); NULL when out of reach.';
COMMENT ON COLUMN core.flow_sanctions.finding IS 'potential_breach (covered and in reach), circumvention (covered, and the data say out of reach), undetermined (reach rests on an allocated or unknown channel or corridor: no finding), partly_in_reach (routed rows judged differently), or obligation.';
COMMENT ON COLUMN core.flow_sanctions.canonical IS 'The flow is the counted report of its trade (core.trade_flows.canonical); sum canonical rows only.';
COMMENT ON COLUMN core.flow_sanctions.frequency IS '`monthly`, or annual (period is the year; partial_month then means a partial year).';
COMMENT ON COLUMN core.flow_sanctions.data_status IS '`illustrative` (the shipped sample) or real (a downloaded or user-written file).';
COMMENT ON COLUMN core.flow_sanctions.hs_match IS '`exact`, or approximate when an HS 2017 code matched through a split in the HS 2022 concordance.';
COMMENT ON COLUMN core.flow_sanctions.fx_rate_type IS 'FX rate type behind value_usd_affected (market, official, market_approximate or official_approximate where ref.fx_rates flags the rate approximate, usd for a value in US dollars with no FX row).';
COMMENT ON COLUMN core.flow_sanctions.flow_value_usd IS 'Value of the routed rows the measure matched, USD, for the whole month (year): not pro-rated.';
COMMENT ON COLUMN core.flow_sanctions.value_usd_affected IS 'Value the measure covers, USD: the matched rows pro-rated by days_in_force / days_in_period, counted once however many ways it matched (the whole flow unless coverage rests on one of its allocated channels or corridors); = in_reach + circumvention + undetermined.';
COMMENT ON COLUMN core.flow_sanctions.in_reach_value_usd IS 'Of which the authority can reach on what the data say, USD.';
COMMENT ON COLUMN core.flow_sanctions.circumvention_value_usd IS 'Of which the data say is out of the authority''s reach, USD.';
COMMENT ON COLUMN core.flow_sanctions.undetermined_value_usd IS 'Of which reach rests on an allocated or unknown channel or corridor, USD: neither breach nor circumvention.';
COMMENT ON COLUMN core.flow_sanctions.value_usd_alt_rate IS 'value_usd_affected at the other FX rate type where the currency had one, else the same.';

-- The same judgement per routed row, for marts that split flows by channel and corridor.
CREATE TABLE IF NOT EXISTS core.route_sanctions (
    flow_id        VARCHAR   NOT NULL,
    route_seq      BIGINT    NOT NULL,
    period         DATE      NOT NULL,
    measure_id     VARCHAR   NOT NULL,
    authority      VARCHAR   NOT NULL,
    measure_type   VARCHAR   NOT NULL,
    is_obligation  BOOLEAN   NOT NULL,
    partial_month  BOOLEAN   NOT NULL,
    in_force_share DOUBLE    NOT NULL,
    in_reach       BOOLEAN,
    reach_reasons  VARCHAR[] NOT NULL
);
DELETE FROM core.route_sanctions WHERE period >= $window_start AND period < $window_end;
INSERT INTO core.route_sanctions
    (flow_id, route_seq, period, measure_id, authority, measure_type, is_obligation, partial_month, in_force_share, in_reach, reach_reasons)
SELECT flow_id, route_seq, period, measure_id, authority, measure_type, is_obligation, partial_month, in_force_share, in_reach, reach_reasons
FROM covered;

COMMENT ON TABLE core.route_sanctions IS 'Measures covering each routed row (core.routed_flows) and whether their authority reaches it; a match on an allocated channel or corridor touches only the rows that carry it. Grain: flow_id × route_seq × measure_id.';
COMMENT ON COLUMN core.route_sanctions.flow_id IS 'Flow.';
COMMENT ON COLUMN core.route_sanctions.route_seq IS 'Routed row of the flow (core.routed_flows.route_seq).';
COMMENT ON COLUMN core.route_sanctions.period IS 'First day of the flow''s month.';
COMMENT ON COLUMN core.route_sanctions.measure_id IS 'Measure (ref.sanctions_measures).';
COMMENT ON COLUMN core.route_sanctions.authority IS 'Authority of the measure.';
COMMENT ON COLUMN core.route_sanctions.measure_type IS 'Kind of measure.';
COMMENT ON COLUMN core.route_sanctions.is_obligation IS 'True for obligations (no-Russia clause).';
COMMENT ON COLUMN core.route_sanctions.partial_month IS 'The measure starts or ends inside the month.';
COMMENT ON COLUMN core.route_sanctions.in_force_share IS 'Share of the month''s (year''s) days the measure is in force: the part of the row''s value it covers.';
COMMENT ON COLUMN core.route_sanctions.in_reach IS 'The authority can reach this routed row (true), the data say it cannot (false), or it rests on an allocated or unknown channel or corridor (NULL, undetermined).';
COMMENT ON COLUMN core.route_sanctions.reach_reasons IS 'Why it can, on what the data say (un_binding, exporter_jurisdiction, importer_jurisdiction, transit, currency:<code>, secondary); empty unless in reach.';
