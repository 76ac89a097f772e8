/*
 * blob.c: the Azure Blob Storage client (REST API version 2021-08-06).
 *
 * One request is: a URL built from the endpoint, the container, the
 * percent-encoded blob name and the query; x-ms-date and x-ms-version
 * headers; then either the SAS token appended to the query or a Shared Key
 * Authorization header.  The easy handle is set up the same way for every
 * request (http/https only, no redirects, timeouts, TLS verification, a
 * capped body) by blob_easy_setup, used by the single calls and by the
 * curl multi loop of blob_get_heads alike.
 *
 * Error sentences describe what happened ("the blob service answered HTTP
 * 404 (BlobNotFound)"); the remote body never goes into them, only an
 * error code that is a short word of letters.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "blob.h"

#define BLOB_API_VERSION "2021-08-06"
#define BLOB_USER_AGENT "labeld"
#define BLOB_KEY_MAX 128
#define BLOB_CODE_MAX 64
#define BLOB_QUERY_MAX 8
#define BLOB_HEADER_MAX 5
#define BLOB_PARALLEL_MAX 64
#define BLOB_ALLOW_MAX 64          /* entries of blob_allow_hosts */
#define BLOB_HOST_MAX 256
#define BLOB_ERRBODY_MAX 65536     /* an error body kept while streaming */

/* Everything a request needs to know about the account, copied. */
struct blob_ctx {
	char *endpoint;            /* without trailing '/' */
	const char *path;          /* the endpoint's URL path, points into endpoint */
	char *account;
	char *container;
	char *sas;                 /* NULL when none */
	unsigned char key[BLOB_KEY_MAX];
	size_t keylen;             /* 0: no Shared Key */
	struct blob_limits lim;
	int allowed;               /* the endpoint's host is on the allow list */
	char setup_err[192];       /* non-empty: every call fails with this */
};

struct blob_client {
	struct blob_ctx ctx;
	CURL *curl;
	blob_page_fn page_fn;      /* before each page of a listing, or NULL */
	void *page_ctx;
};

struct blob_param {
	const char *name;
	const char *value;         /* raw; encoded when the URL is built */
};

/* One request to make. */
struct blob_req {
	const char *method;        /* "GET" or "PUT" */
	const char *name;          /* blob name, or NULL for the container itself */
	struct blob_param query[BLOB_QUERY_MAX];
	size_t nquery;
	int put;                   /* send body (possibly empty) */
	const void *body;
	size_t bodylen;
	const char *content_type;  /* NULL: no Content-Type header */
	const char *blob_type;     /* x-ms-blob-type, or NULL */
	const char *blob_content_type;  /* x-ms-blob-content-type, or NULL */
	size_t range_len;          /* > 0: x-ms-range: bytes=off-(off + range_len - 1) */
	uint64_t range_off;
	const char *content_md5;   /* Content-MD5 (base64) of the body, or NULL */
	const char *if_none_match; /* If-None-Match ("*": only when no blob has the name), or NULL */
};

/* What came back. */
struct blob_resp {
	unsigned char *data;
	size_t len, cap;
	size_t limit;              /* more body than this is an error */
	size_t keep;               /* > 0: stop (successfully) after this many bytes */
	int too_big;
	int enough;
	char code[BLOB_CODE_MAX];  /* x-ms-error-code when it is a plain word */
	int has_total;
	uint64_t total;            /* from Content-Range */
	char errbuf[CURL_ERROR_SIZE];
	char refused[BLOB_REFUSED_MAX]; /* an address the address rules refused */
	/* Streaming (blob_get_stream): a 200's body goes to these instead. */
	CURL *h;
	blob_begin_fn begin;
	blob_write_fn write;
	void *stream_ctx;
	uint64_t stream_max;       /* 0: no limit */
	uint64_t streamed;
	int started;               /* begin was called */
	int stopped;               /* begin or write asked to stop */
};

/* ------------------------------------------------------------ small helpers */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int is_word(const char *s, size_t n)
{
	if (n == 0 || n >= BLOB_CODE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return 0;
	return 1;
}

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode s, keeping unreserved characters (and '/' when keep_slash).
 * Works byte by byte, so UTF-8 comes out as its encoded bytes.  Returns a
 * malloc'd string or NULL when out of memory. */
static char *pct_encode(const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	char *out = malloc(n * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (is_unreserved(*p) || (keep_slash && *p == '/')) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX in place (for names the service sent with Encoded="true").
 * -1 when a sequence is malformed or decodes to NUL. */
static int pct_decode_inplace(char *s)
{
	char *o = s;
	for (const char *p = s; *p; p++) {
		if (*p == '%') {
			int hi = hexval((unsigned char)p[1]);
			int lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			*o++ = (char)(hi * 16 + lo);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return 0;
}

/* A growing string for the URL and the string to sign. */
struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

static void sb_add_encoded(struct sbuf *b, const char *s, int keep_slash)
{
	char *e = pct_encode(s, keep_slash);
	if (!e) {
		b->oom = 1;
		return;
	}
	sb_add(b, e);
	free(e);
}

/* "Sun, 06 Nov 1994 08:49:37 GMT", without the locale (strftime's %a is
 * localised). */
static void http_date(char *out, size_t outlen)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
	    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

/* Strict base64 decode of the account key.  -1 when it is not base64 or
 * does not fit. */
static int key_decode(const char *b64, unsigned char *out, size_t outmax, size_t *outlen)
{
	size_t n = strlen(b64);
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > outmax)
		return -1;
	size_t pad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b64[i];
		if (c == '=') {
			if (i < n - 2)
				return -1;
			pad++;
		} else if (pad || !(isalnum(c) || c == '+' || c == '/')) {
			return -1;
		}
	}
	int got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (got < 0 || (size_t)got < pad)
		return -1;
	*outlen = (size_t)got - pad;
	return 0;
}

/* ------------------------------------------------------------ account setup */

/* The process's address rules (blob_policy_set): written before threads
 * start, only read afterwards. */
struct allow_entry {
	char host[BLOB_HOST_MAX];  /* as curl's URL parser spells it, lower case */
	long port;                 /* 0: any port */
};
static struct allow_entry allow_list[BLOB_ALLOW_MAX];
static size_t allow_count;
static long policy_connect_ms = 5000;

void blob_limits_default(struct blob_limits *l)
{
	l->connect_timeout_ms = policy_connect_ms;
	l->total_timeout_ms = 30000;
	l->max_response = (size_t)8 << 20;
}

int blob_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	xmlInitParser();
	return 0;
}

/* The host (lower case, as curl's URL parser writes it: IPv4 in dotted
 * decimal whatever its spelling, IPv6 in brackets), the scheme and the
 * port (the scheme's default when none is written) of url.  0, or -1
 * when curl cannot parse it. */
static int url_host_port(const char *url, char *host, size_t hostlen, char *scheme,
    size_t schemelen, long *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *sc = NULL, *pt = NULL;
	int rc = -1;
	if (!u)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &sc, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &pt, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    strlen(h) < hostlen && strlen(sc) < schemelen && *h) {
		for (size_t i = 0; h[i]; i++)
			host[i] = (char)tolower((unsigned char)h[i]);
		host[strlen(h)] = '\0';
		snprintf(scheme, schemelen, "%s", sc);
		*port = strtol(pt, NULL, 10);
		rc = 0;
	}
	curl_free(h);
	curl_free(sc);
	curl_free(pt);
	curl_url_cleanup(u);
	return rc;
}

int blob_policy_set(const char *allow_hosts, long connect_timeout_ms, char *err, size_t errlen)
{
	struct allow_entry list[BLOB_ALLOW_MAX];
	size_t n = 0;
	const char *p = allow_hosts ? allow_hosts : "";
	while (*p) {
		size_t len = strcspn(p, " \t,");
		if (len == 0) {
			p++;
			continue;
		}
		char tok[BLOB_HOST_MAX + 16], url[BLOB_HOST_MAX + 32], scheme[16];
		int explicit_port;
		if (len >= BLOB_HOST_MAX) {
			set_err(err, errlen, "blob_allow_hosts: an entry is longer than %d characters",
			    BLOB_HOST_MAX - 1);
			return -1;
		}
		memcpy(tok, p, len);
		tok[len] = '\0';
		p += len;
		if (n == BLOB_ALLOW_MAX) {
			set_err(err, errlen, "blob_allow_hosts: more than %d entries", BLOB_ALLOW_MAX);
			return -1;
		}
		/* A host or host:port, nothing else ("[::1]:10000" for IPv6). */
		if (strpbrk(tok, "/@?#%\\") || tok[0] == ':' || tok[len - 1] == ':') {
			set_err(err, errlen, "blob_allow_hosts: \"%s\" is not a host or host:port", tok);
			return -1;
		}
		explicit_port = tok[len - 1] != ']' && strchr(strrchr(tok, ']') ? strrchr(tok, ']') : tok, ':');
		snprintf(url, sizeof(url), "http://%s/", tok);
		if (url_host_port(url, list[n].host, sizeof(list[n].host), scheme, sizeof(scheme),
		    &list[n].port) < 0 || (explicit_port && list[n].port <= 0)) {
			set_err(err, errlen, "blob_allow_hosts: \"%s\" is not a host or host:port", tok);
			return -1;
		}
		if (!explicit_port)
			list[n].port = 0;
		n++;
	}
	memcpy(allow_list, list, n * sizeof(list[0]));
	allow_count = n;
	policy_connect_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 5000;
	return 0;
}

/* 1 when the host and port of url are on the allow list. */
static int host_allowed(const char *host, long port)
{
	for (size_t i = 0; i < allow_count; i++)
		if (strcmp(allow_list[i].host, host) == 0 &&
		    (allow_list[i].port == 0 || allow_list[i].port == port))
			return 1;
	return 0;
}

/* Why an IPv4 address (network byte order) may not be reached, or NULL. */
static const char *v4_refusal(const unsigned char a[4])
{
	if (a[0] == 0)
		return "an unspecified (0.0.0.0/8)";
	if (a[0] == 127)
		return "a loopback";
	if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168))
		return "a private";
	if (a[0] == 100 && (a[1] & 0xc0) == 64)
		return "a shared (carrier-grade NAT, 100.64.0.0/10)";
	if (a[0] == 169 && a[1] == 254)
		return "a link-local";
	if (a[0] == 192 && a[1] == 0 && a[2] == 0)
		return "an IETF protocol (192.0.0.0/24)";
	if (a[0] == 198 && (a[1] & 0xfe) == 18)
		return "a benchmarking (198.18.0.0/15)";
	if ((a[0] & 0xf0) == 224)
		return "a multicast";
	if ((a[0] & 0xf0) == 240)
		return "a reserved or broadcast";
	return NULL;
}

const char *blob_address_refusal(const struct sockaddr *sa, size_t salen)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const unsigned char zero[16];
	if (!sa)
		return "an unknown";
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return v4_refusal((const unsigned char *)&in->sin_addr.s_addr);
	}
	if (sa->sa_family != AF_INET6 || salen < sizeof(struct sockaddr_in6))
		return "a non-IP";
	const unsigned char *a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	/* IPv6 forms that carry an IPv4 address are judged by that address:
	 * IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d),
	 * NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::). */
	if (memcmp(a, zero, 15) == 0 && a[15] <= 1)
		return a[15] ? "a loopback" : "an unspecified";
	if (memcmp(a, v4mapped, 12) == 0 || memcmp(a, zero, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_refusal(a + 12);
	if (a[0] == 0x20 && a[1] == 0x02)
		return v4_refusal(a + 2);
	if ((a[0] & 0xfe) == 0xfc)
		return "a unique-local (fc00::/7)";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "a link-local";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return "a site-local";
	if (a[0] == 0xff)
		return "a multicast";
	return NULL;
}

/* blob_endpoint_check, and *allowed: the endpoint's host is on the allow
 * list.  with_query: a query is allowed (blob_curl_restrict's URLs). */
static int endpoint_check(const char *url, int with_query, int *allowed, char *err, size_t errlen)
{
	*allowed = 0;
	if (!url || !*url) {
		set_err(err, errlen, "the endpoint is empty");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f) {
			set_err(err, errlen, "the endpoint contains spaces, control or non-ASCII characters");
			return -1;
		}
	}
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
		set_err(err, errlen, "the endpoint must be an http:// or https:// URL");
		return -1;
	}
	if ((!with_query && strchr(url, '?')) || strchr(url, '#')) {
		set_err(err, errlen, "the endpoint must not contain a query or fragment "
		    "(a SAS token goes in its own setting)");
		return -1;
	}
	const char *auth = strstr(url, "://") + 3;
	size_t authlen = strcspn(auth, "/?");
	if (authlen == 0) {
		set_err(err, errlen, "the endpoint has no host name");
		return -1;
	}
	if (memchr(auth, '@', authlen)) {
		set_err(err, errlen, "the endpoint must not contain a user name or password");
		return -1;
	}
	char host[BLOB_HOST_MAX], scheme[16];
	long port;
	if (url_host_port(url, host, sizeof(host), scheme, sizeof(scheme), &port) < 0) {
		set_err(err, errlen, "the endpoint is not a valid URL with a host name");
		return -1;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		set_err(err, errlen, "the endpoint must be an http:// or https:// URL");
		return -1;
	}
	*allowed = host_allowed(host, port);
	if (!*allowed && strcasecmp(scheme, "http") == 0) {
		set_err(err, errlen, "the endpoint must be an https:// URL (http:// is only for "
		    "hosts in the blob_allow_hosts setting)");
		return -1;
	}
	return 0;
}

int blob_endpoint_check(const char *url, char *err, size_t errlen)
{
	int allowed;
	return endpoint_check(url, 0, &allowed, err, errlen);
}

static void ctx_free(struct blob_ctx *c)
{
	free(c->endpoint);
	free(c->account);
	free(c->container);
	free(c->sas);
	OPENSSL_cleanse(c->key, sizeof(c->key));
	memset(c, 0, sizeof(*c));
}

static int sas_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (!(is_unreserved(*p) || strchr("%&=+:,/;!*'()$@", *p)))
			return 0;
	return 1;
}

/* Copy an account into ctx.  Problems with the settings are kept in
 * ctx->setup_err and reported by every call; -1 only when out of memory. */
static int ctx_init(struct blob_ctx *c, const struct blob_account *acc, const struct blob_limits *lim)
{
	memset(c, 0, sizeof(*c));
	blob_limits_default(&c->lim);
	if (lim) {
		/* blob_connect_timeout (the policy's) is the most any call waits. */
		if (lim->connect_timeout_ms > 0 && lim->connect_timeout_ms < c->lim.connect_timeout_ms)
			c->lim.connect_timeout_ms = lim->connect_timeout_ms;
		if (lim->total_timeout_ms > 0)
			c->lim.total_timeout_ms = lim->total_timeout_ms;
		if (lim->max_response > 0)
			c->lim.max_response = lim->max_response;
	}
	const char *ep = acc && acc->endpoint ? acc->endpoint : "";
	const char *sas = acc && acc->sas ? acc->sas : "";
	if (*sas == '?')
		sas++;
	c->endpoint = strdup(ep);
	c->account = strdup(acc && acc->account ? acc->account : "");
	c->container = strdup(acc && acc->container ? acc->container : "");
	c->sas = *sas ? strdup(sas) : NULL;
	if (!c->endpoint || !c->account || !c->container || (*sas && !c->sas)) {
		ctx_free(c);
		return -1;
	}
	size_t n = strlen(c->endpoint);
	while (n > 0 && c->endpoint[n - 1] == '/')
		c->endpoint[--n] = '\0';
	if (endpoint_check(c->endpoint, 0, &c->allowed, c->setup_err, sizeof(c->setup_err)) < 0)
		return 0;
	const char *auth = strstr(c->endpoint, "://") + 3;
	c->path = auth + strcspn(auth, "/");
	if (!*c->container) {
		set_err(c->setup_err, sizeof(c->setup_err), "the container name is empty");
		return 0;
	}
	if (c->sas) {
		if (!sas_ok(c->sas))
			set_err(c->setup_err, sizeof(c->setup_err),
			    "the SAS token contains characters that do not belong in a URL query");
		return 0;
	}
	if (acc->key && *acc->key) {
		if (!*c->account) {
			set_err(c->setup_err, sizeof(c->setup_err),
			    "Shared Key authentication needs the account name");
			return 0;
		}
		if (key_decode(acc->key, c->key, sizeof(c->key), &c->keylen) < 0 || c->keylen == 0)
			set_err(c->setup_err, sizeof(c->setup_err), "the account key is not valid base64");
	}
	return 0;
}

struct blob_client *blob_client_new(const struct blob_account *acc, const struct blob_limits *lim)
{
	struct blob_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (ctx_init(&c->ctx, acc, lim) < 0) {
		free(c);
		return NULL;
	}
	c->curl = curl_easy_init();
	if (!c->curl) {
		ctx_free(&c->ctx);
		free(c);
		return NULL;
	}
	return c;
}

void blob_client_on_page(struct blob_client *c, blob_page_fn fn, void *ctx)
{
	c->page_fn = fn;
	c->page_ctx = ctx;
}

void blob_client_free(struct blob_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	ctx_free(&c->ctx);
	free(c);
}

char *blob_url(const struct blob_account *acc, const char *name)
{
	struct sbuf b = { 0 };
	const char *ep = acc->endpoint ? acc->endpoint : "";
	size_t n = strlen(ep);
	while (n > 0 && ep[n - 1] == '/')
		n--;
	sb_addn(&b, ep, n);
	sb_add(&b, "/");
	sb_add_encoded(&b, acc->container ? acc->container : "", 0);
	sb_add(&b, "/");
	sb_add_encoded(&b, name ? name : "", 1);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* ------------------------------------------------------------ one request */

/* The body of a 200 of blob_get_stream: begin once, then each piece to
 * write.  Returns n, or 0 to stop the transfer (too big, or the caller
 * asked to stop). */
static size_t stream_body(struct blob_resp *r, const char *p, size_t n)
{
	if (!r->started) {
		curl_off_t cl = -1;
		curl_easy_getinfo(r->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (r->stream_max && cl > 0 && (uint64_t)cl > r->stream_max) {
			r->too_big = 1;
			return 0;
		}
		r->started = 1;
		if (r->begin(r->stream_ctx, cl >= 0 ? (int64_t)cl : -1) != 0) {
			r->stopped = 1;
			return 0;
		}
	}
	if (r->stream_max && r->streamed + n > r->stream_max) {
		r->too_big = 1;
		return 0;
	}
	r->streamed += n;
	if (n > 0 && r->write(r->stream_ctx, p, n) != 0) {
		r->stopped = 1;
		return 0;
	}
	return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct blob_resp *r = ud;
	size_t n = size * nmemb, take = n;
	int over = 0;
	if (r->write) {
		long st = 0;
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &st);
		if (st == 200)
			return stream_body(r, p, n);
	}
	if (r->keep && r->len + take > r->keep) {
		take = r->keep - r->len;
		over = 1;
	}
	if (r->len + take > r->limit) {
		r->too_big = 1;
		return 0;
	}
	if (r->len + take + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->len + take + 1)
			cap *= 2;
		unsigned char *d = realloc(r->data, cap);
		if (!d)
			return 0;
		r->data = d;
		r->cap = cap;
	}
	memcpy(r->data + r->len, p, take);
	r->len += take;
	r->data[r->len] = '\0';
	if (over) {
		r->enough = 1;
		return 0;
	}
	return n;
}

/* Header value after "name:", trimmed, or NULL when the line is another
 * header. */
static const char *header_value(const char *line, size_t n, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return NULL;
	const char *v = line + nl + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*vlen = (size_t)(end - v);
	return v;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct blob_resp *r = ud;
	size_t n = size * nmemb, vlen;
	const char *v;
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue): forget the previous one. */
		r->code[0] = '\0';
		r->has_total = 0;
	} else if ((v = header_value(p, n, "x-ms-error-code", &vlen))) {
		if (is_word(v, vlen)) {
			memcpy(r->code, v, vlen);
			r->code[vlen] = '\0';
		}
	} else if ((v = header_value(p, n, "Content-Range", &vlen))) {
		/* "bytes 0-15/1234" */
		const char *slash = memchr(v, '/', vlen);
		if (slash && vlen - (size_t)(slash - v) > 1 && vlen < 96) {
			char tmp[96];
			size_t tl = vlen - (size_t)(slash + 1 - v);
			memcpy(tmp, slash + 1, tl);
			tmp[tl] = '\0';
			char *e;
			if (isdigit((unsigned char)tmp[0])) {
				unsigned long long t = strtoull(tmp, &e, 10);
				if (*e == '\0') {
					r->total = t;
					r->has_total = 1;
				}
			}
		}
	}
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct blob_prepared {
	char *url;
	struct curl_slist *headers;
};

static void prepared_free(struct blob_prepared *p)
{
	free(p->url);
	curl_slist_free_all(p->headers);
	p->url = NULL;
	p->headers = NULL;
}

static int cmp_param(const void *a, const void *b)
{
	return strcmp(((const struct blob_param *)a)->name, ((const struct blob_param *)b)->name);
}

/* The Shared Key signature (base64 of HMAC-SHA256 over the string to
 * sign), written into sig (at least 64 bytes).  ms_headers are "name:value"
 * lines with lower-case names, already sorted.  -1 when out of memory. */
static int sign_request(const struct blob_ctx *c, const struct blob_req *r,
    char *const *ms_headers, size_t nms, char *sig, size_t siglen)
{
	struct sbuf b = { 0 };
	char num[32] = "";
	if (r->put && r->bodylen > 0)
		snprintf(num, sizeof(num), "%zu", r->bodylen);
	sb_add(&b, r->method);
	sb_add(&b, "\n\n\n");        /* Content-Encoding, Content-Language */
	sb_add(&b, num);             /* Content-Length, empty when 0 */
	sb_add(&b, "\n");
	sb_add(&b, r->content_md5 ? r->content_md5 : "");
	sb_add(&b, "\n");
	sb_add(&b, r->content_type ? r->content_type : "");
	sb_add(&b, "\n");
	/* Date (x-ms-date is used), If-Modified-Since, If-Match, */
	sb_add(&b, "\n\n\n");
	sb_add(&b, r->if_none_match ? r->if_none_match : "");
	/* If-Unmodified-Since, Range. */
	sb_add(&b, "\n\n\n");
	for (size_t i = 0; i < nms; i++) {
		sb_add(&b, ms_headers[i]);
		sb_add(&b, "\n");
	}
	sb_add(&b, "/");
	sb_add(&b, c->account);
	sb_add(&b, c->path);
	sb_add(&b, "/");
	sb_add_encoded(&b, c->container, 0);
	if (r->name) {
		sb_add(&b, "/");
		sb_add_encoded(&b, r->name, 1);
	}
	struct blob_param q[BLOB_QUERY_MAX];
	memcpy(q, r->query, r->nquery * sizeof(q[0]));
	/* Our parameter names are lower-case already. */
	qsort(q, r->nquery, sizeof(q[0]), cmp_param);
	for (size_t i = 0; i < r->nquery; i++) {
		sb_add(&b, "\n");
		sb_add(&b, q[i].name);
		sb_add(&b, ":");
		sb_add(&b, q[i].value);
	}
	if (b.oom) {
		free(b.s);
		return -1;
	}
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	unsigned char *ok = HMAC(EVP_sha256(), c->key, (int)c->keylen, (const unsigned char *)b.s,
	    b.len, mac, &maclen);
	free(b.s);
	if (!ok || siglen < 4 * ((maclen + 2) / 3) + 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)sig, mac, (int)maclen);
	return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION for endpoints that are not on the allow
 * list: the socket for an address curl resolved is made only when the
 * address may be reached (blob_address_refusal); otherwise the refusal is
 * noted in the response and curl tries its next address or fails with
 * CURLE_COULDNT_CONNECT.  Every connection is checked here, at the moment
 * it is made, so a name that resolves to a public address when the
 * datastore is saved and to an internal one later is still refused. */
static curl_socket_t open_checked(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
	char *refused = ud;   /* BLOB_REFUSED_MAX bytes */
	const char *why = blob_address_refusal(&addr->addr, addr->addrlen);
	if (why) {
		char ip[INET6_ADDRSTRLEN] = "?";
		if (addr->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&addr->addr)->sin_addr, ip, sizeof(ip));
		else if (addr->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&addr->addr)->sin6_addr, ip, sizeof(ip));
		snprintf(refused, BLOB_REFUSED_MAX, "%s (%s address)", ip, why);
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* The options every request shares, whoever makes it: http and https only
 * (https only unless the host is allowed), and then every address
 * connected to is checked (open_checked, refusals written into refused);
 * no proxy (the address checked must be the service's own), no
 * redirects, TLS verified, the policy's connect timeout at most. */
static void restrict_handle(CURL *h, int allowed, long connect_ms, char *refused)
{
	refused[0] = '\0';
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, allowed ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, allowed ? "http,https" : "https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, allowed ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) :
	    (long)CURLPROTO_HTTPS);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, allowed ? (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS) :
	    (long)CURLPROTO_HTTPS);
#endif
	if (!allowed) {
		curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
		curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, refused);
	}
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    connect_ms > 0 && connect_ms < policy_connect_ms ? connect_ms : policy_connect_ms);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
}

int blob_curl_restrict(void *curl, const char *url, char *refused, char *err, size_t errlen)
{
	int allowed;

	refused[0] = '\0';
	if (endpoint_check(url, 1, &allowed, err, errlen) < 0)
		return -1;
	restrict_handle(curl, allowed, 0, refused);
	return 0;
}

/* Set up h (fresh or reset) for request r: URL, headers, signature, safety
 * options, body callbacks into resp.  The strings curl needs are kept in
 * prep (the caller frees them after the transfer).  0, or -1 with err. */
static int blob_easy_setup(CURL *h, const struct blob_ctx *c, const struct blob_req *r,
    struct blob_resp *resp, struct blob_prepared *prep, char *err, size_t errlen)
{
	memset(prep, 0, sizeof(*prep));
	if (c->setup_err[0]) {
		set_err(err, errlen, "%s", c->setup_err);
		return -1;
	}
	if (r->name && !*r->name) {
		set_err(err, errlen, "the blob name is empty");
		return -1;
	}

	/* URL */
	struct sbuf u = { 0 };
	sb_add(&u, c->endpoint);
	sb_add(&u, "/");
	sb_add_encoded(&u, c->container, 0);
	if (r->name) {
		sb_add(&u, "/");
		sb_add_encoded(&u, r->name, 1);
	}
	for (size_t i = 0; i < r->nquery; i++) {
		sb_add(&u, i == 0 ? "?" : "&");
		sb_add(&u, r->query[i].name);
		sb_add(&u, "=");
		sb_add_encoded(&u, r->query[i].value, 0);
	}
	if (c->sas) {
		sb_add(&u, r->nquery ? "&" : "?");
		sb_add(&u, c->sas);
	}
	if (u.oom) {
		free(u.s);
		set_err(err, errlen, "out of memory");
		return -1;
	}
	prep->url = u.s;

	/* x-ms-* headers, sorted by name for the signature. */
	char date[64], range[64] = "", hdr[BLOB_HEADER_MAX][320];
	char *ms[BLOB_HEADER_MAX];
	size_t nms = 0;
	http_date(date, sizeof(date));
	snprintf(hdr[nms], sizeof(hdr[nms]), "x-ms-date:%s", date);
	ms[nms] = hdr[nms];
	nms++;
	snprintf(hdr[nms], sizeof(hdr[nms]), "x-ms-version:%s", BLOB_API_VERSION);
	ms[nms] = hdr[nms];
	nms++;
	if (r->blob_type) {
		snprintf(hdr[nms], sizeof(hdr[nms]), "x-ms-blob-type:%s", r->blob_type);
		ms[nms] = hdr[nms];
		nms++;
	}
	if (r->blob_content_type) {
		snprintf(hdr[nms], sizeof(hdr[nms]), "x-ms-blob-content-type:%s", r->blob_content_type);
		ms[nms] = hdr[nms];
		nms++;
	}
	if (r->range_len > 0) {
		snprintf(range, sizeof(range), "bytes=%llu-%llu", (unsigned long long)r->range_off,
		    (unsigned long long)(r->range_off + r->range_len - 1));
		snprintf(hdr[nms], sizeof(hdr[nms]), "x-ms-range:%s", range);
		ms[nms] = hdr[nms];
		nms++;
	}
	qsort(ms, nms, sizeof(ms[0]), cmp_str);

	struct curl_slist *hl = NULL, *t;
	int oom = 0;
#define ADD_HEADER(s) do { \
		if (!oom && !(t = curl_slist_append(hl, (s)))) \
			oom = 1; \
		else if (!oom) \
			hl = t; \
	} while (0)
	for (size_t i = 0; i < nms; i++)
		ADD_HEADER(ms[i]);
	if (r->put) {
		char ct[160];
		if (r->content_type)
			snprintf(ct, sizeof(ct), "Content-Type: %s", r->content_type);
		else
			snprintf(ct, sizeof(ct), "Content-Type:");   /* no form type */
		ADD_HEADER(ct);
		ADD_HEADER("Expect:");
	}
	if (r->content_md5) {
		char h5[64];
		snprintf(h5, sizeof(h5), "Content-MD5: %s", r->content_md5);
		ADD_HEADER(h5);
	}
	if (r->if_none_match) {
		char hn[64];
		snprintf(hn, sizeof(hn), "If-None-Match: %s", r->if_none_match);
		ADD_HEADER(hn);
	}
	if (c->keylen > 0 && !c->sas) {
		char sig[128], auth[sizeof(sig) + 160];
		if (sign_request(c, r, ms, nms, sig, sizeof(sig)) < 0) {
			oom = 1;
		} else {
			snprintf(auth, sizeof(auth), "Authorization: SharedKey %s:%s", c->account, sig);
			ADD_HEADER(auth);
		}
	}
#undef ADD_HEADER
	prep->headers = hl;
	if (oom) {
		prepared_free(prep);
		set_err(err, errlen, "out of memory");
		return -1;
	}

	/* Safety: the same for every request.  Only https unless the host is
	 * on the allow list, and then every address connected to is checked
	 * (open_checked).  No proxy: the address checked must be the
	 * service's own. */
	resp->errbuf[0] = '\0';
	resp->refused[0] = '\0';
	resp->h = h;
	curl_easy_setopt(h, CURLOPT_URL, prep->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, prep->headers);
	restrict_handle(h, c->allowed, c->lim.connect_timeout_ms, resp->refused);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->lim.total_timeout_ms);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);   /* "a/../b" is a blob name, not a path to squash */
	curl_easy_setopt(h, CURLOPT_USERAGENT, BLOB_USER_AGENT);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	if (!resp->keep && !resp->write)
		curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)resp->limit);
	if (r->put) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->bodylen);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->bodylen ? r->body : "");
	} else if (strcmp(r->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);   /* DELETE */
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	return 0;
}

/* An error document's <Code> when it is a plain word, else "". */
static void body_code(const struct blob_resp *resp, char *code, size_t codelen);

/* Turn a finished transfer into 0 (status in ok[]) or -1 with err.  *status
 * gets the HTTP status (0 when there was none). */
static int blob_result(CURL *h, CURLcode rc, const struct blob_ctx *c, struct blob_resp *resp,
    const long *ok, size_t nok, long *status, char *err, size_t errlen)
{
	long st = 0;
	*status = 0;
	if (resp->refused[0] && rc != CURLE_OK) {
		set_err(err, errlen, "refused to connect to %s: only hosts in the blob_allow_hosts "
		    "setting may have such addresses", resp->refused);
		return -1;
	}
	if (rc == CURLE_WRITE_ERROR && resp->stopped) {
		set_err(err, errlen, "the transfer was stopped by its reader");
		return -1;
	}
	if (rc == CURLE_WRITE_ERROR && resp->too_big && resp->write) {
		set_err(err, errlen, "the blob is larger than %llu bytes",
		    (unsigned long long)resp->stream_max);
		return -1;
	}
	if (rc == CURLE_WRITE_ERROR && resp->too_big) {
		set_err(err, errlen, "the response was larger than %zu bytes", resp->limit);
		return -1;
	}
	if (rc == CURLE_FILESIZE_EXCEEDED) {
		set_err(err, errlen, "the response was larger than %zu bytes", resp->limit);
		return -1;
	}
	if (rc == CURLE_WRITE_ERROR && !resp->enough) {
		set_err(err, errlen, "out of memory while reading the response");
		return -1;
	}
	if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR) {
		const char *why = resp->errbuf[0] ? resp->errbuf : curl_easy_strerror(rc);
		switch (rc) {
		case CURLE_OPERATION_TIMEDOUT:
			set_err(err, errlen, "the blob service did not answer within %ld ms (%s)",
			    c->lim.total_timeout_ms, why);
			break;
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_CONNECT:
			set_err(err, errlen, "could not reach the blob service (%s)", why);
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CACERT_BADFILE:
			set_err(err, errlen, "the TLS connection to the blob service failed (%s)", why);
			break;
		case CURLE_UNSUPPORTED_PROTOCOL:
			set_err(err, errlen, "the blob service must be reached over http or https");
			break;
		default:
			set_err(err, errlen, "the request to the blob service failed (%s)", why);
			break;
		}
		return -1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	*status = st;
	for (size_t i = 0; i < nok; i++)
		if (st == ok[i])
			return 0;
	if (st >= 300 && st < 400) {
		set_err(err, errlen, "the endpoint answered with a redirect (HTTP %ld); "
		    "labeld does not follow redirects", st);
		return -1;
	}
	if (!resp->code[0])
		body_code(resp, resp->code, sizeof(resp->code));
	if (resp->code[0])
		set_err(err, errlen, "the blob service answered HTTP %ld (%s)", st, resp->code);
	else
		set_err(err, errlen, "the blob service answered HTTP %ld", st);
	return -1;
}

static void resp_init(struct blob_resp *resp, size_t limit, size_t keep)
{
	memset(resp, 0, sizeof(*resp));
	resp->limit = limit;
	resp->keep = keep;
}

static void resp_free(struct blob_resp *resp)
{
	free(resp->data);
	resp->data = NULL;
	resp->len = resp->cap = 0;
}

/* Run r on the client's handle.  0 (the response in resp, its status in
 * *status) or -1 with err. */
static int blob_perform(struct blob_client *cl, const struct blob_req *r, struct blob_resp *resp,
    const long *ok, size_t nok, long *status, char *err, size_t errlen)
{
	struct blob_prepared prep;
	*status = 0;
	curl_easy_reset(cl->curl);   /* keeps the open connection */
	if (blob_easy_setup(cl->curl, &cl->ctx, r, resp, &prep, err, errlen) < 0)
		return -1;
	CURLcode rc = curl_easy_perform(cl->curl);
	int ret = blob_result(cl->curl, rc, &cl->ctx, resp, ok, nok, status, err, errlen);
	prepared_free(&prep);
	return ret;
}

/* ------------------------------------------------------------ XML */

/* Parse a response body as XML without network access, DTD loading or
 * entity expansion; a document with a DOCTYPE is refused.  NULL when it is
 * not such a document. */
static xmlDocPtr xml_read_safe(const unsigned char *data, size_t len)
{
	if (!data || len == 0 || len > INT_MAX)
		return NULL;
	if (memmem(data, len, "<!DOCTYPE", 9))
		return NULL;
	xmlDocPtr doc = xmlReadMemory((const char *)data, (int)len, "blob.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return NULL;
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static xmlNodePtr xml_child(xmlNodePtr parent, const char *name)
{
	for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0)
			return n;
	return NULL;
}

static void body_code(const struct blob_resp *resp, char *code, size_t codelen)
{
	code[0] = '\0';
	if (resp->len == 0 || resp->len > 65536)
		return;
	xmlDocPtr doc = xml_read_safe(resp->data, resp->len);
	if (!doc)
		return;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr cn = root && xmlStrcmp(root->name, (const xmlChar *)"Error") == 0
	    ? xml_child(root, "Code") : NULL;
	xmlChar *v = cn ? xmlNodeGetContent(cn) : NULL;
	if (v) {
		size_t n = strlen((const char *)v);
		if (is_word((const char *)v, n) && n < codelen)
			memcpy(code, v, n + 1);
		xmlFree(v);
	}
	xmlFreeDoc(doc);
}

/* The Name of a Blob or BlobPrefix element, percent-decoded when the
 * service marked it Encoded="true".  malloc'd (xmlFree) or NULL. */
static xmlChar *xml_name(xmlNodePtr entry)
{
	xmlNodePtr nn = xml_child(entry, "Name");
	if (!nn)
		return NULL;
	xmlChar *v = xmlNodeGetContent(nn);
	if (!v)
		return NULL;
	xmlChar *enc = xmlGetProp(nn, (const xmlChar *)"Encoded");
	int bad = 0;
	if (enc && xmlStrcmp(enc, (const xmlChar *)"true") == 0)
		bad = pct_decode_inplace((char *)v) < 0;
	xmlFree(enc);
	if (bad || !*v) {
		xmlFree(v);
		return NULL;
	}
	return v;
}

static int parse_u64(const char *s, uint64_t *out)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	char *e;
	unsigned long long v = strtoull(s, &e, 10);
	if (*e != '\0')
		return -1;
	*out = v;
	return 0;
}

#define BAD_LISTING "the listing was not valid blob-service XML"

/* One page of List Blobs: call fn per entry; *next gets the NextMarker
 * (malloc'd, NULL when the listing ended); *stopped is set when fn asked to
 * stop.  0 or -1 with err. */
static int list_page(const struct blob_resp *resp, blob_list_fn fn, void *ctx, char **next,
    int *stopped, char *err, size_t errlen)
{
	*next = NULL;
	*stopped = 0;
	xmlDocPtr doc = xml_read_safe(resp->data, resp->len);
	if (!doc) {
		set_err(err, errlen, BAD_LISTING);
		return -1;
	}
	int rc = -1;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!root || xmlStrcmp(root->name, (const xmlChar *)"EnumerationResults") != 0) {
		set_err(err, errlen, BAD_LISTING);
		goto out;
	}
	xmlNodePtr blobs = xml_child(root, "Blobs");
	for (xmlNodePtr e = blobs ? blobs->children : NULL; e && !*stopped; e = e->next) {
		if (e->type != XML_ELEMENT_NODE)
			continue;
		int prefix;
		if (xmlStrcmp(e->name, (const xmlChar *)"Blob") == 0)
			prefix = 0;
		else if (xmlStrcmp(e->name, (const xmlChar *)"BlobPrefix") == 0)
			prefix = 1;
		else
			continue;
		xmlChar *name = xml_name(e);
		if (!name) {
			set_err(err, errlen, BAD_LISTING);
			goto out;
		}
		uint64_t size = 0;
		xmlNodePtr cl = prefix ? NULL : xml_child(xml_child(e, "Properties"), "Content-Length");
		if (cl) {
			xmlChar *v = xmlNodeGetContent(cl);
			int bad = !v || parse_u64((const char *)v, &size) < 0;
			xmlFree(v);
			if (bad) {
				xmlFree(name);
				set_err(err, errlen, BAD_LISTING);
				goto out;
			}
		}
		if (fn(ctx, (const char *)name, size, prefix))
			*stopped = 1;
		xmlFree(name);
	}
	xmlNodePtr nm = xml_child(root, "NextMarker");
	xmlChar *mv = nm ? xmlNodeGetContent(nm) : NULL;
	if (mv && *mv && !*stopped) {
		*next = strdup((const char *)mv);
		if (!*next) {
			xmlFree(mv);
			set_err(err, errlen, "out of memory");
			goto out;
		}
	}
	xmlFree(mv);
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

/* ------------------------------------------------------------ operations */

static void req_param(struct blob_req *r, const char *name, const char *value)
{
	if (r->nquery < BLOB_QUERY_MAX) {
		r->query[r->nquery].name = name;
		r->query[r->nquery].value = value;
		r->nquery++;
	}
}

int blob_list(struct blob_client *c, const char *prefix, const char *delimiter,
    unsigned maxresults, blob_list_fn fn, void *ctx, char *err, size_t errlen)
{
	static const long ok[] = { 200 };
	char *marker = NULL, mr[24];
	int rc = -1;
	snprintf(mr, sizeof(mr), "%u", maxresults);
	for (;;) {
		if (c->page_fn && c->page_fn(c->page_ctx) != 0) {
			rc = 0;
			break;
		}
		struct blob_req r = { .method = "GET" };
		req_param(&r, "restype", "container");
		req_param(&r, "comp", "list");
		if (prefix && *prefix)
			req_param(&r, "prefix", prefix);
		if (delimiter && *delimiter)
			req_param(&r, "delimiter", delimiter);
		if (maxresults > 0)
			req_param(&r, "maxresults", mr);
		if (marker)
			req_param(&r, "marker", marker);
		struct blob_resp resp;
		long status;
		resp_init(&resp, c->ctx.lim.max_response, 0);
		if (blob_perform(c, &r, &resp, ok, 1, &status, err, errlen) < 0) {
			resp_free(&resp);
			break;
		}
		char *next = NULL;
		int stopped = 0;
		int prc = list_page(&resp, fn, ctx, &next, &stopped, err, errlen);
		resp_free(&resp);
		if (prc < 0)
			break;
		if (!next) {
			rc = 0;
			break;
		}
		if (marker && strcmp(marker, next) == 0) {
			free(next);
			set_err(err, errlen, "the listing did not advance (the same NextMarker twice)");
			break;
		}
		free(marker);
		marker = next;
	}
	free(marker);
	return rc;
}

int blob_get(struct blob_client *c, const char *name, size_t max_bytes,
    unsigned char **out, size_t *outlen, uint64_t *total, char *err, size_t errlen)
{
	return blob_get_range(c, name, 0, max_bytes, out, outlen, total, err, errlen);
}

int blob_get_range(struct blob_client *c, const char *name, uint64_t off, size_t max_bytes,
    unsigned char **out, size_t *outlen, uint64_t *total, char *err, size_t errlen)
{
	static const long ok[] = { 200, 206, 416 };
	*out = NULL;
	*outlen = 0;
	if (total)
		*total = 0;
	struct blob_req r = { .method = "GET", .name = name ? name : "" };
	int ranged = max_bytes > 0 && max_bytes != SIZE_MAX;
	if (off > 0 && (!ranged || off > UINT64_MAX - max_bytes)) {
		set_err(err, errlen, "a read from an offset needs a length");
		return -1;
	}
	if (ranged) {
		r.range_len = max_bytes;
		r.range_off = off;
	}
	struct blob_resp resp;
	long status;
	resp_init(&resp, c->ctx.lim.max_response, ranged ? max_bytes : 0);
	if (blob_perform(c, &r, &resp, ok, ranged ? 3 : 2, &status, err, errlen) < 0) {
		resp_free(&resp);
		return -1;
	}
	if (off > 0 && status == 200) {
		/* The whole blob from byte 0: not the bytes asked for. */
		resp_free(&resp);
		set_err(err, errlen, "the blob service ignored the byte range asked for");
		return -1;
	}
	uint64_t t = resp.len;
	if (status == 416) {
		/* A range is unsatisfiable only when it starts at or past the
		 * end (from 0: an empty blob): no bytes. */
		resp.len = 0;
		t = resp.has_total ? resp.total : off;
	} else if (resp.has_total) {
		t = resp.total;
	} else if (resp.enough) {
		curl_off_t cl = -1;
		curl_easy_getinfo(c->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl > 0)
			t = (uint64_t)cl;
	}
	if (!resp.data) {
		resp.data = malloc(1);
		if (!resp.data) {
			set_err(err, errlen, "out of memory");
			return -1;
		}
		resp.data[0] = '\0';
	}
	*out = resp.data;
	*outlen = resp.len;
	if (total)
		*total = t;
	return 0;
}

int blob_get_stream(struct blob_client *c, const char *name, uint64_t max_bytes,
    blob_begin_fn begin, blob_write_fn write, void *ctx, int *started, char *err, size_t errlen)
{
	static const long ok[] = { 200 };
	struct blob_req r = { .method = "GET", .name = name ? name : "" };
	struct blob_resp resp;
	long status;
	int rc;
	*started = 0;
	resp_init(&resp, BLOB_ERRBODY_MAX, 0);
	resp.begin = begin;
	resp.write = write;
	resp.stream_ctx = ctx;
	resp.stream_max = max_bytes;
	rc = blob_perform(c, &r, &resp, ok, 1, &status, err, errlen);
	if (rc == 0 && !resp.started) {
		/* An empty blob: no body came, so begin was not called yet. */
		resp.started = 1;
		if (begin(ctx, 0) != 0) {
			set_err(err, errlen, "the transfer was stopped by its reader");
			rc = -1;
		}
	}
	*started = resp.started;
	resp_free(&resp);
	return rc;
}

/* Run r, whose answer has no body worth keeping.  0 (status in ok[]), or
 * -1 with err. */
static int blob_call(struct blob_client *c, const struct blob_req *r, const long *ok, size_t nok,
    char *err, size_t errlen)
{
	struct blob_resp resp;
	long status;
	resp_init(&resp, c->ctx.lim.max_response, 0);
	int rc = blob_perform(c, r, &resp, ok, nok, &status, err, errlen);
	resp_free(&resp);
	return rc;
}

int blob_put(struct blob_client *c, const char *name, const void *data, size_t len,
    const char *content_type, char *err, size_t errlen)
{
	static const long ok[] = { 201 };
	struct blob_req r = {
		.method = "PUT",
		.name = name ? name : "",
		.put = 1,
		.body = data,
		.bodylen = data ? len : 0,
		.content_type = content_type && *content_type ? content_type : "application/octet-stream",
		.blob_type = "BlockBlob",
	};
	if (strpbrk(r.content_type, "\r\n")) {
		set_err(err, errlen, "the content type contains a line break");
		return -1;
	}
	return blob_call(c, &r, ok, 1, err, errlen);
}

/* The id of block index of upload run: base64 of "lb", 10 digits of run
 * and 12 of index (24 bytes, so 32 characters without padding), the same
 * length for every block as the service requires. */
static void block_id(uint32_t run, uint32_t index, char out[40])
{
	char raw[32];

	snprintf(raw, sizeof(raw), "lb%010u%012u", (unsigned)run, (unsigned)index);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)raw, 24);
}

/* base64 of the MD5 of data (Content-MD5: the service checks the bytes it
 * received against it and refuses a block that changed on the way). */
static void content_md5(const void *data, size_t len, char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data ? data : "", len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16) {
		out[0] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out, md, 16);
}

int blob_put_block(struct blob_client *c, const char *name, uint32_t run, uint32_t index,
    const void *data, size_t len, char *err, size_t errlen)
{
	static const long ok[] = { 201 };
	char id[40], md5[32];
	struct blob_req r = {
		.method = "PUT",
		.name = name ? name : "",
		.put = 1,
		.body = data,
		.bodylen = data ? len : 0,
	};
	block_id(run, index, id);
	content_md5(r.body, r.bodylen, md5);
	r.content_md5 = md5[0] ? md5 : NULL;
	req_param(&r, "comp", "block");
	req_param(&r, "blockid", id);
	/* A block that did not arrive (no answer, or a 5xx) is sent once
	 * more: a block is only staged, so sending it twice changes nothing. */
	for (int attempt = 0; ; attempt++) {
		struct blob_resp resp;
		long status;
		int rc;
		resp_init(&resp, c->ctx.lim.max_response, 0);
		rc = blob_perform(c, &r, &resp, ok, 1, &status, err, errlen);
		resp_free(&resp);
		if (rc == 0 || attempt == 1 || c->ctx.setup_err[0] || (status != 0 && status < 500))
			return rc;
	}
}

/* Put Block List of blocks 0 .. nblocks-1 of run; with if_none_match "*"
 * the commit is refused when the name is taken.  0, 1 (the name is taken),
 * or -1 with err. */
static int put_block_list(struct blob_client *c, const char *name, uint32_t run,
    uint32_t nblocks, const char *content_type, const char *if_none_match, char *err,
    size_t errlen)
{
	static const long ok[] = { 201 };
	struct sbuf b = { 0 };
	char id[40];
	if (content_type && strpbrk(content_type, "\r\n")) {
		set_err(err, errlen, "the content type contains a line break");
		return -1;
	}
	sb_add(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (uint32_t i = 0; i < nblocks; i++) {
		block_id(run, i, id);
		sb_add(&b, "<Latest>");
		sb_add(&b, id);
		sb_add(&b, "</Latest>");
	}
	sb_add(&b, "</BlockList>");
	if (b.oom) {
		free(b.s);
		set_err(err, errlen, "out of memory");
		return -1;
	}
	struct blob_req r = {
		.method = "PUT",
		.name = name ? name : "",
		.put = 1,
		.body = b.s,
		.bodylen = b.len,
		.content_type = "application/xml",
		.blob_content_type = content_type && *content_type ? content_type : NULL,
		.if_none_match = if_none_match,
	};
	struct blob_resp resp;
	long status;
	req_param(&r, "comp", "blocklist");
	resp_init(&resp, c->ctx.lim.max_response, 0);
	int rc = blob_perform(c, &r, &resp, ok, 1, &status, err, errlen);
	/* Azure answers 409 BlobAlreadyExists to If-None-Match: * on a blob
	 * that exists; 412 (a condition not met) means the same here. */
	if (rc < 0 && if_none_match && (status == 409 || status == 412)) {
		if (!resp.code[0])
			body_code(&resp, resp.code, sizeof(resp.code));
		if (status == 412 || strcmp(resp.code, "BlobAlreadyExists") == 0)
			rc = 1;
	}
	resp_free(&resp);
	free(b.s);
	return rc;
}

int blob_put_block_list(struct blob_client *c, const char *name, uint32_t run, uint32_t nblocks,
    const char *content_type, char *err, size_t errlen)
{
	return put_block_list(c, name, run, nblocks, content_type, NULL, err, errlen);
}

int blob_put_block_list_new(struct blob_client *c, const char *name, uint32_t run,
    uint32_t nblocks, const char *content_type, char *err, size_t errlen)
{
	return put_block_list(c, name, run, nblocks, content_type, "*", err, errlen);
}

int blob_delete(struct blob_client *c, const char *name, char *err, size_t errlen)
{
	static const long ok[] = { 202, 404 };
	struct blob_req r = { .method = "DELETE", .name = name ? name : "" };
	return blob_call(c, &r, ok, 2, err, errlen);
}

int blob_container_create(struct blob_client *c, char *err, size_t errlen)
{
	static const long ok[] = { 201 };
	struct blob_req r = { .method = "PUT", .put = 1 };
	req_param(&r, "restype", "container");
	struct blob_resp resp;
	long status;
	char e2[256];
	resp_init(&resp, c->ctx.lim.max_response, 0);
	int rc = blob_perform(c, &r, &resp, ok, 1, &status, e2, sizeof(e2));
	if (rc < 0 && status == 409) {
		if (!resp.code[0])
			body_code(&resp, resp.code, sizeof(resp.code));
		if (strcmp(resp.code, "ContainerAlreadyExists") == 0)
			rc = 0;
	}
	if (rc < 0)
		set_err(err, errlen, "%s", e2);
	resp_free(&resp);
	return rc;
}

/* ------------------------------------------------------------ many heads */

struct head_slot {
	CURL *h;
	struct blob_resp resp;
	struct blob_prepared prep;
	size_t index;
};

struct head_run {
	struct blob_ctx c;
	CURLM *m;
	const char *const *names;
	size_t n, next, active, bytes;
	blob_head_fn fn;
	void *ctx;
};

/* Start the next name on the free slot s; names that cannot start are
 * reported to fn at once and skipped.  Leaves s idle when none is left. */
static void head_start(struct head_run *run, struct head_slot *s)
{
	while (run->next < run->n) {
		char e[256];
		size_t ix = run->next++;
		struct blob_req r = {
			.method = "GET",
			.name = run->names[ix] ? run->names[ix] : "",
			.range_len = run->bytes,
		};
		resp_init(&s->resp, run->c.lim.max_response, run->bytes);
		curl_easy_reset(s->h);
		if (blob_easy_setup(s->h, &run->c, &r, &s->resp, &s->prep, e, sizeof(e)) < 0) {
			run->fn(run->ctx, ix, NULL, 0, e);
			continue;
		}
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, (void *)s);
		if (curl_multi_add_handle(run->m, s->h) != CURLM_OK) {
			prepared_free(&s->prep);
			run->fn(run->ctx, ix, NULL, 0, "could not start the transfer");
			continue;
		}
		s->index = ix;
		run->active++;
		return;
	}
}

/* A transfer of slot s ended with res: report it, then reuse the slot. */
static void head_done(struct head_run *run, struct head_slot *s, CURLcode res)
{
	static const long ok[] = { 200, 206, 416 };
	static const unsigned char empty[1];
	char e[256];
	long status;
	curl_multi_remove_handle(run->m, s->h);
	run->active--;
	if (blob_result(s->h, res, &run->c, &s->resp, ok, 3, &status, e, sizeof(e)) < 0)
		run->fn(run->ctx, s->index, NULL, 0, e);
	else if (status == 416 || s->resp.len == 0)
		run->fn(run->ctx, s->index, empty, 0, NULL);   /* an empty blob */
	else
		run->fn(run->ctx, s->index, s->resp.data, s->resp.len, NULL);
	resp_free(&s->resp);
	prepared_free(&s->prep);
	head_start(run, s);
}

int blob_get_heads(const struct blob_account *acc, const struct blob_limits *lim,
    const char *const *names, size_t n, size_t bytes, unsigned parallel,
    blob_head_fn fn, void *ctx, char *err, size_t errlen)
{
	if (n == 0)
		return 0;
	if (bytes == 0) {
		set_err(err, errlen, "the number of bytes to read is zero");
		return -1;
	}
	if (parallel == 0)
		parallel = 1;
	if (parallel > BLOB_PARALLEL_MAX)
		parallel = BLOB_PARALLEL_MAX;
	if (parallel > n)
		parallel = (unsigned)n;

	struct head_run run = { .names = names, .n = n, .bytes = bytes, .fn = fn, .ctx = ctx };
	if (ctx_init(&run.c, acc, lim) < 0) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	if (run.c.setup_err[0]) {
		set_err(err, errlen, "%s", run.c.setup_err);
		ctx_free(&run.c);
		return -1;
	}
	int rc = -1;
	struct head_slot *slots = calloc(parallel, sizeof(*slots));
	run.m = curl_multi_init();
	if (!slots || !run.m) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	curl_multi_setopt(run.m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)parallel);
	for (unsigned i = 0; i < parallel; i++) {
		slots[i].h = curl_easy_init();
		if (!slots[i].h) {
			set_err(err, errlen, "out of memory");
			goto out;
		}
	}
	for (unsigned i = 0; i < parallel; i++)
		head_start(&run, &slots[i]);
	while (run.active > 0) {
		int running = 0, left = 0;
		if (curl_multi_perform(run.m, &running) != CURLM_OK) {
			set_err(err, errlen, "the transfer loop failed");
			goto out;
		}
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(run.m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct head_slot *s = NULL;
			CURLcode res = msg->data.result;   /* msg is invalid after remove */
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			head_done(&run, s, res);
		}
		if (run.active > 0 && curl_multi_poll(run.m, NULL, 0, 1000, NULL) != CURLM_OK) {
			set_err(err, errlen, "the transfer loop failed");
			goto out;
		}
	}
	rc = 0;
out:
	for (unsigned i = 0; slots && i < parallel; i++) {
		if (slots[i].h) {
			if (run.m)
				curl_multi_remove_handle(run.m, slots[i].h);
			curl_easy_cleanup(slots[i].h);
		}
		resp_free(&slots[i].resp);
		prepared_free(&slots[i].prep);
	}
	free(slots);
	if (run.m)
		curl_multi_cleanup(run.m);
	ctx_free(&run.c);
	return rc;
}
