/*
 * t_infra.c: the stack as a whole: health check, two labeld processes
 * sharing sessions through MariaDB, the plugin page, and surviving a
 * database restart.  The database test stops MariaDB, so it runs last.
 */
#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define USER_EMAIL ENV("LABELD_TEST_USER_EMAIL")
#define USER_PASSWORD ENV("LABELD_TEST_USER_PASSWORD")
#define ADMIN_EMAIL ENV("LABELD_TEST_ADMIN_EMAIL")
#define ADMIN_PASSWORD ENV("LABELD_TEST_ADMIN_PASSWORD")

/* Seconds since an arbitrary start, monotonic. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A client for base that carries only labeld_session=value. */
static struct client *client_with_session(const char *base, const char *value)
{
	struct client *c = CLIENT(base);

	CLIENT_SET_COOKIE(c, "labeld_session", value);
	return c;
}

/* ------------------------------------------------------------ health */

/* /healthz says ok, as text, through nginx and each process alone. */
static void infra_healthz(void)
{
	const char *urls[3] = { ENV("LABELD_TEST_URL"), ENV("LABELD_TEST_URL_A"),
		ENV("LABELD_TEST_URL_B") };

	for (size_t i = 0; i < 3; i++) {
		struct resp *r = GET(CLIENT(urls[i]), "/healthz");
		const char *ct = resp_header(r, "Content-Type");
		CHECK_STATUS(r, 200);
		CHECK(strcmp(r->body, "ok\n") == 0, "GET %s/healthz: body \"%s\", want \"ok\\n\"",
		    urls[i], r->body);
		CHECK(ct != NULL && strncasecmp(ct, "text/plain", 10) == 0,
		    "GET %s/healthz: Content-Type %s, want text/plain", urls[i], ct ? ct : "(none)");
	}
}

/* ------------------------------------------------------------ two processes */

/* A session made on one process is good on the other, both ways, and a
 * sign-out on one ends it on the other. */
static void infra_two_processes(void)
{
	const char *a = ENV("LABELD_TEST_URL_A"), *b = ENV("LABELD_TEST_URL_B");
	const char *email = USER_EMAIL, *pw = USER_PASSWORD;
	struct client *ca = CLIENT(a), *cb = CLIENT(b), *onb, *ona;
	struct resp *r;
	char *sa, *sb, *csrf;

	/* signed in through A, used through B */
	sa = SIGN_IN_OK(ca, email, pw);
	onb = client_with_session(b, sa);
	r = GET(onb, "/projects");
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, email);

	/* signed in through B, used through A */
	sb = SIGN_IN_OK(cb, email, pw);
	ona = client_with_session(a, sb);
	r = GET(ona, "/projects");
	CHECK_STATUS(r, 200);
	CHECK_BODY_HAS(r, email);

	/* A's session signed out through B: dead on A */
	r = GET(onb, "/projects");
	CHECK_STATUS(r, 200);
	csrf = html_logout_csrf(r);
	CHECK(csrf != NULL, "GET %s/projects: no csrf in the sign-out form", b);
	r = POST_FORM(onb, "/logout", "csrf", csrf);
	CHECK_REDIRECT(r, 303, "/login");
	r = GET(client_with_session(a, sa), "/projects");
	CHECK_REDIRECT(r, 303, "/login?next=%2Fprojects");
	r = GET(ca, "/projects");
	CHECK_REDIRECT(r, 303, "/login?next=%2Fprojects");
	/* B's own session is untouched */
	r = GET(ona, "/projects");
	CHECK_STATUS(r, 200);
	r = GET(cb, "/projects");
	CHECK_STATUS(r, 200);
}

/* ------------------------------------------------------------ plugins */

struct plugin_row {
	char *cls;               /* the row's class attribute */
	char **cells;            /* trimmed text of each <td> */
	size_t ncells;
	size_t file_cell;        /* which cell holds the file name */
};

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' ||
	    end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* The table row of file on the plugin page; fails the test when there is
 * none.  The row is the one with a cell holding exactly the file name. */
#define PLUGIN_ROW(r, file, row) plugin_row_find(__FILE__, __LINE__, (r), (file), (row))
static void plugin_row_find(const char *file, int line, struct resp *r, const char *so,
    struct plugin_row *row)
{
	char *xrow = itest_fmt("//tr[td[normalize-space(.)='%s'] or th[normalize-space(.)='%s']]",
	    so, so);
	int n = html_count(r, "%s", xrow);

	if (n == 0)
		itest_fail(file, line, "GET /admin/plugins: no table row for %s", so);
	if (n > 1)
		itest_fail(file, line, "GET /admin/plugins: %d rows for %s", n, so);
	row->cls = html_str(r, "%s/@class", xrow);
	if (row->cls == NULL)
		row->cls = "";
	row->cells = html_strs(r, itest_fmt("%s/*[self::td or self::th]", xrow), &row->ncells);
	row->file_cell = row->ncells;
	for (size_t i = 0; i < row->ncells; i++) {
		row->cells[i] = trim(row->cells[i]);
		if (strcmp(row->cells[i], so) == 0)
			row->file_cell = i;
	}
}

/* Whether the row's class attribute has the class name. */
static bool row_has_class(const struct plugin_row *row, const char *name)
{
	const char *p = row->cls;
	size_t len = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		bool start = p == row->cls || p[-1] == ' ';
		bool end = p[len] == '\0' || p[len] == ' ';
		if (start && end)
			return true;
		p += len;
	}
	return false;
}

/* The text of every cell but the file name, joined by " | ". */
static char *row_text(const struct plugin_row *row)
{
	char *s = itest_fmt("%s", "");

	for (size_t i = 0; i < row->ncells; i++)
		if (i != row->file_cell)
			s = itest_fmt("%s%s%s", s, *s != '\0' ? " | " : "", row->cells[i]);
	return s;
}

static bool row_has_cell(const struct plugin_row *row, const char *text)
{
	for (size_t i = 0; i < row->ncells; i++)
		if (strcasecmp(row->cells[i], text) == 0)
			return true;
	return false;
}

/* The admin's Plugins page lists the good test plugins as loaded (name,
 * kind, title, version) and each broken one as refused with its reason
 * (the ABI cases would have aborted labeld had their init run). */
static void infra_admin_plugins(void)
{
	static const struct {
		const char *file, *name, *kind, *title, *version;
	} loaded[] = {
		{ "testtask.so", "testtask", "task", "Test task", "1.0" },
		{ "testexport.so", "testexport", "export", "Test export", "1.0" },
	};
	static const struct {
		const char *file, *reason;
	} refused[] = {
		{ "badabi.so", "the major versions differ" },
		{ "badminor.so", "newer than labeld's" },
		{ "badsize.so", "size" },
		{ "noabi.so", "no ABI constant" },
		{ "noeditor.so", "has no editor_view op" },
		{ "groupw.so", "writable by group or others" },
		{ "noentry.so", "entry symbol" },
		{ "nullinit.so", "NULL" },
		{ "zz-dupname.so", "duplicate" },
		{ "notso.so", "shared object" },
	};
	struct client *c = CLIENT(NULL);
	struct resp *r;

	SIGN_IN_OK(c, ADMIN_EMAIL, ADMIN_PASSWORD);
	r = GET(c, "/admin/plugins");
	CHECK_STATUS(r, 200);
	CHECK(html_count(r, "//table") >= 1, "GET /admin/plugins: no <table>");

	for (size_t i = 0; i < sizeof(loaded) / sizeof(loaded[0]); i++) {
		struct plugin_row row;
		PLUGIN_ROW(r, loaded[i].file, &row);
		CHECK(row_has_class(&row, "plugin-loaded"),
		    "%s: row class \"%s\", want plugin-loaded; row: %s", loaded[i].file, row.cls,
		    row_text(&row));
		CHECK(!row_has_class(&row, "plugin-refused"), "%s: row is also plugin-refused",
		    loaded[i].file);
		CHECK(row_has_cell(&row, loaded[i].name), "%s: no cell with the name \"%s\"; row: %s",
		    loaded[i].file, loaded[i].name, row_text(&row));
		CHECK(row_has_cell(&row, loaded[i].kind), "%s: no cell with the kind \"%s\"; row: %s",
		    loaded[i].file, loaded[i].kind, row_text(&row));
		CHECK(row_has_cell(&row, loaded[i].title), "%s: no cell with the title \"%s\"; row: %s",
		    loaded[i].file, loaded[i].title, row_text(&row));
		CHECK(row_has_cell(&row, loaded[i].version),
		    "%s: no cell with the version \"%s\"; row: %s",
		    loaded[i].file, loaded[i].version, row_text(&row));
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct plugin_row row;
		char *text;
		PLUGIN_ROW(r, refused[i].file, &row);
		text = row_text(&row);
		CHECK(row_has_class(&row, "plugin-refused"),
		    "%s: row class \"%s\", want plugin-refused; row: %s", refused[i].file, row.cls,
		    text);
		CHECK(!row_has_class(&row, "plugin-loaded"), "%s: row is also plugin-loaded",
		    refused[i].file);
		CHECK(strcasestr(text, refused[i].reason) != NULL,
		    "%s: refusal reason does not mention \"%s\": %s", refused[i].file,
		    refused[i].reason, text);
	}
	/* the duplicate did not replace the first testtask */
	CHECK(html_count(r, "//tr[contains(concat(' ', @class, ' '), ' plugin-loaded ')]"
	    "[td[normalize-space(.)='testtask']]") == 1,
	    "GET /admin/plugins: testtask is not loaded exactly once");
}

/* ------------------------------------------------------------ database */

static bool db_stopped;

/* Clean-up: start MariaDB again if the test left it stopped. */
static void db_start_if_stopped(void *arg)
{
	const char *start = arg;
	int st;

	if (!db_stopped)
		return;
	st = itest_shell(start);
	if (st != 0)
		itest_cleanup_error("LABELD_TEST_DB_START failed (exit %d): %s", st, start);
	else
		db_stopped = false;
}

/* GET /healthz until it says 200 or limit seconds pass; returns the last
 * status. */
static long healthz_wait(const char *base, double limit)
{
	struct client *c = CLIENT(base);
	double t0 = now_s();
	long status;

	for (;;) {
		struct resp *r = REQUEST(c, "GET", "/healthz", NULL, NULL, 0, ITEST_NO_HDR_CHECK);
		status = r->status;
		if (status == 200 || now_s() - t0 > limit)
			return status;
		itest_sleep_ms(500);
	}
}

/* With MariaDB stopped, labeld answers 503 (health and pages); once it is
 * back, labeld recovers by itself within ~20 s: health, old sessions and
 * new sign-ins on both processes, on every worker. */
static void infra_db_restart(void)
{
	const char *stop = ENV("LABELD_TEST_DB_STOP"), *start = ENV("LABELD_TEST_DB_START");
	const char *urls[3] = { ENV("LABELD_TEST_URL"), ENV("LABELD_TEST_URL_A"),
		ENV("LABELD_TEST_URL_B") };
	const char *email = USER_EMAIL, *pw = USER_PASSWORD;
	struct client *c = CLIENT(NULL);
	struct resp *r;
	char *session, *csrf;
	int st;
	double t0;

	session = SIGN_IN_OK(c, email, pw);
	r = GET(c, "/projects");
	CHECK_STATUS(r, 200);
	r = GET(c, "/healthz");
	CHECK_STATUS(r, 200);

	itest_note("stopping MariaDB");
	itest_defer(db_start_if_stopped, (void *)start);
	db_stopped = true;
	st = itest_shell(stop);
	CHECK(st == 0, "LABELD_TEST_DB_STOP failed (exit %d): %s", st, stop);

	for (size_t i = 0; i < 3; i++) {
		struct client *h = CLIENT(urls[i]);
		r = GET(h, "/healthz");
		CHECK(r->status == 503, "GET %s/healthz with MariaDB stopped: status %ld, want 503",
		    urls[i], r->status);
		CHECK(strcmp(r->body, "database unavailable\n") == 0,
		    "GET %s/healthz with MariaDB stopped: body \"%s\", want \"database unavailable\\n\"",
		    urls[i], r->body);
		r = GET(client_with_session(urls[i], session), "/projects");
		CHECK(r->status == 503, "GET %s/projects (signed in) with MariaDB stopped: status %ld, "
		    "want 503; body: %s", urls[i], r->status, resp_snip(r));
	}
	r = GET(c, "/login");
	CHECK(r->status == 503 || r->status == 200,
	    "GET /login (with a session cookie) with MariaDB stopped: status %ld, want 503 "
	    "(or the plain form)", r->status);
	/* Without a session the form may be shown or refused (503), request by
	 * request; a shown form's sign-in (same client: its labeld_login
	 * cookie) must fail. */
	{
		struct client *s = CLIENT(NULL);

		r = GET(s, "/login");
		CHECK(r->status == 503 || r->status == 200,
		    "GET /login with MariaDB stopped: status %ld, want 503 (or the plain form)",
		    r->status);
		csrf = r->status == 200 ? html_form_input(r, "login", "csrf") : NULL;
		if (csrf != NULL) {
			r = POST_FORM(s, "/login", "email", email, "password", pw, "csrf", csrf);
			CHECK(r->status >= 500 && resp_set_cookie(r, "labeld_session") == NULL,
			    "sign-in with MariaDB stopped: status %ld, want 503", r->status);
		}
	}

	itest_note("starting MariaDB");
	st = itest_shell(start);
	CHECK(st == 0, "LABELD_TEST_DB_START failed (exit %d): %s", st, start);
	db_stopped = false;

	t0 = now_s();
	for (size_t i = 0; i < 3; i++) {
		double left = 20.0 - (now_s() - t0);
		long status = healthz_wait(urls[i], left > 1.0 ? left : 1.0);
		CHECK(status == 200, "GET %s/healthz: still %ld %.1f s after MariaDB came back",
		    urls[i], status, now_s() - t0);
	}
	itest_note("healthy again after %.1f s", now_s() - t0);

	/* the old session works on every worker of both processes */
	for (size_t i = 1; i < 3; i++) {
		struct client *h = client_with_session(urls[i], session);
		for (int k = 0; k < 24; k++) {
			r = GET(h, "/projects");
			CHECK(r->status == 200, "GET %s/projects #%d after the restart: status %ld",
			    urls[i], k + 1, r->status);
		}
	}
	/* and new sign-ins work on both */
	for (size_t i = 0; i < 3; i++) {
		struct client *s = CLIENT(urls[i]);
		SIGN_IN_OK(s, email, pw);
		r = GET(s, "/projects");
		CHECK_STATUS(r, 200);
	}
}

/* The uid a process runs as (the real one; -1 when it is gone). */
static long proc_uid(long pid)
{
	FILE *f = fopen(itest_fmt("/proc/%ld/status", pid), "r");
	char line[256];
	long uid = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Uid: %ld", &uid) == 1)
			break;
	fclose(f);
	return uid;
}

static long pid_from(const char *file)
{
	FILE *f = fopen(file, "r");
	long pid = 0;

	CHECK(f != NULL, "%s: %s", file, strerror(errno));
	CHECK(fscanf(f, "%ld", &pid) == 1 && pid > 0, "%s: no pid", file);
	fclose(f);
	return pid;
}

/* Least privilege: MariaDB, nginx's workers and every labeld run as the
 * stack's service user (./stack: the system user labeld when run as root),
 * never as root; the files holding secrets are the owner's alone. */
static void infra_unprivileged(void)
{
	const char *user = ENV("LABELD_TEST_SVC_USER"), *run = ENV("LABELD_TEST_RUN_DIR");
	struct passwd *pw = getpwnam(user);
	long uid, master, workers = 0;
	char *files = itest_keep(strdup(ENV("LABELD_TEST_LABELD_PIDFILES"))), *save = NULL;
	DIR *d;
	struct dirent *e;
	struct stat st;

	CHECK(pw != NULL, "no user %s", user);
	uid = (long)pw->pw_uid;
	/* ./stack runs them as root only when the user labeld cannot reach
	 * the checkout (it said so: LABELD_TEST_SVC_FALLBACK=1) */
	if (uid == 0 && itest_env_long("LABELD_TEST_SVC_FALLBACK", 0) == 1)
		itest_note("the checkout is closed to the user labeld: the services run as root here");
	else
		CHECK(uid != 0, "the services run as root");
	for (char *f = strtok_r(files, " ", &save); f != NULL; f = strtok_r(NULL, " ", &save))
		CHECK(proc_uid(pid_from(f)) == uid, "labeld (%s) runs as uid %ld, want %s (%ld)", f,
		    proc_uid(pid_from(f)), user, uid);
	CHECK(proc_uid(pid_from(itest_fmt("%s/mysqld.pid", run))) == uid,
	    "MariaDB runs as uid %ld, want %ld", proc_uid(pid_from(itest_fmt("%s/mysqld.pid", run))), uid);
	master = pid_from(itest_fmt("%s/nginx.pid", run));
	d = opendir("/proc");
	CHECK(d != NULL, "/proc: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char stat_line[512], *p;
		FILE *f;
		long ppid = 0;
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		f = fopen(itest_fmt("/proc/%s/stat", e->d_name), "r");
		if (f == NULL)
			continue;
		if (fgets(stat_line, sizeof(stat_line), f) != NULL && (p = strrchr(stat_line, ')')) != NULL &&
		    sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == master) {
			long w = atol(e->d_name);
			if (strstr(stat_line, "(nginx)") != NULL) {
				CHECK(proc_uid(w) == uid, "nginx worker %ld runs as uid %ld, want %ld", w,
				    proc_uid(w), uid);
				workers++;
			}
		}
		fclose(f);
	}
	closedir(d);
	CHECK(workers > 0, "no nginx worker of master %ld found", master);
	/* secrets: the test environment and the database password */
	CHECK(stat(itest_fmt("%s/../test.env", run), &st) == 0 && (st.st_mode & 077) == 0,
	    "test.env is readable by others (mode %o)", (unsigned)(st.st_mode & 0777));
	CHECK(stat(itest_fmt("%s/../db-password", run), &st) == 0 && (st.st_mode & 077) == 0,
	    "db-password is readable by others (mode %o)", (unsigned)(st.st_mode & 0777));
}

/* ------------------------------------------------------------ metrics */

/* One sample of the text format: its name, its labels without "le" (the
 * series), its le when it has one, and its value. */
struct sample {
	char name[128];
	char series[512];
	char le[32];
	double value;
};

static bool metric_name_ok(const char *s, size_t n)
{
	if (n == 0 || !(s[0] == '_' || s[0] == ':' || ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(s[i] == '_' || s[i] == ':' || (s[i] >= '0' && s[i] <= '9') ||
		    ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z')))
			return false;
	return true;
}

/* Parse one sample line: name{label="value",...} value.  false when it is
 * not one. */
static bool sample_parse(const char *line, struct sample *sm)
{
	const char *p = line, *end;
	size_t n = strcspn(p, "{ ");

	memset(sm, 0, sizeof(*sm));
	if (!metric_name_ok(p, n) || n >= sizeof(sm->name))
		return false;
	memcpy(sm->name, p, n);
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			char lname[64], lval[256];
			size_t ln = strcspn(p, "="), k = 0;
			if (!metric_name_ok(p, ln) || ln >= sizeof(lname) || p[ln + 1] != '"')
				return false;
			memcpy(lname, p, ln);
			lname[ln] = '\0';
			p += ln + 2;
			while (*p != '"') {
				if (*p == '\0' || *p == '\n' || k + 2 >= sizeof(lval))
					return false;
				if (*p == '\\') {
					if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
						return false;
					lval[k++] = *p++;
				}
				lval[k++] = *p++;
			}
			lval[k] = '\0';
			p++;
			if (strcmp(lname, "le") == 0)
				snprintf(sm->le, sizeof(sm->le), "%.31s", lval);
			else
				snprintf(sm->series + strlen(sm->series), sizeof(sm->series) - strlen(sm->series),
				    "%s=\"%s\",", lname, lval);
			if (*p == ',')
				p++;
			else if (*p != '}')
				return false;
		}
		p++;
	}
	if (*p != ' ')
		return false;
	p++;
	if (strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0 || strcmp(p, "NaN") == 0)
		return true;
	sm->value = strtod(p, (char **)&end);
	return end != p && *end == '\0';
}

/* The type declared for a sample's family ("counter", ...), or NULL. */
static const char *family_type(char types[][2][128], size_t ntypes, const char *name)
{
	static const char *const suffix[] = { "", "_bucket", "_sum", "_count" };

	for (size_t i = 0; i < ntypes; i++)
		for (size_t k = 0; k < 4; k++) {
			size_t n = strlen(types[i][0]);
			if (strncmp(name, types[i][0], n) == 0 && strcmp(name + n, suffix[k]) == 0 &&
			    (k == 0 || strcmp(types[i][1], "histogram") == 0))
				return types[i][1];
		}
	return NULL;
}

/* GET /metrics from client c: every line a sample, # HELP or # TYPE; every
 * sample of a declared family; each histogram's buckets cumulative and its
 * +Inf bucket equal to its count.  Returns the value of the sample whose
 * name and series (labels without le, each 'name="value",') are given, or
 * -1 when there is none. */
static double metrics_scrape(struct client *c, const char *name, const char *series)
{
	struct resp *r = GET(c, "/metrics");
	const char *ct = resp_header(r, "Content-Type");
	char (*types)[2][128] = itest_keep(calloc(256, sizeof(*types)));
	char last_series[640] = "", *line, *save = NULL;
	char *text = itest_keep(strdup(r->body));
	size_t ntypes = 0, lineno = 0;
	double prev = 0, found = -1;

	CHECK_STATUS(r, 200);
	CHECK(ct != NULL && strncmp(ct, "text/plain; version=0.0.4", 25) == 0,
	    "/metrics: Content-Type %s, want text/plain; version=0.0.4", ct ? ct : "(none)");
	CHECK(r->len > 0 && r->body[r->len - 1] == '\n', "/metrics: the text does not end with a newline");
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		struct sample sm;
		const char *type;
		lineno++;
		if (strncmp(line, "# HELP ", 7) == 0) {
			CHECK(metric_name_ok(line + 7, strcspn(line + 7, " ")), "/metrics:%zu: %s", lineno, line);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char nm[128], ty[32];
			CHECK(ntypes < 256 && sscanf(line + 7, "%127s %31s", nm, ty) == 2 &&
			    (strcmp(ty, "counter") == 0 || strcmp(ty, "gauge") == 0 ||
			    strcmp(ty, "histogram") == 0), "/metrics:%zu: %s", lineno, line);
			snprintf(types[ntypes][0], 128, "%s", nm);
			snprintf(types[ntypes][1], 128, "%s", ty);
			ntypes++;
			continue;
		}
		CHECK(sample_parse(line, &sm), "/metrics:%zu: not a sample: %s", lineno, line);
		type = family_type(types, ntypes, sm.name);
		CHECK(type != NULL, "/metrics:%zu: %s has no # TYPE before it", lineno, sm.name);
		if (strcmp(type, "counter") == 0 || strcmp(sm.name + strlen(sm.name) - 6, "_count") == 0)
			CHECK(sm.value >= 0, "/metrics:%zu: a negative count: %s", lineno, line);
		if (strcmp(type, "histogram") == 0) {
			size_t n = strlen(sm.name);
			char key[640];
			snprintf(key, sizeof(key), "%.120s|%s", sm.name, sm.series);
			if (n > 7 && strcmp(sm.name + n - 7, "_bucket") == 0) {
				double v = sm.value;
				CHECK(sm.le[0] != '\0', "/metrics:%zu: a bucket without le: %s", lineno, line);
				/* The next series starts over; within one, never fewer. */
				if (strcmp(key, last_series) == 0)
					CHECK(v >= prev, "/metrics:%zu: buckets not cumulative: %s after %g",
					    lineno, line, prev);
				snprintf(last_series, sizeof(last_series), "%s", key);
				prev = v;
			} else if (n > 6 && strcmp(sm.name + n - 6, "_count") == 0) {
				char bkey[640];
				snprintf(bkey, sizeof(bkey), "%.*s_bucket|%s", (int)(n - 6), sm.name, sm.series);
				CHECK(strcmp(bkey, last_series) == 0 && sm.value == prev,
				    "/metrics:%zu: %s is not its +Inf bucket (%g)", lineno, line, prev);
			}
		}
		if (strcmp(sm.name, name) == 0 && strcmp(sm.series, series) == 0)
			found = sm.value;
	}
	return found;
}

/* /metrics: valid text whose counters move with the requests, and 404 for
 * an address not in metrics_allow. */
static void infra_metrics(void)
{
	const char *a = ENV("LABELD_TEST_URL_A");
	const char *hz = "route=\"/healthz\",method=\"GET\",status=\"2xx\",";
	struct client *c = CLIENT(a), *other;
	double before, after, n404;
	struct resp *r;

	before = metrics_scrape(c, "labeld_http_requests_total", hz);
	for (int i = 0; i < 5; i++)
		CHECK_STATUS(GET(c, "/healthz"), 200);
	after = metrics_scrape(c, "labeld_http_requests_total", hz);
	CHECK(after >= (before < 0 ? 0 : before) + 5, "/healthz 2xx went from %g to %g after 5 requests",
	    before, after);
	CHECK(metrics_scrape(c, "labeld_http_request_duration_seconds_count",
	    "route=\"/healthz\",method=\"GET\",") >= after,
	    "the /healthz histogram counts fewer requests than the counter");
	CHECK(metrics_scrape(c, "labeld_database_up", "") == 1, "labeld_database_up is not 1");
	CHECK(metrics_scrape(c, "labeld_answers_stored_total", "") >= 0, "no labeld_answers_stored_total");
	CHECK(metrics_scrape(c, "labeld_leases_granted_total", "") >= 0, "no labeld_leases_granted_total");
	CHECK(metrics_scrape(c, "labeld_database_errors_total", "") >= 0, "no labeld_database_errors_total");
	CHECK(metrics_scrape(c, "labeld_jobs_running", "") >= 0, "no labeld_jobs_running");

	/* Another address: nothing there, through each way in. */
	n404 = metrics_scrape(c, "labeld_http_requests_total",
	    "route=\"/metrics\",method=\"GET\",status=\"4xx\",");
	other = CLIENT(a);
	client_bind(other, "127.0.0.9");
	r = GET(other, "/metrics");
	CHECK_STATUS(r, 404);
	CHECK_BODY_LACKS(r, "labeld_");
	other = CLIENT(ENV("LABELD_TEST_URL"));
	client_bind(other, "127.0.0.9");
	r = GET(other, "/metrics");
	CHECK_STATUS(r, 404);
	CHECK_BODY_LACKS(r, "labeld_");
	/* The refusal was counted under the route, as a 4xx. */
	CHECK(metrics_scrape(c, "labeld_http_requests_total",
	    "route=\"/metrics\",method=\"GET\",status=\"4xx\",") >= (n404 < 0 ? 0 : n404) + 1,
	    "the refused /metrics request was not counted");
}

const struct itest_case itest_infra_cases[] = {
	ITEST(infra_healthz),
	ITEST(infra_two_processes),
	ITEST(infra_admin_plugins),
	ITEST(infra_unprivileged),
	ITEST(infra_metrics),
	ITEST(infra_db_restart),     /* last: it stops MariaDB */
};
const size_t itest_infra_ncases = sizeof(itest_infra_cases) / sizeof(itest_infra_cases[0]);
