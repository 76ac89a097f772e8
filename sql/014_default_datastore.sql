-- 014_default_datastore: the default datastore is the admin's choice, and
-- the built-in store is its own role (docs/datastores.md).
--
-- is_default: where new exports are written (and what the wizard offers
-- first).  An admin makes any datastore the default, local or Azure Blob
-- (POST /admin/datastores/:id/default); labeld only sets it on the
-- built-in store when no datastore is the default.
--
-- is_builtin: the local datastore at the configured datastore_dir, made by
-- labeld at start-up; wizard uploads land there and nginx serves its files
-- itself.  Until now it was the is_default row (labeld moved the default
-- back to datastore_dir at every start), so that row becomes the built-in
-- one.
ALTER TABLE datastores
  ADD COLUMN IF NOT EXISTS is_builtin TINYINT(1) NOT NULL DEFAULT 0 AFTER is_default;

-- Nothing stopped two default rows before: the lowest id keeps it.
UPDATE datastores SET is_default = 0
  WHERE is_default = 1 AND id > (SELECT m.id FROM
    (SELECT MIN(id) AS id FROM datastores WHERE is_default = 1) m);

UPDATE datastores SET is_builtin = 1
  WHERE is_default = 1 AND NOT EXISTS (SELECT 1 FROM
    (SELECT id FROM datastores WHERE is_builtin = 1) b);

-- At most one default and at most one built-in datastore: a unique key
-- over a column that is 1 on the flagged row and NULL on every other
-- (NULLs never collide).  Changing the default therefore clears the old
-- row before it sets the new one (catalog_datastore_make_default).
ALTER TABLE datastores
  ADD COLUMN IF NOT EXISTS default_one TINYINT(1) AS (IF(is_default = 1, 1, NULL)) PERSISTENT,
  ADD COLUMN IF NOT EXISTS builtin_one TINYINT(1) AS (IF(is_builtin = 1, 1, NULL)) PERSISTENT,
  ADD UNIQUE KEY IF NOT EXISTS datastores_one_default (default_one),
  ADD UNIQUE KEY IF NOT EXISTS datastores_one_builtin (builtin_one);
