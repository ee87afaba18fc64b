// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* libFuzzer target: the control protocol's request parser
 * (ctl_parse_request in user/lib/ctlproto.c) on any bytes, as a
 * connection would hand them over. Whatever it accepts must satisfy what
 * the daemon relies on; everything is freed (LeakSanitizer watches).
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -Iinclude -Iuser/lib \
 *	tests/fuzz/fuzz_ctl.c user/lib/ctlproto.c user/lib/settings.c \
 *	user/lib/addr.c -ljson-c -o fuzz_ctl
 *   ./fuzz_ctl -max_total_time=60 CORPUS_COPY tests/fuzz/corpus/ctl
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "ctl.h"

/* An accepted request: an object with a known verb, a newline last. */
static void check_accepted(const uint8_t *data, size_t size, json_object *o)
{
	json_object *cmd;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "cmd", &cmd) ||
	    !ctl_verb_find(json_object_get_string(cmd)) ||
	    data[size - 1] != '\n' || memchr(data, '\n', size) != data + size - 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = NULL;
	char err[512];
	char *buf;

	if (size > CTL_MSG_MAX)
		return 0;
	/* Exactly the bytes, no NUL after them: the parser must go by
	 * size, and ASan sees a read past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (!ctl_parse_request(buf, size, &o, err, sizeof(err)))
		check_accepted(data, size, o);
	else if (o || !err[0] || strchr(err, '\n'))
		abort();	/* refused: no object, a one-line reason */
	json_object_put(o);
	free(buf);
	return 0;
}
