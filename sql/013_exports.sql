-- 013_exports: exports of a project's labels (docs/export.md), and the
-- change sequence that makes "only what changed since the last export"
-- exact.
--
-- The change sequence.  project_counters.change_seq counts the project's
-- changes that exports see (an answer stored; later a relabel or a
-- rejection).  It is taken under the project's counter row lock, which the
-- changing transaction holds until it commits, so sequence order is commit
-- order: an export's snapshot that sees change_seq = S sees every change
-- numbered S or less and none numbered higher.  The next delta export of
-- the same format takes exactly the changes numbered above S.
ALTER TABLE project_counters
  ADD COLUMN IF NOT EXISTS change_seq BIGINT UNSIGNED NOT NULL DEFAULT 0;

-- seq: the change that stored the annotation.  withdrawn_seq: the change
-- that took it back (a rejection), NULL while it stands.
ALTER TABLE annotations
  ADD COLUMN IF NOT EXISTS seq BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS withdrawn_seq BIGINT UNSIGNED NULL,
  ADD INDEX IF NOT EXISTS annotations_seq (project_id, seq),
  ADD INDEX IF NOT EXISTS annotations_withdrawn (project_id, withdrawn_seq);

-- One export: a file of one format (an export plugin's name) written by a
-- job from one snapshot of the project into the default datastore, under
-- exports/<format>/.  A finished export is also a labeled dataset.
CREATE TABLE IF NOT EXISTS exports (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  project_id      BIGINT UNSIGNED NOT NULL,
  job_id          BIGINT UNSIGNED NULL,
  format          VARCHAR(32) CHARACTER SET ascii NOT NULL,
  file_extension  VARCHAR(16) CHARACTER SET ascii NOT NULL,
  media_type      VARCHAR(255) NOT NULL,
  state           ENUM('queued', 'running', 'done', 'failed') NOT NULL DEFAULT 'queued',
  -- Delta: only what changed after since_seq (the change_seq of the last
  -- finished export of this format, since_export_id, when it was asked for).
  delta           TINYINT(1) NOT NULL DEFAULT 0,
  since_export_id BIGINT UNSIGNED NULL,
  since_seq       BIGINT UNSIGNED NULL,
  -- An Azure ML datastore URI prefix for the manifest's image_url.
  azureml_prefix  VARCHAR(1024) NULL,
  -- What the snapshot held: its change_seq and time, and the counts written.
  snapshot_seq    BIGINT UNSIGNED NULL,
  snapshot_at     DATETIME(6) NULL,
  items           BIGINT UNSIGNED NOT NULL DEFAULT 0,
  removed         BIGINT UNSIGNED NOT NULL DEFAULT 0,
  annotations     BIGINT UNSIGNED NOT NULL DEFAULT 0,
  bytes           BIGINT UNSIGNED NOT NULL DEFAULT 0,
  -- Where the finished file is: a datastore and the path inside it.
  datastore_id    BIGINT UNSIGNED NULL,
  path            VARCHAR(1024) NULL,
  error           TEXT NULL,
  created_by      BIGINT UNSIGNED NULL,
  created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  finished_at     DATETIME(6) NULL,
  PRIMARY KEY (id),
  KEY exports_project (project_id, id),
  KEY exports_format (project_id, format, state, id),
  KEY exports_state (state, id),
  CONSTRAINT exports_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  CONSTRAINT exports_job FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL,
  CONSTRAINT exports_datastore FOREIGN KEY (datastore_id) REFERENCES datastores (id),
  CONSTRAINT exports_user FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

DELIMITER //

-- As in 012, with the change sequence: after the lease guard and the
-- labelers' days, the project's counter row takes the next change_seq
-- (its lock, held to the commit, orders the project's answers), which
-- stamps the annotations.  The lock order stays items, labeler_days, then
-- the counter row, as in 012; the annotations' insert is all that runs
-- under the counter's lock besides the commit.
CREATE OR REPLACE PROCEDURE labeld_answers_store(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE v_seq BIGINT UNSIGNED;

  CALL labeld_leases_end(p_project, p_rows, p_n, TRUE);

  -- One row per answer, no GROUP BY: a labeler's second answer in the
  -- batch finds the first one's row and adds one.
  INSERT INTO labeler_days (project_id, user_id, day, labeled)
    SELECT p_project, j.u, UTC_DATE(), 1
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (u BIGINT UNSIGNED PATH '$.u')) j
    ON DUPLICATE KEY UPDATE labeled = labeled + 1;

  UPDATE project_counters SET items_labeled = items_labeled + p_n,
      change_seq = LAST_INSERT_ID(change_seq + 1)
    WHERE project_id = p_project;
  IF ROW_COUNT() <> 1 THEN
    SIGNAL SQLSTATE '45000'
      SET MESSAGE_TEXT = 'labeld: the project has no counters row';
  END IF;
  SET v_seq = LAST_INSERT_ID();

  INSERT INTO annotations (item_id, project_id, labeler_id, data, lease_token, seq)
    SELECT j.i, p_project, j.u, j.d, j.t, v_seq
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t',
           d LONGTEXT CHARACTER SET utf8mb4 PATH '$.d')) j;
END//

DELIMITER ;
