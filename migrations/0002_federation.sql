-- Federation I: what other servers send us, what we know about other servers, and
-- which domains are blocked.

-- Every activity POSTed to an inbox, stored after its signature verified and before any
-- processing (which workers do later, claiming rows with FOR UPDATE SKIP LOCKED).
CREATE TABLE inbox_items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    activity_id text,
    activity_type text NOT NULL,
    actor_uri text NOT NULL,
    recipient_actor_id bigint REFERENCES actors (id) ON DELETE CASCADE,
    key_id text NOT NULL,
    body jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'done', 'ignored', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    available_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    processed_at timestamptz,
    error text
);

-- Replays: one row per activity id, whatever the number of deliveries.
CREATE UNIQUE INDEX inbox_items_activity_id_key ON inbox_items (activity_id)
    WHERE activity_id IS NOT NULL;
CREATE INDEX inbox_items_pending_idx ON inbox_items (available_at) WHERE state = 'pending';
CREATE INDEX inbox_items_received_idx ON inbox_items (received_at);

-- What we have learned about each remote server.
CREATE TABLE servers (
    domain text PRIMARY KEY,
    -- Which HTTP signature format it accepts from us: learned by double-knocking.
    signature_format text NOT NULL DEFAULT 'cavage'
        CHECK (signature_format IN ('cavage', 'rfc9421')),
    software text,
    software_version text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    unreachable_since timestamptz,
    last_success_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Domains the instance refuses to federate with (suspend) or limits (silence).
CREATE TABLE domain_blocks (
    domain text PRIMARY KEY,
    severity text NOT NULL DEFAULT 'suspend' CHECK (severity IN ('suspend', 'silence')),
    reason text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
