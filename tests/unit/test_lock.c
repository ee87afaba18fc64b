// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* Unit tests for xlbd's locks (user/xlbd/lock.c): a file lock and a
 * directory lock are exclusive between open file descriptions (two
 * daemons), the refusal names the holder's PID from /proc/locks, and
 * closing the holder's fd frees the lock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lock.h"

static void exclusive(const char *path)
{
	pid_t pid = -1;
	int fd, again;

	fd = lock_take(path, &pid);
	assert_true(fd >= 0);
	assert_int_equal(pid, 0);
	again = lock_take(path, &pid);
	assert_int_equal(again, -EBUSY);
	assert_int_equal(pid, getpid());	/* named by /proc/locks */
	close(fd);
	fd = lock_take(path, &pid);		/* free again */
	assert_true(fd >= 0);
	close(fd);
}

static void test_file_and_dir(void **state)
{
	char dir[] = "/tmp/xlb-test-lock.XXXXXX", file[PATH_MAX];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/state.yaml.lock", dir);
	exclusive(file);
	assert_int_equal(stat(file, &st), 0);	/* created, mode 0600 */
	assert_int_equal(st.st_mode & 0777, 0600);
	exclusive(dir);
	unlink(file);
	rmdir(dir);
}

static void test_missing_parent(void **state)
{
	pid_t pid;

	(void)state;
	assert_int_equal(lock_take("/nonexistent-xlb/x.lock", &pid), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_and_dir),
		cmocka_unit_test(test_missing_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
