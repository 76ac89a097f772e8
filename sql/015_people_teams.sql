-- 015_people_teams: people (invited, active, disabled, removed), one-time
-- invitations, teams, the people in each team and the projects each team
-- serves.  The one rule of who may see what (core/access.h): an admin sees
-- everything; anyone else sees the projects that one of their teams serves.

-- activated_at: when the person first set a password (an invitation) or
-- signed in; NULL while invited.  removed_at: removed by an admin; the row
-- stays so that past answers stay attributed, and the person can neither
-- sign in nor be listed among the people (unless asked for).
ALTER TABLE users
  ADD COLUMN IF NOT EXISTS activated_at DATETIME(6) NULL AFTER last_login_at,
  ADD COLUMN IF NOT EXISTS removed_at DATETIME(6) NULL AFTER activated_at,
  ADD COLUMN IF NOT EXISTS invited_by BIGINT UNSIGNED NULL AFTER removed_at,
  ADD INDEX IF NOT EXISTS users_display_name (display_name);
UPDATE users SET activated_at = COALESCE(last_login_at, created_at) WHERE activated_at IS NULL;

-- A one-time invitation link: only the SHA-256 of its token is stored.  A
-- new link for the same person voids the older ones (voided_at); using one
-- sets used_at.  Good while used_at and voided_at are NULL and expires_at
-- has not passed.
CREATE TABLE IF NOT EXISTS invitations (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id      BIGINT UNSIGNED NOT NULL,
  token_hash   BINARY(32) NOT NULL,
  created_by   BIGINT UNSIGNED NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  expires_at   DATETIME(6) NOT NULL,
  used_at      DATETIME(6) NULL,
  voided_at    DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY invitations_token (token_hash),
  KEY invitations_user (user_id, created_at),
  CONSTRAINT invitations_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT invitations_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Teams.  Names are unique without regard to case.  project_id names the
-- project a team was made for as its default team ("<project> team"); the
-- team lives on when that project is deleted.
CREATE TABLE IF NOT EXISTS teams (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name         VARCHAR(140) NOT NULL,
  project_id   BIGINT UNSIGNED NULL,
  created_by   BIGINT UNSIGNED NULL,
  created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY teams_name (name),
  KEY teams_project (project_id),
  CONSTRAINT teams_project_fk FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE SET NULL,
  CONSTRAINT teams_created_by FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The people in a team.  (user_id, team_id) finds a person's teams.
CREATE TABLE IF NOT EXISTS team_members (
  team_id      BIGINT UNSIGNED NOT NULL,
  user_id      BIGINT UNSIGNED NOT NULL,
  added_by     BIGINT UNSIGNED NULL,
  added_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (team_id, user_id),
  KEY team_members_user (user_id, team_id),
  CONSTRAINT team_members_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
  CONSTRAINT team_members_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT team_members_added_by FOREIGN KEY (added_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The teams that serve a project.  (team_id, project_id) finds a team's
-- projects.
CREATE TABLE IF NOT EXISTS project_teams (
  project_id   BIGINT UNSIGNED NOT NULL,
  team_id      BIGINT UNSIGNED NOT NULL,
  added_by     BIGINT UNSIGNED NULL,
  added_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (project_id, team_id),
  KEY project_teams_team (team_id, project_id),
  CONSTRAINT project_teams_project FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE,
  CONSTRAINT project_teams_team FOREIGN KEY (team_id) REFERENCES teams (id) ON DELETE CASCADE,
  CONSTRAINT project_teams_added_by FOREIGN KEY (added_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Projects made before teams existed get their default team now, named
-- "<project> team" (or "<project> team <id>" when that name is taken),
-- serving the project, with its creator and everyone who has worked on it
-- (answered, skipped or holds a lease): labeling that went on before the
-- upgrade goes on; nobody else gains or keeps access to the project.
INSERT INTO teams (name, project_id, created_by)
  SELECT IF(EXISTS (SELECT 1 FROM teams t WHERE t.name = CONCAT(p.name, ' team')),
            CONCAT(p.name, ' team ', p.id), CONCAT(p.name, ' team')), p.id, p.created_by
  FROM projects p
  WHERE NOT EXISTS (SELECT 1 FROM teams t WHERE t.project_id = p.id);
INSERT IGNORE INTO project_teams (project_id, team_id, added_by)
  SELECT t.project_id, t.id, t.created_by FROM teams t WHERE t.project_id IS NOT NULL;
INSERT IGNORE INTO team_members (team_id, user_id, added_by)
  SELECT t.id, w.user_id, t.created_by FROM teams t JOIN (
      SELECT id AS project_id, created_by AS user_id FROM projects WHERE created_by IS NOT NULL
      UNION SELECT project_id, labeler_id FROM annotations WHERE labeler_id IS NOT NULL
      UNION SELECT project_id, user_id FROM item_skips
      UNION SELECT project_id, lease_user FROM items WHERE lease_user IS NOT NULL
    ) w ON w.project_id = t.project_id
  WHERE t.project_id IS NOT NULL;
