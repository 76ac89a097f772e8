/*
 * db.c: MariaDB access (see db.h for the contract).
 *
 * One struct db belongs to one thread.  It holds the connection, a cache of
 * prepared statements keyed by their SQL text, the transaction flag and the
 * last error.  There is no automatic reconnect in the client library
 * (MYSQL_OPT_RECONNECT is off): when the connection is lost we close it, drop
 * every cached statement (statement ids die with the server session), and
 * connect again on the next call, retrying the interrupted work only where
 * that is safe.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mysql.h>
#include <errmsg.h>

#include "arena.h"
#include "db.h"
#include "log.h"
#include "metrics.h"

#define DB_CACHE_MAX 64
#define DB_MAX_PARAMS 32
#define DB_RECONNECT_MS 200
#define DB_MIGRATION_MAX (16u << 20)  /* bytes per migration file */
/* Scratch bytes per column, at least.  Keep it well above 25: the connector
 * formats a DOUBLE into whatever width the buffer has, rounding silently
 * (no truncation flag), and the longest %g double is 24 characters. */
#define DB_MIN_COLBUF 64

/* Server error codes we treat specially (named here so that the code does
 * not depend on which mysqld_error.h the connector ships). */
#define DB_ER_DUP_ENTRY 1062
#define DB_ER_LOCK_WAIT_TIMEOUT 1205
#define DB_ER_LOCK_DEADLOCK 1213
#define DB_ER_SERVER_SHUTDOWN 1053
#define DB_ER_CONNECTION_KILLED 1927
#define DB_ER_SIGNAL_EXCEPTION 1644   /* SIGNAL SQLSTATE '45000' */

/* Fixed session settings sent right after connecting. */
static const char db_session_sql[] =
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
	"NO_ZERO_DATE,NO_ZERO_IN_DATE,NO_ENGINE_SUBSTITUTION', "
	"time_zone = '+00:00'";

struct db_stmt {
	const char *key;      /* the caller's pointer, for the fast path */
	char *sql;            /* our copy: the real key */
	size_t len;
	MYSQL_STMT *stmt;
	unsigned long long used;  /* LRU clock */
};

struct db {
	char *host, *socket, *user, *password, *name;
	unsigned port, connect_timeout, rw_timeout;

	MYSQL *conn;
	struct db_stmt cache[DB_CACHE_MAX];
	size_t ncache;
	unsigned long long clock;

	bool in_tx;
	bool streaming;             /* a db_stream is open: nothing else may run */
	bool last_connect_failed;
	bool connected_before;      /* a later connect is a reconnect (metrics) */
	struct timespec last_connect;
	char err[256];
};

/* One bound parameter, decoded from the varargs once so that a retry can
 * bind it again. */
struct db_param {
	char type;
	const void *ptr;
	unsigned long len;
	long long i;
	unsigned long long u;
	double d;
};

struct db_params {
	size_t n;
	struct db_param *p;                  /* inline_p, or db_exec_args' copy */
	struct db_param inline_p[DB_MAX_PARAMS];
};

/* ------------------------------------------------------------ helpers */

static char *db_strdup_opt(const char *s, bool *oom)
{
	char *r;

	if (s == NULL)
		return NULL;
	r = strdup(s);
	if (r == NULL)
		*oom = true;
	return r;
}

static long long db_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first ~80 characters of sql on one line, for log messages. */
static void db_sql_excerpt(const char *sql, char *out, size_t outlen)
{
	size_t i, n = 0;

	if (sql == NULL)
		sql = "";
	for (i = 0; sql[i] != '\0' && n + 1 < outlen && i < 80; i++) {
		unsigned char c = (unsigned char)sql[i];
		out[n++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	if (sql[i] != '\0' && n + 4 < outlen) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static bool db_errno_lost(unsigned e)
{
	switch (e) {
	case CR_SERVER_GONE_ERROR:     /* 2006 */
	case CR_SERVER_LOST:           /* 2013 */
	case CR_CONNECTION_ERROR:      /* 2002 */
	case CR_CONN_HOST_ERROR:       /* 2003 */
	case CR_SERVER_LOST_EXTENDED:  /* 2055 */
	case DB_ER_CONNECTION_KILLED:  /* 1927 */
	case DB_ER_SERVER_SHUTDOWN:    /* 1053 */
		return true;
	default:
		return false;
	}
}

static void db_cache_clear(struct db *db)
{
	size_t i;

	for (i = 0; i < db->ncache; i++) {
		/* After mysql_close() the statement is detached from the
		 * connection and this only frees it. */
		mysql_stmt_close(db->cache[i].stmt);
		free(db->cache[i].sql);
	}
	db->ncache = 0;
}

/* Close the connection (lost or not) and forget everything tied to it. */
static void db_disconnect(struct db *db)
{
	if (db->conn != NULL) {
		mysql_close(db->conn);
		db->conn = NULL;
	}
	db_cache_clear(db);
	db->in_tx = false;
}

/*
 * Record and log a server/client error and turn it into a db_status, with
 * the side effects db.h promises: a lost connection is closed (ending any
 * transaction); a deadlock or lock wait timeout ends the transaction.
 */
static int db_fail(struct db *db, const char *func, const char *sql,
    unsigned e, const char *text)
{
	char ex[96], msg[200];  /* fits db->err with the errno */
	bool was_tx = db->in_tx;

	/* text may belong to the connection that db_disconnect frees. */
	snprintf(msg, sizeof(msg), "%s", text ? text : "");
	db_sql_excerpt(sql, ex, sizeof(ex));
	snprintf(db->err, sizeof(db->err), "%u: %s", e, msg);
	/* A duplicate key is an answer callers expect, not a fault. */
	if (e != DB_ER_DUP_ENTRY)
		metrics_add(METRIC_DB_ERRORS, 1);

	if (db_errno_lost(e)) {
		db_disconnect(db);
		log_error("%s: connection lost (mysql error %u: %s)%s in: %s",
		    func, e, msg, was_tx ? ", transaction rolled back" : "", ex);
		return DB_UNAVAILABLE;
	}
	if (e == DB_ER_DUP_ENTRY) {
		/* labeld's own procedures say "done already" this way (a lease
		 * that stored its answer): an answer, not a fault. */
		if (sql != NULL && strncmp(sql, "CALL labeld_", 12) == 0)
			log_debug("%s: refused as done already: %s in: %s", func, msg, ex);
		else
			log_warn("%s: mysql error %u: %s in: %s", func, e, msg, ex);
		return DB_DUPLICATE;
	}
	if (e == DB_ER_LOCK_DEADLOCK || e == DB_ER_LOCK_WAIT_TIMEOUT) {
		log_warn("%s: mysql error %u: %s%s in: %s", func, e, msg,
		    was_tx ? " (transaction rolled back)" : "", ex);
		if (e == DB_ER_LOCK_WAIT_TIMEOUT && db->conn != NULL) {
			/* InnoDB only rolled back the statement: end the
			 * transaction ourselves so its state is clear. */
			if (mysql_real_query(db->conn, "ROLLBACK", 8) != 0) {
				unsigned re = mysql_errno(db->conn);
				log_error("%s: ROLLBACK after lock wait timeout failed: mysql error %u: %s",
				    func, re, mysql_error(db->conn));
				if (db_errno_lost(re))
					db_disconnect(db);
			}
		}
		db->in_tx = false;
		return DB_RETRY;
	}
	if (e == DB_ER_SIGNAL_EXCEPTION) {
		/* One of labeld's procedures said no: an answer, not a fault. */
		log_debug("%s: refused: %s in: %s", func, msg, ex);
		return DB_REFUSED;
	}
	log_error("%s: mysql error %u: %s in: %s", func, e, msg, ex);
	return DB_ERR;
}

static int db_fail_conn(struct db *db, const char *func, const char *sql)
{
	return db_fail(db, func, sql, mysql_errno(db->conn), mysql_error(db->conn));
}

/* Error from a statement handle; the handle may be freed by db_fail (lost
 * connection), so errno and text are copied first. */
static int db_fail_stmt(struct db *db, const char *func, const char *sql,
    MYSQL_STMT *stmt)
{
	char msg[256];
	unsigned e = mysql_stmt_errno(stmt);

	snprintf(msg, sizeof(msg), "%s", mysql_stmt_error(stmt));
	return db_fail(db, func, sql, e, msg);
}

static void db_fail_local(struct db *db, const char *func, const char *sql,
    const char *msg)
{
	char ex[96];

	db_sql_excerpt(sql, ex, sizeof(ex));
	snprintf(db->err, sizeof(db->err), "%s", msg);
	log_error("%s: %s in: %s", func, msg, ex);
}

/* ------------------------------------------------------------ lifecycle */

/* mysql_library_init; 0 or -1 (logged). */
int db_library_init(void)
{
	if (mysql_library_init(0, NULL, NULL) != 0) {
		log_error("db_library_init: mysql_library_init failed");
		return -1;
	}
	return 0;
}

/* mysql_library_end; call after every handle is freed. */
void db_library_end(void)
{
	mysql_library_end();
}

/* Per-thread client library state; call in each thread before its first
 * db_new (a failure shows up later as a connect error). */
void db_thread_init(void)
{
	if (mysql_thread_init() != 0)
		log_error("db_thread_init: mysql_thread_init failed");
}

/* Release the thread's client library state. */
void db_thread_end(void)
{
	mysql_thread_end();
}

/* A new unconnected handle with copies of cfg's strings; NULL on OOM.  The
 * caller owns it and frees it with db_free. */
struct db *db_new(const struct db_config *cfg)
{
	struct db *db = calloc(1, sizeof(*db));
	bool oom = false;

	if (db == NULL)
		return NULL;
	db->host = db_strdup_opt(cfg->host, &oom);
	db->socket = db_strdup_opt(cfg->socket, &oom);
	db->user = db_strdup_opt(cfg->user, &oom);
	db->password = db_strdup_opt(cfg->password, &oom);
	db->name = db_strdup_opt(cfg->name, &oom);
	db->port = cfg->port;
	db->connect_timeout = cfg->connect_timeout;
	db->rw_timeout = cfg->rw_timeout;
	if (oom) {
		db_free(db);
		return NULL;
	}
	return db;
}

/* Close the connection (an open transaction is rolled back by the server)
 * and free the handle.  NULL is allowed. */
void db_free(struct db *db)
{
	if (db == NULL)
		return;
	/* Close statements politely while the connection is still up. */
	db_cache_clear(db);
	db_disconnect(db);
	free(db->host);
	free(db->socket);
	if (db->password != NULL)
		explicit_bzero(db->password, strlen(db->password));
	free(db->password);
	free(db->user);
	free(db->name);
	free(db);
}

static int db_connect(struct db *db)
{
	const char *host = db->host, *sock = NULL;
	unsigned int ct = db->connect_timeout, rw = db->rw_timeout;
	my_bool off = 0;
	MYSQL *m;

	db->last_connect_failed = true;
	m = mysql_init(NULL);
	if (m == NULL) {
		db_fail_local(db, "db_connect", "", "mysql_init: out of memory");
		return DB_UNAVAILABLE;
	}
	if (db->socket != NULL && db->socket[0] != '\0' &&
	    (host == NULL || host[0] == '\0' || strcmp(host, "localhost") == 0)) {
		host = NULL;   /* NULL host + socket: unix socket */
		sock = db->socket;
	} else if (host != NULL && host[0] == '\0') {
		host = NULL;
	}
	if (mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0 ||
	    mysql_options(m, MYSQL_OPT_RECONNECT, &off) != 0 ||
	    (ct > 0 && mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct) != 0) ||
	    (rw > 0 && mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw) != 0) ||
	    (rw > 0 && mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw) != 0)) {
		mysql_close(m);
		db_fail_local(db, "db_connect", "", "mysql_options failed");
		return DB_UNAVAILABLE;
	}
	if (mysql_real_connect(m, host, db->user, db->password, db->name,
	    db->port, sock, 0) == NULL) {
		metrics_add(METRIC_DB_ERRORS, 1);
		snprintf(db->err, sizeof(db->err), "%u: %s", mysql_errno(m), mysql_error(m));
		log_error("db_connect: cannot connect to MariaDB at %s%s (user %s, database %s): mysql error %u: %s",
		    sock ? "unix socket " : "host ",
		    sock ? sock : (host ? host : "localhost"),
		    db->user ? db->user : "(default)",
		    db->name ? db->name : "(none)", mysql_errno(m), mysql_error(m));
		mysql_close(m);
		return DB_UNAVAILABLE;
	}
	/* Fixed text with no data in it: no need for a prepared statement. */
	if (mysql_real_query(m, db_session_sql, sizeof(db_session_sql) - 1) != 0) {
		snprintf(db->err, sizeof(db->err), "%u: %s", mysql_errno(m), mysql_error(m));
		log_error("db_connect: session setup failed: mysql error %u: %s",
		    mysql_errno(m), mysql_error(m));
		mysql_close(m);
		return DB_UNAVAILABLE;
	}
	db->conn = m;
	db->in_tx = false;
	db->last_connect_failed = false;
	if (db->connected_before)
		metrics_add(METRIC_DB_RECONNECTS, 1);
	db->connected_before = true;
	return DB_OK;
}

/* Connect when there is no connection, at most once per DB_RECONNECT_MS
 * after a failed attempt.  DB_OK or DB_UNAVAILABLE. */
int db_ensure(struct db *db)
{
	long long now;

	if (db->conn != NULL)
		return DB_OK;
	now = db_now_ms();
	if (db->last_connect_failed) {
		long long last = (long long)db->last_connect.tv_sec * 1000 +
		    db->last_connect.tv_nsec / 1000000;
		if (now - last < DB_RECONNECT_MS) {
			/* The failed attempt was logged; keep its text. */
			if (db->err[0] == '\0')
				snprintf(db->err, sizeof(db->err), "database unavailable");
			return DB_UNAVAILABLE;
		}
	}
	db->last_connect.tv_sec = now / 1000;
	db->last_connect.tv_nsec = (now % 1000) * 1000000;
	return db_connect(db);
}

/* ------------------------------------------------------------ statements */

/*
 * The prepared statement for sql, from the cache or freshly prepared (the
 * least recently used entry is evicted when the cache is full).  The cache
 * key is the text: a pointer match alone is not trusted because SQL built
 * in a request arena can reuse an address for different text.  NULL on
 * failure with *rc set (the error is recorded and logged).
 */
static MYSQL_STMT *db_stmt_get(struct db *db, const char *func,
    const char *sql, int *rc)
{
	size_t i, len = strlen(sql), victim = 0;
	struct db_stmt *e;
	MYSQL_STMT *stmt;
	my_bool one = 1;

	/* Callers pass string literals, so the same pointer usually means a
	 * hit: try that first, confirming the text. */
	for (i = 0; i < db->ncache; i++) {
		e = &db->cache[i];
		if (e->key == sql && e->len == len && memcmp(e->sql, sql, len) == 0)
			goto hit;
	}
	for (i = 0; i < db->ncache; i++) {
		e = &db->cache[i];
		if (e->len == len && memcmp(e->sql, sql, len) == 0)
			goto hit;
	}

	stmt = mysql_stmt_init(db->conn);
	if (stmt == NULL) {
		*rc = db_fail_conn(db, func, sql);
		return NULL;
	}
	if (mysql_stmt_prepare(stmt, sql, len) != 0) {
		char msg[256];
		unsigned en = mysql_stmt_errno(stmt);

		snprintf(msg, sizeof(msg), "%s", mysql_stmt_error(stmt));
		if (db_errno_lost(en))
			db_disconnect(db);   /* detaches stmt from the connection */
		mysql_stmt_close(stmt);
		*rc = db_fail(db, func, sql, en, msg);
		return NULL;
	}
	if (mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &one) != 0) {
		mysql_stmt_close(stmt);
		db_fail_local(db, func, sql, "mysql_stmt_attr_set failed");
		*rc = DB_ERR;
		return NULL;
	}

	if (db->ncache == DB_CACHE_MAX) {
		for (i = 1; i < db->ncache; i++)
			if (db->cache[i].used < db->cache[victim].used)
				victim = i;
		mysql_stmt_close(db->cache[victim].stmt);
		free(db->cache[victim].sql);
		db->cache[victim] = db->cache[--db->ncache];
	}
	e = &db->cache[db->ncache];
	e->sql = malloc(len + 1);
	if (e->sql == NULL) {
		mysql_stmt_close(stmt);
		db_fail_local(db, func, sql, "out of memory");
		*rc = DB_ERR;
		return NULL;
	}
	memcpy(e->sql, sql, len + 1);
	e->key = sql;
	e->len = len;
	e->stmt = stmt;
	e->used = ++db->clock;
	db->ncache++;
	return stmt;
hit:
	e->key = sql;
	e->used = ++db->clock;
	return e->stmt;
}

/* Decode fmt + varargs into p.  -1 (recorded, logged) on a bad format. */
static int db_params_read(struct db *db, const char *func, const char *sql,
    struct db_params *p, const char *fmt, va_list ap)
{
	size_t i;

	p->n = 0;
	p->p = p->inline_p;
	if (fmt == NULL)
		return 0;
	for (i = 0; fmt[i] != '\0'; i++) {
		struct db_param *q;

		if (p->n == DB_MAX_PARAMS) {
			db_fail_local(db, func, sql, "too many parameters");
			return -1;
		}
		q = &p->p[p->n++];
		memset(q, 0, sizeof(*q));
		q->type = fmt[i];
		switch (fmt[i]) {
		case 's':
			q->ptr = va_arg(ap, const char *);
			q->len = q->ptr ? strlen(q->ptr) : 0;
			break;
		case 'b':
			q->ptr = va_arg(ap, const void *);
			q->len = va_arg(ap, size_t);
			break;
		case 'i':
			q->i = va_arg(ap, long long);
			break;
		case 'u':
			q->u = va_arg(ap, unsigned long long);
			break;
		case 'd':
			q->d = va_arg(ap, double);
			break;
		default:
			db_fail_local(db, func, sql, "unknown parameter type in format");
			return -1;
		}
	}
	return 0;
}

static int db_params_bind(struct db *db, const char *func, const char *sql,
    MYSQL_STMT *stmt, struct db_params *p, MYSQL_BIND *b)
{
	size_t i;

	if (mysql_stmt_param_count(stmt) != p->n) {
		char msg[96];
		snprintf(msg, sizeof(msg), "statement has %lu parameters, format gives %zu",
		    mysql_stmt_param_count(stmt), p->n);
		db_fail_local(db, func, sql, msg);
		return DB_ERR;
	}
	if (p->n == 0)
		return DB_OK;
	memset(b, 0, sizeof(*b) * p->n);
	for (i = 0; i < p->n; i++) {
		struct db_param *q = &p->p[i];

		switch (q->type) {
		case 's':
		case 'b':
			/* A NULL pointer binds SQL NULL for 'b' as for 's'. */
			if (q->ptr == NULL) {
				b[i].buffer_type = MYSQL_TYPE_NULL;
				break;
			}
			b[i].buffer_type = q->type == 's' ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
			b[i].buffer = (void *)q->ptr;
			b[i].buffer_length = q->len;
			b[i].length = &q->len;
			break;
		case 'i':
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &q->i;
			break;
		case 'u':
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = &q->u;
			b[i].is_unsigned = 1;
			break;
		case 'd':
			b[i].buffer_type = MYSQL_TYPE_DOUBLE;
			b[i].buffer = &q->d;
			break;
		}
	}
	if (mysql_stmt_bind_param(stmt, b) != 0)
		return db_fail_stmt(db, func, sql, stmt);
	return DB_OK;
}

/* Binary strings (BINARY, VARBINARY, BLOB) are fetched as BLOB, the rest
 * (numbers and dates included) as text. */
static bool db_field_is_binary(const MYSQL_FIELD *f)
{
	if (f->charsetnr != 63)
		return false;
	switch (f->type) {
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
		return true;
	default:
		return false;
	}
}

/*
 * Fetch a column that did not fit its buffer again, into the arena.  The
 * reported length is a lower bound only (numbers converted to text are
 * rounded to fit, with just the error flag set), so grow until the value
 * fits.  DB_OK with *val (NUL-terminated) and *len, or DB_ERR.
 */
static int db_column_refetch(struct db *db, const char *func, const char *sql,
    MYSQL_STMT *stmt, struct arena *a, const MYSQL_BIND *orig, unsigned col,
    unsigned long reported, char **val, unsigned long *len)
{
	unsigned long need = reported > orig->buffer_length ? reported :
	    2 * orig->buffer_length + DB_MIN_COLBUF;

	for (;;) {
		MYSQL_BIND fb;
		unsigned long flen = 0;
		my_bool ferr = 0, fnull = 0;
		char *v = arena_alloc(a, need + 1);

		if (v == NULL) {
			db_fail_local(db, func, sql, "out of memory");
			return DB_ERR;
		}
		memset(&fb, 0, sizeof(fb));
		fb.buffer_type = orig->buffer_type;
		fb.buffer = v;
		fb.buffer_length = need;
		fb.length = &flen;
		fb.error = &ferr;
		fb.is_null = &fnull;
		if (mysql_stmt_fetch_column(stmt, &fb, col, 0) != 0)
			return db_fail_stmt(db, func, sql, stmt);
		if (!ferr && flen <= need) {
			v[flen] = '\0';
			*val = v;
			*len = flen;
			return DB_OK;
		}
		if (need >= (1ul << 30)) {
			db_fail_local(db, func, sql, "column value too large");
			return DB_ERR;
		}
		need = flen > need ? flen : 2 * need;
	}
}

/* Copy the stored result of stmt into the arena.  DB_OK or DB_ERR. */
static int db_result_fetch(struct db *db, const char *func, const char *sql,
    MYSQL_STMT *stmt, struct arena *a, struct db_result **out)
{
	MYSQL_RES *meta = NULL;
	MYSQL_FIELD *fields;
	MYSQL_BIND *b = NULL;
	struct db_result *res;
	char **cells = NULL;
	unsigned long *cell_lens = NULL, *lens = NULL;
	my_bool *nulls = NULL, *errs = NULL;
	char **bufs = NULL;
	size_t ncols, nrows, r, c;
	int rc = DB_ERR, frc;

	res = arena_calloc(a, 1, sizeof(*res));
	if (res == NULL)
		goto oom;
	ncols = mysql_stmt_field_count(stmt);
	if (ncols == 0) {
		*out = res;
		return DB_OK;
	}
	meta = mysql_stmt_result_metadata(stmt);
	if (meta == NULL) {
		rc = db_fail_stmt(db, func, sql, stmt);
		return rc;
	}
	fields = mysql_fetch_fields(meta);
	nrows = (size_t)mysql_stmt_num_rows(stmt);

	res->ncols = ncols;
	res->nrows = nrows;
	res->rows = arena_calloc(a, nrows ? nrows : 1, sizeof(*res->rows));
	res->lens = arena_calloc(a, nrows ? nrows : 1, sizeof(*res->lens));
	if (nrows > 0) {
		cells = arena_calloc(a, nrows, ncols * sizeof(*cells));
		cell_lens = arena_calloc(a, nrows, ncols * sizeof(*cell_lens));
	}
	b = calloc(ncols, sizeof(*b));
	lens = calloc(ncols, sizeof(*lens));
	nulls = calloc(ncols, sizeof(*nulls));
	errs = calloc(ncols, sizeof(*errs));
	bufs = calloc(ncols, sizeof(*bufs));
	if (res->rows == NULL || res->lens == NULL ||
	    (nrows > 0 && (cells == NULL || cell_lens == NULL)) ||
	    b == NULL || lens == NULL || nulls == NULL || errs == NULL || bufs == NULL)
		goto oom;

	for (c = 0; c < ncols; c++) {
		unsigned long cap = fields[c].max_length;

		if (cap < DB_MIN_COLBUF)
			cap = DB_MIN_COLBUF;
		bufs[c] = malloc(cap + 1);
		if (bufs[c] == NULL)
			goto oom;
		b[c].buffer_type = db_field_is_binary(&fields[c]) ?
		    MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
		b[c].buffer = bufs[c];
		b[c].buffer_length = cap;
		b[c].length = &lens[c];
		b[c].is_null = &nulls[c];
		b[c].error = &errs[c];
	}
	if (mysql_stmt_bind_result(stmt, b) != 0) {
		rc = db_fail_stmt(db, func, sql, stmt);
		goto out;
	}

	for (r = 0; ; r++) {
		frc = mysql_stmt_fetch(stmt);
		if (frc == MYSQL_NO_DATA)
			break;
		if (frc == 1) {
			rc = db_fail_stmt(db, func, sql, stmt);
			goto out;
		}
		if (r >= nrows) {
			db_fail_local(db, func, sql, "more rows than stored");
			goto out;
		}
		res->rows[r] = cells + r * ncols;
		res->lens[r] = cell_lens + r * ncols;
		for (c = 0; c < ncols; c++) {
			char *v = NULL;

			if (nulls[c]) {
				res->rows[r][c] = NULL;
				res->lens[r][c] = 0;
				continue;
			}
			if (errs[c] || lens[c] > b[c].buffer_length) {
				/* MYSQL_DATA_TRUNCATED for this column. */
				rc = db_column_refetch(db, func, sql, stmt, a, &b[c],
				    (unsigned)c, lens[c], &v, &lens[c]);
				if (rc != DB_OK)
					goto out;
			} else {
				v = arena_alloc(a, lens[c] + 1);
				if (v == NULL)
					goto oom;
				memcpy(v, bufs[c], lens[c]);
				v[lens[c]] = '\0';
			}
			res->rows[r][c] = v;
			res->lens[r][c] = lens[c];
		}
	}
	res->nrows = r;
	*out = res;
	rc = DB_OK;
	goto out;
oom:
	db_fail_local(db, func, sql, "out of memory");
	rc = DB_ERR;
out:
	if (bufs != NULL)
		for (c = 0; c < ncols; c++)
			free(bufs[c]);
	free(bufs);
	free(b);
	free(lens);
	free(nulls);
	free(errs);
	if (meta != NULL)
		mysql_free_result(meta);
	return rc;
}

/*
 * One attempt at running sql.  *lost is set when a connection that was up
 * went away during the attempt (the only case worth a retry).
 */
static int db_run(struct db *db, const char *func, struct arena *a,
    struct db_result **res, uint64_t *affected, uint64_t *insert_id,
    const char *sql, struct db_params *p, bool *lost)
{
	MYSQL_BIND pb_inline[DB_MAX_PARAMS], *pb = pb_inline;
	MYSQL_STMT *stmt;
	int rc = DB_ERR;

	*lost = false;
	if (db->streaming) {
		db_fail_local(db, func, sql, "a stream is open on this connection");
		return DB_ERR;
	}
	if (db_ensure(db) != DB_OK)
		return DB_UNAVAILABLE;
	if (p->n > DB_MAX_PARAMS) {
		pb = calloc(p->n, sizeof(*pb));
		if (pb == NULL) {
			db_fail_local(db, func, sql, "out of memory");
			return DB_ERR;
		}
	}
	stmt = db_stmt_get(db, func, sql, &rc);
	if (stmt == NULL)
		goto fail;
	rc = db_params_bind(db, func, sql, stmt, p, pb);
	if (rc != DB_OK)
		goto fail;
	if (mysql_stmt_execute(stmt) != 0) {
		rc = db_fail_stmt(db, func, sql, stmt);
		goto fail;
	}
	if (mysql_stmt_field_count(stmt) > 0 &&
	    mysql_stmt_store_result(stmt) != 0) {
		rc = db_fail_stmt(db, func, sql, stmt);
		goto fail;
	}
	if (affected != NULL)
		*affected = mysql_stmt_affected_rows(stmt);
	if (insert_id != NULL)
		*insert_id = mysql_stmt_insert_id(stmt);
	rc = DB_OK;
	if (res != NULL)
		rc = db_result_fetch(db, func, sql, stmt, a, res);
	/* The connection may be gone (fetch error): then stmt is freed. */
	if (db->conn != NULL && mysql_stmt_free_result(stmt) != 0) {
		int frc = db_fail_stmt(db, func, sql, stmt);
		if (rc == DB_OK)
			rc = frc;
	}
fail:
	if (pb != pb_inline)
		free(pb);
	if (rc == DB_UNAVAILABLE)
		*lost = true;
	return rc;
}

/* db_run, then once more after a reconnect when retry is allowed and the
 * connection was lost outside a transaction. */
static int db_run_retry(struct db *db, const char *func, bool retry,
    struct arena *a, struct db_result **res, uint64_t *affected,
    uint64_t *insert_id, const char *sql, struct db_params *p)
{
	bool was_tx = db->in_tx, lost;
	int rc;

	rc = db_run(db, func, a, res, affected, insert_id, sql, p, &lost);
	if (rc == DB_UNAVAILABLE && lost && retry && !was_tx) {
		log_warn("%s: retrying once after reconnect", func);
		rc = db_run(db, func, a, res, affected, insert_id, sql, p, &lost);
	}
	if (rc == DB_OK)
		db->err[0] = '\0';
	return rc;
}

/* Run a row-returning statement; see db.h.  On success *res is allocated in
 * a (and so owned by it); on failure *res is NULL. */
int db_query(struct db *db, struct arena *a, struct db_result **res,
    const char *sql, const char *fmt, ...)
{
	struct db_params p;
	va_list ap;
	int rc;

	*res = NULL;
	va_start(ap, fmt);
	rc = db_params_read(db, __func__, sql, &p, fmt, ap);
	va_end(ap);
	if (rc != 0)
		return DB_ERR;
	rc = db_run_retry(db, __func__, true, a, res, NULL, NULL, sql, &p);
	if (rc != DB_OK)
		*res = NULL;
	return rc;
}

/* Run a statement without rows; see db.h.  affected / insert_id are only
 * written on success. */
int db_exec(struct db *db, unsigned flags, uint64_t *affected, uint64_t *insert_id,
    const char *sql, const char *fmt, ...)
{
	struct db_params p;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = db_params_read(db, __func__, sql, &p, fmt, ap);
	va_end(ap);
	if (rc != 0)
		return DB_ERR;
	return db_run_retry(db, __func__, (flags & DB_IDEMPOTENT) != 0, NULL, NULL,
	    affected, insert_id, sql, &p);
}

/* Run a statement with an array of parameters (any number); see db.h. */
int db_exec_args(struct db *db, unsigned flags, uint64_t *affected, uint64_t *insert_id,
    const char *sql, const struct db_arg *args, size_t n)
{
	struct db_params p;
	int rc;

	p.n = n;
	p.p = n <= DB_MAX_PARAMS ? p.inline_p : calloc(n, sizeof(*p.p));
	if (p.p == NULL) {
		db_fail_local(db, __func__, sql, "out of memory");
		return DB_ERR;
	}
	for (size_t i = 0; i < n; i++) {
		struct db_param *q = &p.p[i];
		memset(q, 0, sizeof(*q));
		q->type = args[i].type;
		switch (args[i].type) {
		case 's':
			q->ptr = args[i].ptr;
			q->len = q->ptr ? strlen(q->ptr) : 0;
			break;
		case 'b':
			q->ptr = args[i].ptr;
			q->len = args[i].len;
			break;
		case 'i': q->i = args[i].i; break;
		case 'u': q->u = args[i].u; break;
		case 'd': q->d = args[i].d; break;
		default:
			db_fail_local(db, __func__, sql, "unknown parameter type");
			if (p.p != p.inline_p)
				free(p.p);
			return DB_ERR;
		}
	}
	rc = db_run_retry(db, __func__, (flags & DB_IDEMPOTENT) != 0, NULL, NULL,
	    affected, insert_id, sql, &p);
	if (p.p != p.inline_p)
		free(p.p);
	return rc;
}

/* SELECT 1 through a prepared statement: DB_OK or DB_UNAVAILABLE (any
 * other failure is logged and reported as unavailable too). */
int db_ping(struct db *db)
{
	struct db_params p = { .n = 0 };

	p.p = p.inline_p;
	int rc;

	if (db_ensure(db) != DB_OK)
		return DB_UNAVAILABLE;
	rc = db_run_retry(db, __func__, true, NULL, NULL, NULL, NULL, "SELECT 1", &p);
	return rc == DB_OK ? DB_OK : DB_UNAVAILABLE;
}

/* ------------------------------------------------------------ streams */

/* First buffer per column of a stream; longer values are fetched again
 * into the row's arena (db_column_refetch). */
#define DB_STREAM_COLBUF 1024

struct db_stream {
	struct db *db;
	MYSQL_STMT *stmt;          /* our own, not the cache's */
	char *sql;                 /* for messages */
	struct arena *arena;       /* the current row; reset per row */
	size_t ncols;
	MYSQL_BIND *b;
	char **bufs;
	unsigned long *lens;
	my_bool *nulls, *errs;
	struct db_result row;
	char **cells;              /* row.rows[0], in arena */
	int done;                  /* the last row was read (or it failed) */
};

static void db_stream_free(struct db_stream *s)
{
	if (s == NULL)
		return;
	if (s->bufs != NULL)
		for (size_t c = 0; c < s->ncols; c++)
			free(s->bufs[c]);
	free(s->bufs);
	free(s->b);
	free(s->lens);
	free(s->nulls);
	free(s->errs);
	free(s->sql);
	arena_free(s->arena);
	free(s);
}

/* Close the stream's statement: when the connection is gone or the rows
 * were not all read, the connection is closed first (mysql_stmt_close
 * would otherwise read every remaining row), so the close only frees. */
static void db_stream_stmt_close(struct db_stream *s)
{
	if (s->stmt == NULL)
		return;
	if (!s->done && s->db->conn != NULL) {
		log_warn("db_stream_close: closed before its last row; closing the connection");
		s->db->streaming = false;
		db_disconnect(s->db);
	}
	if (s->db->conn != NULL)
		mysql_stmt_free_result(s->stmt);
	mysql_stmt_close(s->stmt);
	s->stmt = NULL;
}

int db_stream_open(struct db *db, struct db_stream **out, const char *sql, const char *fmt, ...)
{
	MYSQL_BIND pb[DB_MAX_PARAMS];
	struct db_params p;
	struct db_stream *s;
	MYSQL_RES *meta;
	va_list ap;
	int rc;

	*out = NULL;
	if (db->streaming) {
		db_fail_local(db, __func__, sql, "a stream is open on this connection");
		return DB_ERR;
	}
	va_start(ap, fmt);
	rc = db_params_read(db, __func__, sql, &p, fmt, ap);
	va_end(ap);
	if (rc != 0)
		return DB_ERR;
	if (db_ensure(db) != DB_OK)
		return DB_UNAVAILABLE;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->sql = strdup(sql)) == NULL || (s->arena = arena_new()) == NULL) {
		db_stream_free(s);
		db_fail_local(db, __func__, sql, "out of memory");
		return DB_ERR;
	}
	s->db = db;
	s->stmt = mysql_stmt_init(db->conn);
	if (s->stmt == NULL) {
		rc = db_fail_conn(db, __func__, sql);
		db_stream_free(s);
		return rc;
	}
	if (mysql_stmt_prepare(s->stmt, sql, strlen(sql)) != 0)
		goto stmt_fail;
	rc = db_params_bind(db, __func__, sql, s->stmt, &p, pb);
	if (rc != DB_OK)
		goto fail;
	if (mysql_stmt_execute(s->stmt) != 0)
		goto stmt_fail;
	/* From here on the rows wait on the connection: nothing else may
	 * run on it until the stream is closed. */
	db->streaming = true;
	s->ncols = mysql_stmt_field_count(s->stmt);
	meta = s->ncols > 0 ? mysql_stmt_result_metadata(s->stmt) : NULL;
	if (meta == NULL) {
		db_fail_local(db, __func__, sql, "the statement returns no rows");
		rc = DB_ERR;
		goto fail;
	}
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	s->b = calloc(s->ncols, sizeof(*s->b));
	s->bufs = calloc(s->ncols, sizeof(*s->bufs));
	s->lens = calloc(s->ncols, sizeof(*s->lens));
	s->nulls = calloc(s->ncols, sizeof(*s->nulls));
	s->errs = calloc(s->ncols, sizeof(*s->errs));
	rc = DB_ERR;
	if (s->b == NULL || s->bufs == NULL || s->lens == NULL || s->nulls == NULL ||
	    s->errs == NULL) {
		mysql_free_result(meta);
		db_fail_local(db, __func__, sql, "out of memory");
		goto fail;
	}
	for (size_t c = 0; c < s->ncols; c++) {
		s->bufs[c] = malloc(DB_STREAM_COLBUF + 1);
		if (s->bufs[c] == NULL) {
			mysql_free_result(meta);
			db_fail_local(db, __func__, sql, "out of memory");
			goto fail;
		}
		s->b[c].buffer_type = db_field_is_binary(&fields[c]) ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
		s->b[c].buffer = s->bufs[c];
		s->b[c].buffer_length = DB_STREAM_COLBUF;
		s->b[c].length = &s->lens[c];
		s->b[c].is_null = &s->nulls[c];
		s->b[c].error = &s->errs[c];
	}
	mysql_free_result(meta);
	if (mysql_stmt_bind_result(s->stmt, s->b) != 0)
		goto stmt_fail;
	*out = s;
	return DB_OK;
stmt_fail:
	{
		char msg[256];
		unsigned e = mysql_stmt_errno(s->stmt);

		snprintf(msg, sizeof(msg), "%s", mysql_stmt_error(s->stmt));
		s->done = 1;   /* the lost case closes the connection in db_fail */
		rc = db_fail(db, __func__, sql, e, msg);
	}
fail:
	s->done = s->done || !db->streaming;
	db_stream_stmt_close(s);
	db->streaming = false;
	db_stream_free(s);
	return rc;
}

int db_stream_next(struct db_stream *s, struct db_result **row)
{
	struct db *db = s->db;
	int frc, rc;

	*row = NULL;
	if (s->done)
		return 0;
	arena_reset(s->arena);
	frc = mysql_stmt_fetch(s->stmt);
	if (frc == MYSQL_NO_DATA) {
		s->done = 1;
		return 0;
	}
	if (frc == 1) {
		char msg[256];
		unsigned e = mysql_stmt_errno(s->stmt);

		snprintf(msg, sizeof(msg), "%s", mysql_stmt_error(s->stmt));
		s->done = 1;
		db->streaming = false;
		return db_fail(db, __func__, s->sql, e, msg);
	}
	s->cells = arena_calloc(s->arena, s->ncols + 1, sizeof(*s->cells));
	s->row.lens = arena_calloc(s->arena, 1, sizeof(*s->row.lens));
	s->row.rows = arena_calloc(s->arena, 1, sizeof(*s->row.rows));
	if (s->cells == NULL || s->row.lens == NULL || s->row.rows == NULL ||
	    (s->row.lens[0] = arena_calloc(s->arena, s->ncols + 1, sizeof(**s->row.lens))) == NULL) {
		db_fail_local(db, __func__, s->sql, "out of memory");
		return DB_ERR;
	}
	for (size_t c = 0; c < s->ncols; c++) {
		unsigned long len = s->lens[c];
		char *v = NULL;

		if (s->nulls[c])
			continue;
		if (s->errs[c] || len > s->b[c].buffer_length) {
			rc = db_column_refetch(db, __func__, s->sql, s->stmt, s->arena, &s->b[c],
			    (unsigned)c, len, &v, &len);
			if (rc != DB_OK)
				return rc;
		} else {
			v = arena_alloc(s->arena, len + 1);
			if (v == NULL) {
				db_fail_local(db, __func__, s->sql, "out of memory");
				return DB_ERR;
			}
			memcpy(v, s->bufs[c], len);
			v[len] = '\0';
		}
		s->cells[c] = v;
		s->row.lens[0][c] = len;
	}
	s->row.rows[0] = s->cells;
	s->row.nrows = 1;
	s->row.ncols = s->ncols;
	*row = &s->row;
	return 1;
}

void db_stream_close(struct db_stream *s)
{
	if (s == NULL)
		return;
	db_stream_stmt_close(s);
	s->db->streaming = false;
	db_stream_free(s);
}

/* ------------------------------------------------------------ transactions */

/* Fixed transaction-control text (no data) over the text protocol. */
static int db_simple(struct db *db, const char *func, const char *sql)
{
	if (db->streaming) {
		db_fail_local(db, func, sql, "a stream is open on this connection");
		return DB_ERR;
	}
	if (mysql_real_query(db->conn, sql, strlen(sql)) != 0)
		return db_fail_conn(db, func, sql);
	return DB_OK;
}

/* START TRANSACTION (retried once after a lost connection: nothing has run
 * yet).  DB_ERR when a transaction is already open. */
int db_begin(struct db *db)
{
	int rc;

	db->err[0] = '\0';
	if (db->in_tx) {
		db_fail_local(db, __func__, "START TRANSACTION",
		    "a transaction is already open");
		return DB_ERR;
	}
	if (db_ensure(db) != DB_OK)
		return DB_UNAVAILABLE;
	rc = db_simple(db, __func__, "START TRANSACTION");
	if (rc == DB_UNAVAILABLE && db_ensure(db) == DB_OK) {
		log_warn("%s: retrying once after reconnect", __func__);
		rc = db_simple(db, __func__, "START TRANSACTION");
	}
	if (rc == DB_OK)
		db->in_tx = true;
	return rc;
}

/* A read-only REPEATABLE READ transaction whose snapshot is taken now
 * (START TRANSACTION WITH CONSISTENT SNAPSHOT): every read in it sees the
 * database as it was at this moment.  DB_ERR when a transaction is open. */
int db_begin_snapshot(struct db *db)
{
	int rc;

	db->err[0] = '\0';
	if (db->in_tx) {
		db_fail_local(db, __func__, "START TRANSACTION", "a transaction is already open");
		return DB_ERR;
	}
	if (db_ensure(db) != DB_OK)
		return DB_UNAVAILABLE;
	rc = db_simple(db, __func__, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
	if (rc == DB_OK)
		rc = db_simple(db, __func__, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
	if (rc == DB_OK)
		db->in_tx = true;
	return rc;
}

/* COMMIT.  The transaction is over whatever the result; on DB_UNAVAILABLE
 * its outcome is unknown (logged).  DB_ERR when no transaction is open. */
int db_commit(struct db *db)
{
	int rc;

	db->err[0] = '\0';
	if (!db->in_tx || db->conn == NULL) {
		db_fail_local(db, __func__, "COMMIT", "no transaction is open");
		return DB_ERR;
	}
	rc = db_simple(db, __func__, "COMMIT");
	if (rc == DB_UNAVAILABLE)
		log_error("%s: connection lost during COMMIT: outcome unknown", __func__);
	else if (rc != DB_OK && db->conn != NULL &&
	    mysql_real_query(db->conn, "ROLLBACK", 8) != 0)
		log_error("%s: ROLLBACK after failed COMMIT failed: %s", __func__,
		    mysql_error(db->conn));
	db->in_tx = false;
	return rc;
}

/* ROLLBACK; a no-op (DB_OK) when no transaction is open.  A lost connection
 * counts as rolled back (the server discards the transaction). */
int db_rollback(struct db *db)
{
	int rc;

	db->err[0] = '\0';
	if (!db->in_tx || db->conn == NULL) {
		db->in_tx = false;
		return DB_OK;
	}
	rc = db_simple(db, __func__, "ROLLBACK");
	db->in_tx = false;
	return rc == DB_UNAVAILABLE ? DB_OK : rc;
}

/* Nonzero while a transaction begun with db_begin is open. */
int db_in_transaction(const struct db *db)
{
	return db->in_tx;
}

/* The last call's error text ("" after a success); owned by db. */
const char *db_errmsg(const struct db *db)
{
	return db->err;
}

/* ------------------------------------------------------------ results */

/* Cell text (NULL when out of range or SQL NULL); owned by the arena. */
const char *db_value(const struct db_result *res, size_t row, size_t col)
{
	if (res == NULL || row >= res->nrows || col >= res->ncols)
		return NULL;
	return res->rows[row][col];
}

struct db_result *db_row_copy(struct arena *a, const struct db_result *res, size_t row,
    size_t from_col)
{
	struct db_result *out;
	size_t n;

	if (res == NULL || row >= res->nrows || from_col > res->ncols)
		return NULL;
	n = res->ncols - from_col;
	out = arena_alloc(a, sizeof(*out));
	if (out == NULL)
		return NULL;
	out->nrows = 1;
	out->ncols = n;
	out->rows = arena_alloc(a, sizeof(*out->rows));
	out->lens = arena_alloc(a, sizeof(*out->lens));
	if (out->rows == NULL || out->lens == NULL)
		return NULL;
	out->rows[0] = arena_calloc(a, n + 1, sizeof(**out->rows));
	out->lens[0] = arena_calloc(a, n + 1, sizeof(**out->lens));
	if (out->rows[0] == NULL || out->lens[0] == NULL)
		return NULL;
	for (size_t c = 0; c < n; c++) {
		const char *v = res->rows[row][from_col + c];
		unsigned long len = res->lens[row][from_col + c];
		if (v == NULL)
			continue;
		out->rows[0][c] = arena_alloc(a, len + 1);
		if (out->rows[0][c] == NULL)
			return NULL;
		memcpy(out->rows[0][c], v, len);
		out->rows[0][c][len] = '\0';
		out->lens[0][c] = len;
	}
	return out;
}

/* Cell as a long long (base 10); 0 when out of range, NULL or not a
 * number. */
long long db_int(const struct db_result *res, size_t row, size_t col)
{
	const char *v = db_value(res, row, col);
	char *end;
	long long n;

	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v)
		return 0;
	return n;
}

/* ------------------------------------------------------------ migrations */

struct migration {
	unsigned version;
	char name[256];
};

static int migration_cmp(const void *x, const void *y)
{
	const struct migration *a = x, *b = y;

	return (a->version > b->version) - (a->version < b->version);
}

/* ^[0-9]{3}_[a-z0-9_]+\.sql$ */
static bool migration_name_ok(const char *n)
{
	size_t len = strlen(n), i;

	if (len < 9 || strcmp(n + len - 4, ".sql") != 0)
		return false;
	for (i = 0; i < 3; i++)
		if (n[i] < '0' || n[i] > '9')
			return false;
	if (n[3] != '_')
		return false;
	for (i = 4; i < len - 4; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') ||
		    n[i] == '_'))
			return false;
	return true;
}

/* Where a migration file's splitter is: the offset, the line, and the
 * statement delimiter in force (";" until a DELIMITER line changes it). */
struct sql_split {
	size_t pos;
	unsigned line;
	char delim[16];
	size_t dlen;
};

/* A DELIMITER line at s[i] (only where a statement may start): sets the new
 * delimiter, moves i past the line.  1 if it was one, 0 if not, -1 when
 * the delimiter is missing or too long. */
static int sql_delimiter_line(const char *s, size_t n, size_t *i, struct sql_split *sp)
{
	static const char kw[] = "DELIMITER";
	size_t k = *i + sizeof(kw) - 1, d;

	if (n - *i < sizeof(kw) || strncasecmp(s + *i, kw, sizeof(kw) - 1) != 0 ||
	    (s[k] != ' ' && s[k] != '\t'))
		return 0;
	while (k < n && (s[k] == ' ' || s[k] == '\t'))
		k++;
	for (d = k; d < n && !isspace((unsigned char)s[d]); d++)
		;
	if (d == k || d - k >= sizeof(sp->delim))
		return -1;
	memcpy(sp->delim, s + k, d - k);
	sp->delim[d - k] = '\0';
	sp->dlen = d - k;
	while (d < n && s[d] != '\n')
		d++;
	*i = d;
	return 1;
}

/*
 * The next statement of a migration file: skips whitespace and comments
 * (--, #, block comments) before it and splits on the delimiter outside
 * quotes, backticks and comments.  The delimiter is ';' until a line
 * "DELIMITER x" (as in the mysql client) sets another, so that a
 * compound statement (a procedure's BEGIN ... END) can hold ';'.  Returns
 * 1 with [*start, *start + *len) and its first line, 0 at the end, -1 on
 * an unterminated quote or comment or a bad DELIMITER line (*start_line
 * says where).
 */
static int sql_next_statement(const char *s, size_t n, struct sql_split *sp,
    size_t *start, size_t *len, unsigned *start_line)
{
	size_t i = sp->pos;
	unsigned ln = sp->line;
	bool started = false;

	while (i < n) {
		char ch = s[i];

		if (ch == '\n') {
			ln++;
			i++;
		} else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v') {
			i++;
		} else if (ch == '#' || (ch == '-' && i + 1 < n && s[i + 1] == '-' &&
		    (i + 2 >= n || isspace((unsigned char)s[i + 2])))) {
			while (i < n && s[i] != '\n')
				i++;
		} else if (ch == '/' && i + 1 < n && s[i + 1] == '*') {
			unsigned cl = ln;
			/* Executable comments are statement text. */
			if (!started && i + 2 < n && (s[i + 2] == '!' ||
			    (s[i + 2] == 'M' && i + 3 < n && s[i + 3] == '!'))) {
				started = true;
				*start = i;
				*start_line = ln;
			}
			for (i += 2; i + 1 < n && !(s[i] == '*' && s[i + 1] == '/'); i++)
				if (s[i] == '\n')
					ln++;
			if (i + 1 >= n) {
				*start_line = cl;
				return -1;
			}
			i += 2;
		} else if (ch == '\'' || ch == '"' || ch == '`') {
			unsigned ql = ln;
			if (!started) {
				started = true;
				*start = i;
				*start_line = ln;
			}
			for (i++; i < n; i++) {
				if (s[i] == '\n')
					ln++;
				if (s[i] == '\\' && ch != '`' && i + 1 < n) {
					i++;
					if (s[i] == '\n')
						ln++;
				} else if (s[i] == ch) {
					if (i + 1 < n && s[i + 1] == ch)
						i++;   /* doubled quote */
					else
						break;
				}
			}
			if (i >= n) {
				*start_line = ql;
				return -1;
			}
			i++;
		} else if (n - i >= sp->dlen && memcmp(s + i, sp->delim, sp->dlen) == 0) {
			i += sp->dlen;
			if (started) {
				*len = i - sp->dlen - *start;
				sp->pos = i;
				sp->line = ln;
				return 1;
			}
		} else if (!started && (ch == 'D' || ch == 'd')) {
			int d = sql_delimiter_line(s, n, &i, sp);
			if (d < 0) {
				*start_line = ln;
				return -1;
			}
			if (d == 0) {
				started = true;
				*start = i;
				*start_line = ln;
				i++;
			}
		} else {
			if (!started) {
				started = true;
				*start = i;
				*start_line = ln;
			}
			i++;
		}
	}
	sp->pos = n;
	sp->line = ln;
	if (started) {
		*len = n - *start;
		return 1;
	}
	return 0;
}

static char *migration_read(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			char *nb;
			if (cap >= DB_MIGRATION_MAX) {
				snprintf(err, errlen, "%s: file too large", path);
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* Apply one migration file inside a transaction.  0, or -1 with err. */
static int migration_apply(struct db *db, const char *dir, const struct migration *m,
    char *err, size_t errlen)
{
	char path[PATH_MAX];
	char *text;
	struct sql_split sp = { .pos = 0, .line = 1, .delim = ";", .dlen = 1 };
	size_t len, st = 0, sl = 0;
	unsigned st_line = 1;
	int r, rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, m->name) >= sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", dir, m->name);
		return -1;
	}
	text = migration_read(path, &len, err, errlen);
	if (text == NULL)
		return -1;
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: NUL byte in file", path);
		free(text);
		return -1;
	}
	rc = db_begin(db);
	if (rc != DB_OK) {
		snprintf(err, errlen, "%s:1: START TRANSACTION: %s", path, db_errmsg(db));
		free(text);
		return -1;
	}
	/*
	 * Migration files are trusted, static SQL shipped with labeld; no
	 * request data ever reaches this text protocol path (everything else
	 * uses prepared statements with bound parameters).
	 */
	while ((r = sql_next_statement(text, len, &sp, &st, &sl, &st_line)) == 1) {
		MYSQL_RES *mr;

		if (mysql_real_query(db->conn, text + st, sl) != 0) {
			char msg[256];
			unsigned e = mysql_errno(db->conn);

			snprintf(msg, sizeof(msg), "%s", mysql_error(db->conn));
			snprintf(err, errlen, "%s:%u: %s", path, st_line, msg);
			text[st + sl] = '\0';
			db_fail(db, __func__, text + st, e, msg);
			goto fail;
		}
		if (mysql_field_count(db->conn) > 0) {
			mr = mysql_store_result(db->conn);
			if (mr == NULL) {
				snprintf(err, errlen, "%s:%u: %s", path, st_line,
				    mysql_error(db->conn));
				db_fail_conn(db, __func__, "");
				goto fail;
			}
			mysql_free_result(mr);
		}
	}
	if (r < 0) {
		snprintf(err, errlen, "%s:%u: unterminated quote or comment, or a DELIMITER "
		    "line without a delimiter", path, st_line);
		log_error("%s: %s", __func__, err);
		goto fail;
	}
	rc = db_exec(db, 0, NULL, NULL,
	    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
	    "us", (unsigned long long)m->version, m->name);
	if (rc != DB_OK) {
		snprintf(err, errlen, "%s: recording in schema_migrations: %s", path, db_errmsg(db));
		goto fail;
	}
	rc = db_commit(db);
	if (rc != DB_OK) {
		snprintf(err, errlen, "%s: COMMIT: %s", path, db_errmsg(db));
		free(text);
		return -1;
	}
	free(text);
	log_info("migration %s applied", m->name);
	return 0;
fail:
	db_rollback(db);
	free(text);
	return -1;
}

/* The migration files in dir, sorted by version; -1 with err on a bad name,
 * a duplicate version or an unreadable directory.  *out is malloc'd. */
static int migration_list(const char *dir, struct migration **out, size_t *count,
    char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct migration *list = NULL;
	size_t n = 0, cap = 0, i;

	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);

		if (de->d_name[0] == '.' || nl < 4 || strcmp(de->d_name + nl - 4, ".sql") != 0)
			continue;   /* not a migration: README, editor files, ... */
		if (!migration_name_ok(de->d_name) || nl >= sizeof(list->name)) {
			snprintf(err, errlen, "%s/%s: migration files are named NNN_name.sql "
			    "(three digits, then lower case letters, digits and _)", dir, de->d_name);
			goto fail;
		}
		if (n == cap) {
			struct migration *nl2;
			cap = cap ? cap * 2 : 16;
			nl2 = realloc(list, cap * sizeof(*list));
			if (nl2 == NULL) {
				snprintf(err, errlen, "%s: out of memory", dir);
				goto fail;
			}
			list = nl2;
		}
		list[n].version = (unsigned)((de->d_name[0] - '0') * 100 +
		    (de->d_name[1] - '0') * 10 + (de->d_name[2] - '0'));
		memcpy(list[n].name, de->d_name, nl + 1);
		n++;
	}
	closedir(d);
	d = NULL;
	if (n > 0)
		qsort(list, n, sizeof(*list), migration_cmp);
	for (i = 1; i < n; i++) {
		if (list[i].version == list[i - 1].version) {
			snprintf(err, errlen, "%s/%s: version %03u is also used by %s",
			    dir, list[i].name, list[i].version, list[i - 1].name);
			goto fail;
		}
	}
	*out = list;
	*count = n;
	return 0;
fail:
	if (d != NULL)
		closedir(d);
	free(list);
	return -1;
}

static int migrate_locked(struct db *db, struct arena *a, const char *sql_dir,
    char *err, size_t errlen)
{
	struct db_result *res;
	struct migration *list = NULL;
	size_t n = 0, i, j;
	int rc;

	rc = db_exec(db, 0, NULL, NULL,
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version INT UNSIGNED PRIMARY KEY,"
	    " name VARCHAR(255) NOT NULL,"
	    " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci", "");
	if (rc != DB_OK) {
		snprintf(err, errlen, "creating schema_migrations: %s", db_errmsg(db));
		return -1;
	}
	rc = db_query(db, a, &res,
	    "SELECT version FROM schema_migrations ORDER BY version", "");
	if (rc != DB_OK) {
		snprintf(err, errlen, "reading schema_migrations: %s", db_errmsg(db));
		return -1;
	}
	if (migration_list(sql_dir, &list, &n, err, errlen) != 0)
		return -1;

	for (i = 0, j = 0; i < n; i++) {
		/* Both lists are sorted: walk them together. */
		while (j < res->nrows && (unsigned long long)db_int(res, j, 0) < list[i].version) {
			log_warn("db_migrate: schema_migrations has version %lld without a file in %s",
			    db_int(res, j, 0), sql_dir);
			j++;
		}
		if (j < res->nrows && (unsigned long long)db_int(res, j, 0) == list[i].version) {
			j++;
			continue;
		}
		if (migration_apply(db, sql_dir, &list[i], err, errlen) != 0) {
			free(list);
			return -1;
		}
	}
	free(list);
	return 0;
}

/* Apply pending migrations under GET_LOCK; see db.h.  0, or -1 with a
 * "file:line: cause" (or plain cause) message in err. */
int db_migrate(struct db *db, const char *sql_dir, char *err, size_t errlen)
{
	struct arena *a;
	struct db_result *res;
	int rc, ret = -1;

	if (errlen > 0)
		err[0] = '\0';
	if (db->in_tx) {
		snprintf(err, errlen, "db_migrate called inside a transaction");
		return -1;
	}
	a = arena_new();
	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = db_query(db, a, &res, "SELECT GET_LOCK('labeld_migrations', 60)", "");
	if (rc != DB_OK) {
		snprintf(err, errlen, "taking the migration lock: %s", db_errmsg(db));
		goto out;
	}
	if (db_value(res, 0, 0) == NULL || db_int(res, 0, 0) != 1) {
		snprintf(err, errlen, "taking the migration lock: %s",
		    db_value(res, 0, 0) ? "another process held it for 60 s" : "GET_LOCK failed");
		log_error("db_migrate: %s", err);
		goto out;
	}
	ret = migrate_locked(db, a, sql_dir, err, errlen);
	if (ret != 0)
		log_error("db_migrate: %s", err);
	/* A lost connection released the lock already: do not reconnect. */
	if (db->conn != NULL) {
		rc = db_query(db, a, &res, "SELECT RELEASE_LOCK('labeld_migrations')", "");
		if (rc != DB_OK)
			log_warn("db_migrate: RELEASE_LOCK failed: %s", db_errmsg(db));
	}
out:
	arena_free(a);
	return ret;
}
