-- 016_review: running and reviewing a project (docs/review.md).
--
-- An item's phase refines its state for the dashboard, the Data tab and
-- review; items.state stays the queue's truth ('unlabeled' or 'labeled'):
--
--   phase      state       meaning
--   queued     unlabeled   nobody answered, skipped or rejected it yet
--   skipped    unlabeled   a labeler skipped it (others still get it)
--   requeued   unlabeled   a review rejected its answer; back in the queue
--   labeled    labeled     answered, not reviewed yet (the review queue)
--   approved   labeled     a review approved the current answer
--
-- Every statement that changes an item's phase changes the project's
-- counters (project_counters, label_counts, labeler_days) in the same
-- transaction, so no page ever counts items.
ALTER TABLE items
  ADD COLUMN IF NOT EXISTS phase ENUM('queued', 'skipped', 'requeued', 'labeled', 'approved')
    NOT NULL DEFAULT 'queued',
  -- The current (or, once rejected, the last) answer: who, and when.  The
  -- epoch for an item never answered, so that (answered_at, id) orders
  -- every item and keyset paging needs no NULL handling.
  ADD COLUMN IF NOT EXISTS labeled_by BIGINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS answered_at DATETIME(6) NOT NULL DEFAULT '1970-01-01 00:00:00',
  -- When the labeling lease in force (or the last one) began: an answer's
  -- seconds are counted from here.
  ADD COLUMN IF NOT EXISTS leased_at DATETIME(6) NULL,
  -- The review lease, as the labeling lease: one reviewer at a time.
  ADD COLUMN IF NOT EXISTS review_user BIGINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS review_until DATETIME(6) NULL,
  ADD COLUMN IF NOT EXISTS review_token CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NULL,
  -- The Data tab: one phase, or one labeler, newest or oldest answer
  -- first; every item by answer time.  The review queue reads
  -- items_phase's 'labeled' range, oldest answer first.
  ADD INDEX IF NOT EXISTS items_phase (project_id, phase, answered_at, id),
  ADD INDEX IF NOT EXISTS items_labeler (project_id, labeled_by, answered_at, id),
  ADD INDEX IF NOT EXISTS items_time (project_id, answered_at, id),
  ADD INDEX IF NOT EXISTS items_review (review_user, project_id);

-- ms: milliseconds from the lease to the answer (NULL when unknown).
-- relabel: the labeler changed their own answer (Back, My answers).
-- approved_seq: the change that approved it (exports of approved items).
-- annotations_mine: a labeler's answers in a project, newest first (My
-- answers, Back, the dashboard's seconds per item).
ALTER TABLE annotations
  ADD COLUMN IF NOT EXISTS ms INT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS relabel TINYINT(1) NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS approved_seq BIGINT UNSIGNED NULL,
  ADD INDEX IF NOT EXISTS annotations_mine (project_id, labeler_id, id);

-- Who did what, and why: approvals, a reviewer's skip, and the reason a
-- rejection gave.
ALTER TABLE item_events
  MODIFY COLUMN kind ENUM('leased', 'labeled', 'skipped', 'released', 'rejected',
    'approved', 'review_skipped') NOT NULL,
  ADD COLUMN IF NOT EXISTS reason VARCHAR(1000) NULL;

-- The counters of the phases (items_labeled counts labeled and approved).
ALTER TABLE project_counters
  ADD COLUMN IF NOT EXISTS items_skipped BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS items_requeued BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS items_approved BIGINT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS rejections BIGINT UNSIGNED NOT NULL DEFAULT 0;

-- Per labeler and day: the reviews of their answers (on the review's day).
ALTER TABLE labeler_days
  ADD COLUMN IF NOT EXISTS rejected INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS approved INT UNSIGNED NOT NULL DEFAULT 0,
  ADD INDEX IF NOT EXISTS labeler_days_day (project_id, day);

-- The classes of every current answer (the task plugin's describe), for
-- the Data tab's class filter: by time, and by labeler and time.  A
-- rejection or a relabel removes the answer's rows.
CREATE TABLE IF NOT EXISTS answer_labels (
  project_id   BIGINT UNSIGNED NOT NULL,
  label_id     BIGINT UNSIGNED NOT NULL,
  answered_at  DATETIME(6) NOT NULL,
  item_id      BIGINT UNSIGNED NOT NULL,
  labeled_by   BIGINT UNSIGNED NULL,
  PRIMARY KEY (project_id, label_id, answered_at, item_id),
  KEY answer_labels_labeler (project_id, label_id, labeled_by, answered_at, item_id),
  KEY answer_labels_item (item_id),
  CONSTRAINT answer_labels_item FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE,
  CONSTRAINT answer_labels_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Current answers per class: the dashboard's chart.
CREATE TABLE IF NOT EXISTS label_counts (
  project_id   BIGINT UNSIGNED NOT NULL,
  label_id     BIGINT UNSIGNED NOT NULL,
  answers      BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id, label_id),
  CONSTRAINT label_counts_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Items a reviewer skipped (S): the review queue does not offer them to
-- that reviewer again, but still to the others.
CREATE TABLE IF NOT EXISTS review_skips (
  user_id      BIGINT UNSIGNED NOT NULL,
  project_id   BIGINT UNSIGNED NOT NULL,
  item_id      BIGINT UNSIGNED NOT NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (user_id, project_id, item_id),
  KEY review_skips_item (item_id),
  CONSTRAINT review_skips_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT review_skips_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  CONSTRAINT review_skips_item FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A team member may be marked a reviewer: they review the projects the
-- team serves (docs/access.md).
ALTER TABLE team_members
  ADD COLUMN IF NOT EXISTS reviewer TINYINT(1) NOT NULL DEFAULT 0;

-- Exports may be limited to approved items.
ALTER TABLE exports
  ADD COLUMN IF NOT EXISTS approved_only TINYINT(1) NOT NULL DEFAULT 0;
