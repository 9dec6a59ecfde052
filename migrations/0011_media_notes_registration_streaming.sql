-- Client API, part two: uploaded media, private notes on accounts, what a sign-up said,
-- and the events that live streams (WebSocket and SSE) are told about.

-- Files members upload (POST /api/v2/media). The file lives on disk under
-- $FEDINET_DATA_DIR/media/<file_name>; a row stays unattached until a status uses it.
CREATE TABLE media_attachments (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    status_id bigint REFERENCES statuses (id) ON DELETE SET NULL,
    kind text NOT NULL DEFAULT 'image' CHECK (kind IN ('image', 'video', 'gifv', 'audio')),
    file_name text NOT NULL UNIQUE,
    content_type text NOT NULL,
    file_size integer NOT NULL CHECK (file_size > 0),
    width integer,
    height integer,
    description text,
    focus_x real NOT NULL DEFAULT 0 CHECK (focus_x BETWEEN -1 AND 1),
    focus_y real NOT NULL DEFAULT 0 CHECK (focus_y BETWEEN -1 AND 1),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX media_attachments_actor_idx ON media_attachments (actor_id, id DESC);
CREATE INDEX media_attachments_status_idx ON media_attachments (status_id)
    WHERE status_id IS NOT NULL;

-- A member's private note about another account (Relationship.note).
CREATE TABLE account_notes (
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    comment text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, target_id)
);

-- Why someone asked to join (registration_mode 'approved'); admins read it.
ALTER TABLE users ADD COLUMN registration_reason text;

-- Live streams. Every change a stream shows raises a small NOTIFY on 'fedinet_stream'
-- (ids only) when its transaction commits, whichever process made it (a web process or
-- a worker); the web processes LISTEN and render the entities for each subscriber.
-- Bulk loaders may turn this off for their session: SET fedinet.stream_events = 'off'.
CREATE FUNCTION fedinet_stream_enabled() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('fedinet.stream_events', true), 'on') <> 'off'
$$;

CREATE FUNCTION fedinet_stream_home_feed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF fedinet_stream_enabled() THEN
        PERFORM pg_notify('fedinet_stream',
            json_build_object('e', 'home', 'o', owner_id, 's', status_id)::text)
        FROM new_rows;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER home_feed_stream AFTER INSERT ON home_feed
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION fedinet_stream_home_feed();

CREATE FUNCTION fedinet_stream_notification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF fedinet_stream_enabled() THEN
        PERFORM pg_notify('fedinet_stream',
            json_build_object('e', 'notification', 'o', recipient_id, 'n', id)::text)
        FROM new_rows;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER notifications_stream AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION fedinet_stream_notification();

-- Public statuses (not boosts) reach the public and hashtag streams.
CREATE FUNCTION fedinet_stream_status_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF fedinet_stream_enabled() THEN
        PERFORM pg_notify('fedinet_stream',
            json_build_object('e', 'public', 's', id, 'l', is_local)::text)
        FROM new_rows
        WHERE visibility = 'public' AND reblog_of_id IS NULL AND deleted_at IS NULL;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER statuses_stream_insert AFTER INSERT ON statuses
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION fedinet_stream_status_insert();

CREATE FUNCTION fedinet_stream_status_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF fedinet_stream_enabled() THEN
        IF NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
            PERFORM pg_notify('fedinet_stream',
                json_build_object('e', 'delete', 's', NEW.id)::text);
        ELSIF NEW.deleted_at IS NULL AND NEW.edited_at IS DISTINCT FROM OLD.edited_at THEN
            PERFORM pg_notify('fedinet_stream',
                json_build_object('e', 'edit', 's', NEW.id)::text);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER statuses_stream_update AFTER UPDATE OF deleted_at, edited_at ON statuses
    FOR EACH ROW EXECUTE FUNCTION fedinet_stream_status_update();
