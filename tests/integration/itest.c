/*
 * itest.c: the runner, HTTP client, HTML and SQL helpers of labeld-itest.
 * See itest.h for the contract and README.md for how to run it.
 */
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "itest.h"

/* ------------------------------------------------------------ runner state */

struct defer {
	void (*fn)(void *);
	void *arg;
};

static const char *cur_name;           /* the running test */
static jmp_buf cur_jmp;                /* where a failure goes back to */
static bool cur_failed;
static char cur_msg[4096];             /* "file:line: message" of the first failure */
static struct defer *defers;
static size_t ndefers, capdefers;
static struct resp *last_resp;         /* most recent response, for the failure dump */

/* Out of memory in the harness is not a test result: stop at once. */
static void *xmalloc_check(void *p)
{
	if (p == NULL) {
		fprintf(stderr, "labeld-itest: out of memory\n");
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	return xmalloc_check(strdup(s));
}

__attribute__((format(printf, 1, 0)))
static char *xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		xmalloc_check(NULL);
	return s;
}

__attribute__((format(printf, 1, 2)))
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* Register a clean-up for the running test.  See itest.h. */
void itest_defer(void (*fn)(void *), void *arg)
{
	if (ndefers == capdefers) {
		size_t ncap = capdefers != 0 ? capdefers * 2 : 64;
		defers = xmalloc_check(reallocarray(defers, ncap, sizeof(*defers)));
		capdefers = ncap;
	}
	defers[ndefers].fn = fn;
	defers[ndefers].arg = arg;
	ndefers++;
}

/* Free p when the running test ends; returns p. */
void *itest_keep(void *p)
{
	if (p != NULL)
		itest_defer(free, p);
	return p;
}

/* A formatted string owned by the running test. */
char *itest_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return itest_keep(s);
}

/* A diagnostic line on stderr. */
void itest_note(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "# %s: ", cur_name != NULL ? cur_name : "-");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Write the most recent response of the failed test to $LABELD_TEST_OUT,
 * so the page that made it fail can be looked at.  Best effort. */
static void itest_dump_last(void)
{
	const char *out = getenv("LABELD_TEST_OUT");
	char *path;
	FILE *f;

	if (out == NULL || *out == '\0' || last_resp == NULL)
		return;
	mkdir(out, 0755);
	path = xasprintf("%s/%s.last-response.txt", out, cur_name);
	f = fopen(path, "w");
	if (f != NULL) {
		fprintf(f, "%s %s\nstatus %ld\n", last_resp->method, last_resp->url,
		    last_resp->status);
		for (size_t i = 0; i < last_resp->nhdrs; i++)
			fprintf(f, "%s: %s\n", last_resp->hdrs[i].name, last_resp->hdrs[i].value);
		fputc('\n', f);
		if (last_resp->body != NULL)
			fwrite(last_resp->body, 1, last_resp->len, f);
		fclose(f);
		fprintf(stderr, "# %s: last response saved in %s\n", cur_name, path);
	}
	free(path);
}

/* Record a failure and go back to the runner.  See itest.h. */
void itest_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (!cur_failed) {
		int n = snprintf(cur_msg, sizeof(cur_msg), "%s:%d: ", file, line);
		if (n < 0)
			n = 0;
		if ((size_t)n < sizeof(cur_msg)) {
			va_start(ap, fmt);
			vsnprintf(cur_msg + n, sizeof(cur_msg) - (size_t)n, fmt, ap);
			va_end(ap);
		}
		/* one line per test: no line breaks from bodies in the message */
		for (char *p = cur_msg; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
		cur_failed = true;
		itest_dump_last();
	} else {
		/* a later problem (in a clean-up): show it, keep the first */
		fprintf(stderr, "# %s: also %s:%d: ", cur_name, file, line);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	longjmp(cur_jmp, 1);
}

/* A problem in a clean-up: the test fails, the other clean-ups still run. */
void itest_cleanup_error(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (!cur_failed) {
		snprintf(cur_msg, sizeof(cur_msg), "clean-up: %s", msg);
		cur_failed = true;
	} else {
		fprintf(stderr, "# %s: clean-up: %s\n", cur_name, msg);
	}
}

/* Run one test and its clean-ups; print its line; true when it passed. */
static bool itest_run_case(const struct itest_case *tc)
{
	cur_name = tc->name;
	cur_failed = false;
	cur_msg[0] = '\0';
	ndefers = 0;
	last_resp = NULL;

	if (setjmp(cur_jmp) == 0)
		tc->fn();
	while (ndefers > 0) {
		ndefers--;
		if (setjmp(cur_jmp) == 0)
			defers[ndefers].fn(defers[ndefers].arg);
	}
	if (cur_failed)
		printf("FAIL %s: %s\n", tc->name, cur_msg);
	else
		printf("ok %s\n", tc->name);
	fflush(stdout);
	cur_name = NULL;
	return !cur_failed;
}

struct group {
	const struct itest_case *v;
	size_t n;
};

static const struct itest_case *itest_find_case(const struct group *g, size_t ng,
    const char *name)
{
	for (size_t i = 0; i < ng; i++)
		for (size_t j = 0; j < g[i].n; j++)
			if (strcmp(g[i].v[j].name, name) == 0)
				return &g[i].v[j];
	return NULL;
}

static void itest_usage(FILE *f)
{
	fprintf(f, "usage: labeld-itest [--list] [TEST...]\n"
	    "Runs the integration tests against the stack named by LABELD_TEST_URL\n"
	    "and friends (see tests/integration/README.md); all tests when no name\n"
	    "is given, in the fixed order of --list.\n");
}

int main(int argc, char **argv)
{
	/* the order matters: HTTP basics, then sign-in, then the tests that
	 * disturb the stack (the database stop/start test is the very last) */
	const struct group groups[] = {
		{ itest_http_cases, itest_http_ncases },
		{ itest_auth_cases, itest_auth_ncases },
		{ itest_datastores_cases, itest_datastores_ncases },
		{ itest_projects_cases, itest_projects_ncases },
		{ itest_upload_cases, itest_upload_ncases },
		{ itest_labeling_cases, itest_labeling_ncases },
		{ itest_export_cases, itest_export_ncases },
		{ itest_jobs_cases, itest_jobs_ncases },
		{ itest_export_job_cases, itest_export_job_ncases },
		{ itest_export_pages_cases, itest_export_pages_ncases },
		{ itest_authz_cases, itest_authz_ncases },
		{ itest_teams_cases, itest_teams_ncases },
		{ itest_people_cases, itest_people_ncases },
		{ itest_dashboard_cases, itest_dashboard_ncases },
		{ itest_mine_cases, itest_mine_ncases },
		{ itest_counters_cases, itest_counters_ncases },
		{ itest_data_cases, itest_data_ncases },
		{ itest_review_cases, itest_review_ncases },
		{ itest_oidc_cases, itest_oidc_ncases },
		{ itest_infra_cases, itest_infra_ncases },
	};
	const size_t ngroups = sizeof(groups) / sizeof(groups[0]);
	int passed = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0) {
			for (size_t g = 0; g < ngroups; g++)
				for (size_t j = 0; j < groups[g].n; j++)
					printf("%s\n", groups[g].v[j].name);
			return EXIT_SUCCESS;
		}
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			itest_usage(stdout);
			return EXIT_SUCCESS;
		}
		if (itest_find_case(groups, ngroups, argv[i]) == NULL) {
			fprintf(stderr, "labeld-itest: no test named '%s' (see --list)\n", argv[i]);
			return 2;
		}
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "labeld-itest: curl_global_init failed\n");
		return EXIT_FAILURE;
	}
	xmlInitParser();

	for (size_t g = 0; g < ngroups; g++) {
		for (size_t j = 0; j < groups[g].n; j++) {
			const struct itest_case *tc = &groups[g].v[j];
			bool selected = argc < 2;

			for (int i = 1; i < argc && !selected; i++)
				selected = strcmp(argv[i], tc->name) == 0;
			if (!selected)
				continue;
			if (itest_run_case(tc))
				passed++;
			else
				failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);

	free(defers);
	xmlCleanupParser();
	curl_global_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ------------------------------------------------------------ environment */

/* A required environment variable.  See itest.h. */
const char *itest_env(const char *file, int line, const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		itest_fail(file, line, "environment variable %s is not set (run through ./stack test)",
		    name);
	return v;
}

/* An optional integer environment variable. */
long itest_env_long(const char *name, long def)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return def;
	return n;
}

/* ------------------------------------------------------------ small helpers */

void itest_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Clean-up: stop the misbehaving blob service (arg is its pid). */
/* Percent-encode everything but the unreserved characters. */
char *url_enc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(s);
	char *out = xmalloc_check(malloc(len * 3 + 1)), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return itest_keep(out);
}

bool is_base64url(const char *s, size_t n)
{
	if (s == NULL || strlen(s) != n)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

/* What a failure message shows of a body: for an HTML page its title and
 * visible text, else the raw start; printable, at most 300 bytes.  The
 * result lives in a static buffer until the next call. */
const char *resp_snip(const struct resp *r)
{
	static char buf[320];
	const char *src = r->body;
	size_t srclen = r->len, n = 0;
	char *text = NULL;

	if (r->body == NULL || r->len == 0)
		return "(empty body)";
	if (r->doc != NULL || strcasestr(r->body, "<html") != NULL) {
		/* the const is only logical: parsing fills the cached doc */
		struct resp *rw = (struct resp *)r;
		if (resp_html(rw) != NULL) {
			xmlXPathContextPtr ctx = xmlXPathNewContext(rw->doc);
			xmlXPathObjectPtr o = ctx != NULL ? xmlXPathEvalExpression(BAD_CAST
			    "concat(normalize-space(//title), ' | ', normalize-space(//body))", ctx) : NULL;
			if (o != NULL && o->type == XPATH_STRING && o->stringval != NULL)
				text = xstrdup((const char *)o->stringval);
			xmlXPathFreeObject(o);
			xmlXPathFreeContext(ctx);
		}
	}
	if (text != NULL) {
		src = text;
		srclen = strlen(text);
	}
	for (size_t i = 0; i < srclen && n < 300; i++) {
		unsigned char ch = (unsigned char)src[i];
		if (ch < 0x20 || ch == 0x7f)
			ch = ' ';
		if (ch == ' ' && n > 0 && buf[n - 1] == ' ')
			continue;
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	if (n == 300)
		strcpy(buf + n, "...");
	free(text);
	return buf;
}

/* The path part of r's URL, for messages. */
static const char *resp_path(const struct resp *r)
{
	const char *p = strstr(r->url, "://");

	if (p == NULL)
		return r->url;
	p = strchr(p + 3, '/');
	return p != NULL ? p : r->url;
}

void itest_check_status(const char *file, int line, const struct resp *r, long code)
{
	if (r->status != code)
		itest_fail(file, line, "%s %s: status %ld, want %ld; body: %s",
		    r->method, resp_path(r), r->status, code, resp_snip(r));
}

void itest_check_redirect(const char *file, int line, const struct resp *r,
    long code, const char *location)
{
	const char *loc = resp_header(r, "Location");

	if (r->status != code)
		itest_fail(file, line, "%s %s: status %ld, want %ld to %s (Location: %s); body: %s",
		    r->method, resp_path(r), r->status, code, location,
		    loc != NULL ? loc : "(none)", resp_snip(r));
	if (loc == NULL || strcmp(loc, location) != 0)
		itest_fail(file, line, "%s %s: Location %s%s%s, want \"%s\"", r->method,
		    resp_path(r), loc != NULL ? "\"" : "", loc != NULL ? loc : "(none)",
		    loc != NULL ? "\"" : "", location);
}

void itest_check_body(const char *file, int line, const struct resp *r,
    const char *needle, bool nocase, bool want)
{
	const char *body = r->body != NULL ? r->body : "";
	bool has = nocase ? strcasestr(body, needle) != NULL : strstr(body, needle) != NULL;

	if (has != want)
		itest_fail(file, line, "%s %s (status %ld): body %s \"%s\"; body: %s",
		    r->method, resp_path(r), r->status,
		    want ? "lacks" : "contains", needle, resp_snip(r));
}

void itest_check_streq(const char *file, int line, const char *what,
    const char *got, const char *want)
{
	if (got == NULL || want == NULL) {
		if (got != want)
			itest_fail(file, line, "%s is %s%s%s, want %s%s%s", what,
			    got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
			    want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
		return;
	}
	if (strcmp(got, want) != 0)
		itest_fail(file, line, "%s is \"%s\", want \"%s\"", what, got, want);
}

/* ------------------------------------------------------------ responses */

static void resp_free(void *arg)
{
	struct resp *r = arg;

	if (r == last_resp)
		last_resp = NULL;
	for (size_t i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	free(r->hdrs);
	free(r->body);
	free(r->method);
	free(r->url);
	if (r->doc != NULL)
		xmlFreeDoc(r->doc);
	free(r);
}

static void resp_clear_headers(struct resp *r)
{
	for (size_t i = 0; i < r->nhdrs; i++) {
		free(r->hdrs[i].name);
		free(r->hdrs[i].value);
	}
	r->nhdrs = 0;
}

/* curl header callback: one header line at a time.  A status line starts a
 * new header block (so a 100 Continue block is dropped). */
static size_t resp_on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct resp *r = arg;
	size_t len = size * nmemb, nlen;
	const char *colon, *v, *end = data + len;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		resp_clear_headers(r);
		return len;
	}
	while (end > data && (end[-1] == '\r' || end[-1] == '\n'))
		end--;
	colon = memchr(data, ':', (size_t)(end - data));
	if (colon == NULL)
		return len;
	nlen = (size_t)(colon - data);
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	r->hdrs = xmalloc_check(reallocarray(r->hdrs, r->nhdrs + 1, sizeof(*r->hdrs)));
	r->hdrs[r->nhdrs].name = xmalloc_check(strndup(data, nlen));
	r->hdrs[r->nhdrs].value = xmalloc_check(strndup(v, (size_t)(end - v)));
	r->nhdrs++;
	return len;
}

struct body_buf {
	struct resp *r;
	size_t cap;
};

static size_t resp_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body_buf *b = arg;
	struct resp *r = b->r;
	size_t len = size * nmemb;

	if (r->len + len + 1 > b->cap) {
		size_t ncap = b->cap != 0 ? b->cap : 8192;
		while (ncap < r->len + len + 1)
			ncap *= 2;
		r->body = xmalloc_check(realloc(r->body, ncap));
		b->cap = ncap;
	}
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

const char *resp_header(const struct resp *r, const char *name)
{
	for (size_t i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			return r->hdrs[i].value;
	return NULL;
}

size_t resp_header_count(const struct resp *r, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nhdrs; i++)
		if (strcasecmp(r->hdrs[i].name, name) == 0)
			n++;
	return n;
}

const char *resp_set_cookie(const struct resp *r, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < r->nhdrs; i++) {
		const char *v = r->hdrs[i].value;
		if (strcasecmp(r->hdrs[i].name, "Set-Cookie") != 0)
			continue;
		while (*v == ' ')
			v++;
		if (strncmp(v, name, nlen) == 0 && v[nlen] == '=')
			return v;
	}
	return NULL;
}

bool set_cookie_has_attr(const char *set_cookie, const char *attr)
{
	const char *p = strchr(set_cookie, ';');
	size_t alen = strlen(attr);

	while (p != NULL) {
		const char *start = p + 1, *end;
		while (*start == ' ' || *start == '\t')
			start++;
		end = strchr(start, ';');
		p = end;
		if (end == NULL)
			end = start + strlen(start);
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - start) == alen && strncasecmp(start, attr, alen) == 0)
			return true;
	}
	return false;
}

/* Whether the ';'-separated policy has directive (spaces normalised). */
static bool csp_has(const char *policy, const char *directive)
{
	size_t dlen = strlen(directive);
	const char *p = policy;

	while (*p != '\0') {
		const char *end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *e = end;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == dlen && strncasecmp(p, directive, dlen) == 0)
			return true;
		p = *end == ';' ? end + 1 : end;
	}
	return false;
}

/* The policy's form-action is 'self', then only http(s) origins (the
 * sign-in page's providers): no path, no wildcard, no scheme alone. */
static bool csp_form_action_ok(const char *policy)
{
	const char *p = strstr(policy, "form-action 'self'"), *end;

	if (p == NULL || (p != policy && p[-1] != ' ' && p[-1] != ';'))
		return false;
	p += strlen("form-action 'self'");
	end = p + strcspn(p, ";");
	while (p < end) {
		size_t n;
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		n = strcspn(p, " ;");
		char *src = itest_fmt("%.*s", (int)n, p);
		const char *host = strncmp(src, "https://", 8) == 0 ? src + 8 :
		    strncmp(src, "http://", 7) == 0 ? src + 7 : NULL;
		if (host == NULL || host[0] == '\0' || strpbrk(host, "/*?#") != NULL)
			return false;
		p += n;
	}
	return true;
}

void itest_check_security_headers(const char *file, int line, const struct resp *r)
{
	static const char *const directives[] = {
		"default-src 'self'", "script-src 'self'", "object-src 'none'",
		"base-uri 'none'", "frame-ancestors 'none'",
	};
	const char *csp = resp_header(r, "Content-Security-Policy");
	const char *xcto = resp_header(r, "X-Content-Type-Options");
	const char *rp = resp_header(r, "Referrer-Policy");
	size_t n;

	if (csp == NULL)
		itest_fail(file, line, "%s %s (status %ld): no Content-Security-Policy header",
		    r->method, resp_path(r), r->status);
	if ((n = resp_header_count(r, "Content-Security-Policy")) != 1)
		itest_fail(file, line, "%s %s (status %ld): Content-Security-Policy sent %zu times",
		    r->method, resp_path(r), r->status, n);
	for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++)
		if (!csp_has(csp, directives[i]))
			itest_fail(file, line, "%s %s (status %ld): Content-Security-Policy \"%s\" lacks \"%s\"",
			    r->method, resp_path(r), r->status, csp, directives[i]);
	if (!csp_form_action_ok(csp))
		itest_fail(file, line, "%s %s (status %ld): Content-Security-Policy \"%s\": form-action "
		    "must be 'self' and at most the providers' origins", r->method, resp_path(r),
		    r->status, csp);
	if (strstr(csp, "unsafe-") != NULL)
		itest_fail(file, line, "%s %s: Content-Security-Policy allows unsafe sources: \"%s\"",
		    r->method, resp_path(r), csp);
	if (xcto == NULL || strcasecmp(xcto, "nosniff") != 0)
		itest_fail(file, line, "%s %s (status %ld): X-Content-Type-Options is %s, want nosniff",
		    r->method, resp_path(r), r->status, xcto != NULL ? xcto : "missing");
	if ((n = resp_header_count(r, "X-Content-Type-Options")) != 1)
		itest_fail(file, line, "%s %s (status %ld): X-Content-Type-Options sent %zu times",
		    r->method, resp_path(r), r->status, n);
	/* Addresses that hold a secret (labeld's PATH_SECRET routes: an
	 * invitation link, the provider sign-in's callback) send no Referer
	 * onwards; every other answer same-origin. */
	const char *path = resp_path(r);
	const char *want_rp = strncmp(path, "/invite/", 8) == 0 ||
	    strncmp(path, "/signin/oidc/callback", 21) == 0 ? "no-referrer" : "same-origin";
	if (rp == NULL || strcasecmp(rp, want_rp) != 0)
		itest_fail(file, line, "%s %s (status %ld): Referrer-Policy is %s, want %s",
		    r->method, path, r->status, rp != NULL ? rp : "missing", want_rp);
	if ((n = resp_header_count(r, "Referrer-Policy")) != 1)
		itest_fail(file, line, "%s %s (status %ld): Referrer-Policy sent %zu times",
		    r->method, resp_path(r), r->status, n);
}

/* ------------------------------------------------------------ client */

static void client_free(void *arg)
{
	struct client *c = arg;

	curl_easy_cleanup(c->curl);
	free(c->base);
	free(c->host);
	free(c);
}

/* A new client.  See itest.h. */
void client_bind(struct client *c, const char *addr)
{
	char *iface = itest_fmt("host!%s", addr);

	if (curl_easy_setopt(c->curl, CURLOPT_INTERFACE, iface) != CURLE_OK)
		itest_fail(__FILE__, __LINE__, "CURLOPT_INTERFACE %s refused", iface);
}

void client_header(struct client *c, const char *line)
{
	c->header = itest_fmt("%s", line);
}

struct client *client_new(const char *file, int line, const char *base)
{
	struct client *c;
	CURLU *u;
	char *host = NULL;
	size_t blen;

	if (base == NULL)
		base = itest_env(file, line, "LABELD_TEST_URL");
	c = xmalloc_check(calloc(1, sizeof(*c)));
	c->base = xstrdup(base);
	blen = strlen(c->base);
	while (blen > 0 && c->base[blen - 1] == '/')
		c->base[--blen] = '\0';
	u = curl_url();
	if (u == NULL || curl_url_set(u, CURLUPART_URL, c->base, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		free(c->base);
		free(c);
		itest_fail(file, line, "cannot parse base URL \"%s\"", base);
	}
	c->host = xstrdup(host);
	curl_free(host);
	curl_url_cleanup(u);

	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		free(c->base);
		free(c->host);
		free(c);
		itest_fail(file, line, "curl_easy_init failed");
	}
	itest_defer(client_free, c);
	curl_easy_setopt(c->curl, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "labeld-itest");
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, resp_on_header);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, resp_on_body);
	return c;
}

/* One request.  See itest.h. */
struct resp *client_request(const char *file, int line, struct client *c,
    const char *method, const char *path, const char *ctype,
    const char *body, size_t len, int flags)
{
	struct resp *r = xmalloc_check(calloc(1, sizeof(*r)));
	struct body_buf bb = { r, 0 };
	struct curl_slist *hl = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *h = c->curl;
	CURLcode rc;

	r->method = xstrdup(method);
	r->url = xasprintf("%s%s", c->base, path);
	itest_defer(resp_free, r);

	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &bb);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
	if (flags & ITEST_HEAD) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (body != NULL) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	if (ctype != NULL) {
		char *line_ = xasprintf("Content-Type: %s", ctype);
		hl = curl_slist_append(hl, line_);
		free(line_);
	}
	hl = curl_slist_append(hl, (flags & ITEST_EXPECT_100) ? "Expect: 100-continue" : "Expect:");
	if (c->header != NULL)
		hl = curl_slist_append(hl, c->header);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hl);
	last_resp = r;
	if (r->body == NULL)
		r->body = xstrdup("");

	if (rc != CURLE_OK && r->status == 0)
		itest_fail(file, line, "%s %s: %s", method, r->url,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	if (rc != CURLE_OK)
		itest_note("%s %s: status %ld but curl said: %s", method, path, r->status,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	if (!(flags & ITEST_NO_HDR_CHECK))
		itest_check_security_headers(file, line, r);
	return r;
}

/* Append "name=value" pairs, url-encoded, from ap until a NULL name. */
static char *form_encode(va_list ap)
{
	char *out = xstrdup("");
	const char *name;

	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		char *en, *ev, *next;
		if (value == NULL)
			continue;
		en = curl_easy_escape(NULL, name, 0);
		ev = curl_easy_escape(NULL, value, 0);
		if (en == NULL || ev == NULL)
			xmalloc_check(NULL);
		next = xasprintf("%s%s%s=%s", out, *out != '\0' ? "&" : "", en, ev);
		curl_free(en);
		curl_free(ev);
		free(out);
		out = next;
	}
	return out;
}

struct resp *client_post_form(const char *file, int line, struct client *c,
    const char *path, ...)
{
	va_list ap;
	char *body;

	va_start(ap, path);
	body = itest_keep(form_encode(ap));
	va_end(ap);
	return client_request(file, line, c, "POST", path,
	    "application/x-www-form-urlencoded", body, strlen(body), 0);
}

#define ITEST_BOUNDARY "----labeld-itest-b7c1e0f4a9"

struct resp *client_post_multipart(const char *file, int line, struct client *c,
    const char *path, ...)
{
	va_list ap;
	char *body = xstrdup(""), *next;
	const char *name;

	va_start(ap, path);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		if (value == NULL)
			continue;
		next = xasprintf("%s--" ITEST_BOUNDARY "\r\n"
		    "Content-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
		    body, name, value);
		free(body);
		body = next;
	}
	va_end(ap);
	next = xasprintf("%s--" ITEST_BOUNDARY "--\r\n", body);
	free(body);
	body = itest_keep(next);
	return client_request(file, line, c, "POST", path,
	    "multipart/form-data; boundary=" ITEST_BOUNDARY, body, strlen(body), 0);
}

/* ------------------------------------------------------------ cookies */

char *client_cookie(struct client *c, const char *name)
{
	struct curl_slist *list = NULL;
	char *found = NULL;

	if (curl_easy_getinfo(c->curl, CURLINFO_COOKIELIST, &list) != CURLE_OK)
		return NULL;
	/* Netscape format: domain, tailmatch, path, secure, expires, name, value */
	for (struct curl_slist *l = list; l != NULL; l = l->next) {
		const char *f[7];
		const char *p = l->data;
		size_t nf = 0;
		f[nf++] = p;
		while (nf < 7 && (p = strchr(p, '\t')) != NULL)
			f[nf++] = ++p;
		if (nf < 7)
			continue;
		size_t nlen = (size_t)(f[6] - f[5]) - 1;
		long long expires = strtoll(f[4], NULL, 10);
		/* a cookie cleared with Max-Age=0 may linger in curl's list
		 * with an expiry in the past or an empty value: a browser
		 * would have dropped it */
		if ((expires != 0 && expires < (long long)time(NULL)) || *f[6] == '\0')
			continue;
		if (nlen == strlen(name) && strncmp(f[5], name, nlen) == 0) {
			free(found);
			found = xstrdup(f[6]);
		}
	}
	curl_slist_free_all(list);
	return itest_keep(found);
}

void client_set_cookie(const char *file, int line, struct client *c,
    const char *name, const char *value)
{
	char *l = xasprintf("%s\tFALSE\t/\tFALSE\t0\t%s\t%s", c->host, name, value);
	CURLcode rc = curl_easy_setopt(c->curl, CURLOPT_COOKIELIST, l);

	free(l);
	if (rc != CURLE_OK)
		itest_fail(file, line, "cannot set cookie %s: %s", name, curl_easy_strerror(rc));
}

void client_clear_cookies(struct client *c)
{
	curl_easy_setopt(c->curl, CURLOPT_COOKIELIST, "ALL");
}

/* ------------------------------------------------------------ HTML */

htmlDocPtr resp_html(struct resp *r)
{
	if (r->doc == NULL && r->body != NULL && r->len > 0 && r->len < (size_t)1 << 30)
		r->doc = htmlReadMemory(r->body, (int)r->len, r->url, NULL,
		    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	return r->doc;
}

static void xpath_free(void *arg)
{
	xmlXPathFreeObject(arg);
}

/* The node set selected by xpath in r, or NULL. */
static xmlNodeSetPtr html_select(struct resp *r, const char *xpath)
{
	htmlDocPtr doc = resp_html(r);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr obj;

	if (doc == NULL)
		return NULL;
	ctx = xmlXPathNewContext(doc);
	if (ctx == NULL)
		return NULL;
	obj = xmlXPathEvalExpression((const xmlChar *)xpath, ctx);
	xmlXPathFreeContext(ctx);
	if (obj == NULL)
		return NULL;
	itest_defer(xpath_free, obj);
	if (obj->type != XPATH_NODESET)
		return NULL;
	return obj->nodesetval;
}

static char *node_text(xmlNodePtr node)
{
	xmlChar *s = xmlNodeGetContent(node);
	char *out = xstrdup(s != NULL ? (const char *)s : "");

	xmlFree(s);
	return itest_keep(out);
}

int html_count(struct resp *r, const char *xpath_fmt, ...)
{
	va_list ap;
	char *xpath;
	xmlNodeSetPtr ns;

	va_start(ap, xpath_fmt);
	xpath = xvasprintf(xpath_fmt, ap);
	va_end(ap);
	ns = html_select(r, xpath);
	free(xpath);
	return ns != NULL ? ns->nodeNr : 0;
}

char *html_str(struct resp *r, const char *xpath_fmt, ...)
{
	va_list ap;
	char *xpath;
	xmlNodeSetPtr ns;

	va_start(ap, xpath_fmt);
	xpath = xvasprintf(xpath_fmt, ap);
	va_end(ap);
	ns = html_select(r, xpath);
	free(xpath);
	if (ns == NULL || ns->nodeNr == 0)
		return NULL;
	return node_text(ns->nodeTab[0]);
}

char **html_strs(struct resp *r, const char *xpath, size_t *n)
{
	xmlNodeSetPtr ns = html_select(r, xpath);
	char **v;

	*n = 0;
	if (ns == NULL || ns->nodeNr == 0)
		return NULL;
	v = itest_keep(xmalloc_check(calloc((size_t)ns->nodeNr, sizeof(*v))));
	for (int i = 0; i < ns->nodeNr; i++)
		v[i] = node_text(ns->nodeTab[i]);
	*n = (size_t)ns->nodeNr;
	return v;
}

char *html_form_input(struct resp *r, const char *form_id, const char *name)
{
	return html_str(r, "//form[@id='%s']//input[@name='%s']/@value", form_id, name);
}

char *html_logout_csrf(struct resp *r)
{
	return html_str(r, "//form[@action='/logout']//input[@name='csrf']/@value");
}

int text_after(const char *s, const char *after, char *out, size_t outlen)
{
	const char *p = s != NULL ? strstr(s, after) : NULL, *q;

	if (p == NULL)
		return 0;
	p += strlen(after);
	q = strchr(p, '"');
	if (q == NULL || (size_t)(q - p) >= outlen)
		return 0;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return 1;
}

/* ------------------------------------------------------------ sign-in */

struct resp *itest_sign_in(const char *file, int line, struct client *c,
    const char *login_path, const char *email, const char *password, const char *next)
{
	struct resp *r = client_request(file, line, c, "GET", login_path, NULL, NULL, 0, 0);
	char *csrf;

	itest_check_status(file, line, r, 200);
	csrf = html_form_input(r, "login", "csrf");
	if (csrf == NULL || *csrf == '\0')
		itest_fail(file, line, "GET %s: no hidden csrf input in form#login", login_path);
	if (next == NULL)
		next = html_form_input(r, "login", "next");
	return client_post_form(file, line, c, "/login", "email", email,
	    "password", password, "next", next, "csrf", csrf, (const char *)NULL);
}

char *itest_sign_in_ok(const char *file, int line, struct client *c,
    const char *email, const char *password)
{
	struct resp *r = itest_sign_in(file, line, c, "/login", email, password, NULL);
	char *cookie;

	itest_check_redirect(file, line, r, 303, "/projects");
	if (resp_set_cookie(r, "labeld_session") == NULL)
		itest_fail(file, line, "POST /login as %s: 303 but no Set-Cookie labeld_session", email);
	cookie = client_cookie(c, "labeld_session");
	if (cookie == NULL || *cookie == '\0')
		itest_fail(file, line, "POST /login as %s: labeld_session not in the cookie jar", email);
	return cookie;
}

/* ------------------------------------------------------------ SQL and shell */

int itest_shell(const char *cmd)
{
	int st;

	fflush(stdout);
	fflush(stderr);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* s single-quoted for the shell. */
static char *shell_quote(const char *s)
{
	size_t n = 2;
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		n += *p == '\'' ? 4 : 1;
	out = o = xmalloc_check(malloc(n + 1));
	*o++ = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* The command line running sql, or NULL when LABELD_TEST_SQL is unset. */
static char *sql_command(const char *opts, const char *sql)
{
	const char *prefix = getenv("LABELD_TEST_SQL");
	char *q, *cmd;

	if (prefix == NULL || *prefix == '\0')
		return NULL;
	q = shell_quote(sql);
	cmd = xasprintf("%s %s-e %s", prefix, opts, q);
	free(q);
	return cmd;
}

void itest_sql(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char *sql, *cmd;
	int st;

	va_start(ap, fmt);
	sql = itest_keep(xvasprintf(fmt, ap));
	va_end(ap);
	cmd = sql_command("", sql);
	if (cmd == NULL)
		itest_fail(file, line, "environment variable LABELD_TEST_SQL is not set");
	st = itest_shell(cmd);
	free(cmd);
	if (st != 0)
		itest_fail(file, line, "SQL failed (exit %d): %s", st, sql);
}

int itest_sql_try(const char *fmt, ...)
{
	va_list ap;
	char *sql, *cmd;
	int st;

	va_start(ap, fmt);
	sql = xvasprintf(fmt, ap);
	va_end(ap);
	cmd = sql_command("", sql);
	free(sql);
	if (cmd == NULL)
		return -1;
	st = itest_shell(cmd);
	free(cmd);
	return st;
}

/* The recount of tests/integration/counters_recount.sql, read once. */
static char *recount_sql(const char *file, int line)
{
	static char *text;
	char *path, *out = NULL;
	size_t len = 0, n;
	char buf[4096];
	FILE *f, *mem;

	if (text != NULL)
		return text;
	path = itest_fmt("%s/tests/integration/counters_recount.sql",
	    itest_env(file, line, "LABELD_TEST_SRCDIR"));
	f = fopen(path, "r");
	if (f == NULL)
		itest_fail(file, line, "cannot read %s: %s", path, strerror(errno));
	mem = open_memstream(&out, &len);
	if (mem == NULL)
		xmalloc_check(NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(f);
	fclose(mem);
	text = out;
	return text;
}

char *itest_counters_recount(const char *file, int line, long project_id)
{
	return itest_sql_query(file, line, "SET @p = %ld;\n%s", project_id, recount_sql(file, line));
}

void itest_counters_check(const char *file, int line, long project_id)
{
	char *out = itest_counters_recount(file, line, project_id);

	if (out[0] != '\0')
		itest_fail(file, line, "project %ld: counters differ from a full recount "
		    "(what, counter, recount):\n%s", project_id, out);
}

#define ITEST_TEAM "'Integration test labelers'"

void itest_team_serve(const char *file, int line, long project)
{
	itest_sql(file, line, "INSERT IGNORE INTO teams (name) VALUES (" ITEST_TEAM "); "
	    "INSERT IGNORE INTO project_teams (project_id, team_id) "
	    "SELECT %ld, id FROM teams WHERE name = " ITEST_TEAM, project);
}

void itest_team_join(const char *file, int line, const char *email)
{
	itest_sql(file, line, "INSERT IGNORE INTO teams (name) VALUES (" ITEST_TEAM "); "
	    "INSERT IGNORE INTO team_members (team_id, user_id) "
	    "SELECT t.id, u.id FROM teams t JOIN users u ON u.email = %s WHERE t.name = " ITEST_TEAM,
	    sql_str(email));
}

long itest_sql_project(const char *file, int line, const char *folder, const char *task,
    long nitems, int width, int height)
{
	const char *name = itest_uniq(folder);
	long p = strtol(itest_sql_query(file, line,
	    "INSERT INTO datasets (name, description, datastore_id, path, kind, source) "
	    "SELECT %s, '', id, %s, 'input', 'datastore' FROM datastores WHERE is_default = 1; "
	    "INSERT INTO projects (name, task, dataset_id, description, state) "
	    "VALUES (%s, %s, LAST_INSERT_ID(), '', 'running'); SET @p = LAST_INSERT_ID(); "
	    "INSERT INTO labels (project_id, name, position) VALUES (@p, 'cat', 1), (@p, 'dog', 2), "
	    "(@p, 'bird', 3); "
	    "INSERT INTO items (project_id, path, width, height, format) "
	    "SELECT @p, CONCAT(%s, '/', @p, '/', seq, '.png'), %d, %d, 'png' FROM seq_0_to_%ld "
	    "WHERE seq > 0; "
	    "INSERT INTO project_counters (project_id, items_total) VALUES (@p, %ld); SELECT @p;",
	    sql_str(name), sql_str(folder), sql_str(name), sql_str(task), sql_str(folder),
	    width, height, nitems, nitems), NULL, 10);

	if (p <= 0)
		itest_fail(file, line, "no project made");
	itest_team_serve(file, line, p);
	return p;
}

struct client *itest_new_labeler(const char *file, int line, const char **email_out)
{
	const char *email = itest_fmt("%s@example.com", itest_uniq("labeler"));
	struct client *c = client_new(file, line, NULL);

	itest_sql(file, line, "INSERT INTO users (email, password_hash) "
	    "SELECT %s, password_hash FROM users WHERE email = %s",
	    sql_str(email), sql_str(itest_env(file, line, "LABELD_TEST_USER_EMAIL")));
	itest_team_join(file, line, email);
	itest_sign_in_ok(file, line, c, email, itest_env(file, line, "LABELD_TEST_USER_PASSWORD"));
	if (email_out != NULL)
		*email_out = email;
	return c;
}

char *itest_sql_query(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char *sql, *cmd, *out = NULL;
	size_t outlen = 0;
	FILE *f, *mem;
	char buf[4096];
	size_t n;
	int st;

	va_start(ap, fmt);
	sql = itest_keep(xvasprintf(fmt, ap));
	va_end(ap);
	cmd = sql_command("-N -B ", sql);
	if (cmd == NULL)
		itest_fail(file, line, "environment variable LABELD_TEST_SQL is not set");
	fflush(stdout);
	f = popen(cmd, "r");
	free(cmd);
	if (f == NULL)
		itest_fail(file, line, "cannot run SQL: %s", strerror(errno));
	mem = open_memstream(&out, &outlen);
	if (mem == NULL)
		xmalloc_check(NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(mem);
	st = pclose(f);
	itest_keep(out);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		itest_fail(file, line, "SQL failed: %s", sql);
	while (outlen > 0 && (out[outlen - 1] == '\n' || out[outlen - 1] == '\r'))
		out[--outlen] = '\0';
	return out;
}

char *sql_str(const char *s)
{
	size_t n = 3;
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		n += (*p == '\'' || *p == '\\') ? 2 : 1;
	out = o = xmalloc_check(malloc(n));
	*o++ = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return itest_keep(out);
}

/* ------------------------------------------------------------ blob service, logs */

void itest_badhttp_stop(long pid)
{
	/* Once: the clean-up finds it gone when the test stopped it. */
	if (pid > 0 && waitpid((pid_t)pid, NULL, WNOHANG) == 0) {
		kill((pid_t)pid, SIGTERM);
		waitpid((pid_t)pid, NULL, 0);
	}
}

/* Clean-up: stop the misbehaving server (arg is its pid). */
static void badhttp_stop(void *arg)
{
	itest_badhttp_stop((long)arg);
}

int itest_badhttp_start(long *pid_out)
{
	char *script = itest_fmt("%s/tests/unit/badhttp.js", ENV("LABELD_TEST_SRCDIR"));
	char *portfile = itest_fmt("/tmp/labeld-itest-badhttp-%ld", (long)getpid());
	int port = 0;
	pid_t pid;

	unlink(portfile);
	pid = fork();
	CHECK(pid >= 0, "fork failed");
	if (pid == 0) {
		execlp("node", "node", script, portfile, (char *)NULL);
		_exit(127);
	}
	itest_defer(badhttp_stop, (void *)(long)pid);
	for (int i = 0; i < 200 && port == 0; i++) {
		int status;
		FILE *f;
		CHECK(waitpid(pid, &status, WNOHANG) != pid, "node %s exited at once (is node installed?)", script);
		if ((f = fopen(portfile, "r")) != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port == 0)
			itest_sleep_ms(50);
	}
	unlink(portfile);
	CHECK(port > 0, "%s did not start within 10 s", script);
	if (pid_out != NULL)
		*pid_out = (long)pid;
	return port;
}

bool itest_log_has(const char *a, const char *b)
{
	glob_t g;
	bool found = false;

	if (glob(itest_fmt("%s/labeld-*.log", ENV("LABELD_TEST_LOG_DIR")), 0, NULL, &g) != 0)
		return false;
	for (size_t i = 0; i < g.gl_pathc && !found; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		char *line = NULL;
		size_t cap = 0;
		if (f == NULL)
			continue;
		while (!found && getline(&line, &cap, f) >= 0)
			found = strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL);
		free(line);
		fclose(f);
	}
	globfree(&g);
	return found;
}

char *itest_uniq(const char *stem)
{
	static unsigned n;

	return itest_fmt("%s-%ld-%ld-%u", stem, (long)time(NULL), (long)getpid(), ++n);
}

/* ------------------------------------------------------------ the default datastore */

/* Clean-up: datastore arg is the default again (the old default cleared
 * first: the schema allows one default row at a time). */
static void default_back(void *arg)
{
	if (itest_sql_try("UPDATE datastores SET is_default = (id = %ld) ORDER BY is_default DESC",
	    (long)arg) != 0)
		itest_cleanup_error("the default datastore %ld was not restored", (long)arg);
}

void itest_make_default(const char *file, int line, struct client *admin, long id)
{
	char *page = itest_fmt("/admin/datastores/%ld", id), *csrf;
	long before = strtol(itest_sql_query(file, line, "SELECT id FROM datastores "
	    "WHERE is_default = 1"), NULL, 10);
	struct resp *r = client_request(file, line, admin, "GET", page, NULL, NULL, 0, 0);

	itest_check_status(file, line, r, 200);
	csrf = html_form_input(r, "make-default", "csrf");
	if (csrf == NULL || *csrf == '\0')
		itest_fail(file, line, "GET %s: no form#make-default with a csrf field", page);
	itest_defer(default_back, (void *)before);
	r = client_post_form(file, line, admin, itest_fmt("%s/default", page), "csrf", csrf,
	    (const char *)NULL);
	itest_check_redirect(file, line, r, 303, itest_fmt("%s?saved=default", page));
	itest_check_streq(file, line, "the default datastore", itest_sql_query(file, line,
	    "SELECT GROUP_CONCAT(id) FROM datastores WHERE is_default = 1"), itest_fmt("%ld", id));
}
