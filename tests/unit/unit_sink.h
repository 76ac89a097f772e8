/*
 * unit_sink.h: files to upload through a datastore_sink (core/datastore.h),
 * for test_datastore.c (local folders) and test_blob.c (Azurite and
 * badhttp.js).  Include after check.h and datastore.h.
 */
#ifndef LABELD_UNIT_SINK_H
#define LABELD_UNIT_SINK_H

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* A temporary file of len pseudo-random bytes from seed (already
 * unlinked): its descriptor, the bytes in *data (malloc'd). */
static int sink_file(size_t len, unsigned seed, unsigned char **data)
{
	char path[] = "/tmp/labeld-sink-XXXXXX";
	int fd = mkstemp(path);
	unsigned x = seed * 2654435761u + 1;

	ck_assert_int_ge(fd, 0);
	unlink(path);
	*data = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(*data);
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		(*data)[i] = (unsigned char)(x >> 16);
	}
	ck_assert_int_eq(write(fd, *data, len), (ssize_t)len);
	return fd;
}

/* Store a file of len bytes (seed) as name through s; the test fails
 * unless that works.  The name it got (a static buffer), the bytes in
 * *data (malloc'd). */
static const char *sink_put_ok(struct datastore_sink *s, size_t len, unsigned seed,
    const char *name, unsigned char **data)
{
	static char stored[256];
	char err[256] = "";
	int fd = sink_file(len, seed, data);
	int rc = datastore_sink_put(s, fd, len, name, stored, sizeof(stored), err, sizeof(err));

	ck_assert_msg(rc == 0, "%s: %d %s", name, rc, err);
	close(fd);
	return stored;
}

/* Names that are not one plain path segment are refused (-1, a sentence
 * about the file name), whatever the datastore. */
static void sink_names_refused(struct datastore_sink *s, int fd)
{
	static const char *const names[] = { "", "a/b.png", ".hidden.png", "..", "ctl\x01.png" };
	char err[256], stored[64];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(datastore_sink_put(s, fd, 100, names[i], stored, sizeof(stored), err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, "file name"), "%s: %s", names[i], err);
	}
}

#endif
