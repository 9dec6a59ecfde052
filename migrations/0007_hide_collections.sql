-- Members may hide who they follow and who follows them (the counts stay public).
ALTER TABLE actors ADD COLUMN hide_collections boolean NOT NULL DEFAULT false;
