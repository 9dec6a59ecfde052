-- OAuth 2 for the Mastodon client API: registered applications, authorization codes and
-- access tokens. Every secret is random (256 bits) and stored only as its SHA-256 hex
-- digest, so a database dump hands out no usable credential; the plaintext exists only in
-- the response that issued it.

CREATE TABLE oauth_apps (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id text NOT NULL UNIQUE,
    client_secret_hash text NOT NULL,
    name text NOT NULL,
    -- Exact redirect URIs (http(s), custom schemes, or urn:ietf:wg:oauth:2.0:oob).
    redirect_uris text[] NOT NULL,
    scopes text[] NOT NULL,
    website text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Authorization codes: single use (used_at), short-lived, optionally bound to a PKCE
-- challenge.
CREATE TABLE oauth_codes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash text NOT NULL UNIQUE,
    app_id bigint NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes text[] NOT NULL,
    redirect_uri text NOT NULL,
    code_challenge text,
    code_challenge_method text CHECK (code_challenge_method IN ('S256')),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((code_challenge IS NULL) = (code_challenge_method IS NULL))
);

CREATE INDEX oauth_codes_expires_idx ON oauth_codes (expires_at);

-- Access tokens (with their refresh token). user_id is NULL for client_credentials tokens,
-- which act as the application only. Tokens do not expire (as Mastodon's); they are
-- revoked.
CREATE TABLE oauth_tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    refresh_token_hash text UNIQUE,
    app_id bigint NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id bigint REFERENCES users (id) ON DELETE CASCADE,
    -- The authorization code it was issued for: a replayed code revokes it.
    code_id bigint REFERENCES oauth_codes (id) ON DELETE SET NULL,
    scopes text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    last_used_at timestamptz
);

CREATE INDEX oauth_tokens_user_idx ON oauth_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX oauth_tokens_app_idx ON oauth_tokens (app_id);
CREATE INDEX oauth_tokens_code_idx ON oauth_tokens (code_id) WHERE code_id IS NOT NULL;
