-- Per-account counters, kept up to date on write (as Mastodon's ``account_stats``), so
-- that showing an account costs one index lookup however much it has posted, instead
-- of counting its statuses and follows on every page that shows it.
--
-- What is counted is what ``counts.count_account_stats`` counted before:
-- * statuses_count: statuses (boosts included) not deleted and not direct;
-- * last_status_at: the latest ``published`` among those;
-- * followers_count / following_count: accepted follows to / from the account.
--
-- Row triggers on ``statuses`` and ``follows`` keep them, whatever code path writes
-- (services, federation, cascades when an actor or a status goes). Decrements only
-- UPDATE, so a cascade from a deleted actor never re-creates its row; increments
-- upsert. A missing row means all zero.

CREATE TABLE account_stats (
    actor_id bigint PRIMARY KEY REFERENCES actors (id) ON DELETE CASCADE,
    statuses_count bigint NOT NULL DEFAULT 0,
    followers_count bigint NOT NULL DEFAULT 0,
    following_count bigint NOT NULL DEFAULT 0,
    last_status_at timestamptz
);

CREATE FUNCTION fedinet_account_stats_statuses() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    was boolean := false;
    is_now boolean := false;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        was := OLD.deleted_at IS NULL AND OLD.visibility <> 'direct';
    END IF;
    IF TG_OP <> 'DELETE' THEN
        is_now := NEW.deleted_at IS NULL AND NEW.visibility <> 'direct';
    END IF;
    IF was AND is_now AND OLD.actor_id = NEW.actor_id AND OLD.published = NEW.published THEN
        RETURN NULL;
    END IF;
    IF was THEN
        UPDATE account_stats SET statuses_count = statuses_count - 1
        WHERE actor_id = OLD.actor_id;
        -- A new statement (a new snapshot once the row above is locked): the latest
        -- remaining status, when the one that went was the latest.
        UPDATE account_stats SET last_status_at = (
            SELECT max(s.published) FROM statuses s
            WHERE s.actor_id = OLD.actor_id AND s.deleted_at IS NULL
              AND s.visibility <> 'direct')
        WHERE actor_id = OLD.actor_id AND last_status_at <= OLD.published;
    END IF;
    IF is_now THEN
        INSERT INTO account_stats AS a (actor_id, statuses_count, last_status_at)
        VALUES (NEW.actor_id, 1, NEW.published)
        ON CONFLICT (actor_id) DO UPDATE
            SET statuses_count = a.statuses_count + 1,
                last_status_at = greatest(a.last_status_at, EXCLUDED.last_status_at);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER statuses_account_stats
AFTER INSERT OR DELETE OR UPDATE OF deleted_at, visibility, published, actor_id ON statuses
FOR EACH ROW EXECUTE FUNCTION fedinet_account_stats_statuses();

CREATE FUNCTION fedinet_account_stats_follows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    was boolean := false;
    is_now boolean := false;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        was := OLD.state = 'accepted';
    END IF;
    IF TG_OP <> 'DELETE' THEN
        is_now := NEW.state = 'accepted';
    END IF;
    IF was AND is_now AND OLD.follower_id = NEW.follower_id
       AND OLD.followee_id = NEW.followee_id THEN
        RETURN NULL;
    END IF;
    IF was THEN
        UPDATE account_stats SET followers_count = followers_count - 1
        WHERE actor_id = OLD.followee_id;
        UPDATE account_stats SET following_count = following_count - 1
        WHERE actor_id = OLD.follower_id;
    END IF;
    IF is_now THEN
        INSERT INTO account_stats AS a (actor_id, followers_count) VALUES (NEW.followee_id, 1)
        ON CONFLICT (actor_id) DO UPDATE SET followers_count = a.followers_count + 1;
        INSERT INTO account_stats AS a (actor_id, following_count) VALUES (NEW.follower_id, 1)
        ON CONFLICT (actor_id) DO UPDATE SET following_count = a.following_count + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER follows_account_stats
AFTER INSERT OR DELETE OR UPDATE OF state, follower_id, followee_id ON follows
FOR EACH ROW EXECUTE FUNCTION fedinet_account_stats_follows();

-- What is there already.
INSERT INTO account_stats (actor_id, statuses_count, last_status_at)
SELECT actor_id, count(*), max(published) FROM statuses
WHERE deleted_at IS NULL AND visibility <> 'direct'
GROUP BY actor_id;

INSERT INTO account_stats AS a (actor_id, followers_count)
SELECT followee_id, count(*) FROM follows WHERE state = 'accepted' GROUP BY followee_id
ON CONFLICT (actor_id) DO UPDATE SET followers_count = EXCLUDED.followers_count;

INSERT INTO account_stats AS a (actor_id, following_count)
SELECT follower_id, count(*) FROM follows WHERE state = 'accepted' GROUP BY follower_id
ON CONFLICT (actor_id) DO UPDATE SET following_count = EXCLUDED.following_count;
