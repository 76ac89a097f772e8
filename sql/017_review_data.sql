-- 017_review_data: the phases and counters of 016 for the items that
-- exist, and the answer procedures that keep them from here on
-- (docs/review.md).  Data statements and procedures only: safe to run
-- again after a failure part-way.

-- Who answered each labeled item, and when: its current annotation.
UPDATE items i JOIN annotations a ON a.item_id = i.id AND a.is_current = 1
    AND a.withdrawn_seq IS NULL
  SET i.labeled_by = a.labeler_id, i.answered_at = a.created_at
  WHERE i.state = 'labeled';

-- Phases: labeled; requeued (an answer was withdrawn and none stands);
-- skipped; the rest stay queued.
UPDATE items SET phase = 'labeled' WHERE state = 'labeled';
UPDATE items i SET i.phase = 'requeued'
  WHERE i.state = 'unlabeled'
    AND EXISTS (SELECT 1 FROM annotations w WHERE w.item_id = i.id AND w.withdrawn_seq IS NOT NULL);
UPDATE items i SET i.phase = 'skipped'
  WHERE i.state = 'unlabeled' AND i.phase = 'queued'
    AND EXISTS (SELECT 1 FROM item_skips s WHERE s.item_id = i.id);

UPDATE project_counters c SET
  c.items_skipped = (SELECT COUNT(*) FROM items i WHERE i.project_id = c.project_id AND i.phase = 'skipped'),
  c.items_requeued = (SELECT COUNT(*) FROM items i WHERE i.project_id = c.project_id AND i.phase = 'requeued'),
  c.items_approved = 0,
  c.rejections = (SELECT COUNT(*) FROM item_events e WHERE e.project_id = c.project_id AND e.kind = 'rejected');

-- The classes of the current answers, read from the built-in task types'
-- annotations ({"label": id}, {"labels": [ids]}, {"boxes": [{"label": id}]});
-- answers of other task plugins stored before this migration have no rows.
DELETE FROM answer_labels;
INSERT IGNORE INTO answer_labels (project_id, label_id, answered_at, item_id, labeled_by)
  SELECT DISTINCT i.project_id, c.id, i.answered_at, i.id, i.labeled_by
  FROM items i
  JOIN annotations a ON a.item_id = i.id AND a.is_current = 1 AND a.withdrawn_seq IS NULL
  JOIN JSON_TABLE(a.data, '$' COLUMNS (
         one BIGINT UNSIGNED PATH '$.label',
         NESTED PATH '$.labels[*]' COLUMNS (many BIGINT UNSIGNED PATH '$'),
         NESTED PATH '$.boxes[*]' COLUMNS (box BIGINT UNSIGNED PATH '$.label'))) j
  JOIN labels c ON c.project_id = i.project_id AND c.id = COALESCE(j.one, j.many, j.box)
  WHERE i.state = 'labeled';
DELETE FROM label_counts;
INSERT INTO label_counts (project_id, label_id, answers)
  SELECT project_id, label_id, COUNT(*) FROM answer_labels GROUP BY project_id, label_id;

DELIMITER //

-- As in 012, and an answer also sets the item's phase, who answered it and
-- when (docs/review.md).  A skip or a released lease leaves the phase to
-- its caller.
CREATE OR REPLACE PROCEDURE labeld_leases_end(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED, IN p_labeled BOOLEAN)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE v_answered INT UNSIGNED DEFAULT 0;

  UPDATE JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t')) j
    STRAIGHT_JOIN items i ON i.id = j.i AND i.project_id = p_project
      AND i.state = 'unlabeled' AND i.lease_user = j.u AND i.lease_token = j.t
    SET i.state = IF(p_labeled, 'labeled', i.state),
      i.phase = IF(p_labeled, 'labeled', i.phase),
      i.labeled_by = IF(p_labeled, j.u, i.labeled_by),
      i.answered_at = IF(p_labeled, NOW(6), i.answered_at),
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
END//

-- As in 013, with the phases and classes of 016.  A row may carry "c",
-- the answer's label ids (distinct).  First a locking read of the batch's
-- items, in the order the guard then updates them, counts the phases they
-- leave (skipped, requeued); the classes' rows and the annotations take
-- the answer's time from the item, so answer_labels, annotations and
-- items agree to the microsecond.  Lock order as in 013: items,
-- labeler_days, answer_labels, the counter row, then label_counts (every
-- answer of the project holds the counter row first, so label_counts rows
-- never deadlock).
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
  INSERT INTO labeler_days (project_id, user_id, day, labeled)
    SELECT p_project, j.u, UTC_DATE(), 1
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (u BIGINT UNSIGNED PATH '$.u')) j
    ON DUPLICATE KEY UPDATE labeled = labeled + 1;

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
