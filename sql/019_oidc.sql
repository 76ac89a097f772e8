-- 019_oidc: signing in through OpenID Connect providers (core/oidc.h,
-- docs/signin.md).

-- A started sign-in (authorization code flow with PKCE), kept here so that
-- any labeld process can finish a flow another one started.  Only SHA-256
-- hashes of the state sent to the provider and of the browser's
-- labeld_oidc cookie are stored: neither can be taken from a copy of the
-- database and used.  nonce and code_verifier are useless without the
-- state and the provider's code.  Consumed once (used_at), good until
-- expires_at; the cleanup thread deletes rows past expires_at.
CREATE TABLE IF NOT EXISTS oidc_flows (
  state_hash     BINARY(32) NOT NULL,
  browser_hash   BINARY(32) NOT NULL,
  provider       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  nonce          CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  code_verifier  CHAR(43) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  redirect_uri   VARCHAR(2048) NOT NULL,
  next_url       VARCHAR(2048) NOT NULL DEFAULT '',
  created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  expires_at     DATETIME(6) NOT NULL,
  used_at        DATETIME(6) NULL,
  PRIMARY KEY (state_hash),
  KEY oidc_flows_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The provider identities a person is bound to: found by (issuer,
-- subject) alone once bound.  issuer is the token's iss (for a multi-tenant
-- Entra ID provider, the tenant's own issuer); tenant its tid, email the
-- address it was bound by.  Binary collation: subjects and issuers are
-- compared exactly, as the protocol says.
CREATE TABLE IF NOT EXISTS user_identities (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  user_id       BIGINT UNSIGNED NOT NULL,
  provider      VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  issuer        VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  subject       VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  tenant        VARCHAR(64) NULL,
  email         VARCHAR(254) NOT NULL DEFAULT '',
  created_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  last_used_at  DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY user_identities_subject (issuer, subject),
  KEY user_identities_user (user_id),
  CONSTRAINT user_identities_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- provider_only: the person signs in through a provider only; their
-- password is cleared and no password can be set (an admin's choice).
ALTER TABLE users
  ADD COLUMN IF NOT EXISTS provider_only TINYINT(1) NOT NULL DEFAULT 0 AFTER is_disabled;
