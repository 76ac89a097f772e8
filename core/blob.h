/*
 * blob.h: an Azure Blob Storage client over its REST API (libcurl, libxml2).
 *
 * Authentication: a SAS token (appended to the query string) or Shared Key
 * (HMAC-SHA256 of the canonical request with the account key; OpenSSL's
 * libcrypto).  Works against Azure and against Azurite (path-style endpoint
 * "http://127.0.0.1:10000/devstoreaccount1").
 *
 * libcurl is used defensively: http and https only (http only for allowed
 * hosts), no redirects followed, no proxy, every address checked before it
 * is connected to (blob_policy_set), connect and total timeouts, a cap on
 * every response body.  Errors are
 * sentences for an admin and never contain the remote body.  XML is parsed
 * with libxml2 without DTD loading, entity expansion or network access.
 *
 * Functions are thread-safe (each call uses its own easy handle, or the
 * struct blob_client's handle when one is passed for connection reuse).
 */
#ifndef LABELD_BLOB_H
#define LABELD_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct blob_account {
	const char *endpoint;    /* account URL: https://ACCOUNT.blob.core.windows.net
	                            or http://127.0.0.1:10000/devstoreaccount1 */
	const char *account;     /* account name (Shared Key signing) */
	const char *container;
	const char *sas;         /* SAS token without '?', or NULL/"" */
	const char *key;         /* base64 account key, or NULL/"" */
};

/* What a person is told when a request to a storage account failed: the
 * error sentences of this module (curl's message, the service's status and
 * error code) go to the server log only, so that labeld's answers never
 * tell how a host and port of the network answered. */
#define BLOB_FAILED_SENTENCE "labeld could not reach the storage account; see the server log."

struct blob_limits {
	long connect_timeout_ms;   /* default blob_policy_set's (5000); never more */
	long total_timeout_ms;     /* default 30000 per request */
	size_t max_response;       /* default 8 MiB per response body */
};

void blob_limits_default(struct blob_limits *l);

/* Process-wide: call once before threads start (curl_global_init). */
int blob_global_init(void);

/*
 * Where requests may go (docs/azure-blob.md, "Which addresses"): every
 * connection is made to an address curl resolved only after that address
 * was checked (CURLOPT_OPENSOCKETFUNCTION): loopback, private, shared
 * (100.64/10), link-local (169.254.169.254 too), unique-local, site-local,
 * multicast, unspecified and reserved addresses are refused, also when an
 * IPv6 address carries them (IPv4-mapped, -compatible, NAT64, 6to4).  A
 * host in the allow list is exempt; http:// is allowed only for such hosts
 * (https:// only otherwise), and no proxy is used.
 *
 * blob_policy_set: allow_hosts is the setting blob_allow_hosts: entries
 * "host" (any port) or "host:port" ("[::1]:10000" for IPv6), separated by
 * spaces or commas; a host matches an endpoint's host as curl's URL parser
 * writes both (so "127.1" and "127.0.0.1" are the same host).
 * connect_timeout_ms (0: 5000) becomes blob_limits_default's and the most
 * any call waits for a connection.  Call before threads start (after
 * blob_global_init); a second call replaces the rules.  0, or -1 with err
 * naming the entry that is not a host (the rules are then unchanged).
 * Without a call nothing is allowed and the timeout is 5000 ms.
 */
int blob_policy_set(const char *allow_hosts, long connect_timeout_ms, char *err, size_t errlen);

/* Why the address sa may not be connected to ("a loopback", "a private",
 * ... : the words before "address"), or NULL when it may.  Anything but
 * IPv4 and IPv6 is refused. */
struct sockaddr;
const char *blob_address_refusal(const struct sockaddr *sa, size_t salen);

/* Check an endpoint URL: http or https (http only for a host on the allow
 * list), a host, no user info, no query or fragment.  0, or -1 with a
 * sentence in err. */
int blob_endpoint_check(const char *url, char *err, size_t errlen);

/* The same rules for another client's requests (core/oidc.c: an OpenID
 * provider's discovery document, key set and token endpoint): check url as
 * blob_endpoint_check does (a query is allowed here) and set on the libcurl
 * easy handle curl (a CURL *) the options every blob request has: http
 * only for allowed hosts, every address checked before it is connected to,
 * no proxy, no redirects, TLS verified, blob_connect_timeout.  When a
 * transfer fails, refused (BLOB_REFUSED_MAX bytes, filled while it runs)
 * names an address the rules refused, or is "".  The caller sets the URL,
 * the total timeout and a cap on the body.  0, or -1 with err. */
#define BLOB_REFUSED_MAX 96
int blob_curl_restrict(void *curl, const char *url, char *refused, char *err, size_t errlen);

/* A reusable connection (keep-alive) for many calls from one thread. */
struct blob_client;
struct blob_client *blob_client_new(const struct blob_account *acc, const struct blob_limits *lim);
void blob_client_free(struct blob_client *c);

/* Have blob_list call fn before it asks for each page of a listing (a long
 * listing's caller shows it is alive there); a non-zero return stops the
 * listing as the entry callback's does.  fn NULL: none. */
typedef int (*blob_page_fn)(void *ctx);
void blob_client_on_page(struct blob_client *c, blob_page_fn fn, void *ctx);

/* One listing result: a blob (is_prefix 0, with its size) or, when a
 * delimiter was given, a virtual folder (is_prefix 1, name ends with the
 * delimiter).  Return non-zero from the callback to stop early. */
typedef int (*blob_list_fn)(void *ctx, const char *name, uint64_t size, int is_prefix);

/* List Blobs under prefix ("" for all), flat (delimiter NULL) or one level
 * (delimiter "/"), following NextMarker until the end.  maxresults per page
 * (0 = server default 5000).  0, or -1 with err. */
int blob_list(struct blob_client *c, const char *prefix, const char *delimiter,
    unsigned maxresults, blob_list_fn fn, void *ctx, char *err, size_t errlen);

/* Get Blob, at most max_bytes from offset 0 (a Range request when max_bytes
 * is smaller than the blob).  *out is malloc'd (caller frees), *outlen its
 * length, *total the blob's full size when known.  0, or -1 with err. */
int blob_get(struct blob_client *c, const char *name, size_t max_bytes,
    unsigned char **out, size_t *outlen, uint64_t *total, char *err, size_t errlen);

/* The same from byte off on: at most max_bytes (0 < max_bytes < SIZE_MAX
 * when off > 0) with a Range request; an offset at or past the end of the
 * blob gives 0 bytes. */
int blob_get_range(struct blob_client *c, const char *name, uint64_t off, size_t max_bytes,
    unsigned char **out, size_t *outlen, uint64_t *total, char *err, size_t errlen);

/* Get Blob streamed: nothing of the blob is kept.  When the service
 * answers 200, begin(ctx, size) is called once (size: the blob's
 * Content-Length, -1 when it sent none; also for an empty blob), then
 * write(ctx, data, len) with each piece as it arrives; a non-zero return
 * from either stops the transfer.  A blob larger than max_bytes (0: no
 * limit) is refused before begin when its Content-Length says so, else
 * when the bytes pass the limit.  0 when the whole blob went to write; -1
 * with err otherwise, and *started tells whether begin had been called
 * (then the caller has answered already and can only cut its answer). */
typedef int (*blob_begin_fn)(void *ctx, int64_t size);
typedef int (*blob_write_fn)(void *ctx, const void *data, size_t len);
int blob_get_stream(struct blob_client *c, const char *name, uint64_t max_bytes,
    blob_begin_fn begin, blob_write_fn write, void *ctx, int *started, char *err, size_t errlen);

/* Put Blob (BlockBlob) from memory.  0, or -1 with err. */
int blob_put(struct blob_client *c, const char *name, const void *data, size_t len,
    const char *content_type, char *err, size_t errlen);

/* Put Block: upload data as block index (0, 1, 2 ...) of upload run (any
 * number the uploader picks, so that two uploads of one name never mix
 * their blocks) of blob name, not yet part of the blob (block ids are made
 * from run and index, all of one length).  The block carries its
 * Content-MD5, which the service checks.  A block that got no answer or a
 * 5xx is sent once more (staging a block twice changes nothing).  0, or -1
 * with err. */
int blob_put_block(struct blob_client *c, const char *name, uint32_t run, uint32_t index,
    const void *data, size_t len, char *err, size_t errlen);

/* Put Block List: commit blocks 0 .. nblocks-1 of run uploaded by
 * blob_put_block as the blob's content (with content_type, NULL: the service's default);
 * until then the blob does not exist or keeps its old content, and
 * uncommitted blocks are dropped by the service after a week.  0, or -1
 * with err. */
int blob_put_block_list(struct blob_client *c, const char *name, uint32_t run, uint32_t nblocks,
    const char *content_type, char *err, size_t errlen);

/* blob_put_block_list that never overwrites: the commit carries
 * If-None-Match: *, so it is refused when a blob of that name exists.  0, 1
 * when the name is taken (nothing changed; the blocks stay uncommitted
 * until the service drops them), or -1 with err.  Never sent twice: a
 * commit whose answer was lost may have happened. */
int blob_put_block_list_new(struct blob_client *c, const char *name, uint32_t run,
    uint32_t nblocks, const char *content_type, char *err, size_t errlen);

/* Delete Blob; a blob that is not there is not an error.  0, or -1 with
 * err. */
int blob_delete(struct blob_client *c, const char *name, char *err, size_t errlen);

/* Create Container (for tests and the demo); an existing one is not an
 * error.  0, or -1 with err. */
int blob_container_create(struct blob_client *c, char *err, size_t errlen);

/* Fetch the first `bytes` bytes of many blobs at once (curl multi, up to
 * `parallel` transfers).  fn is called once per name, in any order, with the
 * bytes (NULL and an error sentence on failure).  0 when the batch ran (per-
 * blob failures go to fn), -1 with err when it could not run at all. */
typedef void (*blob_head_fn)(void *ctx, size_t index, const unsigned char *data,
    size_t len, const char *error);
int blob_get_heads(const struct blob_account *acc, const struct blob_limits *lim,
    const char *const *names, size_t n, size_t bytes, unsigned parallel,
    blob_head_fn fn, void *ctx, char *err, size_t errlen);

/* The URL of a blob (endpoint/container/name, name percent-encoded per
 * segment), without credentials; malloc'd. */
char *blob_url(const struct blob_account *acc, const char *name);

#endif
