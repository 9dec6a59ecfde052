-- Partial indexes over small slices of ``statuses``, so that what is asked about this
-- instance's own statuses, or one member's direct messages, costs in proportion to those
-- and not to every remote status ever received. On a large instance almost all of
-- ``statuses`` is remote: without these, each question below read the whole table
-- (gigabytes) on every call.
--
-- * statuses_local_created_idx: the status count of ``/api/v1/instance`` (local, not
--   deleted, no boosts: answered from the index alone, ``deleted_at`` being included)
--   and the statuses per week of ``/api/v1/instance/activity`` (a range of
--   ``created_at``).
-- * statuses_local_public_idx: the local public timeline and the local hashtag
--   timelines, newest first. Boosts are left out by the query, not by the index, so
--   that the hashtag timelines (which do not filter them) can use it too.
-- * statuses_direct_actor_idx: the direct statuses a member wrote, for their
--   conversations (those they received are found through ``mentions``).
--
-- The queries name these predicates literally (``is_local``, not ``NOT $1 OR
-- is_local``): a prepared statement may run with a generic plan, which cannot match a
-- partial index against a parameter.
--
-- Building them reads ``statuses`` once and blocks writes to it meanwhile (migrations
-- run in a transaction, so not CONCURRENTLY): seconds on a million statuses.

CREATE INDEX statuses_local_created_idx ON statuses (created_at) INCLUDE (deleted_at)
    WHERE is_local AND reblog_of_id IS NULL;

CREATE INDEX statuses_local_public_idx ON statuses (id DESC)
    WHERE is_local AND visibility = 'public' AND deleted_at IS NULL;

CREATE INDEX statuses_direct_actor_idx ON statuses (actor_id, id DESC)
    WHERE visibility = 'direct' AND deleted_at IS NULL AND reblog_of_id IS NULL;
