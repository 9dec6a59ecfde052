-- Servers that fetched a local status (with a signed request), so that its edits and its
-- deletion also reach servers that learned of it through a boost rather than by
-- following its author.
CREATE TABLE status_audiences (
    status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    inbox_uri text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (status_id, inbox_uri)
);
