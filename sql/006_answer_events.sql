-- 006_answer_events: an answer is recorded once, by its annotation.
--
-- Until now every stored answer also wrote an item_events row "labeled".
-- That row said nothing the annotation does not: the annotation row keeps
-- the item, the project, the labeler and the time for as long as the item
-- exists (is_current tells the answer in force).  item_events keeps what
-- leaves no other trace: leases, skips, released leases, rejections.  The
-- item's history is both tables read together, ordered by time.
--
-- Measured with the procedure alone (12 answers per call, one client): the
-- "labeled" row was about an eighth of MariaDB's time per answer.
--
-- The answer procedure again, without that row (labeld_answer_batch calls
-- it by name and stays as 005 made it).  Rows written before this
-- migration keep their "labeled" events; the kind stays in the ENUM.

DELIMITER //

-- As in 005: inside the caller's transaction, mark the items labeled where
-- each answer's lease still holds, refuse with SQLSTATE 45000 when one
-- does not, else store the annotations, the labelers' days and the
-- project's counter.
CREATE OR REPLACE PROCEDURE labeld_answers_store(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  UPDATE JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t')) j
    STRAIGHT_JOIN items i ON i.id = j.i AND i.project_id = p_project
      AND i.state = 'unlabeled' AND i.lease_user = j.u AND i.lease_token = j.t
    SET i.state = 'labeled', i.lease_user = NULL, i.lease_until = NULL,
      i.lease_token = NULL, i.version = i.version + 1;
  IF ROW_COUNT() <> p_n THEN
    SIGNAL SQLSTATE '45000'
      SET MESSAGE_TEXT = 'labeld: an answer of the batch does not hold its lease';
  END IF;

  INSERT INTO annotations (item_id, project_id, labeler_id, data, lease_token)
    SELECT j.i, p_project, j.u, j.d, j.t
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t',
           d LONGTEXT CHARACTER SET utf8mb4 PATH '$.d')) j;

  -- One row per answer, no GROUP BY (which would need a temporary table
  -- and a sort): a labeler's second answer in the batch finds the first
  -- one's row and adds one.
  INSERT INTO labeler_days (project_id, user_id, day, labeled)
    SELECT p_project, j.u, UTC_DATE(), 1
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (u BIGINT UNSIGNED PATH '$.u')) j
    ON DUPLICATE KEY UPDATE labeled = labeled + 1;

  -- Last, as in a single answer: the one row every answer of the project
  -- locks is held for the shortest time.
  UPDATE project_counters SET items_labeled = items_labeled + p_n
    WHERE project_id = p_project;
END//

DELIMITER ;
