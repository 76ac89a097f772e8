-- 012_answer_one_path: one lease guard for every answer and skip.
--
-- The guard of an answer (the item is still unlabeled and held by this
-- labeler under this lease token, expired or not) was written four times:
-- in the single answer's UPDATE, in the skip's UPDATE, in the batch
-- procedure of 005/006 and, in C, in the batch's careful way.  From here on
-- it is written once, in labeld_leases_end below: a single answer is a
-- batch of one (CALL labeld_answer_batch with one row), a skip calls
-- labeld_leases_end inside its own transaction, and a batch that is refused
-- hands each answer back to be stored alone (docs/labeling.md).
--
-- So that a double submit keeps its answer ("already answered", not
-- "stale"), the guard tells a repeated lease token apart: when a refused
-- row's token already has its annotation, the refusal is a duplicate of the
-- key annotations_lease (SQLSTATE 23000, error 1062), which db.c reports as
-- DB_DUPLICATE; any other refusal stays SQLSTATE 45000 (1644, DB_REFUSED).
--
-- labeld_answer_batch stays as 005 made it (it calls labeld_answers_store
-- by name).

DELIMITER //

-- The lease guard, inside the caller's transaction.  p_rows: a JSON array
-- of {"i": item id, "u": labeler id, "t": lease token}.  Ends the lease of
-- every row whose lease still holds (with p_labeled the item becomes
-- labeled; without, it is only released) and refuses when not all p_n did:
-- 1062 when an answer under a refused row's token is stored already (only
-- with p_labeled), else 1644.  The caller rolls back on either.
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
    SET i.state = IF(p_labeled, 'labeled', i.state), i.lease_user = NULL,
      i.lease_until = NULL, i.lease_token = NULL, i.version = i.version + 1;
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

-- As in 006, with the guard of labeld_leases_end: inside the caller's
-- transaction, mark the items labeled where each answer's lease still
-- holds (refused as above when one does not), then store the annotations,
-- the labelers' days and the project's counter.
CREATE OR REPLACE PROCEDURE labeld_answers_store(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  CALL labeld_leases_end(p_project, p_rows, p_n, TRUE);

  INSERT INTO annotations (item_id, project_id, labeler_id, data, lease_token)
    SELECT j.i, p_project, j.u, j.d, j.t
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t',
           d LONGTEXT CHARACTER SET utf8mb4 PATH '$.d')) j;

  -- One row per answer, no GROUP BY: a labeler's second answer in the
  -- batch finds the first one's row and adds one.
  INSERT INTO labeler_days (project_id, user_id, day, labeled)
    SELECT p_project, j.u, UTC_DATE(), 1
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (u BIGINT UNSIGNED PATH '$.u')) j
    ON DUPLICATE KEY UPDATE labeled = labeled + 1;

  -- Last: the one row every answer of the project locks is held for the
  -- shortest time.
  UPDATE project_counters SET items_labeled = items_labeled + p_n
    WHERE project_id = p_project;
END//

DELIMITER ;
