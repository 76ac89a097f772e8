-- 018_labeler_stats: the Dashboard's per-labeler numbers as counters kept
-- by the answer procedure (docs/review.md, "Dashboard"), so that the page
-- reads no annotations.
--
-- labeler_days.last_at: the newest answer of the labeler that day (set by
-- every answer through the labeling page; skips, relabels and reviews do
-- not set it).  "Last active" is MAX(last_at) over the labeler's days.
--
-- labeler_seconds: per project and labeler, how many answers took a
-- lease-to-answer time in each bucket.  Bucket b holds the times t (ms,
-- t >= 1) with b = FLOOR(LOG(1.2, t / 100)), clamped to 0..63: bucket b
-- covers [100 * 1.2^b, 100 * 1.2^(b+1)) ms, bucket 0 everything under
-- 120 ms, bucket 63 everything from about 2.7 hours on.  Answers without a
-- lease time, and relabels (they have no lease), are not counted.
-- The DDL, then data statements that fill both from the annotations
-- (safe to run again), then the answer procedure.

-- labeler_days_day also carries `labeled`, so that the Dashboard's
-- answers per day read the index alone (1 500 rows for 50 labelers and
-- 30 days) instead of looking each row up in the table.
ALTER TABLE labeler_days
  ADD COLUMN IF NOT EXISTS last_at DATETIME(6) NULL,
  DROP INDEX IF EXISTS labeler_days_day,
  ADD INDEX labeler_days_day (project_id, day, labeled);

CREATE TABLE IF NOT EXISTS labeler_seconds (
  project_id BIGINT UNSIGNED NOT NULL,
  user_id    BIGINT UNSIGNED NOT NULL,
  bucket     TINYINT UNSIGNED NOT NULL,
  n          INT UNSIGNED NOT NULL,
  PRIMARY KEY (project_id, user_id, bucket)
) ENGINE=InnoDB;

UPDATE labeler_days d JOIN (
    SELECT project_id, labeler_id, DATE(created_at) day, MAX(created_at) m
    FROM annotations WHERE relabel = 0 GROUP BY project_id, labeler_id, DATE(created_at)) x
    ON x.project_id = d.project_id AND x.labeler_id = d.user_id AND x.day = d.day
  SET d.last_at = x.m;

DELETE FROM labeler_seconds;
INSERT INTO labeler_seconds (project_id, user_id, bucket, n)
  SELECT project_id, labeler_id, LEAST(63, GREATEST(0, FLOOR(LOG(1.2, GREATEST(ms, 1) / 100)))) b,
    COUNT(*)
  FROM annotations WHERE relabel = 0 AND ms IS NOT NULL
  GROUP BY project_id, labeler_id, b;

DELIMITER //

-- As in 017 (labeld_leases_end stays as 017 made it), and an answer also
-- sets its labeler's last_at and adds its time to labeler_seconds, one
-- statement each beside the labeler_days row (docs/review.md,
-- "Dashboard").  017's text follows:
-- as in 013, with the phases and classes of 016.  A row may carry "c",
-- the answer's label ids (distinct).  First a locking read of the batch's
-- items, in the order the guard then updates them, counts the phases they
-- leave (skipped, requeued); the classes' rows and the annotations take
-- the answer's time from the item, so answer_labels, annotations and
-- items agree to the microsecond.  Lock order as in 013: items,
-- labeler_days, labeler_seconds, answer_labels, the counter row, then
-- label_counts (every answer of the project holds the counter row first,
-- so label_counts rows never deadlock).
CREATE OR REPLACE PROCEDURE labeld_answers_store(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE v_seq BIGINT UNSIGNED;
  DECLARE v_skipped, v_requeued INT UNSIGNED DEFAULT 0;

  SELECT COALESCE(SUM(i.phase = 'skipped'), 0), COALESCE(SUM(i.phase = 'requeued'), 0)
    INTO v_skipped, v_requeued
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t')) j
    STRAIGHT_JOIN items i ON i.id = j.i AND i.project_id = p_project
      AND i.state = 'unlabeled' AND i.lease_user = j.u AND i.lease_token = j.t
    FOR UPDATE;

  CALL labeld_leases_end(p_project, p_rows, p_n, TRUE);

  -- One row per answer, no GROUP BY: a labeler's second answer in the
  -- batch finds the first one's row and adds one.
  -- last_at: the answer's time (the item's, as set just above).
  INSERT INTO labeler_days (project_id, user_id, day, labeled, last_at)
    SELECT p_project, j.u, UTC_DATE(), 1, i.answered_at
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u')) j
    STRAIGHT_JOIN items i ON i.id = j.i
    ON DUPLICATE KEY UPDATE labeled = labeled + 1,
      last_at = GREATEST(COALESCE(last_at, VALUES(last_at)), VALUES(last_at));

  -- The lease-to-answer time into the labeler's histogram (bucket rule
  -- above); an item without a lease time adds nothing.
  INSERT INTO labeler_seconds (project_id, user_id, bucket, n)
    SELECT p_project, j.u, LEAST(63, GREATEST(0, FLOOR(LOG(1.2,
        GREATEST(TIMESTAMPDIFF(MICROSECOND, i.leased_at, i.answered_at) DIV 1000, 1) / 100)))), 1
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u')) j
    STRAIGHT_JOIN items i ON i.id = j.i
    WHERE i.leased_at IS NOT NULL AND i.leased_at <= i.answered_at
    ON DUPLICATE KEY UPDATE n = n + 1;

  INSERT INTO answer_labels (project_id, label_id, answered_at, item_id, labeled_by)
    SELECT p_project, j.c, i.answered_at, j.i, j.u
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u',
           NESTED PATH '$.c[*]' COLUMNS (c BIGINT UNSIGNED PATH '$'))) j
    STRAIGHT_JOIN items i ON i.id = j.i
    WHERE j.c IS NOT NULL;

  UPDATE project_counters SET items_labeled = items_labeled + p_n,
      items_skipped = items_skipped - v_skipped,
      items_requeued = items_requeued - v_requeued,
      change_seq = LAST_INSERT_ID(change_seq + 1)
    WHERE project_id = p_project;
  IF ROW_COUNT() <> 1 THEN
    SIGNAL SQLSTATE '45000'
      SET MESSAGE_TEXT = 'labeld: the project has no counters row';
  END IF;
  SET v_seq = LAST_INSERT_ID();

  INSERT INTO label_counts (project_id, label_id, answers)
    SELECT p_project, j.c, 1
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (
           NESTED PATH '$.c[*]' COLUMNS (c BIGINT UNSIGNED PATH '$'))) j
    WHERE j.c IS NOT NULL
    ON DUPLICATE KEY UPDATE answers = answers + 1;

  INSERT INTO annotations (item_id, project_id, labeler_id, data, lease_token, seq, ms,
      created_at)
    SELECT j.i, p_project, j.u, j.d, j.t, v_seq,
      IF(i.leased_at IS NULL OR i.leased_at > i.answered_at, NULL,
        LEAST(TIMESTAMPDIFF(MICROSECOND, i.leased_at, i.answered_at) DIV 1000, 4294967295)),
      i.answered_at
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t',
           d LONGTEXT CHARACTER SET utf8mb4 PATH '$.d')) j
    STRAIGHT_JOIN items i ON i.id = j.i;
END//

DELIMITER ;
