/*
 * project_rules.c: the rules for names, labels, links, descriptions and
 * upload file names (see project_rules.h and docs/projects.md).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "project_rules.h"

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

const char *rules_trim(const char *s, size_t len, size_t *out_len)
{
	if (s == NULL) {
		*out_len = 0;
		return "";
	}
	while (len > 0 && is_space((unsigned char)s[0])) {
		s++;
		len--;
	}
	while (len > 0 && is_space((unsigned char)s[len - 1]))
		len--;
	*out_len = len;
	return s;
}

/* Decode the code point at s[0..len): its byte length (1..4) with *cp set,
 * or 0 when the bytes there are not valid UTF-8. */
static size_t utf8_next(const unsigned char *s, size_t len, unsigned long *cp)
{
	unsigned long c;
	size_t n;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode. */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int is_control(unsigned long cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

long rules_utf8_count(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	long count = 0;
	unsigned long cp;

	while (len > 0) {
		size_t n = utf8_next(p, len, &cp);
		if (n == 0)
			return -1;
		p += n;
		len -= n;
		count++;
	}
	return count;
}

/* Shared by names, labels and descriptions: valid UTF-8, control characters
 * (except those allowed), length in code points.  0 or -1 with err. */
static int text_check(const char *what, const char *s, size_t len, size_t min, size_t max,
    int allow_newlines, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = len, count = 0;
	unsigned long cp;

	while (left > 0) {
		size_t n = utf8_next(p, left, &cp);
		if (n == 0) {
			snprintf(err, errlen, "The %s is not valid UTF-8 text.", what);
			return -1;
		}
		if (is_control(cp) && !(allow_newlines && (cp == '\n' || cp == '\r' || cp == '\t'))) {
			snprintf(err, errlen, "The %s may not contain control characters.", what);
			return -1;
		}
		p += n;
		left -= n;
		count++;
	}
	if (count < min) {
		snprintf(err, errlen, "Enter a %s.", what);
		return -1;
	}
	if (count > max) {
		snprintf(err, errlen, "The %s is %zu characters long; at most %zu are allowed.",
		    what, count, max);
		return -1;
	}
	return 0;
}

int project_name_check(const char *name, size_t len, char *err, size_t errlen)
{
	return text_check("name", name, len, 1, PROJECT_NAME_MAX, 0, err, errlen);
}

int team_name_check(const char *name, size_t len, char *err, size_t errlen)
{
	return text_check("team name", name, len, 1, TEAM_NAME_MAX, 0, err, errlen);
}

int project_label_check(const char *label, size_t len, char *err, size_t errlen)
{
	return text_check("label name", label, len, 1, PROJECT_LABEL_MAX, 0, err, errlen);
}

int project_description_check(const char *text, size_t len, char *err, size_t errlen)
{
	return text_check("description", text, len, 0, PROJECT_DESCRIPTION_MAX, 1, err, errlen);
}

int project_label_same(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0 ? 1 : 0;
}

int project_labels_check(const char *const *labels, size_t n, size_t max,
    size_t *bad, char *err, size_t errlen)
{
	char shown[PROJECT_LABEL_MAX * 4 + 8], why[160];

	if (bad != NULL)
		*bad = n;
	if (n == 0) {
		snprintf(err, errlen, "Enter at least one label class.");
		return -1;
	}
	if (n > max) {
		snprintf(err, errlen, "%zu label classes is too many; a project may have at most %zu.",
		    n, max);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (project_label_check(labels[i], strlen(labels[i]), why, sizeof(why)) < 0) {
			if (bad != NULL)
				*bad = i;
			snprintf(err, errlen, "Label %zu: %s", i + 1, why);
			return -1;
		}
		for (size_t j = 0; j < i; j++) {
			if (project_label_same(labels[i], labels[j])) {
				if (bad != NULL)
					*bad = i;
				rules_display(labels[i], 40, shown, sizeof(shown));
				snprintf(err, errlen, "The label \u201c%s\u201d is listed twice "
				    "(labels %zu and %zu; upper and lower case count as the same).",
				    shown, j + 1, i + 1);
				return -1;
			}
		}
	}
	return 0;
}

int project_url_check(const char *url, size_t len, char *err, size_t errlen)
{
	size_t skip, host;

	if (len == 0)
		return 0;
	if (len > PROJECT_URL_MAX) {
		snprintf(err, errlen, "The link is longer than %d bytes.", PROJECT_URL_MAX);
		return -1;
	}
	if (len >= 7 && strncasecmp(url, "http://", 7) == 0) {
		skip = 7;
	} else if (len >= 8 && strncasecmp(url, "https://", 8) == 0) {
		skip = 8;
	} else {
		snprintf(err, errlen, "That link was refused: only http and https links are allowed "
		    "(starting with http:// or https://).");
		return -1;
	}
	if (rules_utf8_count(url, len) < 0) {
		snprintf(err, errlen, "The link is not valid UTF-8 text.");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c == 0x7f) {
			snprintf(err, errlen, c == ' ' ? "The link may not contain spaces (write %%20)." :
			    "The link may not contain control characters.");
			return -1;
		}
		if (c == '\\') {
			snprintf(err, errlen, "The link may not contain backslashes.");
			return -1;
		}
	}
	/* The authority: up to the first '/', '?' or '#'; its host part
	 * (after any user info) must not be empty. */
	host = skip;
	for (size_t i = skip; i < len && url[i] != '/' && url[i] != '?' && url[i] != '#'; i++)
		if (url[i] == '@')
			host = i + 1;
	if (host >= len || url[host] == '/' || url[host] == '?' || url[host] == '#' ||
	    url[host] == ':') {
		snprintf(err, errlen, "The link has no host name (write it like https://example.com/guide).");
		return -1;
	}
	return 0;
}

size_t upload_folder_default(const char *name, char *out, size_t outlen)
{
	size_t n = 0;

	if (outlen == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)(name ? name : ""); *p != '\0'; p++) {
		unsigned char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-'))
			c = '-';
		/* No leading '-' or '.', no run of '-'. */
		if ((n == 0 && (c == '-' || c == '.')) || (c == '-' && out[n - 1] == '-'))
			continue;
		if (n == UPLOAD_FOLDER_MAX || n + 1 >= outlen)
			break;
		out[n++] = (char)c;
	}
	while (n > 0 && (out[n - 1] == '-' || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
	return n;
}

int upload_name_sanitize(const char *raw, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *base = raw ? raw : "";
	size_t len;
	long cps;
	unsigned long cp;

	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	len = strlen(base);
	if (len == 0) {
		snprintf(err, errlen, "the file has no name");
		return -1;
	}
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		snprintf(err, errlen, "\"%s\" is not a file name", base);
		return -1;
	}
	if (base[0] == '.') {
		snprintf(err, errlen, "file names starting with '.' are not accepted (hidden files)");
		return -1;
	}
	if (len > UPLOAD_NAME_MAX) {
		snprintf(err, errlen, "the file name is longer than %d bytes", UPLOAD_NAME_MAX);
		return -1;
	}
	cps = rules_utf8_count(base, len);
	if (cps < 0) {
		snprintf(err, errlen, "the file name is not valid UTF-8");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)base; *p; ) {
		size_t n = utf8_next(p, strlen((const char *)p), &cp);
		if (is_control(cp)) {
			snprintf(err, errlen, "the file name contains control characters");
			return -1;
		}
		p += n;
	}
	if (len + 1 > outlen) {
		snprintf(err, errlen, "the file name is too long");
		return -1;
	}
	memcpy(out, base, len + 1);
	return 0;
}

void rules_display(const char *s, size_t max, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t left = strlen((const char *)p), o = 0, count = 0;
	unsigned long cp;

	if (outlen == 0)
		return;
	while (left > 0) {
		size_t n = utf8_next(p, left, &cp);
		const unsigned char *src = p;
		size_t copy = n;
		if (count == max) {
			if (o + 4 <= outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (n == 0 || is_control(cp)) {
			src = (const unsigned char *)"?";
			copy = 1;
			n = n ? n : 1;
		}
		if (o + copy + 1 > outlen)
			break;
		memcpy(out + o, src, copy);
		o += copy;
		p += n;
		left -= n;
		count++;
	}
	out[o] = '\0';
}
