/*
 * response.h: building responses.  One function (resp_send) writes the status
 * line and every header, including the security headers, so no handler can
 * forget them.
 */
#ifndef LABELD_RESPONSE_H
#define LABELD_RESPONSE_H

#include <stddef.h>

struct request;
struct json_object;

/* The status text for a code ("Not Found"); "" when unknown. */
const char *http_status_text(int status);

/* Add a header; a name or value with CR, LF or NUL is dropped (and logged). */
void resp_header(struct request *r, const char *name, const char *value);

/* Is the client's connection https?  nginx said so (HTTPS), or public_url
 * is https:// (TLS ends in front of nginx): cookies get Secure and every
 * answer Strict-Transport-Security. */
int resp_is_https(const struct request *r);

/* Set-Cookie with HttpOnly; SameSite=Lax; Path=/ (+ Secure over https).
 * max_age < 0: a session cookie; 0: delete it. */
void resp_cookie(struct request *r, const char *name, const char *value, long max_age);
/* The same cookie for path only (and below it), e.g. "/signin/oidc"; the
 * browser sends it nowhere else.  Delete it with the same path. */
void resp_cookie_path(struct request *r, const char *name, const char *value, const char *path,
    long max_age);

/* The address people use to reach labeld, without a trailing '/':
 * labeld.conf public_url, else the scheme of this request and its Host
 * header ("localhost" without one).  Arena-owned; NULL when out of
 * memory. */
const char *resp_base_url(struct request *r);

/* 303 See Other (or the given 3xx) to a local path. */
void resp_redirect(struct request *r, int status, const char *location);

/* A plain-text response. */
void resp_text(struct request *r, int status, const char *text);

/* A response of media type `type` whose body is data[0..len) (any bytes;
 * copied into the request's arena; data may be NULL when len is 0).  Out of
 * memory answers 500.  Set a Cache-Control of your own with resp_header to
 * replace the default "no-store" (resp_send adds it only when none is set). */
void resp_bytes(struct request *r, int status, const char *type, const void *data, size_t len);

/* A response whose body is streamed (item images): resp_stream_begin
 * writes the status line and every header, as resp_send does, with
 * Content-Length len, to the FastCGI stream at once; the body follows in
 * pieces with resp_stream_write, straight to the stream (nothing is
 * kept).  Headers added with resp_header before begin are sent.  After
 * begin the response is made: resp_send sends nothing more, and the
 * handler must write exactly len bytes (fewer cut the answer: nginx
 * drops the connection and the browser sees a failed load).  A HEAD gets
 * the headers only.  Both return 0, or -1 when the connection to nginx
 * failed (stop writing). */
int resp_stream_begin(struct request *r, int status, const char *type, unsigned long long len);
int resp_stream_write(struct request *r, const void *data, size_t len);

/* 503 with Retry-After: retry_after seconds (the page says title and
 * message): labeld is busy with this kind of request. */
void page_unavailable(struct request *r, unsigned retry_after, const char *title,
    const char *message);

/* A new view object for a page, owned by the request's arena, holding what
 * every page shows: "user" (email, name, is_admin) and "csrf" when signed in,
 * and "title". */
struct json_object *view_new(struct request *r, const char *title);

/* Set a view key: a string (NULL becomes ""), a number, a boolean.  The key
 * must be a string that outlives the view (a literal): json-c keeps the
 * pointer instead of a copy, one allocation less per key on every page. */
void view_str(struct json_object *o, const char *key, const char *value);
void view_int(struct json_object *o, const char *key, long long value);
void view_bool(struct json_object *o, const char *key, int value);

/* Render template `page` inside the layout with `view`; on a rendering
 * failure answers 500 instead. */
void page_render(struct request *r, int status, const char *page, struct json_object *view);

/* An error page: status, a heading, and a sentence saying what was wrong. */
void page_error(struct request *r, int status, const char *title, const char *message);

/* The page for a failed database call: 503 "Database unavailable" when the
 * database cannot be reached (DB_UNAVAILABLE), else 500 with `what` (a
 * sentence such as "Signing in failed") and a pointer to the log. */
void page_db_error(struct request *r, int rc, const char *what);

/* Write status, headers and body to the FastCGI stream (once). */
void resp_send(struct request *r);

/* Every response carries the security headers (Content-Security-Policy,
 * X-Content-Type-Options, Referrer-Policy), written by resp_send alone:
 * routes with PATH_SECRET get Referrer-Policy no-referrer, the sign-in page
 * (r->signin_forms) a form-action that also allows the providers. */

#endif
