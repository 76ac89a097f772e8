/*
 * response.c: response building and the one place headers are written.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "app.h"
#include "arena.h"
#include "db.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "session.h"
#include "tmpl.h"

/* The policy up to its last directive, form-action, which a page with the
 * providers' sign-in forms extends (headers_write). */
#define CSP_HEAD "Content-Security-Policy: default-src 'self'; script-src 'self'; " \
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
#define SECURITY_HEADERS_REST "X-Content-Type-Options: nosniff\r\n"
#define REFERRER_SAME_ORIGIN "Referrer-Policy: same-origin\r\n"
/* For routes whose address holds a secret (PATH_SECRET: an invitation
 * token in the path, a provider's code and state in the query): no
 * Referer at all, so the page after it (a link, a redirect) does not carry
 * the address to labeld's or nginx's logs. */
#define REFERRER_NONE "Referrer-Policy: no-referrer\r\n"

const char *http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "";
	}
}

static int header_safe(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return 0;
	return 1;
}

void resp_header(struct request *r, const char *name, const char *value)
{
	if (!header_safe(name) || !header_safe(value)) {
		log_error("resp_header: dropped header %s with a line break", name);
		return;
	}
	buf_printf(&r->resp_headers, "%s: %s\r\n", name, value);
}

int resp_is_https(const struct request *r)
{
	return r->https || r->app->public_https;
}

void resp_cookie_path(struct request *r, const char *name, const char *value, const char *path,
    long max_age)
{
	char *c;

	if (max_age >= 0)
		c = arena_printf(r->arena, "%s=%s; Path=%s; Max-Age=%ld; HttpOnly; SameSite=Lax%s",
		    name, value, path, max_age, resp_is_https(r) ? "; Secure" : "");
	else
		c = arena_printf(r->arena, "%s=%s; Path=%s; HttpOnly; SameSite=Lax%s",
		    name, value, path, resp_is_https(r) ? "; Secure" : "");
	if (c != NULL)
		resp_header(r, "Set-Cookie", c);
}

void resp_cookie(struct request *r, const char *name, const char *value, long max_age)
{
	resp_cookie_path(r, name, value, "/", max_age);
}

const char *resp_base_url(struct request *r)
{
	const char *pub = r->app->cfg.public_url;
	const char *host;

	if (pub != NULL && pub[0] != '\0')
		return arena_strndup(r->arena, pub, strlen(pub) -
		    (pub[strlen(pub) - 1] == '/' ? 1 : 0));
	host = FCGX_GetParam("HTTP_HOST", r->fcgx->envp);
	return arena_printf(r->arena, "%s://%s", resp_is_https(r) ? "https" : "http",
	    host != NULL && host[0] != '\0' ? host : "localhost");
}

void resp_redirect(struct request *r, int status, const char *location)
{
	r->status = status;
	r->resp_type = "text/plain; charset=utf-8";
	resp_header(r, "Location", location);
	buf_clear(&r->body);
	buf_adds(&r->body, "Redirecting\n");
	r->responded = 1;
}

void resp_text(struct request *r, int status, const char *text)
{
	r->status = status;
	r->resp_type = "text/plain; charset=utf-8";
	buf_clear(&r->body);
	buf_adds(&r->body, text);
	r->responded = 1;
}

void resp_bytes(struct request *r, int status, const char *type, const void *data, size_t len)
{
	buf_clear(&r->body);
	if (len > 0)
		buf_add(&r->body, data, len);
	if (r->body.failed) {
		log_error("resp_bytes: out of memory for %zu bytes", len);
		buf_init(&r->body, r->arena);
		resp_text(r, 500, "Internal error: out of memory.\n");
		return;
	}
	r->status = status;
	r->resp_type = type;
	r->responded = 1;
}

/* 1 when the handler added header `name` (case-insensitive) itself. */
static int resp_has_header(const struct request *r, const char *name)
{
	size_t n = strlen(name);
	const char *p, *end;

	if (r->resp_headers.data == NULL || r->resp_headers.len == 0)
		return 0;
	p = r->resp_headers.data;
	end = p + r->resp_headers.len;
	while (p != NULL && p < end) {
		if ((size_t)(end - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':')
			return 1;
		p = memchr(p, '\n', (size_t)(end - p));
		if (p != NULL)
			p++;
	}
	return 0;
}

static void json_put_cleanup(void *p)
{
	json_object_put(p);
}

struct json_object *view_new(struct request *r, const char *title)
{
	struct json_object *v = json_object_new_object();

	if (v == NULL || arena_cleanup_add(r->arena, json_put_cleanup, v) < 0)
		return NULL;
	json_object_object_add(v, "title", json_object_new_string(title ? title : "labeld"));
	if (r->session != NULL) {
		struct json_object *u = json_object_new_object();
		json_object_object_add(u, "email", json_object_new_string(r->session->email));
		json_object_object_add(u, "name", json_object_new_string(
		    r->session->display_name && r->session->display_name[0] ?
		    r->session->display_name : r->session->email));
		json_object_object_add(u, "is_admin", json_object_new_boolean(r->session->is_admin));
		json_object_object_add(v, "user", u);
		json_object_object_add(v, "csrf", json_object_new_string(r->session->csrf));
	}
	return v;
}

void view_str(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add_ex(o, key, json_object_new_string(value ? value : ""),
	    JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

void view_int(struct json_object *o, const char *key, long long value)
{
	json_object_object_add_ex(o, key, json_object_new_int64(value), JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

void view_bool(struct json_object *o, const char *key, int value)
{
	json_object_object_add_ex(o, key, json_object_new_boolean(value ? 1 : 0),
	    JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

void page_render(struct request *r, int status, const char *page, struct json_object *view)
{
	buf_clear(&r->body);
	if (view == NULL || tmpl_render_page(r->rt->tmpl, "layout", page, view, &r->body) < 0 ||
	    r->body.failed) {
		log_error("page_render: rendering %s failed", page);
		buf_init(&r->body, r->arena);
		r->status = 500;
		r->resp_type = "text/plain; charset=utf-8";
		buf_adds(&r->body, "Internal error: the page could not be rendered.\n");
		r->responded = 1;
		return;
	}
	r->status = status;
	r->resp_type = "text/html; charset=utf-8";
	r->responded = 1;
}

void page_error(struct request *r, int status, const char *title, const char *message)
{
	struct json_object *v = view_new(r, title);

	if (v != NULL) {
		json_object_object_add(v, "status", json_object_new_int(status));
		json_object_object_add(v, "heading", json_object_new_string(title));
		json_object_object_add(v, "message", json_object_new_string(message));
	}
	page_render(r, status, "error", v);
	if (r->status == 500 && status != 500)
		r->status = status;
}

void page_unavailable(struct request *r, unsigned retry_after, const char *title,
    const char *message)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", retry_after);
	resp_header(r, "Retry-After", v);
	page_error(r, 503, title, message);
}

void page_db_error(struct request *r, int rc, const char *what)
{
	char msg[256];

	if (rc == DB_UNAVAILABLE) {
		page_error(r, 503, "Database unavailable",
		    "labeld cannot reach its database right now. Try again in a moment.");
		return;
	}
	snprintf(msg, sizeof(msg), "%s; the log says why.", what);
	page_error(r, 500, "Internal error", msg);
}

/* Write the status line and every header, with Content-Length len, in one
 * call.  0, or -1 when out of memory (a bare 500 was written instead) or
 * the stream failed. */
static int headers_write(struct request *r, unsigned long long len)
{
	FCGX_Stream *out = r->fcgx->out;
	struct buf h;

	if (r->status == 0) {
		r->status = 500;
		log_error("resp_send: %s %s: the handler sent no response", r->method, r->path);
	}
	/* The whole header block is formatted here with the C library (libfcgi's
	 * own printf knows no %zu) and written in one call. */
	buf_init(&h, r->arena);
	buf_printf(&h, "Status: %d %s\r\n", r->status, http_status_text(r->status));
	/* Every answer's security headers, here only.  A browser checks the
	 * redirect after a form against the form-action of the page that
	 * held it, so the sign-in page also allows the providers' origins. */
	buf_adds(&h, CSP_HEAD);
	if (r->signin_forms && r->app->signin_origins != NULL)
		buf_adds(&h, r->app->signin_origins);
	buf_adds(&h, "\r\n" SECURITY_HEADERS_REST);
	buf_adds(&h, r->route != NULL && (r->route->needs & PATH_SECRET) ?
	    REFERRER_NONE : REFERRER_SAME_ORIGIN);
	if (resp_is_https(r))
		buf_adds(&h, "Strict-Transport-Security: max-age=31536000\r\n");
	buf_printf(&h, "Content-Type: %s\r\n",
	    r->resp_type ? r->resp_type : "text/plain; charset=utf-8");
	buf_printf(&h, "Content-Length: %llu\r\n", len);
	/* Every labeld answer is personal or short-lived: never cached,
	 * unless the handler said otherwise (item images). */
	if (!resp_has_header(r, "Cache-Control"))
		buf_adds(&h, "Cache-Control: no-store\r\n");
	buf_add(&h, r->resp_headers.data, r->resp_headers.len);
	buf_adds(&h, "\r\n");
	if (h.failed) {
		static const char oom[] = "Status: 500 Internal Server Error\r\n"
		    "Content-Type: text/plain\r\n\r\nout of memory\n";
		log_error("resp_send: out of memory");
		FCGX_PutStr(oom, (int)sizeof(oom) - 1, out);
		return -1;
	}
	return FCGX_PutStr(h.data, (int)h.len, out) == (int)h.len ? 0 : -1;
}

int resp_stream_begin(struct request *r, int status, const char *type, unsigned long long len)
{
	r->status = status;
	r->resp_type = type;
	r->responded = 1;
	r->streamed = 1;
	buf_clear(&r->body);
	return headers_write(r, len);
}

int resp_stream_write(struct request *r, const void *data, size_t len)
{
	if (strcmp(r->method, "HEAD") == 0)
		return 0;
	while (len > 0) {
		int n = len > (1u << 30) ? 1 << 30 : (int)len;
		if (FCGX_PutStr(data, n, r->fcgx->out) != n)
			return -1;
		data = (const char *)data + n;
		len -= (size_t)n;
	}
	return 0;
}

void resp_send(struct request *r)
{
	int head = strcmp(r->method, "HEAD") == 0;

	if (r->streamed)
		return;
	if (headers_write(r, r->body.len) < 0)
		return;
	if (!head && r->body.len > 0)
		FCGX_PutStr(r->body.data, (int)r->body.len, r->fcgx->out);
}
