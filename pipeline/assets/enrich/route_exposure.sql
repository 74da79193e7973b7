-- core.route_exposure: for every corridor and sanctions authority, whether a leg of the corridor
-- crosses a jurisdiction that enforces the authority's measures. A corridor that crosses none of
-- the authorities restricting a flow "avoids" them. Legs on the high seas cross no jurisdiction.
-- Grain: one row per (corridor_id, authority); DuckLake tables take no keys, so the grain is checked: one row per GROUP BY group below.
CREATE OR REPLACE TABLE core.route_exposure (
    corridor_id     VARCHAR   NOT NULL,
    authority       VARCHAR   NOT NULL,
    crosses         BOOLEAN   NOT NULL,
    via_countries   VARCHAR[] NOT NULL
);
INSERT INTO core.route_exposure (corridor_id, authority, crosses, via_countries)
WITH leg_authorities AS (
    SELECT l.corridor_id, l.country_iso3, unnest(j.sanctions_authorities) AS authority
    FROM ref.corridor_legs l
    JOIN ref.jurisdictions j ON j.country_iso3 = l.country_iso3
), authorities AS (
    SELECT DISTINCT authority FROM ref.sanctions_measures
    UNION
    SELECT DISTINCT unnest(sanctions_authorities) FROM ref.jurisdictions
)
SELECT c.corridor_id,
       a.authority,
       count(la.country_iso3) > 0,
       coalesce(list(DISTINCT la.country_iso3 ORDER BY la.country_iso3) FILTER (WHERE la.country_iso3 IS NOT NULL), [])
FROM ref.corridors c
CROSS JOIN authorities a
LEFT JOIN leg_authorities la ON la.corridor_id = c.corridor_id AND la.authority = a.authority
GROUP BY c.corridor_id, a.authority;

COMMENT ON TABLE core.route_exposure IS 'Which sanctioning jurisdictions each corridor crosses, per authority (from corridor_legs and jurisdictions).';
COMMENT ON COLUMN core.route_exposure.corridor_id IS 'Corridor.';
COMMENT ON COLUMN core.route_exposure.authority IS 'Sanctions authority (EU, US, UK, UN, …).';
COMMENT ON COLUMN core.route_exposure.crosses IS 'True when a leg crosses a jurisdiction that enforces this authority''s measures.';
COMMENT ON COLUMN core.route_exposure.via_countries IS 'Countries on the corridor that enforce the authority (ISO3).';
