-- 003_labeling: annotations, the items a labeler skipped, the history of
-- every item, per-labeler daily counts, and the index that finds the item a
-- labeler holds.  docs/labeling.md describes the queue these tables serve.

-- A labeler's own lease: "the item I hold in this project" without
-- scanning the project's items; also lets Pause find every lease at once.
ALTER TABLE items ADD INDEX IF NOT EXISTS items_lease (lease_user, project_id);

-- One answer for one item.  data is the task plugin's json.  lease_token is
-- the lease the answer was given under: unique, so one lease can never
-- store two answers (a double submit finds the first one).  is_current is
-- 0 once a review replaces the answer.
CREATE TABLE IF NOT EXISTS annotations (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  item_id      BIGINT UNSIGNED NOT NULL,
  project_id   BIGINT UNSIGNED NOT NULL,
  labeler_id   BIGINT UNSIGNED NULL,
  data         LONGTEXT NOT NULL,
  lease_token  CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NULL,
  is_current   TINYINT(1) NOT NULL DEFAULT 1,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY annotations_lease (lease_token),
  KEY annotations_item (item_id, is_current),
  KEY annotations_labeler (labeler_id, created_at),
  KEY annotations_project (project_id, is_current, item_id),
  CONSTRAINT annotations_data CHECK (JSON_VALID(data)),
  CONSTRAINT annotations_item FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE,
  CONSTRAINT annotations_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  CONSTRAINT annotations_labeler FOREIGN KEY (labeler_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Items a labeler skipped: the queue never hands them to that labeler
-- again (NOT EXISTS on the primary key), but still to everyone else.
CREATE TABLE IF NOT EXISTS item_skips (
  user_id      BIGINT UNSIGNED NOT NULL,
  project_id   BIGINT UNSIGNED NOT NULL,
  item_id      BIGINT UNSIGNED NOT NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (user_id, project_id, item_id),
  KEY item_skips_item (item_id),
  CONSTRAINT item_skips_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT item_skips_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  CONSTRAINT item_skips_item FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The history of every item: who leased, labeled, skipped it, when a lease
-- was released (Pause), when a review rejected its answer.
CREATE TABLE IF NOT EXISTS item_events (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  item_id      BIGINT UNSIGNED NOT NULL,
  project_id   BIGINT UNSIGNED NOT NULL,
  user_id      BIGINT UNSIGNED NULL,
  kind         ENUM('leased', 'labeled', 'skipped', 'released', 'rejected') NOT NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY item_events_item (item_id, user_id, kind),
  KEY item_events_project (project_id, created_at),
  CONSTRAINT item_events_item FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE,
  CONSTRAINT item_events_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  CONSTRAINT item_events_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What each labeler did per project and day (UTC), kept in the same
-- transaction as each submit and skip, so "You labeled N today" and the
-- dashboards never count annotations.
CREATE TABLE IF NOT EXISTS labeler_days (
  project_id   BIGINT UNSIGNED NOT NULL,
  user_id      BIGINT UNSIGNED NOT NULL,
  day          DATE NOT NULL,
  labeled      INT UNSIGNED NOT NULL DEFAULT 0,
  skipped      INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, user_id, day),
  KEY labeler_days_user (user_id, day),
  CONSTRAINT labeler_days_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  CONSTRAINT labeler_days_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
