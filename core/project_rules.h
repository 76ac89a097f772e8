/*
 * project_rules.h: what a project's name, label classes, instructions link,
 * description and uploaded file names may be.  Pure functions of their
 * input (no I/O, no allocation): the wizard, the details page and the CLI
 * all use the same rules, and tests/unit/test_project_rules.c pins them.
 *
 * Every check returns 0, or -1 with a sentence for the person in err (the
 * sentence never repeats more than a short, cleaned excerpt of the input).
 * "Trimmed" means ASCII white space (space, tab, CR, LF, VT, FF) removed from
 * both ends; lengths of names and labels are counted in Unicode code points.
 * Control characters are C0 (U+0000..U+001F), DEL and C1 (U+0080..U+009F).
 * See docs/projects.md for the reasons behind each rule.
 */
#ifndef LABELD_PROJECT_RULES_H
#define LABELD_PROJECT_RULES_H

#include <stddef.h>

#define PROJECT_NAME_MAX 100          /* code points */
#define PROJECT_LABEL_MAX 64          /* code points */
#define PROJECT_URL_MAX 2048          /* bytes */
#define PROJECT_DESCRIPTION_MAX 2000  /* code points */
#define UPLOAD_NAME_MAX 200           /* bytes */
#define UPLOAD_FOLDER_MAX 64          /* bytes of a default upload folder */
#define TEAM_NAME_MAX 140             /* code points */

/* The trimmed part of s[0..len): returns its start and sets *out_len.
 * s may be NULL (then "" with length 0). */
const char *rules_trim(const char *s, size_t len, size_t *out_len);

/* Number of code points in s[0..len) when it is valid UTF-8 (no overlong
 * forms, no surrogates, nothing above U+10FFFF); -1 otherwise. */
long rules_utf8_count(const char *s, size_t len);

/* A project (or dataset) name, already trimmed: 1..100 code points, valid
 * UTF-8, no control characters. */
int project_name_check(const char *name, size_t len, char *err, size_t errlen);

/* A team's name, already trimmed: 1..140 code points, valid UTF-8, no
 * control characters (room for "<project name> team 2"). */
int team_name_check(const char *name, size_t len, char *err, size_t errlen);

/* One label class name, already trimmed: 1..64 code points, valid UTF-8,
 * no control characters. */
int project_label_check(const char *label, size_t len, char *err, size_t errlen);

/* Whether two label names count as the same: equal after ASCII case folding
 * (A-Z = a-z); every other byte must match exactly.  MariaDB's
 * utf8mb4_unicode_ci unique key also folds non-ASCII case and accents, and
 * stays the final guard. */
int project_label_same(const char *a, const char *b);

/* A whole list of label names, each already trimmed: at least one, at most
 * max, each valid (project_label_check), no two the same
 * (project_label_same).  On failure *bad (may be NULL) is the index of the
 * offending label, or n when the problem is the count. */
int project_labels_check(const char *const *labels, size_t n, size_t max,
    size_t *bad, char *err, size_t errlen);

/* An instructions link, already trimmed: empty is allowed (no link);
 * otherwise http:// or https:// (any case), a non-empty host, no spaces,
 * control characters or backslashes, valid UTF-8, at most 2048 bytes.
 * Every other scheme (javascript:, data:, file:, vbscript:, ...) and every
 * relative link is refused with "only http and https links are allowed". */
int project_url_check(const char *url, size_t len, char *err, size_t errlen);

/* A project's (or dataset's) description: may be empty; valid UTF-8, at
 * most 2000 code points, no control characters except tab, CR and LF. */
int project_description_check(const char *text, size_t len, char *err, size_t errlen);

/* The name an uploaded file is stored under: the part of the browser's file
 * name after its last '/' or '\'.  Refused when that is empty, "." or "..",
 * starts with '.', is longer than 200 bytes, is not valid UTF-8 or holds a
 * control character.  On success the name is copied to out (outlen must be
 * at least UPLOAD_NAME_MAX + 1) and 0 is returned. */
int upload_name_sanitize(const char *raw, char *out, size_t outlen, char *err, size_t errlen);

/* The default folder of an upload: the dataset name made one safe path
 * segment.  ASCII letters become lower case; ASCII digits, '-', '_' and '.'
 * are kept; every other character (a space, punctuation, any non-ASCII
 * character) becomes '-'; runs of '-' become one; '-' and '.' are removed
 * from both ends (so the folder is never hidden, "." or ".."); at most
 * UPLOAD_FOLDER_MAX bytes (longer results are cut, then '-' and '.' are
 * removed from the end again).  "Cats & Dogs 2026" -> "cats-dogs-2026".
 * Writes the folder to out (outlen at least UPLOAD_FOLDER_MAX + 1) and
 * returns its length: 0 when nothing usable is left (an empty name, or one
 * of punctuation only), and the caller picks a folder of its own. */
size_t upload_folder_default(const char *name, char *out, size_t outlen);

/* A version of any untrusted string that is fit to show in a sentence or a
 * list: control characters and bytes that are not valid UTF-8 become '?',
 * and text longer than max code points is cut with "...".  Always
 * NUL-terminates out (outlen > 0). */
void rules_display(const char *s, size_t max, char *out, size_t outlen);

#endif
