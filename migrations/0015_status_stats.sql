-- Per-status counters, kept up to date on write (as Mastodon's ``status_stats``), so that
-- showing a status costs one index lookup for its counts instead of three counts.
--
-- What is counted is what ``counts.count_status_stats`` counted before:
-- * replies_count: statuses replying to it (``in_reply_to_id``), not deleted;
-- * reblogs_count: boosts of it (``reblog_of_id``), not deleted;
-- * favourites_count: its favourites.
--
-- Row triggers on ``statuses`` and ``favourites`` keep them, whatever code path writes
-- (services, federation, cascades). Decrements only UPDATE, so a cascade from a deleted
-- status never re-creates its row; increments upsert. A missing row means all zero.
-- Every change writes a new row version: the home timeline's cached entities are keyed
-- on it (fedinet/web/api/status_cache.py).

CREATE TABLE status_stats (
    status_id bigint PRIMARY KEY REFERENCES statuses (id) ON DELETE CASCADE,
    replies_count bigint NOT NULL DEFAULT 0,
    reblogs_count bigint NOT NULL DEFAULT 0,
    favourites_count bigint NOT NULL DEFAULT 0
);

CREATE FUNCTION fedinet_status_stats_statuses() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_reply bigint;
    new_reply bigint;
    old_boost bigint;
    new_boost bigint;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL THEN
        old_reply := OLD.in_reply_to_id;
        old_boost := OLD.reblog_of_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
        new_reply := NEW.in_reply_to_id;
        new_boost := NEW.reblog_of_id;
    END IF;
    IF old_reply IS DISTINCT FROM new_reply THEN
        IF old_reply IS NOT NULL THEN
            UPDATE status_stats SET replies_count = replies_count - 1
            WHERE status_id = old_reply;
        END IF;
        IF new_reply IS NOT NULL THEN
            INSERT INTO status_stats AS s (status_id, replies_count) VALUES (new_reply, 1)
            ON CONFLICT (status_id) DO UPDATE SET replies_count = s.replies_count + 1;
        END IF;
    END IF;
    IF old_boost IS DISTINCT FROM new_boost THEN
        IF old_boost IS NOT NULL THEN
            UPDATE status_stats SET reblogs_count = reblogs_count - 1
            WHERE status_id = old_boost;
        END IF;
        IF new_boost IS NOT NULL THEN
            INSERT INTO status_stats AS s (status_id, reblogs_count) VALUES (new_boost, 1)
            ON CONFLICT (status_id) DO UPDATE SET reblogs_count = s.reblogs_count + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER statuses_status_stats
AFTER INSERT OR DELETE OR UPDATE OF deleted_at, in_reply_to_id, reblog_of_id ON statuses
FOR EACH ROW EXECUTE FUNCTION fedinet_status_stats_statuses();

CREATE FUNCTION fedinet_status_stats_favourites() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status_id = NEW.status_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        UPDATE status_stats SET favourites_count = favourites_count - 1
        WHERE status_id = OLD.status_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO status_stats AS s (status_id, favourites_count) VALUES (NEW.status_id, 1)
        ON CONFLICT (status_id) DO UPDATE SET favourites_count = s.favourites_count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER favourites_status_stats
AFTER INSERT OR DELETE OR UPDATE OF status_id ON favourites
FOR EACH ROW EXECUTE FUNCTION fedinet_status_stats_favourites();

-- What is there already.
INSERT INTO status_stats (status_id, replies_count)
SELECT in_reply_to_id, count(*) FROM statuses
WHERE in_reply_to_id IS NOT NULL AND deleted_at IS NULL
GROUP BY in_reply_to_id;

INSERT INTO status_stats AS s (status_id, reblogs_count)
SELECT reblog_of_id, count(*) FROM statuses
WHERE reblog_of_id IS NOT NULL AND deleted_at IS NULL
GROUP BY reblog_of_id
ON CONFLICT (status_id) DO UPDATE SET reblogs_count = EXCLUDED.reblogs_count;

INSERT INTO status_stats AS s (status_id, favourites_count)
SELECT status_id, count(*) FROM favourites GROUP BY status_id
ON CONFLICT (status_id) DO UPDATE SET favourites_count = EXCLUDED.favourites_count;

-- Statistics now, so that the first queries joining it are planned well.
ANALYZE status_stats;
