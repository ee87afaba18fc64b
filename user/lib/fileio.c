// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Files that are replaced whole or not at all (fileio.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"


static void dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* mkstemp in the target's directory (rename does not cross file
 * systems), creating that directory if it is the one thing missing. */
static int open_temp(char *tmp, const char *dir)
{
	char name[PATH_MAX];
	int fd;

	strcpy(name, tmp);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		strcpy(tmp, name);	/* mkostemp spent the XXXXXX */
		fd = mkostemp(tmp, O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	/* No secrets inside; let operators read it. */
	if (fchmod(fd, 0644)) {
		int err = -errno;

		close(fd);
		unlink(tmp);
		return err;
	}
	return fd;
}

/* Write, flush and fsync; closes fd whatever happens. */
static int write_fd(int fd, xlb_fill_fn fill, const void *arg)
{
	FILE *f = fdopen(fd, "w");
	int err;

	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	err = fill(f, arg);
	if (!err && fflush(f))
		err = -errno;
	if (!err && fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* The rename is durable only once the directory is on disk. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

int xlb_save_atomic(const char *path, xlb_fill_fn fill, const void *arg)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, err, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	dir_of(path, dir, sizeof(dir));
	fd = open_temp(tmp, dir);
	if (fd < 0)
		return fd;
	err = write_fd(fd, fill, arg);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return sync_dir(dir);
}
