-- 002_projects: datastores, datasets, labeling projects, label classes,
-- items, the job queue, wizard drafts and per-project counters.

-- Where images live: a local directory (under an allowed root) or an Azure
-- Blob container.  Exactly one datastore is the default (uploads go there).
CREATE TABLE IF NOT EXISTS datastores (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name           VARCHAR(100) NOT NULL,
  kind           ENUM('local', 'azureblob') NOT NULL,
  local_path     VARCHAR(1024) NULL,
  blob_endpoint  VARCHAR(512) NULL,
  blob_account   VARCHAR(64) NULL,
  blob_container VARCHAR(64) NULL,
  blob_sas       TEXT NULL,
  blob_key       VARCHAR(255) NULL,
  is_default     TINYINT(1) NOT NULL DEFAULT 0,
  created_by     BIGINT UNSIGNED NULL,
  created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY datastores_name (name),
  CONSTRAINT datastores_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A set of images: a folder of a datastore (recursive when path ends in /**).
CREATE TABLE IF NOT EXISTS datasets (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name           VARCHAR(100) NOT NULL,
  description    TEXT NOT NULL,
  datastore_id   BIGINT UNSIGNED NOT NULL,
  path           VARCHAR(1024) NOT NULL,
  is_recursive   TINYINT(1) NOT NULL DEFAULT 0,
  kind           ENUM('input', 'labeled') NOT NULL DEFAULT 'input',
  source         ENUM('upload', 'datastore') NOT NULL DEFAULT 'datastore',
  file_count     BIGINT UNSIGNED NULL,
  created_by     BIGINT UNSIGNED NULL,
  created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY datasets_name (name),
  CONSTRAINT datasets_datastore FOREIGN KEY (datastore_id) REFERENCES datastores (id),
  CONSTRAINT datasets_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS projects (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name             VARCHAR(100) NOT NULL,
  task             VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  dataset_id       BIGINT UNSIGNED NOT NULL,
  description      TEXT NOT NULL,
  instructions_url VARCHAR(2048) NOT NULL DEFAULT '',
  state            ENUM('initializing', 'running', 'paused', 'failed') NOT NULL DEFAULT 'initializing',
  created_by       BIGINT UNSIGNED NULL,
  created_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at       DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY projects_name (name),
  CONSTRAINT projects_dataset FOREIGN KEY (dataset_id) REFERENCES datasets (id),
  CONSTRAINT projects_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Label classes.  position 1..9 are the number keys; names are unique per
-- project without regard to case (the collation is case-insensitive).
CREATE TABLE IF NOT EXISTS labels (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  project_id  BIGINT UNSIGNED NOT NULL,
  name        VARCHAR(64) NOT NULL,
  position    INT UNSIGNED NOT NULL,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY labels_name (project_id, name),
  UNIQUE KEY labels_position (project_id, position),
  CONSTRAINT labels_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One image of a project.  path is relative to the dataset's datastore;
-- path_hash makes (project, path) unique so a re-run never duplicates.
CREATE TABLE IF NOT EXISTS items (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  project_id   BIGINT UNSIGNED NOT NULL,
  path         VARCHAR(1024) NOT NULL,
  path_hash    BINARY(32) AS (UNHEX(SHA2(path, 256))) STORED,
  width        INT UNSIGNED NOT NULL,
  height       INT UNSIGNED NOT NULL,
  format       VARCHAR(8) CHARACTER SET ascii NOT NULL,
  state        ENUM('unlabeled', 'labeled') NOT NULL DEFAULT 'unlabeled',
  lease_user   BIGINT UNSIGNED NULL,
  lease_until  DATETIME(6) NULL,
  lease_token  CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NULL,
  version      INT UNSIGNED NOT NULL DEFAULT 0,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY items_path (project_id, path_hash),
  KEY items_queue (project_id, state, id),
  CONSTRAINT items_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Counters kept in the same transaction as every state change, so pages
-- never count a million rows.
CREATE TABLE IF NOT EXISTS project_counters (
  project_id      BIGINT UNSIGNED NOT NULL,
  items_total     BIGINT UNSIGNED NOT NULL DEFAULT 0,
  items_labeled   BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (project_id),
  CONSTRAINT project_counters_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Background work, claimed with SELECT ... FOR UPDATE SKIP LOCKED by any
-- labeld's job thread; a running job whose heartbeat stopped is taken over.
CREATE TABLE IF NOT EXISTS jobs (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  kind         VARCHAR(32) CHARACTER SET ascii NOT NULL,
  project_id   BIGINT UNSIGNED NULL,
  state        ENUM('queued', 'running', 'done', 'failed') NOT NULL DEFAULT 'queued',
  progress     BIGINT UNSIGNED NOT NULL DEFAULT 0,
  total        BIGINT UNSIGNED NULL,
  refused      BIGINT UNSIGNED NOT NULL DEFAULT 0,
  error        TEXT NULL,
  runner       VARCHAR(128) NULL,
  attempts     INT UNSIGNED NOT NULL DEFAULT 0,
  run_after    DATETIME(6) NULL,
  heartbeat_at DATETIME(6) NULL,
  started_at   DATETIME(6) NULL,
  finished_at  DATETIME(6) NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY jobs_claim (state, id),
  KEY jobs_project (project_id, id),
  CONSTRAINT jobs_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Files a job refused, with the reason (the first 1000 per job are kept).
CREATE TABLE IF NOT EXISTS job_refusals (
  id       BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  job_id   BIGINT UNSIGNED NOT NULL,
  path     VARCHAR(1024) NOT NULL,
  reason   VARCHAR(255) NOT NULL,
  PRIMARY KEY (id),
  KEY job_refusals_job (job_id, id),
  CONSTRAINT job_refusals_job FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The create-project wizard keeps what was entered server-side, so reload
-- and Back never lose input.
CREATE TABLE IF NOT EXISTS project_drafts (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id     BIGINT UNSIGNED NOT NULL,
  data        LONGTEXT NOT NULL,
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY project_drafts_user (user_id),
  CONSTRAINT project_drafts_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
