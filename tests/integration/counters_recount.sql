-- counters_recount.sql: a full recount of every counter of project @p
-- (docs/review.md, "An item's phase"), for tests and benchmarks only: it
-- reads every row of the project, which no page may do.
--
-- Set @p first.  Prints one line per counter that differs from its
-- recount, nothing when every counter is exact:
--
--   WHAT <TAB> KEPT (the counter) <TAB> RECOUNTED
--
-- Used by itest_counters_check() (tests/integration/itest.c) and by the
-- million-item generator of tests/bench/bench.py.  Classes are read from
-- the built-in task types' annotations ({"label": id}, {"labels": [ids]},
-- {"boxes": [{"label": id}]}) as sql/017_review_data.sql means to read
-- them, but from the document itself: JSON_ARRAY(a.data) there wraps the
-- text as one JSON string (the column is LONGTEXT, not JSON), whose
-- '$.label' is NULL.

-- The classes of the current answers, recounted from their annotations.
DROP TEMPORARY TABLE IF EXISTS recount_classes;
CREATE TEMPORARY TABLE recount_classes (
  item_id BIGINT UNSIGNED NOT NULL,
  label_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (item_id, label_id)
) ENGINE=InnoDB;
INSERT IGNORE INTO recount_classes (item_id, label_id)
  SELECT a.item_id, c.id
  FROM annotations a
  JOIN JSON_TABLE(a.data, '$' COLUMNS (
         one BIGINT UNSIGNED PATH '$.label',
         NESTED PATH '$.labels[*]' COLUMNS (many BIGINT UNSIGNED PATH '$'),
         NESTED PATH '$.boxes[*]' COLUMNS (box BIGINT UNSIGNED PATH '$.label'))) j
  JOIN labels c ON c.project_id = a.project_id AND c.id = COALESCE(j.one, j.many, j.box)
  WHERE a.project_id = @p AND a.is_current = 1;

SELECT x.what, x.kept, x.recounted FROM (
  -- The counter row, and its phases.
  SELECT 'project_counters rows' AS what,
    (SELECT COUNT(*) FROM project_counters WHERE project_id = @p) AS kept, 1 AS recounted
  UNION ALL
  SELECT 'project_counters.items_total', c.items_total,
    (SELECT COUNT(*) FROM items WHERE project_id = @p)
  FROM project_counters c WHERE c.project_id = @p
  UNION ALL
  SELECT 'project_counters.items_labeled', c.items_labeled,
    (SELECT COUNT(*) FROM items WHERE project_id = @p AND phase IN ('labeled', 'approved'))
  FROM project_counters c WHERE c.project_id = @p
  UNION ALL
  SELECT 'project_counters.items_skipped', c.items_skipped,
    (SELECT COUNT(*) FROM items WHERE project_id = @p AND phase = 'skipped')
  FROM project_counters c WHERE c.project_id = @p
  UNION ALL
  SELECT 'project_counters.items_requeued', c.items_requeued,
    (SELECT COUNT(*) FROM items WHERE project_id = @p AND phase = 'requeued')
  FROM project_counters c WHERE c.project_id = @p
  UNION ALL
  SELECT 'project_counters.items_approved', c.items_approved,
    (SELECT COUNT(*) FROM items WHERE project_id = @p AND phase = 'approved')
  FROM project_counters c WHERE c.project_id = @p
  UNION ALL
  SELECT 'project_counters.rejections', c.rejections,
    (SELECT COUNT(*) FROM item_events WHERE project_id = @p AND kind = 'rejected')
  FROM project_counters c WHERE c.project_id = @p

  -- The items agree with themselves and with their answers.
  UNION ALL
  SELECT 'items whose state disagrees with their phase', 0, COUNT(*)
  FROM items WHERE project_id = @p AND (state = 'labeled') <> (phase IN ('labeled', 'approved'))
  UNION ALL
  SELECT 'items skipped that nobody skipped', 0, COUNT(*)
  FROM items i WHERE i.project_id = @p AND i.phase = 'skipped'
    AND NOT EXISTS (SELECT 1 FROM item_skips s WHERE s.item_id = i.id)
  UNION ALL
  SELECT 'current annotations that are withdrawn', 0, COUNT(*)
  FROM annotations WHERE project_id = @p AND is_current = 1 AND withdrawn_seq IS NOT NULL
  UNION ALL
  SELECT 'items without exactly one current answer when labeled (none when not)', 0, COUNT(*)
  FROM items i
  LEFT JOIN (SELECT item_id, COUNT(*) AS n FROM annotations
             WHERE project_id = @p AND is_current = 1 GROUP BY item_id) a ON a.item_id = i.id
  WHERE i.project_id = @p AND COALESCE(a.n, 0) <> (i.state = 'labeled')
  UNION ALL
  SELECT 'items whose labeled_by or answered_at is not their current answer''s', 0, COUNT(*)
  FROM items i JOIN annotations a ON a.item_id = i.id AND a.is_current = 1
  WHERE i.project_id = @p AND (NOT (i.labeled_by <=> a.labeler_id) OR i.answered_at <> a.created_at)

  -- answer_labels: exactly the classes of the current answers, with their
  -- items' time and labeler.
  UNION ALL
  SELECT 'answer_labels rows that are no current answer''s class', COUNT(*), 0
  FROM answer_labels al
  LEFT JOIN recount_classes r ON r.item_id = al.item_id AND r.label_id = al.label_id
  WHERE al.project_id = @p AND r.item_id IS NULL
  UNION ALL
  SELECT 'classes of current answers missing from answer_labels', 0, COUNT(*)
  FROM recount_classes r
  LEFT JOIN answer_labels al ON al.project_id = @p AND al.item_id = r.item_id
    AND al.label_id = r.label_id
  WHERE al.item_id IS NULL
  UNION ALL
  SELECT 'answer_labels rows whose answered_at or labeled_by is not their item''s', 0, COUNT(*)
  FROM answer_labels al JOIN items i ON i.id = al.item_id
  WHERE al.project_id = @p AND (al.answered_at <> i.answered_at OR NOT (al.labeled_by <=> i.labeled_by))

  -- label_counts per class: against answer_labels and against the classes
  -- of the current answers.
  UNION ALL
  SELECT CONCAT('label_counts.answers of label ', u.label_id, ' (vs answer_labels)'),
    SUM(u.kept), SUM(u.recounted)
  FROM (SELECT label_id, answers AS kept, 0 AS recounted FROM label_counts WHERE project_id = @p
        UNION ALL
        SELECT label_id, 0, COUNT(*) FROM answer_labels WHERE project_id = @p GROUP BY label_id) u
  GROUP BY u.label_id
  UNION ALL
  SELECT CONCAT('label_counts.answers of label ', u.label_id, ' (vs current answers)'),
    SUM(u.kept), SUM(u.recounted)
  FROM (SELECT label_id, answers AS kept, 0 AS recounted FROM label_counts WHERE project_id = @p
        UNION ALL
        SELECT label_id, 0, COUNT(*) FROM recount_classes GROUP BY label_id) u
  GROUP BY u.label_id

  -- labeler_days: answers and skips per labeler and day; the reviews of
  -- each labeler's answers per labeler (a rejection's day is not kept with
  -- the answer it withdrew).  An answer a relabel withdrew was not rejected:
  -- the relabel's annotation carries the withdrawing change's number.
  UNION ALL
  SELECT CONCAT('labeler_days.labeled of user ', u.user_id, ' on ', u.day), SUM(u.kept), SUM(u.recounted)
  FROM (SELECT user_id, day, labeled AS kept, 0 AS recounted FROM labeler_days WHERE project_id = @p
        UNION ALL
        SELECT labeler_id, DATE(created_at), 0, COUNT(*) FROM annotations
        WHERE project_id = @p AND relabel = 0 AND labeler_id IS NOT NULL
        GROUP BY labeler_id, DATE(created_at)) u
  GROUP BY u.user_id, u.day
  UNION ALL
  SELECT CONCAT('labeler_days.skipped of user ', u.user_id, ' on ', u.day), SUM(u.kept), SUM(u.recounted)
  FROM (SELECT user_id, day, skipped AS kept, 0 AS recounted FROM labeler_days WHERE project_id = @p
        UNION ALL
        SELECT user_id, DATE(created_at), 0, COUNT(*) FROM item_events
        WHERE project_id = @p AND kind = 'skipped' AND user_id IS NOT NULL
        GROUP BY user_id, DATE(created_at)) u
  GROUP BY u.user_id, u.day
  UNION ALL
  SELECT CONCAT('labeler_days.rejected of user ', u.user_id), SUM(u.kept), SUM(u.recounted)
  FROM (SELECT user_id, rejected AS kept, 0 AS recounted FROM labeler_days WHERE project_id = @p
        UNION ALL
        SELECT w.labeler_id, 0, COUNT(*) FROM annotations w
        WHERE w.project_id = @p AND w.withdrawn_seq IS NOT NULL AND w.labeler_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM annotations r WHERE r.item_id = w.item_id
                          AND r.relabel = 1 AND r.seq = w.withdrawn_seq)
        GROUP BY w.labeler_id) u
  GROUP BY u.user_id
  UNION ALL
  SELECT CONCAT('labeler_days.approved of user ', u.user_id), SUM(u.kept), SUM(u.recounted)
  FROM (SELECT user_id, approved AS kept, 0 AS recounted FROM labeler_days WHERE project_id = @p
        UNION ALL
        SELECT labeler_id, 0, COUNT(*) FROM annotations
        WHERE project_id = @p AND approved_seq IS NOT NULL AND labeler_id IS NOT NULL
        GROUP BY labeler_id) u
  GROUP BY u.user_id
  -- labeler_days.last_at: the newest answer (not relabel) of the day;
  -- labeler_seconds: the timed answers (not relabels) by the bucket rule
  -- of sql/018_labeler_stats.sql.
  UNION ALL
  SELECT CONCAT('labeler_days.last_at of user ', u.user_id, ' on ', u.day),
    MAX(u.kept), MAX(u.recounted)
  FROM (SELECT user_id, day, DATE_FORMAT(last_at, '%Y-%m-%d %H:%i:%s.%f') AS kept, NULL AS recounted
        FROM labeler_days WHERE project_id = @p
        UNION ALL
        SELECT labeler_id, DATE(created_at), NULL, DATE_FORMAT(MAX(created_at), '%Y-%m-%d %H:%i:%s.%f')
        FROM annotations WHERE project_id = @p AND relabel = 0 AND labeler_id IS NOT NULL
        GROUP BY labeler_id, DATE(created_at)) u
  GROUP BY u.user_id, u.day
  UNION ALL
  SELECT CONCAT('labeler_seconds.n of user ', u.user_id, ' bucket ', u.bucket), SUM(u.kept), SUM(u.recounted)
  FROM (SELECT user_id, bucket, n AS kept, 0 AS recounted FROM labeler_seconds WHERE project_id = @p
        UNION ALL
        SELECT labeler_id, LEAST(63, GREATEST(0, FLOOR(LOG(1.2, GREATEST(ms, 1) / 100)))), 0, COUNT(*)
        FROM annotations WHERE project_id = @p AND relabel = 0 AND ms IS NOT NULL
          AND labeler_id IS NOT NULL
        GROUP BY 1, 2) u
  GROUP BY u.user_id, u.bucket
  UNION ALL
  SELECT 'labeler_days.rejected, all labelers (vs rejected events)',
    (SELECT COALESCE(SUM(rejected), 0) FROM labeler_days WHERE project_id = @p),
    (SELECT COUNT(*) FROM item_events WHERE project_id = @p AND kind = 'rejected')
  UNION ALL
  SELECT 'labeler_days.approved, all labelers (vs approved events)',
    (SELECT COALESCE(SUM(approved), 0) FROM labeler_days WHERE project_id = @p),
    (SELECT COUNT(*) FROM item_events WHERE project_id = @p AND kind = 'approved')
) x
WHERE NOT (x.kept <=> x.recounted)
ORDER BY x.what;

DROP TEMPORARY TABLE recount_classes;
