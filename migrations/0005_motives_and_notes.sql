-- Why people are here (motives, interests, region) and follow requests that carry a
-- personal note: the notes, the rules' canned-invitation list, connect links.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Motives from the shared vocabulary that the actor shows publicly (local: the member's
-- public choices; remote: read from their actor document), free interest tags, and an
-- optional coarse region. Nothing here is ever a job or a profession.
ALTER TABLE actors
    ADD COLUMN motives text[] NOT NULL DEFAULT '{}',
    ADD COLUMN interests text[] NOT NULL DEFAULT '{}',
    ADD COLUMN region text,
    ADD COLUMN follow_note_policy text;

CREATE INDEX actors_motives_idx ON actors USING gin (motives);
CREATE INDEX actors_interests_idx ON actors USING gin (interests);

-- Local members' own settings: motives they keep private (shown only to accepted
-- followers, never federated publicly, never used for the directory) and their policy.
ALTER TABLE users
    ADD COLUMN private_motives text[] NOT NULL DEFAULT '{}',
    ADD COLUMN follow_note_policy text NOT NULL DEFAULT 'strict'
        CHECK (follow_note_policy IN ('strict', 'standard', 'open'));

-- A follow may wait for a note (servers that send none get a direct message asking).
ALTER TABLE follows DROP CONSTRAINT follows_state_check;
ALTER TABLE follows ADD CONSTRAINT follows_state_check
    CHECK (state IN ('pending', 'accepted', 'awaiting_note'));
ALTER TABLE follows
    ADD COLUMN note text,
    ADD COLUMN motive text,
    ADD COLUMN awaiting_since timestamptz,
    ADD COLUMN reminded boolean NOT NULL DEFAULT false,
    ADD COLUMN connect_link_id bigint;

-- Every follow request with its note and what became of it: the history the rules check
-- for repeated notes, the requester's track record, and the sending limits.
CREATE TABLE request_notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    follower_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    followee_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    note text NOT NULL DEFAULT '',
    motive text,
    outcome text NOT NULL DEFAULT 'pending'
        CHECK (outcome IN ('pending', 'accepted', 'rejected', 'refused', 'expired',
                           'withdrawn')),
    refusal_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz
);

CREATE INDEX request_notes_follower_idx ON request_notes (follower_id, created_at DESC);
CREATE INDEX request_notes_followee_idx ON request_notes (followee_id, created_at DESC);

-- Canned invitations the "generic note" rule compares against; admins may add their own.
CREATE TABLE canned_invitations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    text text NOT NULL UNIQUE,
    builtin boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO canned_invitations (text, builtin) VALUES
    ('I''d like to add you to my professional network.', true),
    ('I''d like to add you to my professional network on LinkedIn.', true),
    ('I''d like to add you to my network.', true),
    ('I would like to add you to my network.', true),
    ('I''d like to join your network.', true),
    ('I found you while I was searching my network. Let''s connect directly, so we can help '
     || 'each other with referrals. If we connect, both of our networks will grow. To add me '
     || 'as your connection, just follow the link below.', true),
    ('Let''s connect directly, so we can help each other with referrals.', true),
    ('Hi, I''d like to connect with you.', true),
    ('Hi, let''s connect!', true),
    ('Please accept my connection request.', true),
    ('I''d love to connect and expand my network.', true),
    ('Let''s connect! I''m always looking to grow my network.', true),
    ('Hello, I came across your profile and would like to connect.', true),
    ('I came across your profile and thought we should connect.', true),
    ('Happy to connect!', true),
    ('I''d like to follow you.', true),
    ('Please let me follow you.', true),
    ('Hi! I''m interested in connecting with like-minded people like you.', true);

-- Pre-approved links a member hands to people they already know: a follow made with one
-- needs no note and is accepted at once.
CREATE TABLE connect_links (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL UNIQUE,
    owner_id bigint NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    uses integer NOT NULL DEFAULT 0
);

CREATE INDEX connect_links_owner_idx ON connect_links (owner_id, created_at DESC);

ALTER TABLE follows ADD CONSTRAINT follows_connect_link_fkey
    FOREIGN KEY (connect_link_id) REFERENCES connect_links (id) ON DELETE SET NULL;
