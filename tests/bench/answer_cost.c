/*
 * answer_cost.c: what one answer of the labeling hot path costs MariaDB,
 * without HTTP (driven by tests/bench/answer_cost.py; README.md,
 * "answer-cost").
 *
 *   answer_cost SOCKET PID BATCH ANSWERS SHAPE DB:CALL...
 *
 * For each variant DB:CALL (a database set up by answer_cost.py: project
 * 1, labels, users 1..16, items; a procedure), one connection leases
 * ANSWERS queued items of project 1 (untimed).  Then the answers are
 * stored in batches of BATCH rows as labeld does (core/queue.c,
 * submit_batch_once: one prepared "CALL <CALL>(?, ?, ?)" per batch, rows
 * {"i","u","t","d","c"} in item id order, one labeler per row), the
 * variants taking turns batch by batch (the first one rotating), so that
 * they share the machine's moods.  One line per variant:
 *
 *   variant=DB:CALL answers=N batch=B proc_us=P thread_us=T
 *
 * T: CPU of the connection's own server thread per answer, exact
 * (/proc/PID/task/TID/schedstat, nanoseconds, read while the thread waits
 * for the next statement; TID from information_schema.PROCESSLIST);
 * P: CPU of the whole mariadbd (/proc/PID/stat utime + stime: also purge,
 * the log writer) in clock ticks while that variant's CALLs ran, per answer
 * (sampled: coarse, but without bias over many calls).  SHAPE: "class" ({"label": id}, as the
 * bench's multiclass project) or "boxes" (eight boxes, about 400 bytes, two
 * classes).  Exit status 1 on any error (the CALL's message printed).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

static void die(MYSQL *m, const char *what)
{
	fprintf(stderr, "answer_cost: %s: %s\n", what, m != NULL ? mysql_error(m) : "");
	exit(1);
}

static void run(MYSQL *m, const char *sql)
{
	if (mysql_query(m, sql) != 0)
		die(m, sql);
	MYSQL_RES *r = mysql_store_result(m);
	if (r != NULL)
		mysql_free_result(r);
}

/* The first column of the first row of sql as a number. */
static long long value(MYSQL *m, const char *sql)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	long long v;

	if (mysql_query(m, sql) != 0 || (r = mysql_store_result(m)) == NULL)
		die(m, sql);
	row = mysql_fetch_row(r);
	if (row == NULL || row[0] == NULL)
		die(m, "no value");
	v = atoll(row[0]);
	mysql_free_result(r);
	return v;
}

/* utime + stime of process pid, in clock ticks. */
static long long proc_ticks(long pid)
{
	char path[64], buf[4096], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		die(NULL, path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');   /* comm may hold spaces */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		die(NULL, "bad /proc stat");
	return (long long)(ut + st);
}

/* Nanoseconds thread tid of pid has run. */
static long long thread_ns(long pid, long tid)
{
	char path[96];
	long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/schedstat", pid, tid);
	if ((f = fopen(path, "r")) == NULL || fscanf(f, "%lld", &ns) != 1)
		die(NULL, path);
	fclose(f);
	return ns;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct variant {
	const char *db, *call;
	MYSQL *m;
	MYSQL_STMT *st;
	long tid;
	long long labels[3], *items, ns, ticks;
	unsigned nonce;
};

/* Connect v, find its thread and labels, lease `answers` items. */
static void variant_open(struct variant *v, const char *sock, int answers)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char sql[512], *lease;
	size_t cap, o = 0;
	int nlab = 0, leased_at;
	long long nrows = 0;

	v->m = mysql_init(NULL);
	if (mysql_real_connect(v->m, NULL, "root", NULL, v->db, 0, sock, 0) == NULL)
		die(v->m, "connect");
	/* As db.c sets every session. */
	run(v->m, "SET NAMES utf8mb4");
	run(v->m, "SET sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE,"
	    "NO_ZERO_IN_DATE,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'");
	v->tid = (long)value(v->m, "SELECT TID FROM information_schema.PROCESSLIST "
	    "WHERE ID = CONNECTION_ID()");
	if (mysql_query(v->m, "SELECT id FROM labels WHERE project_id = 1 ORDER BY position LIMIT 3") != 0 ||
	    (res = mysql_store_result(v->m)) == NULL)
		die(v->m, "labels");
	while ((row = mysql_fetch_row(res)) != NULL && nlab < 3)
		v->labels[nlab++] = atoll(row[0]);
	mysql_free_result(res);
	if (nlab < 3)
		die(v->m, "the project needs three labels");

	/* The next items nobody holds, leased as queue.c does. */
	v->items = calloc((size_t)answers, sizeof(*v->items));
	snprintf(sql, sizeof(sql), "SELECT id FROM items WHERE project_id = 1 AND state = 'unlabeled' "
	    "AND lease_user IS NULL ORDER BY id LIMIT %d", answers);
	if (mysql_query(v->m, sql) != 0 || (res = mysql_store_result(v->m)) == NULL)
		die(v->m, sql);
	while ((row = mysql_fetch_row(res)) != NULL)
		v->items[nrows++] = atoll(row[0]);
	mysql_free_result(res);
	if (nrows < answers)
		die(v->m, "not enough unlabeled items left");
	v->nonce = (unsigned)rand();
	/* leased_at since sql/016 */
	leased_at = value(v->m, "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE "
	    "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'leased_at'") > 0;
	cap = (size_t)answers * 200 + 1024;
	lease = malloc(cap);
	o += (size_t)snprintf(lease + o, cap - o, "UPDATE JSON_TABLE('[");
	for (int k = 0; k < answers; k++)
		o += (size_t)snprintf(lease + o, cap - o,
		    "%s{\"i\":%lld,\"u\":%d,\"t\":\"T%08x%034lld\"}", k ? "," : "",
		    v->items[k], k % 16 + 1, v->nonce, v->items[k]);
	snprintf(lease + o, cap - o, "]', '$[*]' COLUMNS (id BIGINT UNSIGNED PATH '$.i', "
	    "u BIGINT UNSIGNED PATH '$.u', t CHAR(43) CHARACTER SET ascii PATH '$.t')) j "
	    "STRAIGHT_JOIN items i ON i.id = j.id SET i.lease_user = j.u, i.lease_token = j.t, "
	    "i.lease_until = NOW(6) + INTERVAL 600 SECOND, %si.version = i.version + 1",
	    leased_at ? "i.leased_at = NOW(6) - INTERVAL (i.id % 50) SECOND, " : "");
	run(v->m, lease);
	free(lease);
	snprintf(sql, sizeof(sql), "CALL %s(?, ?, ?)", v->call);
	v->st = mysql_stmt_init(v->m);
	if (v->st == NULL || mysql_stmt_prepare(v->st, sql, strlen(sql)) != 0)
		die(v->m, sql);
}

/* The rows of answers k0 .. k0+n-1 of v into rows (cap bytes); length. */
static size_t batch_rows(const struct variant *v, int k0, int n, int boxes, char *rows, size_t cap)
{
	size_t o = 0;

	o += (size_t)snprintf(rows + o, cap - o, "[");
	for (int k = k0; k < k0 + n; k++) {
		long long c = v->labels[k % 3], c2 = v->labels[(k + 1) % 3];
		o += (size_t)snprintf(rows + o, cap - o, "%s{\"i\":%lld,\"u\":%d,\"t\":\"T%08x%034lld\",",
		    k > k0 ? "," : "", v->items[k], k % 16 + 1, v->nonce, v->items[k]);
		if (!boxes) {
			o += (size_t)snprintf(rows + o, cap - o,
			    "\"d\":\"{\\\"label\\\":%lld}\",\"c\":[%lld]}", c, c);
		} else {
			o += (size_t)snprintf(rows + o, cap - o, "\"d\":\"{\\\"boxes\\\":[");
			for (int b = 0; b < 8; b++)
				o += (size_t)snprintf(rows + o, cap - o,
				    "%s{\\\"x\\\":%d,\\\"y\\\":%d,\\\"w\\\":%d,\\\"h\\\":%d,"
				    "\\\"label\\\":%lld}", b ? "," : "", 10 * b + 3, 7 * b + 11,
				    40 + b, 30 + 2 * b, b % 2 ? c : c2);
			o += (size_t)snprintf(rows + o, cap - o,
			    "],\\\"no_objects\\\":false}\",\"c\":[%lld,%lld]}",
			    c < c2 ? c : c2, c < c2 ? c2 : c);
		}
	}
	o += (size_t)snprintf(rows + o, cap - o, "]");
	return o;
}

int main(int argc, char **argv)
{
	struct variant *vs;
	MYSQL_BIND bind[3];
	long long project = 1;
	long pid;
	int batch, answers, boxes, nv;
	size_t cap;
	char *rows;
	unsigned long rows_len;

	if (argc < 7) {
		fprintf(stderr, "usage: answer_cost SOCKET PID BATCH ANSWERS class|boxes DB:CALL...\n");
		return 2;
	}
	pid = atol(argv[2]);
	batch = atoi(argv[3]);
	answers = atoi(argv[4]);
	boxes = strcmp(argv[5], "boxes") == 0;
	nv = argc - 6;
	if (batch < 1 || answers < batch)
		return 2;
	srand((unsigned)now_us());
	vs = calloc((size_t)nv, sizeof(*vs));
	for (int i = 0; i < nv; i++) {
		char *colon = strchr(argv[6 + i], ':');
		if (colon == NULL)
			return 2;
		*colon = '\0';
		vs[i].db = argv[6 + i];
		vs[i].call = colon + 1;
		variant_open(&vs[i], argv[1], answers);
	}
	sleep(1);   /* let purge catch up with the leases before the clock runs */
	cap = (size_t)batch * 700 + 64;
	rows = malloc(cap);
	for (int k0 = 0, round = 0; k0 < answers; k0 += batch, round++) {
		int n = answers - k0 < batch ? answers - k0 : batch;
		long long nn = n;

		for (int j = 0; j < nv; j++) {
			struct variant *v = &vs[(j + round) % nv];
			long long t0, c0;

			rows_len = (unsigned long)batch_rows(v, k0, n, boxes, rows, cap);
			memset(bind, 0, sizeof(bind));
			bind[0].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[0].buffer = &project;
			bind[1].buffer_type = MYSQL_TYPE_STRING;
			bind[1].buffer = rows;
			bind[1].buffer_length = rows_len;
			bind[1].length = &rows_len;
			bind[2].buffer_type = MYSQL_TYPE_LONGLONG;
			bind[2].buffer = &nn;
			c0 = proc_ticks(pid);
			t0 = thread_ns(pid, v->tid);
			if (mysql_stmt_bind_param(v->st, bind) != 0 || mysql_stmt_execute(v->st) != 0) {
				fprintf(stderr, "answer_cost: %s: %s: %s\n", v->db, v->call,
				    mysql_stmt_error(v->st));
				return 1;
			}
			while (mysql_stmt_next_result(v->st) == 0)
				;
			v->ns += thread_ns(pid, v->tid) - t0;
			v->ticks += proc_ticks(pid) - c0;
		}
	}
	for (int i = 0; i < nv; i++) {
		printf("variant=%s:%s answers=%d batch=%d proc_us=%.1f thread_us=%.1f\n", vs[i].db,
		    vs[i].call, answers, batch,
		    (double)vs[i].ticks * 1e6 / (double)sysconf(_SC_CLK_TCK) / answers,
		    (double)vs[i].ns / 1000.0 / answers);
		mysql_stmt_close(vs[i].st);
		mysql_close(vs[i].m);
		free(vs[i].items);
	}
	free(rows);
	free(vs);
	return 0;
}
