-- fedinet's starting schema: actors (local and remote), their keys, local members,
-- and instance-wide settings. Later migrations add what later features need.

CREATE EXTENSION IF NOT EXISTS citext;

-- Every ActivityPub actor fedinet knows: local members, the instance actor, and remote
-- actors fetched from other servers.
CREATE TABLE actors (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uri text NOT NULL UNIQUE,
    is_local boolean NOT NULL,
    actor_type text NOT NULL DEFAULT 'Person',
    username text NOT NULL,
    domain text NOT NULL,
    display_name text NOT NULL DEFAULT '',
    summary text NOT NULL DEFAULT '',
    url text,
    inbox_uri text,
    outbox_uri text,
    shared_inbox_uri text,
    followers_uri text,
    following_uri text,
    featured_uri text,
    manually_approves_followers boolean NOT NULL DEFAULT true,
    discoverable boolean NOT NULL DEFAULT true,
    indexable boolean NOT NULL DEFAULT false,
    avatar_url text,
    header_url text,
    fields jsonb NOT NULL DEFAULT '[]'::jsonb,
    raw jsonb,
    published timestamptz,
    fetched_at timestamptz,
    suspended_at timestamptz,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX actors_username_domain_key ON actors (lower(username), domain);
CREATE INDEX actors_domain_idx ON actors (domain);

-- Public keys of every actor, by key id. Local actors also hold their private keys here:
-- an RSA key (#main-key, for draft-cavage signatures) and an Ed25519 key (#ed25519-key,
-- FEP-521a and RFC 9421).
CREATE TABLE actor_keys (
    key_id text PRIMARY KEY,
    actor_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('rsa', 'ed25519', 'ec')),
    public_key_pem text NOT NULL,
    private_key_pem text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX actor_keys_actor_idx ON actor_keys (actor_id);

-- Members of this instance: credentials and account state.
CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id bigint NOT NULL UNIQUE REFERENCES actors (id) ON DELETE CASCADE,
    email citext NOT NULL UNIQUE,
    password_hash text NOT NULL,
    is_admin boolean NOT NULL DEFAULT false,
    approved boolean NOT NULL DEFAULT true,
    locale text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

-- Instance-wide settings editable by admins (registration mode, rules, …).
CREATE TABLE instance_settings (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
