-- Federation II: follows, statuses and what people do with them, home feeds,
-- notifications, the activities fedinet authors, and their durable delivery.

-- Time-sortable ids, as Mastodon's: milliseconds since the epoch in the high bits and a
-- sequence in the low 16, so that ordering by id orders by time (also for remote posts
-- stored later than they were published).
CREATE SEQUENCE fedinet_id_seq;

CREATE FUNCTION fedinet_id(ts timestamptz) RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$
    SELECT (floor(extract(epoch FROM ts) * 1000)::bigint << 16)
         | (nextval('fedinet_id_seq') & 65535)
$$;

CREATE TABLE follows (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uri text NOT NULL UNIQUE,
    follower_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    followee_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted')),
    created_at timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz,
    UNIQUE (follower_id, followee_id)
);

CREATE INDEX follows_followee_idx ON follows (followee_id, state);

CREATE TABLE statuses (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    uri text NOT NULL UNIQUE,
    url text,
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    is_local boolean NOT NULL,
    object_type text NOT NULL DEFAULT 'Note',
    visibility text NOT NULL CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
    in_reply_to_uri text,
    in_reply_to_id bigint REFERENCES statuses (id) ON DELETE SET NULL,
    in_reply_to_actor_id bigint REFERENCES actors (id) ON DELETE SET NULL,
    reblog_of_id bigint REFERENCES statuses (id) ON DELETE CASCADE,
    content text NOT NULL DEFAULT '',
    source_text text,
    summary text NOT NULL DEFAULT '',
    sensitive boolean NOT NULL DEFAULT false,
    language text,
    attachments jsonb NOT NULL DEFAULT '[]'::jsonb,
    raw jsonb,
    published timestamptz NOT NULL DEFAULT now(),
    edited_at timestamptz,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX statuses_actor_idx ON statuses (actor_id, id DESC);
CREATE INDEX statuses_in_reply_to_idx ON statuses (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX statuses_in_reply_to_uri_idx ON statuses (in_reply_to_uri)
    WHERE in_reply_to_uri IS NOT NULL;
CREATE INDEX statuses_reblog_idx ON statuses (reblog_of_id) WHERE reblog_of_id IS NOT NULL;
CREATE UNIQUE INDEX statuses_one_reblog_key ON statuses (actor_id, reblog_of_id)
    WHERE reblog_of_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX statuses_public_idx ON statuses (id DESC)
    WHERE visibility = 'public' AND deleted_at IS NULL AND reblog_of_id IS NULL;

-- Earlier versions of edited statuses, newest last.
CREATE TABLE status_edits (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    content text NOT NULL,
    summary text NOT NULL DEFAULT '',
    sensitive boolean NOT NULL DEFAULT false,
    attachments jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX status_edits_status_idx ON status_edits (status_id, id);

CREATE TABLE mentions (
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, actor_id)
);

CREATE INDEX mentions_actor_idx ON mentions (actor_id, status_id DESC);

CREATE TABLE status_tags (
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    tag text NOT NULL,
    PRIMARY KEY (status_id, tag)
);

CREATE INDEX status_tags_tag_idx ON status_tags (tag, status_id DESC);

CREATE TABLE favourites (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uri text NOT NULL UNIQUE,
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (actor_id, status_id)
);

CREATE INDEX favourites_status_idx ON favourites (status_id);

CREATE TABLE blocks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uri text NOT NULL UNIQUE,
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (actor_id, target_id)
);

CREATE INDEX blocks_target_idx ON blocks (target_id);

-- Each local member's home feed, written when a status arrives (fan-out on write).
CREATE TABLE home_feed (
    owner_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (owner_id, status_id)
);

CREATE INDEX home_feed_status_idx ON home_feed (status_id);

CREATE TABLE notifications (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    recipient_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    notification_type text NOT NULL,
    from_actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    status_id bigint REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX notifications_recipient_idx ON notifications (recipient_id, id DESC);

-- Reports received from other servers (Flag) or made by members.
CREATE TABLE reports (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uri text UNIQUE,
    reporter_actor_id bigint REFERENCES actors (id) ON DELETE SET NULL,
    target_actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    status_uris text[] NOT NULL DEFAULT '{}',
    comment text NOT NULL DEFAULT '',
    raw jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);

-- Activities fedinet's members authored: dereferenceable at their id, listed in outboxes,
-- and the subject of deliveries.
CREATE TABLE activities (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    uri text NOT NULL UNIQUE,
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    activity_type text NOT NULL,
    object_uri text,
    visibility text NOT NULL DEFAULT 'public'
        CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
    body jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX activities_actor_idx ON activities (actor_id, id DESC);

-- One row per (activity, target inbox): the durable delivery queue.
CREATE TABLE deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    activity_id bigint NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    inbox_uri text NOT NULL,
    domain text NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    last_status integer,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (activity_id, inbox_uri)
);

CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_domain_idx ON deliveries (domain) WHERE state = 'pending';
