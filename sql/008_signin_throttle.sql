-- 008_signin_throttle: sign-in tries are counted before the password is
-- checked, per (account, address), per address and per account.
--
-- login_failures now holds, per key, the tries in the current window that
-- have not proven good (a try is counted first and taken back when its
-- password is right), so parallel guesses cannot all pass one check:
--   "pair:<email> <address>"  the hard limit (login_max_failures_account):
--                             a stranger elsewhere cannot lock the owner out
--   "address:<address>"       the hard limit per address
--                             (login_max_failures_address)
--   "account:<email>"         the slow brake (login_account_backoff): past
--                             it, each try of the account waits one second
--                             more after the last, except from an address
--                             the account has signed in from before
-- A pair key is an email (at most 254) and an address (at most 45).
ALTER TABLE login_failures
  MODIFY throttle_key VARCHAR(320) NOT NULL,
  ADD COLUMN IF NOT EXISTS last_try DATETIME(6) NULL,
  ADD INDEX IF NOT EXISTS login_failures_window (window_start);

-- Addresses each account has signed in from (the brake above spares them),
-- forgotten a while after the last sign-in from there (core/cleanup.c).
CREATE TABLE IF NOT EXISTS login_known (
  user_id       BIGINT UNSIGNED NOT NULL,
  address       VARCHAR(45) NOT NULL,
  last_success  DATETIME(6) NOT NULL,
  PRIMARY KEY (user_id, address),
  KEY login_known_last (last_success),
  CONSTRAINT login_known_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;
