-- fedinet's own web pages: browser sessions, failed-login counters, password resets and
-- sign-up invitations.

-- A logged-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
-- copy of the database does not let anyone log in.
CREATE TABLE web_sessions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent text NOT NULL DEFAULT '',
    ip text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- Failed logins per key ('ip:<address>' or 'account:<login>') in fixed windows; shared by
-- every web process, so the limit holds however many run.
CREATE TABLE login_failures (
    key text NOT NULL,
    window_start timestamptz NOT NULL,
    failures integer NOT NULL DEFAULT 0,
    PRIMARY KEY (key, window_start)
);

CREATE INDEX login_failures_window_idx ON login_failures (window_start);

-- One-time password-reset tokens (SHA-256 of the token sent by mail or logged).
CREATE TABLE password_resets (
    token_hash bytea PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

CREATE INDEX password_resets_user_idx ON password_resets (user_id);

-- Invitations for registration_mode 'invite': a code (stored as its SHA-256), optionally
-- limited in uses and time, revocable.
CREATE TABLE invites (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash bytea NOT NULL UNIQUE,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    comment text NOT NULL DEFAULT '',
    max_uses integer CHECK (max_uses IS NULL OR max_uses > 0),
    uses integer NOT NULL DEFAULT 0,
    expires_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Who signed up with which invitation.
CREATE TABLE invite_uses (
    invite_id bigint NOT NULL REFERENCES invites (id) ON DELETE CASCADE,
    user_id bigint NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    used_at timestamptz NOT NULL DEFAULT now()
);

-- Discover (fedinet.db.directory.list_directory_candidates): the most recently active
-- discoverable people, overall and by region, straight from an index, so that the page
-- stays fast however many accounts the server knows.
CREATE INDEX actors_directory_recent_idx ON actors (updated_at DESC, id DESC)
    WHERE discoverable AND deleted_at IS NULL AND suspended_at IS NULL
          AND actor_type = 'Person';
CREATE INDEX actors_directory_region_idx ON actors (region, updated_at DESC, id DESC)
    WHERE discoverable AND deleted_at IS NULL AND suspended_at IS NULL
          AND actor_type = 'Person' AND region IS NOT NULL;
