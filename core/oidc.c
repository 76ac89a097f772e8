/*
 * oidc.c: see oidc.h.
 *
 * Requests to a provider (discovery document, key set, token endpoint) go
 * through libcurl under the blob datastores' address rules
 * (blob_curl_restrict: https only unless the host is in blob_allow_hosts,
 * every address checked before it is connected to, no proxy, no
 * redirects), with a total timeout and a cap on the answer.
 *
 * The cache: per process and per provider, the discovery document's
 * endpoints and the key set's text, kept oidc_cache_seconds, behind one
 * mutex (workers are threads).  The key set is kept as text and parsed
 * (jwks_parse) by each finish into OpenSSL keys of its own: a sign-in is
 * rare next to the cost of sharing key objects between threads and
 * freeing them while another thread verifies with them.  A token whose kid
 * is not in the kept set makes that finish read the set again, once, and
 * a provider's set is read again at most once every OIDC_JWKS_MIN_INTERVAL
 * seconds (a stream of tokens with made-up kids cannot make labeld hammer
 * the provider).
 *
 * Secrets: the client secret, codes, code verifiers and tokens never go
 * into detail (the log); buffers that held them are wiped.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "arena.h"
#include "auth.h"
#include "blob.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "jwt.h"
#include "log.h"
#include "oidc.h"
#include "session.h"

#define OIDC_BODY_MAX (256 * 1024)       /* discovery, key set, token answer */
#define OIDC_TIMEOUT_MS 10000L           /* one request to a provider, in all */
#define OIDC_JWKS_MIN_INTERVAL 10        /* seconds between reads of one key set */
#define OIDC_CACHE_MAX 32                /* providers (config.c allows 32) */
#define OIDC_URL_MAX 2048                /* oidc_flows.redirect_uri, next_url */
#define OIDC_BIND_TRIES 3                /* a binding transaction after a deadlock */

/* The well-known tenant of personal Microsoft accounts: the "consumers"
 * issuer's discovery document names it instead of {tenantid}. */
#define ENTRA_CONSUMERS_TENANT "9188040d-6c67-4c5b-b112-36a304b66dad"

static void set_detail(char *d, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_detail(char *d, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL || n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(d, n, fmt, ap);
	va_end(ap);
}

static void json_put_cleanup(void *p)
{
	json_object_put(p);
}

/* ------------------------------------------------------------ results */

int oidc_result_status(enum oidc_result r)
{
	switch (r) {
	case OIDC_OK: return 200;
	case OIDC_DB_ERROR: return 503;
	case OIDC_PROVIDER_DOWN: return 502;
	case OIDC_BAD_STATE: case OIDC_CANCELLED: case OIDC_PROVIDER_ERROR:
	case OIDC_CODE_REFUSED: return 400;
	case OIDC_TOKEN_REFUSED: case OIDC_UNKNOWN_KEY: return 401;
	case OIDC_NO_VERIFIED_EMAIL: case OIDC_UNKNOWN_PERSON: case OIDC_DISABLED:
	case OIDC_BOUND_ELSEWHERE: return 403;
	}
	return 500;
}

const char *oidc_result_message(enum oidc_result r)
{
	switch (r) {
	case OIDC_OK:
		return "You are signed in.";
	case OIDC_DB_ERROR:
		return "The database is not available just now. Try again in a minute.";
	case OIDC_PROVIDER_DOWN:
		return "The sign-in provider could not be reached or gave an answer labeld cannot use. "
		    "Try again later, or ask an admin.";
	case OIDC_BAD_STATE:
		return "This sign-in link was already used or has expired. Start again from the sign-in page.";
	case OIDC_CANCELLED:
		return "Sign-in was cancelled at the provider. Start again from the sign-in page.";
	case OIDC_PROVIDER_ERROR:
		return "The sign-in provider reported an error. Start again from the sign-in page.";
	case OIDC_CODE_REFUSED:
		return "The sign-in provider no longer accepts this sign-in (it may have expired). "
		    "Start again from the sign-in page.";
	case OIDC_TOKEN_REFUSED:
		return "The sign-in provider's answer did not pass labeld's checks, so you are not signed in.";
	case OIDC_UNKNOWN_KEY:
		return "The sign-in provider's answer was signed with a key the provider does not publish, "
		    "so you are not signed in.";
	case OIDC_NO_VERIFIED_EMAIL:
		return "The sign-in provider did not confirm your email address, so labeld cannot tell "
		    "who you are. Ask an admin.";
	case OIDC_UNKNOWN_PERSON:
		return "There is no labeld account for you. Ask an admin to add you.";
	case OIDC_DISABLED:
		return "Your labeld account is disabled. Ask an admin.";
	case OIDC_BOUND_ELSEWHERE:
		return "Your labeld account is bound to another sign-in. Sign in with that one, or ask an admin.";
	}
	return "Signing in failed.";
}

int oidc_origin(const char *url, char *out, size_t outlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    (strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0) &&
	    host[0] != '\0' && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:[]") == strlen(host)) {
		/* CURLUPART_PORT is set only when the URL names a port. */
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
			port = NULL;
		int n = snprintf(out, outlen, "%s://%s%s%s", scheme, host, port != NULL ? ":" : "",
		    port != NULL ? port : "");
		if (n > 0 && (size_t)n < outlen) {
			for (char *c = out; *c != '\0'; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			rc = 0;
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

int oidc_origin_listed(const char *list, const char *origin)
{
	size_t n = strlen(origin);

	for (const char *q = strstr(list, origin); q != NULL; q = strstr(q + 1, origin))
		if (q > list && q[-1] == ' ' && (q[n] == ' ' || q[n] == '\0'))
			return 1;
	return 0;
}

char *oidc_signin_origins(const struct config *cfg)
{
	struct buf b;
	struct arena *a = arena_new();
	char origin[300], *out = NULL;

	if (a == NULL)
		return NULL;
	buf_init(&b, a);
	for (size_t i = 0; i < cfg->noidc; i++) {
		if (oidc_origin(cfg->oidc[i].issuer, origin, sizeof(origin)) < 0)
			continue;
		if (!oidc_origin_listed(b.data != NULL ? b.data : "", origin))
			buf_printf(&b, " %s", origin);
	}
	if (!b.failed)
		out = strdup(b.data != NULL ? b.data : "");
	arena_free(a);
	return out;
}

const struct oidc_provider *oidc_provider_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; name != NULL && i < cfg->noidc; i++)
		if (strcmp(cfg->oidc[i].name, name) == 0)
			return &cfg->oidc[i];
	return NULL;
}

/* ------------------------------------------------------------ HTTP */

struct http_body {
	char *data;
	size_t len, cap;
	int too_big;
};

static size_t http_on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct http_body *b = ud;
	size_t n = size * nmemb;

	if (b->len + n > OIDC_BODY_MAX) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;
		while (cap < b->len + n + 1)
			cap *= 2;
		/* Not realloc: the old block may hold a token; wipe it first. */
		d = malloc(cap);
		if (d == NULL)
			return 0;
		if (b->len > 0)
			memcpy(d, b->data, b->len);
		if (b->data != NULL) {
			OPENSSL_cleanse(b->data, b->cap);
			free(b->data);
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static void http_body_free(struct http_body *b)
{
	if (b->data != NULL) {
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

/* GET url, or POST form (application/x-www-form-urlencoded) to it with
 * the HTTP Basic authorization header auth (NULL: none).  0 with *status
 * and body (free with http_body_free), or -1 with a sentence in err that
 * names what failed but no secret and nothing of the answer. */
static int http_request(const char *what, const char *url, const char *form, const char *auth,
    long *status, struct http_body *body, char *err, size_t errlen)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL, *t;
	char refused[BLOB_REFUSED_MAX] = "", errbuf[CURL_ERROR_SIZE] = "", why[256];
	CURLcode rc;
	int ret = -1;

	memset(body, 0, sizeof(*body));
	*status = 0;
	if (h == NULL) {
		set_detail(err, errlen, "%s: out of memory", what);
		return -1;
	}
	if (blob_curl_restrict(h, url, refused, why, sizeof(why)) < 0) {
		set_detail(err, errlen, "%s %s: %s", what, url, why);
		goto out;
	}
	t = curl_slist_append(hdr, "Accept: application/json");
	if (t != NULL)
		hdr = t;
	if (t != NULL && auth != NULL && (t = curl_slist_append(hdr, auth)) != NULL)
		hdr = t;
	if (t == NULL) {
		set_detail(err, errlen, "%s: out of memory", what);
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, OIDC_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "labeld");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)OIDC_BODY_MAX);
	if (form != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(form));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, form);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (refused[0] != '\0')
			set_detail(err, errlen, "%s %s: refused to connect to %s: only hosts in the "
			    "blob_allow_hosts setting may have such addresses", what, url, refused);
		else if (body->too_big || rc == CURLE_FILESIZE_EXCEEDED)
			set_detail(err, errlen, "%s %s: the answer is larger than %d bytes", what, url,
			    OIDC_BODY_MAX);
		else
			set_detail(err, errlen, "%s %s: %s", what, url,
			    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	ret = 0;
out:
	if (ret < 0)
		http_body_free(body);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return ret;
}

/* body as a JSON object (arena-owned), or NULL. */
static struct json_object *json_object_from(struct arena *a, const struct http_body *body)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (body->data == NULL || body->len == 0 || body->len > INT32_MAX)
		return NULL;
	tok = json_tokener_new();
	if (tok == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, body->data, (int)body->len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	if (o != NULL && arena_cleanup_add(a, json_put_cleanup, o) < 0)
		return NULL;
	return o;
}

/* The string member key of o, or NULL. */
static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* 1 when u is an http(s) URL of printable ASCII without a fragment. */
static int url_plausible(const char *u)
{
	if (u == NULL || (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) ||
	    strlen(u) > OIDC_URL_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)u; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '#')
			return 0;
	return 1;
}

/* ------------------------------------------------------------ the cache */

struct cache_entry {
	char name[33];
	char *issuer;              /* the configured issuer it was read for */
	char *expect_iss;          /* a token's iss: exact, or with {tenantid} */
	char *authorization_endpoint;
	char *token_endpoint;
	char *jwks_uri;
	time_t doc_until;
	char *jwks;                /* the key set's text, or NULL */
	time_t jwks_until;
	time_t jwks_read_at;       /* when the key set was last read (0: never) */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry cache[OIDC_CACHE_MAX];
static size_t ncache;

static void entry_doc_clear(struct cache_entry *e)
{
	free(e->expect_iss);
	free(e->authorization_endpoint);
	free(e->token_endpoint);
	free(e->jwks_uri);
	e->expect_iss = e->authorization_endpoint = e->token_endpoint = e->jwks_uri = NULL;
	e->doc_until = 0;
}

static void entry_clear(struct cache_entry *e)
{
	entry_doc_clear(e);
	free(e->issuer);
	free(e->jwks);
	memset(e, 0, sizeof(*e));
}

int oidc_global_init(void)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < ncache; i++)
		entry_clear(&cache[i]);
	ncache = 0;
	pthread_mutex_unlock(&cache_lock);
	return 0;
}

void oidc_global_free(void)
{
	oidc_global_init();
}

/* The entry of provider p (made when new, emptied when its issuer
 * changed), with cache_lock held; NULL when the cache is full. */
static struct cache_entry *entry_get(const struct oidc_provider *p)
{
	struct cache_entry *e = NULL;

	for (size_t i = 0; i < ncache; i++)
		if (strcmp(cache[i].name, p->name) == 0)
			e = &cache[i];
	if (e == NULL) {
		if (ncache == OIDC_CACHE_MAX)
			return NULL;
		e = &cache[ncache++];
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", p->name);
	}
	if (e->issuer == NULL || strcmp(e->issuer, p->issuer) != 0) {
		char name[sizeof(e->name)];
		memcpy(name, e->name, sizeof(name));
		entry_clear(e);
		memcpy(e->name, name, sizeof(name));
		e->issuer = strdup(p->issuer);
		if (e->issuer == NULL)
			return NULL;
	}
	return e;
}

/* What a flow needs of the discovery document (arena copies). */
struct discovery {
	const char *expect_iss;
	const char *authorization_endpoint;
	const char *token_endpoint;
	const char *jwks_uri;
};

/* The issuer a token must carry when the document says doc_iss for the
 * configured issuer: the configured one itself, or, for Entra ID's
 * multi-tenant issuers (a path segment organizations, common or
 * consumers), the document's template with {tenantid} in that segment (or
 * the personal accounts' tenant for consumers).  NULL when they do not
 * fit. */
static const char *expected_issuer(const char *conf, const char *doc_iss)
{
	static const char *const multi[] = { "organizations", "common", "consumers" };
	const char *host, *seg;

	if (strcmp(conf, doc_iss) == 0)
		return doc_iss;
	host = strstr(conf, "://");
	if (host == NULL)
		return NULL;
	seg = strchr(host + 3, '/');
	while (seg != NULL) {
		size_t pre = (size_t)(seg + 1 - conf), n = strcspn(seg + 1, "/");
		for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
			const char *rest = seg + 1 + n, *tid;
			if (strlen(multi[i]) != n || strncmp(seg + 1, multi[i], n) != 0)
				continue;
			tid = strcmp(multi[i], "consumers") == 0 ? ENTRA_CONSUMERS_TENANT : "{tenantid}";
			if (strncmp(doc_iss, conf, pre) == 0 &&
			    (strncmp(doc_iss + pre, "{tenantid}", 10) == 0 ||
			    strncmp(doc_iss + pre, tid, strlen(tid)) == 0)) {
				const char *d = doc_iss + pre;
				d += strncmp(d, "{tenantid}", 10) == 0 ? 10 : strlen(tid);
				if (strcmp(d, rest) == 0)
					return doc_iss;
			}
		}
		seg = strchr(seg + 1, '/');
	}
	return NULL;
}

/* Read p's discovery document into the entry (cache_lock not held).
 * OIDC_OK or OIDC_PROVIDER_DOWN with detail. */
static enum oidc_result discovery_fetch(struct arena *a, const struct config *cfg,
    const struct oidc_provider *p, char *detail, size_t detaillen)
{
	struct http_body body;
	struct json_object *doc;
	const char *iss, *ae, *te, *ju, *expect;
	char *url;
	size_t n = strlen(p->issuer);
	long status;
	struct cache_entry *e;

	/* OpenID Connect Discovery 1.0, 4: a trailing '/' of the issuer is
	 * dropped before the well-known path is appended. */
	while (n > 0 && p->issuer[n - 1] == '/')
		n--;
	url = arena_printf(a, "%.*s/.well-known/openid-configuration", (int)n, p->issuer);
	if (url == NULL) {
		set_detail(detail, detaillen, "out of memory");
		return OIDC_PROVIDER_DOWN;
	}
	if (http_request("provider discovery document", url, NULL, NULL, &status, &body,
	    detail, detaillen) < 0)
		return OIDC_PROVIDER_DOWN;
	doc = status == 200 ? json_object_from(a, &body) : NULL;
	http_body_free(&body);
	if (status != 200) {
		set_detail(detail, detaillen, "provider discovery document %s: HTTP %ld", url, status);
		return OIDC_PROVIDER_DOWN;
	}
	if (doc == NULL) {
		set_detail(detail, detaillen, "provider discovery document %s: not a JSON object", url);
		return OIDC_PROVIDER_DOWN;
	}
	iss = json_str(doc, "issuer");
	ae = json_str(doc, "authorization_endpoint");
	te = json_str(doc, "token_endpoint");
	ju = json_str(doc, "jwks_uri");
	if (iss == NULL || (expect = expected_issuer(p->issuer, iss)) == NULL) {
		set_detail(detail, detaillen, "provider discovery document %s: its issuer '%.255s' is "
		    "not the configured '%s'", url, iss ? iss : "(none)", p->issuer);
		return OIDC_PROVIDER_DOWN;
	}
	if (!url_plausible(ae) || !url_plausible(te) || !url_plausible(ju) ||
	    (strncmp(ae, "http://", 7) == 0 && strncmp(p->issuer, "http://", 7) != 0)) {
		set_detail(detail, detaillen, "provider discovery document %s: authorization_endpoint, "
		    "token_endpoint or jwks_uri missing or not an http(s) URL", url);
		return OIDC_PROVIDER_DOWN;
	}
	pthread_mutex_lock(&cache_lock);
	e = entry_get(p);
	if (e != NULL) {
		entry_doc_clear(e);
		e->expect_iss = strdup(expect);
		e->authorization_endpoint = strdup(ae);
		e->token_endpoint = strdup(te);
		e->jwks_uri = strdup(ju);
		if (e->expect_iss && e->authorization_endpoint && e->token_endpoint && e->jwks_uri)
			e->doc_until = time(NULL) + cfg->oidc_cache_seconds;
		else
			entry_doc_clear(e);
	}
	pthread_mutex_unlock(&cache_lock);
	return OIDC_OK;
}

/* p's discovery document, from the cache or read now (arena copies in
 * *d).  OIDC_OK or OIDC_PROVIDER_DOWN with detail. */
static enum oidc_result discovery_get(struct arena *a, const struct config *cfg,
    const struct oidc_provider *p, struct discovery *d, char *detail, size_t detaillen)
{
	for (int round = 0; round < 2; round++) {
		struct cache_entry *e;
		int found = 0;
		enum oidc_result r;

		pthread_mutex_lock(&cache_lock);
		e = entry_get(p);
		if (e != NULL && e->doc_until > time(NULL)) {
			d->expect_iss = arena_strdup(a, e->expect_iss);
			d->authorization_endpoint = arena_strdup(a, e->authorization_endpoint);
			d->token_endpoint = arena_strdup(a, e->token_endpoint);
			d->jwks_uri = arena_strdup(a, e->jwks_uri);
			found = 1;
		}
		pthread_mutex_unlock(&cache_lock);
		if (found) {
			if (!d->expect_iss || !d->authorization_endpoint || !d->token_endpoint ||
			    !d->jwks_uri)
				break;
			return OIDC_OK;
		}
		if (round == 1)
			break;
		if ((r = discovery_fetch(a, cfg, p, detail, detaillen)) != OIDC_OK)
			return r;
	}
	set_detail(detail, detaillen, "provider %s: out of memory for its discovery document", p->name);
	return OIDC_PROVIDER_DOWN;
}

/* p's key set: the kept one while it is fresh, else read from jwks_uri
 * into the cache.  force (after an unknown kid): read it even when fresh,
 * unless it was read less than OIDC_JWKS_MIN_INTERVAL seconds ago (then
 * the kept one).  *text gets an arena copy.  OIDC_OK or OIDC_PROVIDER_DOWN
 * with detail. */
static enum oidc_result jwks_get(struct arena *a, const struct config *cfg,
    const struct oidc_provider *p, const char *jwks_uri, int force, const char **text,
    char *detail, size_t detaillen)
{
	struct cache_entry *e;
	struct http_body body;
	struct jwks *k;
	time_t now = time(NULL);
	long status;
	char err[256];

	*text = NULL;
	pthread_mutex_lock(&cache_lock);
	e = entry_get(p);
	if (e != NULL && e->jwks != NULL &&
	    ((!force && e->jwks_until > now) ||
	    (force && now - e->jwks_read_at < OIDC_JWKS_MIN_INTERVAL)))
		*text = arena_strdup(a, e->jwks);
	else if (e != NULL)
		e->jwks_read_at = now;   /* this thread reads it; others wait the interval */
	pthread_mutex_unlock(&cache_lock);
	if (*text != NULL)
		return OIDC_OK;
	if (force)
		log_info("oidc: provider %s: reading its key set again (a token's key is not in it)",
		    p->name);
	if (http_request("provider key set", jwks_uri, NULL, NULL, &status, &body, detail,
	    detaillen) < 0)
		return OIDC_PROVIDER_DOWN;
	if (status != 200) {
		http_body_free(&body);
		set_detail(detail, detaillen, "provider key set %s: HTTP %ld", jwks_uri, status);
		return OIDC_PROVIDER_DOWN;
	}
	k = jwks_parse(body.data ? body.data : "", body.len, err, sizeof(err));
	if (k == NULL) {
		http_body_free(&body);
		set_detail(detail, detaillen, "provider key set %s: %s", jwks_uri, err);
		return OIDC_PROVIDER_DOWN;
	}
	jwks_free(k);
	*text = arena_strndup(a, body.data, body.len);
	pthread_mutex_lock(&cache_lock);
	e = entry_get(p);
	if (e != NULL) {
		free(e->jwks);
		e->jwks = strndup(body.data, body.len);
		e->jwks_until = e->jwks ? time(NULL) + cfg->oidc_cache_seconds : 0;
		e->jwks_read_at = time(NULL);
	}
	pthread_mutex_unlock(&cache_lock);
	http_body_free(&body);
	if (*text == NULL) {
		set_detail(detail, detaillen, "out of memory");
		return OIDC_PROVIDER_DOWN;
	}
	return OIDC_OK;
}

int oidc_config_check(const struct config *cfg, char *err, size_t errlen)
{
	char why[256];

	for (size_t i = 0; i < cfg->noidc; i++)
		if (blob_endpoint_check(cfg->oidc[i].issuer, why, sizeof(why)) < 0) {
			set_detail(err, errlen, "oidc.%s.issuer: %s", cfg->oidc[i].name, why);
			return -1;
		}
	return 0;
}

/* ------------------------------------------------------------ the flow */

enum oidc_result oidc_flow_start(struct db *db, struct arena *a, const struct config *cfg,
    const struct oidc_provider *p, const char *redirect_uri, const char *next,
    char **authorize_url, char *browser_token, char *detail, size_t detaillen)
{
	char state[TOKEN_LEN + 1], nonce[TOKEN_LEN + 1], verifier[TOKEN_LEN + 1], challenge[64];
	unsigned char state_hash[32], browser_hash[32];
	struct discovery d;
	struct buf u;
	enum oidc_result r;
	int rc;

	*authorize_url = NULL;
	if (detail != NULL && detaillen > 0)
		detail[0] = '\0';
	if (redirect_uri == NULL || strlen(redirect_uri) > OIDC_URL_MAX) {
		set_detail(detail, detaillen, "provider %s: the redirect URI is missing or too long",
		    p->name);
		return OIDC_PROVIDER_ERROR;
	}
	if (next == NULL || strlen(next) > OIDC_URL_MAX || !next_is_safe(next))
		next = "";
	if ((r = discovery_get(a, cfg, p, &d, detail, detaillen)) != OIDC_OK)
		return r;
	if (token_new(state) < 0 || token_new(nonce) < 0 || token_new(verifier) < 0 ||
	    token_new(browser_token) < 0 ||
	    pkce_challenge_s256(verifier, challenge, sizeof(challenge)) < 0) {
		set_detail(detail, detaillen, "no random numbers for a sign-in");
		return OIDC_DB_ERROR;
	}
	token_hash(state, state_hash);
	token_hash(browser_token, browser_hash);
	rc = db_exec(db, 0, NULL, NULL,
	    "INSERT INTO oidc_flows (state_hash, browser_hash, provider, nonce, code_verifier, "
	    "redirect_uri, next_url, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
	    "NOW(6) + INTERVAL ? SECOND)", "bbsssssu", state_hash, sizeof(state_hash),
	    browser_hash, sizeof(browser_hash), p->name, nonce, verifier, redirect_uri, next,
	    (unsigned long long)cfg->oidc_flow_seconds);
	explicit_bzero(verifier, sizeof(verifier));
	if (rc != DB_OK) {
		explicit_bzero(state, sizeof(state));
		explicit_bzero(nonce, sizeof(nonce));
		set_detail(detail, detaillen, "storing the sign-in flow failed: %s", db_errmsg(db));
		return OIDC_DB_ERROR;
	}
	buf_init(&u, a);
	buf_adds(&u, d.authorization_endpoint);
	buf_adds(&u, strchr(d.authorization_endpoint, '?') != NULL ? "&" : "?");
	buf_adds(&u, "response_type=code&client_id=");
	buf_add_url(&u, p->client_id, strlen(p->client_id));
	buf_adds(&u, "&redirect_uri=");
	buf_add_url(&u, redirect_uri, strlen(redirect_uri));
	buf_adds(&u, "&scope=");
	buf_add_url(&u, p->scopes, strlen(p->scopes));
	buf_adds(&u, "&state=");
	buf_adds(&u, state);
	buf_adds(&u, "&nonce=");
	buf_adds(&u, nonce);
	buf_adds(&u, "&code_challenge=");
	buf_adds(&u, challenge);
	buf_adds(&u, "&code_challenge_method=S256");
	explicit_bzero(state, sizeof(state));
	explicit_bzero(nonce, sizeof(nonce));
	if (u.failed) {
		set_detail(detail, detaillen, "out of memory");
		return OIDC_DB_ERROR;
	}
	*authorize_url = u.data;
	return OIDC_OK;
}

/* The flow of cb->state, consumed: single use, not expired, and the
 * browser's cookie must be the one it was started with (a mismatch leaves
 * it consumed).  On OIDC_OK the columns provider, nonce, code_verifier,
 * redirect_uri, next_url in *row. */
static enum oidc_result flow_consume(struct db *db, struct arena *a, const struct oidc_callback *cb,
    struct db_result **row, char *detail, size_t detaillen)
{
	unsigned char state_hash[32], browser_hash[32];
	uint64_t affected = 0;
	const char *stored;
	int rc;

	if (!token_syntax_ok(cb->state)) {
		set_detail(detail, detaillen, "the callback's state is missing or malformed");
		return OIDC_BAD_STATE;
	}
	token_hash(cb->state, state_hash);
	rc = db_exec(db, 0, &affected, NULL,
	    "UPDATE oidc_flows SET used_at = NOW(6) WHERE state_hash = ? AND used_at IS NULL "
	    "AND expires_at > NOW(6)", "b", state_hash, sizeof(state_hash));
	if (rc != DB_OK) {
		set_detail(detail, detaillen, "consuming the sign-in flow failed: %s", db_errmsg(db));
		return OIDC_DB_ERROR;
	}
	if (affected != 1) {
		set_detail(detail, detaillen, "the sign-in flow is unknown, used or expired");
		return OIDC_BAD_STATE;
	}
	rc = db_query(db, a, row,
	    "SELECT provider, nonce, code_verifier, redirect_uri, next_url, browser_hash "
	    "FROM oidc_flows WHERE state_hash = ?", "b", state_hash, sizeof(state_hash));
	if (rc != DB_OK) {
		set_detail(detail, detaillen, "reading the sign-in flow failed: %s", db_errmsg(db));
		return OIDC_DB_ERROR;
	}
	if ((*row)->nrows != 1) {
		set_detail(detail, detaillen, "the sign-in flow vanished");
		return OIDC_BAD_STATE;
	}
	stored = db_value(*row, 0, 5);
	if (!token_syntax_ok(cb->browser_token)) {
		set_detail(detail, detaillen, "the browser sent no labeld_oidc cookie "
		    "(the flow was started in another browser, or cookies are refused)");
		return OIDC_BAD_STATE;
	}
	token_hash(cb->browser_token, browser_hash);
	if (stored == NULL || (*row)->lens[0][5] != 32 ||
	    CRYPTO_memcmp(stored, browser_hash, 32) != 0) {
		set_detail(detail, detaillen, "the flow was started in another browser "
		    "(its labeld_oidc cookie does not match)");
		return OIDC_BAD_STATE;
	}
	return OIDC_OK;
}

/* A plain word of an error answer (an OAuth error code) or "". */
static const char *error_word(const char *s)
{
	if (s == NULL || s[0] == '\0' || strlen(s) > 64)
		return "";
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			return "";
	return s;
}

/* Add s application/x-www-form-urlencoded (RFC 6749 2.3.1 wants the
 * client id and secret so encoded inside the Basic credentials too). */
static void form_add(struct buf *b, const char *s)
{
	buf_add_url(b, s, strlen(s));
}

/* Exchange the code for the ID token (the token endpoint, client
 * authentication HTTP Basic).  On OIDC_OK *id_token is an arena copy. */
static enum oidc_result token_exchange(struct arena *a, const struct oidc_provider *p,
    const struct discovery *d, const char *code, const char *verifier, const char *redirect_uri,
    const char **id_token, char *detail, size_t detaillen)
{
	struct buf form, cred;
	struct http_body body;
	struct json_object *o;
	enum oidc_result r = OIDC_PROVIDER_DOWN;
	char *auth = NULL;
	size_t alen = 0;
	long status;

	*id_token = NULL;
	buf_init(&form, a);
	buf_adds(&form, "grant_type=authorization_code&code=");
	form_add(&form, code);
	buf_adds(&form, "&redirect_uri=");
	form_add(&form, redirect_uri);
	buf_adds(&form, "&code_verifier=");
	form_add(&form, verifier);
	buf_init(&cred, a);
	form_add(&cred, p->client_id);
	buf_addc(&cred, ':');
	form_add(&cred, p->client_secret);
	if (!form.failed && !cred.failed) {
		alen = 21 + 4 * ((cred.len + 2) / 3) + 1;
		auth = arena_alloc(a, alen);
	}
	if (auth == NULL) {
		set_detail(detail, detaillen, "out of memory");
		goto out;
	}
	memcpy(auth, "Authorization: Basic ", 21);
	EVP_EncodeBlock((unsigned char *)auth + 21, (const unsigned char *)cred.data, (int)cred.len);
	if (http_request("provider token endpoint", d->token_endpoint, form.data, auth, &status,
	    &body, detail, detaillen) < 0)
		goto out;
	o = json_object_from(a, &body);
	http_body_free(&body);
	if (status == 400 && o != NULL && strcmp(error_word(json_str(o, "error")), "invalid_grant") == 0) {
		set_detail(detail, detaillen, "provider %s: the token endpoint refused the code "
		    "(invalid_grant)", p->name);
		r = OIDC_CODE_REFUSED;
	} else if (status != 200) {
		set_detail(detail, detaillen, "provider %s: the token endpoint answered HTTP %ld%s%s%s",
		    p->name, status, o != NULL && error_word(json_str(o, "error"))[0] ? " (" : "",
		    o != NULL ? error_word(json_str(o, "error")) : "",
		    o != NULL && error_word(json_str(o, "error"))[0] ? ")" : "");
	} else if (o == NULL || json_str(o, "id_token") == NULL) {
		set_detail(detail, detaillen, "provider %s: the token endpoint's answer is not JSON "
		    "with an id_token", p->name);
	} else if ((*id_token = arena_strdup(a, json_str(o, "id_token"))) == NULL) {
		set_detail(detail, detaillen, "out of memory");
	} else {
		r = OIDC_OK;
	}
out:
	if (form.data != NULL)
		explicit_bzero(form.data, form.len);
	if (cred.data != NULL)
		explicit_bzero(cred.data, cred.len);
	if (auth != NULL)
		explicit_bzero(auth, alen);
	return r;
}

/* Verify the ID token's signature and claims.  On OIDC_OK *claims is the
 * payload (arena-owned). */
static enum oidc_result token_verify(struct arena *a, const struct config *cfg,
    const struct oidc_provider *p, const struct discovery *d, const char *id_token,
    const char *nonce, struct json_object **claims, char *detail, size_t detaillen)
{
	struct jwt_expect ex = {
		.issuer = d->expect_iss, .client_id = p->client_id, .nonce = nonce,
		.now = (long long)time(NULL), .skew = (long)cfg->oidc_clock_skew,
		.tenants = (const char *const *)p->tenants,
	};
	enum jwt_status st = JWT_UNKNOWN_KID;
	enum jwt_claims_status cs;
	enum oidc_result r;
	const char *text;
	char err[256] = "";

	*claims = NULL;
	for (int round = 0; round < 2 && st == JWT_UNKNOWN_KID; round++) {
		struct jwks *k;
		if ((r = jwks_get(a, cfg, p, d->jwks_uri, round, &text, detail, detaillen)) != OIDC_OK)
			return r;
		k = jwks_parse(text, strlen(text), err, sizeof(err));
		if (k == NULL) {
			set_detail(detail, detaillen, "provider %s: its key set: %s", p->name, err);
			return OIDC_PROVIDER_DOWN;
		}
		st = jwt_verify(id_token, k, claims, err, sizeof(err));
		jwks_free(k);
	}
	if (st != JWT_OK) {
		set_detail(detail, detaillen, "provider %s: ID token refused: %s%s%s", p->name,
		    jwt_status_str(st), err[0] ? ": " : "", err);
		return st == JWT_UNKNOWN_KID ? OIDC_UNKNOWN_KEY : OIDC_TOKEN_REFUSED;
	}
	if (arena_cleanup_add(a, json_put_cleanup, *claims) < 0) {
		*claims = NULL;
		set_detail(detail, detaillen, "out of memory");
		return OIDC_DB_ERROR;
	}
	err[0] = '\0';
	cs = jwt_check_claims(*claims, &ex, err, sizeof(err));
	if (cs != JWT_CLAIMS_OK) {
		set_detail(detail, detaillen, "provider %s: ID token refused: %s%s%s", p->name,
		    jwt_claims_str(cs), err[0] ? ": " : "", err);
		return OIDC_TOKEN_REFUSED;
	}
	return OIDC_OK;
}

enum oidc_result oidc_flow_finish(struct db *db, struct arena *a, const struct config *cfg,
    const struct oidc_callback *cb, long long *user_id, const char **email,
    const char **next, const char **provider_name, char *detail, size_t detaillen)
{
	const struct oidc_provider *p;
	struct db_result *row = NULL;
	struct json_object *claims;
	struct discovery d;
	enum oidc_result r;
	const char *id_token;

	*user_id = 0;
	*email = NULL;
	*next = "";
	*provider_name = NULL;
	if (detail != NULL && detaillen > 0)
		detail[0] = '\0';
	r = flow_consume(db, a, cb, &row, detail, detaillen);
	if (row != NULL && row->nrows == 1) {
		*provider_name = db_value(row, 0, 0);
		*next = db_value(row, 0, 4) ? db_value(row, 0, 4) : "";
	}
	if (cb->error != NULL) {
		/* The flow is spent either way; what the person sees is what
		 * the provider said. */
		const char *w = error_word(cb->error);
		set_detail(detail, detaillen, "the provider sent error '%s' to the callback%s", w,
		    r == OIDC_OK ? "" : " (and the flow was not valid)");
		return strcmp(w, "access_denied") == 0 ? OIDC_CANCELLED : OIDC_PROVIDER_ERROR;
	}
	if (r != OIDC_OK)
		return r;
	p = oidc_provider_find(cfg, *provider_name);
	if (p == NULL) {
		set_detail(detail, detaillen, "the flow's provider '%s' is no longer configured",
		    *provider_name ? *provider_name : "");
		return OIDC_BAD_STATE;
	}
	if (cb->code == NULL || cb->code[0] == '\0') {
		set_detail(detail, detaillen, "provider %s: the callback has neither code nor error",
		    p->name);
		return OIDC_PROVIDER_ERROR;
	}
	if ((r = discovery_get(a, cfg, p, &d, detail, detaillen)) != OIDC_OK)
		return r;
	r = token_exchange(a, p, &d, cb->code, db_value(row, 0, 2), db_value(row, 0, 3), &id_token,
	    detail, detaillen);
	if (r != OIDC_OK)
		return r;
	r = token_verify(a, cfg, p, &d, id_token, db_value(row, 0, 1), &claims, detail, detaillen);
	explicit_bzero((char *)id_token, strlen(id_token));
	if (r != OIDC_OK)
		return r;
	return oidc_bind(db, a, p, claims, user_id, email, detail, detaillen);
}

/* ------------------------------------------------------------ binding */

/* The claim key of claims as a string, or NULL. */
static const char *claim_str(struct json_object *claims, const char *key)
{
	return json_str(claims, key);
}

/* One try of the binding transaction (oidc_bind).  *rc gets the DB_*
 * status when the result is OIDC_DB_ERROR. */
static enum oidc_result bind_once(struct db *db, struct arena *a, const struct oidc_provider *p,
    struct json_object *claims, const char *iss, const char *sub, long long *user_id,
    const char **email, int *rc, char *detail, size_t detaillen)
{
	struct db_result *res;
	struct json_object *v;
	const char *tid = claim_str(claims, "tid"), *raw = NULL;
	char *addr;
	long long uid;

	if ((*rc = db_begin(db)) != DB_OK)
		return OIDC_DB_ERROR;
	*rc = db_query(db, a, &res,
	    "SELECT i.id, u.id, u.email, u.is_disabled, u.removed_at IS NOT NULL "
	    "FROM user_identities i JOIN users u ON u.id = i.user_id "
	    "WHERE i.issuer = ? AND i.subject = ? FOR UPDATE", "ss", iss, sub);
	if (*rc != DB_OK)
		goto db_failed;
	if (res->nrows == 1) {
		/* Bound: (issuer, subject) alone says who it is. */
		uid = db_int(res, 0, 1);
		if (db_int(res, 0, 4) != 0) {
			set_detail(detail, detaillen, "provider %s: subject of %s is bound to person %lld, "
			    "who was removed", p->name, iss, uid);
			db_rollback(db);
			return OIDC_UNKNOWN_PERSON;
		}
		if (db_int(res, 0, 3) != 0) {
			set_detail(detail, detaillen, "provider %s: bound person %s is disabled", p->name,
			    db_value(res, 0, 2));
			db_rollback(db);
			return OIDC_DISABLED;
		}
		*rc = db_exec(db, 0, NULL, NULL,
		    "UPDATE user_identities SET last_used_at = NOW(6) WHERE id = ?", "i",
		    db_int(res, 0, 0));
		*email = db_value(res, 0, 2);
	} else {
		/* Not bound yet: an email the provider vouches for, or one
		 * of an allowed tenant. */
		if (json_object_object_get_ex(claims, "email_verified", &v) &&
		    json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v))
			raw = claim_str(claims, "email");
		if (raw == NULL && p->tenants != NULL && tid != NULL) {
			for (size_t i = 0; p->tenants[i] != NULL; i++)
				if (strcmp(p->tenants[i], tid) == 0) {
					raw = claim_str(claims, "email");
					if (raw == NULL)
						raw = claim_str(claims, "preferred_username");
					break;
				}
		}
		addr = raw != NULL ? auth_email_normalize(a, raw) : NULL;
		if (addr == NULL) {
			set_detail(detail, detaillen, "provider %s: first sign-in of a subject of %s "
			    "without a verified email%s", p->name, iss,
			    p->tenants != NULL ? " or an allowed tenant's address" : "");
			db_rollback(db);
			return OIDC_NO_VERIFIED_EMAIL;
		}
		*rc = db_query(db, a, &res,
		    "SELECT id, is_disabled, removed_at IS NOT NULL FROM users WHERE email = ? "
		    "FOR UPDATE", "s", addr);
		if (*rc != DB_OK)
			goto db_failed;
		if (res->nrows != 1 || db_int(res, 0, 2) != 0) {
			set_detail(detail, detaillen, "provider %s: %s is not a person here%s", p->name,
			    addr, res->nrows == 1 ? " (removed)" : "");
			db_rollback(db);
			*email = addr;  /* the page names it: ask an admin to invite it */
			return OIDC_UNKNOWN_PERSON;
		}
		uid = db_int(res, 0, 0);
		if (db_int(res, 0, 1) != 0) {
			set_detail(detail, detaillen, "provider %s: %s is disabled", p->name, addr);
			db_rollback(db);
			return OIDC_DISABLED;
		}
		/* Once bound, a person is matched by (issuer, subject) alone:
		 * the same address from another subject (of this or another
		 * issuer, another tenant) is refused. */
		*rc = db_query(db, a, &res,
		    "SELECT issuer FROM user_identities WHERE user_id = ? LIMIT 1 FOR UPDATE", "i", uid);
		if (*rc != DB_OK)
			goto db_failed;
		if (res->nrows > 0) {
			set_detail(detail, detaillen, "provider %s: %s is bound to another subject "
			    "(of %s); refused a subject of %s", p->name, addr, db_value(res, 0, 0), iss);
			db_rollback(db);
			return OIDC_BOUND_ELSEWHERE;
		}
		*rc = db_exec(db, 0, NULL, NULL,
		    "INSERT INTO user_identities (user_id, provider, issuer, subject, tenant, email, "
		    "last_used_at) VALUES (?, ?, ?, ?, ?, ?, NOW(6))", "isssss", uid, p->name, iss,
		    sub, tid != NULL && strlen(tid) <= 64 ? tid : NULL, addr);
		*email = addr;
	}
	if (*rc == DB_OK)
		*rc = db_exec(db, 0, NULL, NULL,
		    "UPDATE users SET last_login_at = NOW(6), activated_at = COALESCE(activated_at, NOW(6)) "
		    "WHERE id = ?", "i", uid);
	if (*rc == DB_OK)
		*rc = db_commit(db);
	if (*rc != DB_OK)
		goto db_failed;
	*user_id = uid;
	return OIDC_OK;
db_failed:
	set_detail(detail, detaillen, "binding the sign-in failed: %s", db_errmsg(db));
	db_rollback(db);
	return OIDC_DB_ERROR;
}

enum oidc_result oidc_bind(struct db *db, struct arena *a, const struct oidc_provider *p,
    struct json_object *claims, long long *user_id, const char **email,
    char *detail, size_t detaillen)
{
	const char *iss = claim_str(claims, "iss"), *sub = claim_str(claims, "sub");
	enum oidc_result r = OIDC_DB_ERROR;
	int rc = DB_OK;

	*user_id = 0;
	*email = NULL;
	if (iss == NULL || sub == NULL || iss[0] == '\0' || sub[0] == '\0' ||
	    strlen(iss) > 255 || strlen(sub) > 255) {
		set_detail(detail, detaillen, "provider %s: the ID token's iss or sub is missing or "
		    "longer than 255 characters", p->name);
		return OIDC_TOKEN_REFUSED;
	}
	/* A deadlock, or two first sign-ins of one subject at once (the
	 * second insert is a duplicate): the transaction is tried again and
	 * then finds the identity. */
	for (int i = 0; i < OIDC_BIND_TRIES; i++) {
		r = bind_once(db, a, p, claims, iss, sub, user_id, email, &rc, detail, detaillen);
		if (r != OIDC_DB_ERROR || (rc != DB_RETRY && rc != DB_DUPLICATE))
			break;
	}
	return r;
}

/* ------------------------------------------------------------ admin */

int oidc_identities_list(struct db *db, struct arena *a, long long user_id, struct db_result **res)
{
	return db_query(db, a, res,
	    "SELECT id, provider, issuer, subject, COALESCE(tenant, ''), email, "
	    "DATE_FORMAT(created_at, '%Y-%m-%d %H:%i'), "
	    "COALESCE(DATE_FORMAT(last_used_at, '%Y-%m-%d %H:%i'), '') "
	    "FROM user_identities WHERE user_id = ? ORDER BY id", "i", user_id);
}

int oidc_identity_unbind(struct db *db, long long user_id, long long identity_id, int *found)
{
	uint64_t n = 0;
	int rc = db_exec(db, DB_IDEMPOTENT, &n, NULL,
	    "DELETE FROM user_identities WHERE id = ? AND user_id = ?", "ii", identity_id, user_id);

	*found = rc == DB_OK && n == 1;
	return rc;
}
