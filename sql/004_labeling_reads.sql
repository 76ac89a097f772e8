-- 004_labeling_reads: what makes the labeling page's one statement cheap.
--
-- A version number for the facts of a project that labelers see on every
-- labeling page but that change only when an admin edits them (the
-- instructions link, the label classes).  Every such edit
-- adds one in its own transaction; each labeld process keeps a copy of these
-- facts per project and uses it only while the version it reads with the
-- page's other, changing facts is still the same (docs/labeling.md).
ALTER TABLE projects ADD COLUMN IF NOT EXISTS meta_version INT UNSIGNED NOT NULL DEFAULT 1;

-- Which item a labeler holds in a project, found by primary key: the
-- labeling page reads it with the project's other facts in one statement
-- whose every table is a primary-key lookup.  Only a hint: the page joins
-- the item on its own lease columns (lease_user, lease_token, lease_until,
-- state), which stay the only truth, so a row left behind by an answer, a
-- skip, a Pause or an expiry simply finds nothing.  Written by every lease.
CREATE TABLE IF NOT EXISTS labeler_leases (
  project_id   BIGINT UNSIGNED NOT NULL,
  user_id      BIGINT UNSIGNED NOT NULL,
  item_id      BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (project_id, user_id),
  CONSTRAINT labeler_leases_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  CONSTRAINT labeler_leases_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
