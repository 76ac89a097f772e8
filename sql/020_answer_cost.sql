-- 020_answer_cost: the same answer, exact as before, in fewer statements
-- (docs/review.md, "What it costs the labeling").  Procedures only: safe to
-- run again.
--
-- The answer procedure of 018 read the batch's items once more before the
-- lease guard, only to count the phases they leave (skipped, requeued),
-- and joined items again in three statements for the answer's time.  Now
-- the guard counts the phases in the UPDATE that ends the leases (the
-- phase each row had as it is overwritten), and every statement takes the
-- answer's time from one variable, the time the guard writes into
-- items.answered_at: items, annotations, answer_labels and labeler_days
-- still agree to the microsecond.  Only the two statements that need the
-- lease's start (items.leased_at: annotations.ms and labeler_seconds)
-- join items.  Measured with tests/bench/answer_cost.py (README.md).

DELIMITER //

-- The one lease guard (012, with 017's phase, labeled_by and answered_at),
-- inside the caller's transaction.  p_rows: a JSON array of {"i": item id,
-- "u": labeler id, "t": lease token}.  Ends the lease of every row whose
-- lease still holds; with p_labeled the item becomes labeled, answered by
-- its labeler at p_at, and p_skipped / p_requeued get how many of the
-- items were skipped / requeued until then (the counters they leave);
-- without p_labeled the lease is only released (p_at is not used, both
-- counts are 0).  Refuses when not all p_n leases held: 1062 when an
-- answer under a refused row's token is stored already (only with
-- p_labeled), else 1644.  The caller rolls back on either.
--
-- The counts are taken in the UPDATE itself: the phase's new value is
-- computed from the row as read, locked, before it is written, and the
-- expression adds the old phase to two session variables on the way
-- (user variables are the only ones an expression may assign).  The
-- UPDATE evaluates it once for each row it changes, and changes exactly
-- p_n rows or the batch is refused.
CREATE OR REPLACE PROCEDURE labeld_leases_close(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED, IN p_labeled BOOLEAN, IN p_at DATETIME(6),
    OUT p_skipped INT UNSIGNED, OUT p_requeued INT UNSIGNED)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE v_answered INT UNSIGNED DEFAULT 0;

  SET @labeld_left_skipped = 0, @labeld_left_requeued = 0;
  UPDATE JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t')) j
    STRAIGHT_JOIN items i FORCE INDEX (PRIMARY) ON i.id = j.i AND i.project_id = p_project
      AND i.state = 'unlabeled' AND i.lease_user = j.u AND i.lease_token = j.t
    SET i.phase = IF(p_labeled AND
          (@labeld_left_skipped := @labeld_left_skipped + (i.phase = 'skipped')) >= 0 AND
          (@labeld_left_requeued := @labeld_left_requeued + (i.phase = 'requeued')) >= 0,
          'labeled', i.phase),
      i.state = IF(p_labeled, 'labeled', i.state),
      i.labeled_by = IF(p_labeled, j.u, i.labeled_by),
      i.answered_at = IF(p_labeled, p_at, i.answered_at),
      i.lease_user = NULL, i.lease_until = NULL, i.lease_token = NULL,
      i.version = i.version + 1;
  IF ROW_COUNT() <> p_n THEN
    IF p_labeled THEN
      -- A locking read: the newest committed annotations, also those a
      -- double submit committed while this UPDATE waited for the row.
      SELECT COUNT(*) INTO v_answered
        FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
               u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t')) j
        STRAIGHT_JOIN annotations a ON a.lease_token = j.t AND a.item_id = j.i
          AND a.labeler_id = j.u
        LOCK IN SHARE MODE;
    END IF;
    IF v_answered > 0 THEN
      SIGNAL SQLSTATE '23000'
        SET MYSQL_ERRNO = 1062,
          MESSAGE_TEXT = 'labeld: this lease stored its answer already';
    END IF;
    SIGNAL SQLSTATE '45000'
      SET MESSAGE_TEXT = 'labeld: a lease of the batch does not hold';
  END IF;
  SET p_skipped = @labeld_left_skipped, p_requeued = @labeld_left_requeued;
END//

-- As in 012 (the skip's guard, core/queue.c): labeld_leases_close at the
-- statement's time, its counts unused.
CREATE OR REPLACE PROCEDURE labeld_leases_end(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED, IN p_labeled BOOLEAN)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE v_skipped, v_requeued INT UNSIGNED DEFAULT 0;

  CALL labeld_leases_close(p_project, p_rows, p_n, p_labeled, NOW(6), v_skipped, v_requeued);
END//

-- As in 018, with the guard counting the phases and one time for the
-- whole answer (v_at).  A row may carry "c", the answer's label ids
-- (distinct).  Lock order as in 018: items, labeler_days,
-- labeler_seconds, answer_labels, the counter row, label_counts.
CREATE OR REPLACE PROCEDURE labeld_answers_store(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE v_seq BIGINT UNSIGNED;
  DECLARE v_at DATETIME(6) DEFAULT NOW(6);
  DECLARE v_skipped, v_requeued INT UNSIGNED DEFAULT 0;

  CALL labeld_leases_close(p_project, p_rows, p_n, TRUE, v_at, v_skipped, v_requeued);

  -- One row per answer, no GROUP BY: a labeler's second answer in the
  -- batch finds the first one's row and adds one.  last_at: the answer's
  -- time.
  INSERT INTO labeler_days (project_id, user_id, day, labeled, last_at)
    SELECT p_project, j.u, UTC_DATE(), 1, v_at
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (u BIGINT UNSIGNED PATH '$.u')) j
    ON DUPLICATE KEY UPDATE labeled = labeled + 1,
      last_at = GREATEST(COALESCE(last_at, VALUES(last_at)), VALUES(last_at));

  -- The lease-to-answer time into the labeler's histogram (bucket rule of
  -- 018); an item without a lease time adds nothing.
  INSERT INTO labeler_seconds (project_id, user_id, bucket, n)
    SELECT p_project, j.u, LEAST(63, GREATEST(0, FLOOR(LOG(1.2,
        GREATEST(TIMESTAMPDIFF(MICROSECOND, i.leased_at, v_at) DIV 1000, 1) / 100)))), 1
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u')) j
    STRAIGHT_JOIN items i ON i.id = j.i
    WHERE i.leased_at IS NOT NULL AND i.leased_at <= v_at
    ON DUPLICATE KEY UPDATE n = n + 1;

  INSERT INTO answer_labels (project_id, label_id, answered_at, item_id, labeled_by)
    SELECT p_project, j.c, v_at, j.i, j.u
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u',
           NESTED PATH '$.c[*]' COLUMNS (c BIGINT UNSIGNED PATH '$'))) j
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
      IF(i.leased_at IS NULL OR i.leased_at > v_at, NULL,
        LEAST(TIMESTAMPDIFF(MICROSECOND, i.leased_at, v_at) DIV 1000, 4294967295)),
      v_at
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t',
           d LONGTEXT CHARACTER SET utf8mb4 PATH '$.d')) j
    STRAIGHT_JOIN items i ON i.id = j.i;
END//

DELIMITER ;
