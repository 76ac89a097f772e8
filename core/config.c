/*
 * config.c: the configuration table, the file parser and the environment
 * overrides.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "oidc.h"

enum key_type { K_STR, K_UINT, K_OCTAL, K_SIZE, K_BOOL, K_ULL };

struct config_key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;
	unsigned long min, max;   /* for K_UINT / K_SIZE */
};

#define KS(n, d) { #n, K_STR, offsetof(struct config, n), d, 0, 0 }
#define KU(n, d, lo, hi) { #n, K_UINT, offsetof(struct config, n), d, lo, hi }
#define KO(n, d) { #n, K_OCTAL, offsetof(struct config, n), d, 0, 0777 }
#define KZ(n, d, lo, hi) { #n, K_SIZE, offsetof(struct config, n), d, lo, hi }
#define KL(n, d, lo, hi) { #n, K_ULL, offsetof(struct config, n), d, lo, hi }
#define KB(n, d) { #n, K_BOOL, offsetof(struct config, n), d, 0, 1 }

#ifndef LABELD_PKGDATADIR
#define LABELD_PKGDATADIR "/usr/local/share/labeld"
#endif
#ifndef LABELD_PLUGINDIR
#define LABELD_PLUGINDIR "/usr/local/lib/labeld/plugins"
#endif
#ifndef LABELD_LOCALSTATEDIR
#define LABELD_LOCALSTATEDIR "/usr/local/var"
#endif

/* The one table of keys; conf/labeld.conf.example documents each. */
static const struct config_key config_keys[] = {
	KS(socket, "/run/labeld/labeld.sock"),
	KO(socket_mode, "0660"),
	KU(socket_backlog, "128", 1, 65535),
	KU(workers, "32", 1, 1024),
	KS(db_socket, "/run/mysqld/mysqld.sock"),
	KS(db_host, "localhost"),
	KU(db_port, "3306", 1, 65535),
	KS(db_user, "labeld"),
	KS(db_password, ""),
	KS(db_name, "labeld"),
	KU(db_connect_timeout, "2", 1, 3600),
	KU(db_rw_timeout, "30", 1, 86400),
	KB(migrate, "on"),
	KS(templates_dir, LABELD_PKGDATADIR "/templates"),
	KS(plugins_dir, LABELD_PLUGINDIR),
	KS(sql_dir, LABELD_PKGDATADIR "/sql"),
	KS(datastore_dir, LABELD_LOCALSTATEDIR "/lib/labeld/datastore"),
	KS(tmp_dir, "/tmp"),
	KS(datastore_roots, ""),
	KZ(max_body_size, "64m", 1024, (unsigned long)1 << 40),
	KU(max_fields, "256", 1, 100000),
	KU(max_field_name, "128", 1, 65536),
	KU(max_field_value, "65536", 16, 64u << 20),
	KU(max_parts, "1024", 1, 100000),
	KL(max_image_pixels, "100000000", 1, 4294967295ul),
	KU(max_labels, "100", 1, 10000),
	KU(label_lease_seconds, "600", 10, 86400),
	KU(review_lease_seconds, "600", 10, 86400),
	KB(combine, "on"),
	KU(session_idle_timeout, "3600", 1, 31536000),
	KU(session_lifetime, "43200", 1, 31536000),
	KU(login_max_failures_account, "5", 1, 1000000),
	KU(login_max_failures_address, "30", 1, 1000000),
	KU(login_window, "900", 1, 31536000),
	KU(login_account_backoff, "100", 1, 1000000),
	KU(password_cost, "5", 1, 11),
	KU(invitation_lifetime, "604800", 60, 31536000),
	KU(cleanup_interval, "300", 1, 86400),
	KS(public_url, ""),
	KS(blob_allow_hosts, ""),
	KU(blob_max_fetches, "8", 1, 1024),
	KU(blob_connect_timeout, "5", 1, 300),
	KZ(blob_block_size, "4m", (unsigned long)64 << 10, (unsigned long)100 << 20),
	KU(max_dataset_files, "5000000", 1, 4000000000u),
	KU(job_takeover_seconds, "30", 3, 3600),
	KU(oidc_flow_seconds, "600", 30, 86400),
	KU(oidc_cache_seconds, "3600", 60, 604800),
	KU(oidc_clock_skew, "120", 0, 600),
	KS(log_level, "info"),
	KS(metrics_allow, "127.0.0.1 ::1"),
};

#define NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

const char *config_key_at(size_t i, const char **def)
{
	if (i >= NKEYS)
		return NULL;
	if (def != NULL)
		*def = config_keys[i].def;
	return config_keys[i].name;
}

static const struct config_key *key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

int config_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v, mul = 1;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'k': mul = 1024ull; end++; break;
	case 'm': mul = 1024ull * 1024; end++; break;
	case 'g': mul = 1024ull * 1024 * 1024; end++; break;
	default: return -1;
	}
	if (*end != '\0' || v > SIZE_MAX / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

static int parse_uint(const char *s, int base, unsigned long *out)
{
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoul(s, &end, base);
	return (errno != 0 || *end != '\0') ? -1 : 0;
}

/* ------------------------------------------------------------ providers */

#define OIDC_MAX_PROVIDERS 32
#define OIDC_NAME_MAX 32
#define OIDC_ISSUER_MAX 255      /* user_identities.issuer */
#define OIDC_TENANT_MAX 64       /* user_identities.tenant */
#define OIDC_SECRET_MAX 4096

static void oidc_provider_clear(struct oidc_provider *p)
{
	free(p->name);
	free(p->issuer);
	free(p->client_id);
	if (p->client_secret != NULL) {
		explicit_bzero(p->client_secret, strlen(p->client_secret));
		free(p->client_secret);
	}
	free(p->display_name);
	free(p->scopes);
	for (size_t i = 0; p->tenants != NULL && p->tenants[i] != NULL; i++)
		free(p->tenants[i]);
	free(p->tenants);
	memset(p, 0, sizeof(*p));
}

static int oidc_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > OIDC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* The provider called name (n bytes), made when new.  NULL when out of
 * memory or past OIDC_MAX_PROVIDERS (err says which). */
static struct oidc_provider *oidc_provider_get(struct config *c, const char *name, size_t n,
    unsigned line, char *err, size_t errlen)
{
	struct oidc_provider *p;
	struct config_oidc_src *src;

	for (size_t i = 0; i < c->noidc; i++)
		if (strlen(c->oidc[i].name) == n && memcmp(c->oidc[i].name, name, n) == 0)
			return &c->oidc[i];
	if (c->noidc == OIDC_MAX_PROVIDERS) {
		snprintf(err, errlen, "more than %d OpenID Connect providers", OIDC_MAX_PROVIDERS);
		return NULL;
	}
	p = realloc(c->oidc, (c->noidc + 1) * sizeof(*p));
	if (p != NULL)
		c->oidc = p;
	src = realloc(c->oidc_src, (c->noidc + 1) * sizeof(*src));
	if (src != NULL)
		c->oidc_src = src;
	if (p == NULL || src == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p = &c->oidc[c->noidc];
	memset(p, 0, sizeof(*p));
	memset(&c->oidc_src[c->noidc], 0, sizeof(*src));
	c->oidc_src[c->noidc].line = line;
	p->name = strndup(name, n);
	if (p->name == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->noidc++;
	return p;
}

/* The first line of the file at path, without its line break, malloc'd.
 * NULL with err when it cannot be read or the line is empty. */
static char *secret_file_read(const char *path, char *err, size_t errlen)
{
	char line[OIDC_SECRET_MAX + 2], *s;
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), f) == NULL) {
		snprintf(err, errlen, "%s is empty", path);
		fclose(f);
		return NULL;
	}
	fclose(f);
	n = strcspn(line, "\r\n");
	if (n > OIDC_SECRET_MAX) {
		explicit_bzero(line, sizeof(line));
		snprintf(err, errlen, "the first line of %s is longer than %d bytes", path,
		    OIDC_SECRET_MAX);
		return NULL;
	}
	if (n == 0) {
		snprintf(err, errlen, "the first line of %s is empty", path);
		return NULL;
	}
	s = strndup(line, n);
	explicit_bzero(line, sizeof(line));
	if (s == NULL)
		snprintf(err, errlen, "out of memory");
	return s;
}

/* "a, b,c" into a NULL-terminated array (NULL for an empty list). */
static int tenants_parse(const char *value, char ***out, char *err, size_t errlen)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = value;

	*out = NULL;
	while (*p != '\0') {
		size_t len;
		char **nv;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0)
			break;
		if (len > OIDC_TENANT_MAX || strcspn(p, " \t") < len) {
			snprintf(err, errlen, "a tenant id is longer than %d characters or has a space",
			    OIDC_TENANT_MAX);
			goto fail;
		}
		nv = realloc(v, (n + 2) * sizeof(*v));
		if (nv == NULL)
			goto oom;
		v = nv;
		v[n] = strndup(p, len);
		v[n + 1] = NULL;
		if (v[n] == NULL)
			goto oom;
		n++;
		p += len;
	}
	*out = v;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
	return -1;
}

/* One "oidc.<name>.<key> = value" line (line 0: not from a file). */
static int oidc_key_set(struct config *c, const char *key, const char *value, unsigned line,
    char *err, size_t errlen)
{
	const char *name = key + 5, *dot = strchr(name, '.'), *sub;
	struct oidc_provider *p;
	struct config_oidc_src *src;
	char **field = NULL, *d;

	if (dot == NULL || !oidc_name_ok(name, (size_t)(dot - name))) {
		snprintf(err, errlen, "'%s': a provider's keys are oidc.NAME.KEY, NAME 1 to %d "
		    "characters of a-z, 0-9, _ and -", key, OIDC_NAME_MAX);
		return -1;
	}
	sub = dot + 1;
	if (strcmp(sub, "issuer") != 0 && strcmp(sub, "client_id") != 0 &&
	    strcmp(sub, "client_secret") != 0 && strcmp(sub, "client_secret_file") != 0 &&
	    strcmp(sub, "display_name") != 0 && strcmp(sub, "tenants") != 0 &&
	    strcmp(sub, "scopes") != 0) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	p = oidc_provider_get(c, name, (size_t)(dot - name), line, err, errlen);
	if (p == NULL)
		return -1;
	src = &c->oidc_src[p - c->oidc];
	if (strcmp(sub, "tenants") == 0) {
		char **t;
		if (tenants_parse(value, &t, err, errlen) < 0)
			return -1;
		for (size_t i = 0; p->tenants != NULL && p->tenants[i] != NULL; i++)
			free(p->tenants[i]);
		free(p->tenants);
		p->tenants = t;
		return 0;
	}
	if (strcmp(sub, "client_secret") == 0 || strcmp(sub, "client_secret_file") == 0) {
		int which = sub[13] == '\0' ? 1 : 2;
		if (src->secret_key != 0 && src->secret_key != which) {
			snprintf(err, errlen, "oidc.%s: set client_secret or client_secret_file, not both",
			    p->name);
			return -1;
		}
		if (value[0] == '\0') {
			snprintf(err, errlen, "%s is empty", key);
			return -1;
		}
		d = which == 1 ? strdup(value) : secret_file_read(value, err, errlen);
		if (d == NULL) {
			if (which == 1)
				snprintf(err, errlen, "out of memory");
			else {
				char why[512];
				snprintf(why, sizeof(why), "%s", err);
				snprintf(err, errlen, "%s: %s", key, why);
			}
			return -1;
		}
		if (p->client_secret != NULL) {
			explicit_bzero(p->client_secret, strlen(p->client_secret));
			free(p->client_secret);
		}
		p->client_secret = d;
		src->secret_key = which;
		return 0;
	}
	if (strcmp(sub, "issuer") == 0)
		field = &p->issuer;
	else if (strcmp(sub, "client_id") == 0)
		field = &p->client_id;
	else if (strcmp(sub, "display_name") == 0)
		field = &p->display_name;
	else
		field = &p->scopes;
	d = strdup(value);
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(*field);
	*field = d;
	return 0;
}

/* An issuer as the protocol wants it: https:// (or http://, which only a
 * host in blob_allow_hosts may use: oidc_config_check), a host, no user
 * info, query or fragment, printable ASCII. */
static const char *issuer_problem(const char *u)
{
	const char *host;
	size_t n;

	if (strlen(u) > OIDC_ISSUER_MAX)
		return "is longer than 255 characters";
	for (const unsigned char *q = (const unsigned char *)u; *q != '\0'; q++)
		if (*q <= 0x20 || *q >= 0x7f)
			return "contains spaces, control or non-ASCII characters";
	host = strncmp(u, "https://", 8) == 0 ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
	if (host == NULL)
		return "must be an https:// URL";
	n = strcspn(host, "/?#");
	if (n == 0 || memchr(host, '@', n) != NULL)
		return "must name a host (and no user or password)";
	if (strpbrk(u, "?#") != NULL)
		return "must not have a query or fragment";
	return NULL;
}

/* Each provider complete: issuer, client_id, a secret; the defaults of
 * display_name and scopes filled in. */
static int oidc_validate(struct config *c, const char *where, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->noidc; i++) {
		struct oidc_provider *p = &c->oidc[i];
		const char *problem = NULL, *why;
		char at[32] = "";

		if (c->oidc_src[i].line > 0)
			snprintf(at, sizeof(at), ":%u", c->oidc_src[i].line);
		if (p->issuer == NULL)
			problem = "issuer is missing";
		else if ((why = issuer_problem(p->issuer)) != NULL) {
			snprintf(err, errlen, "%s%s: oidc.%s.issuer %s: '%s'", where, at, p->name, why,
			    p->issuer);
			return -1;
		} else if (p->client_id == NULL || p->client_id[0] == '\0')
			problem = "client_id is missing";
		else if (p->client_secret == NULL)
			problem = "client_secret or client_secret_file is missing";
		else if (p->scopes != NULL && strstr(p->scopes, "openid") == NULL)
			problem = "scopes must include openid";
		if (problem != NULL) {
			snprintf(err, errlen, "%s%s: oidc.%s: %s", where, at, p->name, problem);
			return -1;
		}
		if (p->display_name == NULL || p->display_name[0] == '\0') {
			free(p->display_name);
			p->display_name = strdup(p->name);
		}
		if (p->scopes == NULL)
			p->scopes = strdup("openid email profile");
		if (p->display_name == NULL || p->scopes == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

int config_set(struct config *c, const char *name, const char *value,
    char *err, size_t errlen)
{
	const struct config_key *k = key_find(name);
	char *field;
	unsigned long u;
	size_t z;

	if (strncmp(name, "oidc.", 5) == 0)
		return oidc_key_set(c, name, value, 0, err, errlen);
	if (k == NULL && strncmp(name, "plugin.", 7) == 0 && strchr(name + 7, '.') != NULL) {
		struct config_extra *x = realloc(c->extra, (c->nextra + 1) * sizeof(*x));
		if (x == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		c->extra = x;
		x[c->nextra].key = strdup(name);
		x[c->nextra].value = strdup(value);
		if (x[c->nextra].key == NULL || x[c->nextra].value == NULL) {
			free(x[c->nextra].key);
			free(x[c->nextra].value);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		c->nextra++;
		return 0;
	}
	if (k == NULL) {
		snprintf(err, errlen, "unknown key '%s'", name);
		return -1;
	}
	field = (char *)c + k->offset;
	switch (k->type) {
	case K_STR: {
		char *d = strdup(value);
		if (d == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		free(*(char **)field);
		*(char **)field = d;
		return 0;
	}
	case K_UINT:
		if (parse_uint(value, 10, &u) < 0 || u < k->min || u > k->max) {
			snprintf(err, errlen, "%s must be a whole number from %lu to %lu, not '%s'",
			    name, k->min, k->max, value);
			return -1;
		}
		*(unsigned *)field = (unsigned)u;
		return 0;
	case K_ULL:
		if (parse_uint(value, 10, &u) < 0 || u < k->min || u > k->max) {
			snprintf(err, errlen, "%s must be a whole number from %lu to %lu, not '%s'",
			    name, k->min, k->max, value);
			return -1;
		}
		*(unsigned long long *)field = u;
		return 0;
	case K_OCTAL:
		if (parse_uint(value, 8, &u) < 0 || u > k->max) {
			snprintf(err, errlen, "%s must be an octal mode like 0660, not '%s'", name, value);
			return -1;
		}
		*(unsigned *)field = (unsigned)u;
		return 0;
	case K_SIZE:
		if (config_parse_size(value, &z) < 0 || z < k->min || z > k->max) {
			snprintf(err, errlen, "%s must be a size like 64m (at least %lu bytes), not '%s'",
			    name, k->min, value);
			return -1;
		}
		*(size_t *)field = z;
		return 0;
	case K_BOOL:
		if (strcmp(value, "on") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			*(int *)field = 1;
		else if (strcmp(value, "off") == 0 || strcmp(value, "no") == 0 ||
		    strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			*(int *)field = 0;
		else {
			snprintf(err, errlen, "%s must be on or off, not '%s'", name, value);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "internal: bad key type");
	return -1;
}

void config_defaults(struct config *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		if (config_set(c, config_keys[i].name, config_keys[i].def, err, sizeof(err)) < 0)
			log_error("config default %s: %s", config_keys[i].name, err);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int config_read_file(struct config *c, const char *path, int must_exist,
    char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char line[4096], msg[512];
	unsigned lineno = 0;

	if (f == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *key, *val;
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path, lineno);
			fclose(f);
			return -1;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			fclose(f);
			return -1;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if ((strncmp(key, "oidc.", 5) == 0 ? oidc_key_set(c, key, val, lineno, msg, sizeof(msg)) :
		    config_set(c, key, val, msg, sizeof(msg))) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			fclose(f);
			return -1;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int config_apply_env(struct config *c, char *err, size_t errlen)
{
	char envname[96], msg[512];

	for (size_t i = 0; i < NKEYS; i++) {
		const char *name = config_keys[i].name, *v;
		size_t j;
		memcpy(envname, "LABELD_", 7);
		for (j = 0; name[j] != '\0' && j + 8 < sizeof(envname); j++)
			envname[7 + j] = (char)toupper((unsigned char)name[j]);
		envname[7 + j] = '\0';
		v = getenv(envname);
		if (v == NULL)
			continue;
		if (config_set(c, name, v, msg, sizeof(msg)) < 0) {
			snprintf(err, errlen, "%s: %s", envname, msg);
			return -1;
		}
	}
	return 0;
}

static int config_validate(struct config *c, char *err, size_t errlen)
{
	const char *where = c->path ? c->path : "config";
	char msg[128];

	if (c->socket[0] == '\0') {
		snprintf(err, errlen, "%s: socket must be a path or '-'", where);
		return -1;
	}
	if (c->socket[0] != '-' && strlen(c->socket) >= 108) {
		snprintf(err, errlen, "%s: socket path longer than 107 bytes", where);
		return -1;
	}
	if (log_level_parse(c->log_level) < 0) {
		snprintf(err, errlen, "%s: log_level must be error, warn, info or debug", where);
		return -1;
	}
	if (c->public_url[0] != '\0') {
		const char *u = c->public_url, *host;
		size_t n;
		host = strncmp(u, "https://", 8) == 0 ? u + 8 : strncmp(u, "http://", 7) == 0 ? u + 7 : NULL;
		n = host ? strcspn(host, "/?#@ \t") : 0;
		if (host == NULL || n == 0 || (host[n] != '\0' && strcmp(host + n, "/") != 0)) {
			snprintf(err, errlen, "%s: public_url must be https://HOST[:PORT] (or http://), "
			    "without a path: '%s'", where, u);
			return -1;
		}
	}
	if (metrics_allow_check(c->metrics_allow, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "%s: metrics_allow: %s", where, msg);
		return -1;
	}
	if (c->session_lifetime < c->session_idle_timeout) {
		snprintf(err, errlen, "%s: session_lifetime must not be shorter than session_idle_timeout", where);
		return -1;
	}
	return oidc_validate(c, where, err, errlen);
}

int config_load(struct config *c, const char *path, int must_exist,
    char *err, size_t errlen)
{
	if (path != NULL) {
		c->path = strdup(path);
		if (config_read_file(c, path, must_exist, err, errlen) < 0)
			return -1;
	}
	if (config_apply_env(c, err, errlen) < 0)
		return -1;
	return config_validate(c, err, errlen);
}

const char *config_get_extra(const struct config *c, const char *key)
{
	const char *v = NULL;

	/* The last line wins, as for the other keys. */
	for (size_t i = 0; i < c->nextra; i++)
		if (strcmp(c->extra[i].key, key) == 0)
			v = c->extra[i].value;
	return v;
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (config_keys[i].type == K_STR) {
			char **p = (char **)((char *)c + config_keys[i].offset);
			free(*p);
			*p = NULL;
		}
	for (size_t i = 0; i < c->nextra; i++) {
		free(c->extra[i].key);
		free(c->extra[i].value);
	}
	free(c->extra);
	c->extra = NULL;
	c->nextra = 0;
	for (size_t i = 0; i < c->noidc; i++)
		oidc_provider_clear(&c->oidc[i]);
	free(c->oidc);
	free(c->oidc_src);
	c->oidc = NULL;
	c->oidc_src = NULL;
	c->noidc = 0;
	free(c->path);
	c->path = NULL;
}
