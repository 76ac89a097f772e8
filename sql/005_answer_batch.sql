-- 005_answer_batch: a batch of answers stored in one round trip.
--
-- labeld stores the answers that arrive together as one batch
-- (docs/labeling.md, "Batches").  Storing a batch is five statements (mark
-- the items labeled, the annotations, the labelers' days, the events, the
-- project's counter) plus its transaction; sent one by one, each waits for a
-- round trip to MariaDB and for its worker thread to be scheduled again, and
-- the project's counter row stays locked for all of that time.  These two
-- procedures run the same statements inside the server, so a batch costs one
-- round trip and holds its locks only while MariaDB itself works.
--
-- Both run with the caller's rights (SQL SECURITY INVOKER): they do nothing
-- the labeld account could not do statement by statement.  The rows of a
-- batch are a JSON array of {"i": item id, "u": labeler id, "t": lease token,
-- "d": annotation JSON}, read with JSON_TABLE like the other batch
-- statements.

DELIMITER //

-- Inside the caller's transaction: marks the items labeled where each
-- answer's lease still holds (the guard of a single answer: unlabeled,
-- leased to this labeler, under this token) and stores the rest.  When not
-- every row passed the guard it changes nothing further and refuses with
-- SQLSTATE 45000 (error 1644); the caller rolls back and checks each answer
-- on its own.
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

  INSERT INTO item_events (item_id, project_id, user_id, kind)
    SELECT j.i, p_project, j.u, 'labeled'
    FROM JSON_TABLE(p_rows, '$[*]' COLUMNS (i BIGINT UNSIGNED PATH '$.i',
           u BIGINT UNSIGNED PATH '$.u')) j;

  -- Last, as in a single answer: the one row every answer of the project
  -- locks is held for the shortest time.
  UPDATE project_counters SET items_labeled = items_labeled + p_n
    WHERE project_id = p_project;
END//

-- The whole batch as its own transaction: committed when every answer
-- held its lease, otherwise rolled back and the error passed on (1644 for
-- a refused guard, 1213 for a deadlock, ...), so the caller can tell.
CREATE OR REPLACE PROCEDURE labeld_answer_batch(IN p_project BIGINT UNSIGNED,
    IN p_rows LONGTEXT, IN p_n INT UNSIGNED)
  MODIFIES SQL DATA
  SQL SECURITY INVOKER
BEGIN
  DECLARE EXIT HANDLER FOR SQLEXCEPTION
  BEGIN
    ROLLBACK;
    RESIGNAL;
  END;
  START TRANSACTION;
  CALL labeld_answers_store(p_project, p_rows, p_n);
  COMMIT;
END//

DELIMITER ;
