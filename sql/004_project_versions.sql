-- 004_project_versions: a version number for the facts of a project that
-- labelers see on every labeling page but that change only when an admin
-- edits them (the instructions link, the label classes).  Every such edit
-- adds one in its own transaction; each labeld process keeps a copy of these
-- facts per project and uses it only while the version it reads with the
-- page's other, changing facts is still the same (docs/labeling.md).
ALTER TABLE projects ADD COLUMN IF NOT EXISTS meta_version INT UNSIGNED NOT NULL DEFAULT 1;
