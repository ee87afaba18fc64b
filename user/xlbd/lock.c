// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* xlbd's locks (lock.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lock.h"

/* flock() does not name the holder; /proc/locks does, by device and
 * inode: "1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF". Waiters
 * ("1: -> FLOCK ...") do not parse and are skipped. */
static pid_t lock_holder(int fd)
{
	unsigned int maj, min;
	unsigned long ino;
	char line[256];
	struct stat st;
	pid_t pid = 0;
	int p;
	FILE *f;

	if (fstat(fd, &st))
		return 0;
	f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	while (!pid && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*d: FLOCK %*s %*s %d %x:%x:%lu", &p, &maj,
			   &min, &ino) == 4 &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) &&
		    ino == st.st_ino)
			pid = p;
	fclose(f);
	return pid;
}

int lock_take(const char *path, pid_t *holder)
{
	struct stat st;
	int fd, rc;

	*holder = 0;
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			  0600);
	if (fd < 0)
		return -errno;
	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
	if (rc == -EBUSY)
		*holder = lock_holder(fd);
	close(fd);
	return rc;
}
