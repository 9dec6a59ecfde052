-- What members keep for themselves through the client API: bookmarks, pinned statuses,
-- mutes, domains they hide, accounts whose posts they want notifications of, timeline markers, lists, filters, the Idempotency-Key of the
-- statuses they post, and the state of their direct-message conversations.

CREATE TABLE bookmarks (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (actor_id, status_id)
);

CREATE INDEX bookmarks_actor_idx ON bookmarks (actor_id, id DESC);

CREATE TABLE status_pins (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (actor_id, status_id)
);

CREATE INDEX status_pins_actor_idx ON status_pins (actor_id, id DESC);

CREATE TABLE mutes (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    hide_notifications boolean NOT NULL DEFAULT true,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (actor_id, target_id)
);

-- A member's own domain blocks (not the instance's): that domain's accounts disappear
-- from the member's timelines and notifications.
CREATE TABLE account_domain_blocks (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    domain text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (actor_id, domain)
);

-- Follow with notify=true: a "status" notification for each new post of that account.
CREATE TABLE account_subscriptions (
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, target_id)
);

CREATE INDEX account_subscriptions_target_idx ON account_subscriptions (target_id);

CREATE TABLE markers (
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    timeline text NOT NULL CHECK (timeline IN ('home', 'notifications')),
    last_read_id bigint NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor_id, timeline)
);

CREATE TABLE lists (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    owner_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    title text NOT NULL,
    replies_policy text NOT NULL DEFAULT 'list'
        CHECK (replies_policy IN ('followed', 'list', 'none')),
    exclusive boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX lists_owner_idx ON lists (owner_id);

CREATE TABLE list_accounts (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    list_id bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    UNIQUE (list_id, actor_id)
);

CREATE INDEX list_accounts_actor_idx ON list_accounts (actor_id);

CREATE TABLE filters (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    title text NOT NULL,
    contexts text[] NOT NULL,
    filter_action text NOT NULL DEFAULT 'warn' CHECK (filter_action IN ('warn', 'hide', 'blur')),
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX filters_owner_idx ON filters (owner_id);

CREATE TABLE filter_keywords (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    filter_id bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword text NOT NULL,
    whole_word boolean NOT NULL DEFAULT true
);

CREATE INDEX filter_keywords_filter_idx ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    filter_id bigint NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    UNIQUE (filter_id, status_id)
);

-- POST /api/v1/statuses with an Idempotency-Key: the same key from the same token within
-- an hour answers with the status first made.
CREATE TABLE status_idempotency_keys (
    token_id bigint NOT NULL REFERENCES oauth_tokens (id) ON DELETE CASCADE,
    key text NOT NULL,
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);

-- A member's view of a direct-message conversation: the other participants (sorted ids),
-- how far it was read and how far it was removed from the list.
CREATE TABLE conversations (
    id bigint PRIMARY KEY DEFAULT fedinet_id(now()),
    owner_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    participant_ids bigint[] NOT NULL,
    read_up_to bigint NOT NULL DEFAULT 0,
    hidden_up_to bigint NOT NULL DEFAULT 0,
    UNIQUE (owner_id, participant_ids)
);

-- Whether ``viewer`` should not see what ``author`` posts: a block either way, a mute
-- still running, or the viewer's own block of the author's domain.
CREATE FUNCTION fedinet_hides(viewer bigint, author bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM blocks
                   WHERE (actor_id = viewer AND target_id = author)
                      OR (actor_id = author AND target_id = viewer))
        OR EXISTS (SELECT 1 FROM mutes
                   WHERE actor_id = viewer AND target_id = author
                     AND (expires_at IS NULL OR expires_at > now()))
        OR EXISTS (SELECT 1 FROM account_domain_blocks d JOIN actors a ON a.domain = d.domain
                   WHERE d.actor_id = viewer AND a.id = author)
$$;

-- The same for notifications: a mute hides them only when it says so.
CREATE FUNCTION fedinet_hides_notifications(viewer bigint, author bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM blocks
                   WHERE (actor_id = viewer AND target_id = author)
                      OR (actor_id = author AND target_id = viewer))
        OR EXISTS (SELECT 1 FROM mutes
                   WHERE actor_id = viewer AND target_id = author AND hide_notifications
                     AND (expires_at IS NULL OR expires_at > now()))
        OR EXISTS (SELECT 1 FROM account_domain_blocks d JOIN actors a ON a.domain = d.domain
                   WHERE d.actor_id = viewer AND a.id = author)
$$;
