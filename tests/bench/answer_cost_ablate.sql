-- answer_cost_ablate.sql: the answer procedure of sql/018_labeler_stats.sql
-- with each statement switchable, for tests/bench/answer_cost.py only
-- (README.md, "answer-cost"): what each statement costs.  The variants
-- without a statement are NOT exact (their recount differs); they only
-- measure.  ac_store's p_off: a bit per statement left out:
--   1 the phase-count SELECT ... FOR UPDATE    2 labeler_days
--   4 labeler_seconds                           8 answer_labels
--  16 label_counts                             32 annotations' join of items
--  64 labeler_days' join of items (last_at = NOW(6))

DELIMITER //

CREATE OR REPLACE PROCEDURE ac_store(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED, IN p_off INT UNSIGNED)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE v_seq BIGINT UNSIGNED;
  DECLARE v_skipped, v_requeued INT UNSIGNED DEFAULT 0;

  IF (p_off & 1) = 0 THEN
  SELECT COALESCE(SUM(i.phase = 'skipped'), 0), COALESCE(SUM(i.phase = 'requeued'), 0)
    INTO v_skipped, v_requeued
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t')) j
    STRAIGHT_JOIN items i ON i.id = j.i AND i.project_id = p_project
      AND i.state = 'unlabeled' AND i.lease_user = j.u AND i.lease_token = j.t
    FOR UPDATE;
  END IF;

  CALL labeld_leases_end(p_project, p_rows, p_n, TRUE);

  IF (p_off & 2) = 0 AND (p_off & 64) = 0 THEN
  INSERT INTO labeler_days (project_id, user_id, day, labeled, last_at)
    SELECT p_project, j.u, UTC_DATE(), 1, i.answered_at
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u')) j
    STRAIGHT_JOIN items i ON i.id = j.i
    ON DUPLICATE KEY UPDATE labeled = labeled + 1,
      last_at = GREATEST(COALESCE(last_at, VALUES(last_at)), VALUES(last_at));
  ELSEIF (p_off & 2) = 0 THEN
  INSERT INTO labeler_days (project_id, user_id, day, labeled, last_at)
    SELECT p_project, j.u, UTC_DATE(), 1, NOW(6)
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (u BIGINT UNSIGNED PATH '$.u')) j
    ON DUPLICATE KEY UPDATE labeled = labeled + 1,
      last_at = GREATEST(COALESCE(last_at, VALUES(last_at)), VALUES(last_at));
  END IF;

  IF (p_off & 4) = 0 THEN
  INSERT INTO labeler_seconds (project_id, user_id, bucket, n)
    SELECT p_project, j.u, LEAST(63, GREATEST(0, FLOOR(LOG(1.2,
        GREATEST(TIMESTAMPDIFF(MICROSECOND, i.leased_at, i.answered_at) DIV 1000, 1) / 100)))), 1
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u')) j
    STRAIGHT_JOIN items i ON i.id = j.i
    WHERE i.leased_at IS NOT NULL AND i.leased_at <= i.answered_at
    ON DUPLICATE KEY UPDATE n = n + 1;
  END IF;

  IF (p_off & 8) = 0 THEN
  INSERT INTO answer_labels (project_id, label_id, answered_at, item_id, labeled_by)
    SELECT p_project, j.c, i.answered_at, j.i, j.u
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u',
           NESTED PATH '$.c[*]' COLUMNS (c BIGINT UNSIGNED PATH '$'))) j
    STRAIGHT_JOIN items i ON i.id = j.i
    WHERE j.c IS NOT NULL;
  END IF;

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

  IF (p_off & 16) = 0 THEN
  INSERT INTO label_counts (project_id, label_id, answers)
    SELECT p_project, j.c, 1
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (
           NESTED PATH '$.c[*]' COLUMNS (c BIGINT UNSIGNED PATH '$'))) j
    WHERE j.c IS NOT NULL
    ON DUPLICATE KEY UPDATE answers = answers + 1;
  END IF;

  IF (p_off & 32) = 0 THEN
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
  ELSE
  INSERT INTO annotations (item_id, project_id, labeler_id, data, lease_token, seq, created_at)
    SELECT j.i, p_project, j.u, j.d, j.t, v_seq, NOW(6)
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t',
           d LONGTEXT CHARACTER SET utf8mb4 PATH '$.d')) j;
  END IF;
END//

CREATE OR REPLACE PROCEDURE ac_batch(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED, IN p_off INT UNSIGNED)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE EXIT HANDLER FOR SQLEXCEPTION
  BEGIN
    ROLLBACK;
    RESIGNAL;
  END;
  START TRANSACTION;
  CALL ac_store(p_project, p_rows, p_n, p_off);
  COMMIT;
END//

CREATE OR REPLACE PROCEDURE ac_all(IN p BIGINT UNSIGNED, IN r LONGTEXT, IN n INT UNSIGNED)
  CALL ac_batch(p, r, n, 0)//
CREATE OR REPLACE PROCEDURE ac_nophase(IN p BIGINT UNSIGNED, IN r LONGTEXT, IN n INT UNSIGNED)
  CALL ac_batch(p, r, n, 1)//
CREATE OR REPLACE PROCEDURE ac_nodays(IN p BIGINT UNSIGNED, IN r LONGTEXT, IN n INT UNSIGNED)
  CALL ac_batch(p, r, n, 2)//
CREATE OR REPLACE PROCEDURE ac_noseconds(IN p BIGINT UNSIGNED, IN r LONGTEXT, IN n INT UNSIGNED)
  CALL ac_batch(p, r, n, 4)//
CREATE OR REPLACE PROCEDURE ac_noalabels(IN p BIGINT UNSIGNED, IN r LONGTEXT, IN n INT UNSIGNED)
  CALL ac_batch(p, r, n, 8)//
CREATE OR REPLACE PROCEDURE ac_nolcounts(IN p BIGINT UNSIGNED, IN r LONGTEXT, IN n INT UNSIGNED)
  CALL ac_batch(p, r, n, 16)//
CREATE OR REPLACE PROCEDURE ac_nojoins(IN p BIGINT UNSIGNED, IN r LONGTEXT, IN n INT UNSIGNED)
  CALL ac_batch(p, r, n, 32 + 64)//

DELIMITER ;
