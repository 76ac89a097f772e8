/*
 * db.h: MariaDB access for labeld: one connection per worker thread,
 * prepared statements only (cached per connection), explicit reconnect on a
 * lost connection (2006/2013) with re-prepare, retry of idempotent work only,
 * and the migration runner.
 *
 * Parameters are passed with a format string, one character per '?':
 *   's'  const char *            (NULL binds SQL NULL)
 *   'b'  const void *, size_t    (binary bytes)
 *   'i'  long long
 *   'u'  unsigned long long
 *   'd'  double
 * Results come back as strings in the caller's arena (NULL for SQL NULL),
 * whatever the column type; db_int() converts.
 */
#ifndef LABELD_DB_H
#define LABELD_DB_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct db;

enum db_status {
	DB_OK = 0,
	DB_ERR = -1,          /* any other failure (logged with its cause) */
	DB_UNAVAILABLE = -2,  /* cannot connect / connection lost: answer 503 */
	DB_DUPLICATE = -3,    /* ER_DUP_ENTRY (1062) */
	DB_RETRY = -4,        /* deadlock (1213) or lock wait timeout (1205):
	                         the transaction was rolled back; caller may retry */
	DB_REFUSED = -5       /* a labeld stored procedure refused (SIGNAL
	                         SQLSTATE '45000', 1644); what it did before is
	                         still in an open transaction: roll it back */
};

struct db_config {
	const char *host;       /* NULL or "" with socket set: unix socket */
	const char *socket;
	unsigned port;
	const char *user;
	const char *password;
	const char *name;       /* database */
	unsigned connect_timeout; /* seconds */
	unsigned rw_timeout;      /* seconds, read and write */
};

/* Flags for db_exec. */
#define DB_IDEMPOTENT 1u   /* safe to run again after a lost connection */

struct db_result {
	size_t nrows;
	size_t ncols;
	char ***rows;              /* rows[r][c], NUL-terminated, NULL = SQL NULL */
	unsigned long **lens;      /* lens[r][c] */
};

/* Process-wide: call once in main before threads start / at exit. */
int db_library_init(void);
void db_library_end(void);
/* Per thread that uses the library. */
void db_thread_init(void);
void db_thread_end(void);

/* A handle that is not connected yet (cfg strings are copied).  NULL on OOM. */
struct db *db_new(const struct db_config *cfg);
void db_free(struct db *db);

/* Make sure the connection is up: connect or reconnect as needed (throttled
 * to one attempt per 200 ms per handle while the server is down).
 * DB_OK or DB_UNAVAILABLE. */
int db_ensure(struct db *db);

/* SELECT 1 through a prepared statement; DB_OK or DB_UNAVAILABLE. */
int db_ping(struct db *db);

/* Run a query that returns rows.  Retried once after a reconnect when the
 * connection was lost outside a transaction.  *res is arena-owned. */
int db_query(struct db *db, struct arena *a, struct db_result **res,
    const char *sql, const char *fmt, ...);

/* Run a statement that returns no rows.  affected / insert_id may be NULL.
 * Retried after a reconnect only with DB_IDEMPOTENT and outside a
 * transaction. */
int db_exec(struct db *db, unsigned flags, uint64_t *affected, uint64_t *insert_id,
    const char *sql, const char *fmt, ...);

/* One parameter for db_exec_args (type as in the format characters above;
 * 's' uses ptr as a C string, 'b' uses ptr + len). */
struct db_arg {
	char type;
	const void *ptr;
	size_t len;
	long long i;
	unsigned long long u;
	double d;
};

/* db_exec with an array of any number of parameters (multi-row INSERTs). */
int db_exec_args(struct db *db, unsigned flags, uint64_t *affected, uint64_t *insert_id,
    const char *sql, const struct db_arg *args, size_t n);

/*
 * Streaming reads: rows fetched from the server one by one as they are
 * asked for (mysql_stmt_fetch without storing the result), so a read of
 * millions of rows never holds more than one row in memory.
 *
 * While a stream is open the connection serves nothing else: every other
 * call on db (queries, transactions) fails with DB_ERR until the stream is
 * closed.  Use a connection of its own for a long stream.  A stream opened
 * inside a transaction reads that transaction's snapshot.
 *
 * db_stream_open: DB_OK with *out (free it with db_stream_close), or a DB_*
 * error (nothing to close).  db_stream_next: 1 with *row (a one-row result
 * valid until the next call or the close), 0 after the last row, or a DB_*
 * error (< 0; the stream is then over: close it).  db_stream_close: after
 * the last row it only frees; a stream closed before its end closes the
 * connection (rather than reading the rest of the rows; an open transaction
 * is rolled back by the server) and the next call on db reconnects.
 */
struct db_stream;
int db_stream_open(struct db *db, struct db_stream **out, const char *sql, const char *fmt, ...);
int db_stream_next(struct db_stream *s, struct db_result **row);
void db_stream_close(struct db_stream *s);

/* Transactions.  After a lost connection or DB_RETRY inside a transaction
 * the transaction is over (rolled back); db_rollback is then a no-op. */
int db_begin(struct db *db);
/* A read-only REPEATABLE READ transaction whose consistent snapshot is
 * taken at once (START TRANSACTION WITH CONSISTENT SNAPSHOT); end it with
 * db_commit or db_rollback. */
int db_begin_snapshot(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
int db_in_transaction(const struct db *db);

/* The last error's text for logs ("" when none). */
const char *db_errmsg(const struct db *db);

/* A one-row result in arena a holding row `row` of res from column
 * from_col on (every value copied): how a result read on one thread's
 * connection is handed to another request.  NULL when out of memory or out
 * of range. */
struct db_result *db_row_copy(struct arena *a, const struct db_result *res, size_t row,
    size_t from_col);

/* Row/column helpers: NULL / 0 when out of range or SQL NULL. */
const char *db_value(const struct db_result *res, size_t row, size_t col);
long long db_int(const struct db_result *res, size_t row, size_t col);

/* Apply sql/NNN_*.sql files not yet recorded in schema_migrations, in
 * order, holding GET_LOCK('labeld_migrations') so two processes starting at
 * once apply each file once.  Each file's statements run inside a
 * transaction (DDL commits implicitly in MariaDB: see docs/database.md).
 * Returns 0 or -1 with "file:line: cause" in err. */
int db_migrate(struct db *db, const char *sql_dir, char *err, size_t errlen);

#endif
