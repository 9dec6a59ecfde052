-- Moderation: how a domain block covers a domain (as SQL, for queries that filter by it),
-- and what became of a report.

-- The strongest block covering a domain (``host[:port]``): 'suspend' when any covering
-- block suspends, else 'silence' when one silences, else NULL. A block on example.com
-- covers example.com, every subdomain and every port of them; a block with a port covers
-- only that port; IP addresses are covered only by themselves (with or without the port).
-- The same rule as fedinet.db.domain_blocks.covering_domains.
CREATE FUNCTION fedinet_domain_block_severity(target text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    WITH t AS (
        SELECT d AS full_name,
               CASE WHEN d ~ '^(\[[^]]*\]|[^:\[]+):[0-9]+$'
                    THEN regexp_replace(d, ':[0-9]+$', '') ELSE d END AS host
        FROM (SELECT rtrim(lower(target), '.') AS d) AS given
    )
    SELECT CASE
               WHEN bool_or(b.severity = 'suspend') THEN 'suspend'
               WHEN count(*) > 0 THEN 'silence'
           END
    FROM domain_blocks AS b, t
    WHERE b.domain = t.full_name
       OR b.domain = t.host
       OR (t.host !~ '^[0-9.]+$' AND t.host NOT LIKE '[%'
           AND right(t.host, length(b.domain) + 1) = '.' || b.domain)
$$;

ALTER TABLE reports
    ADD COLUMN resolved_by_actor_id bigint REFERENCES actors (id) ON DELETE SET NULL,
    ADD COLUMN resolution text CHECK (resolution IN ('dismissed', 'suspended'));

CREATE INDEX reports_open_idx ON reports (created_at) WHERE resolved_at IS NULL;
