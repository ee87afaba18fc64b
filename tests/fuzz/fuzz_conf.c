// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* libFuzzer target: the xlb.conf parser (conf_parse_string) on any bytes.
 * Whatever the input, the parser must return 0 or a negative errno with a
 * "name:line: reason" message, never crash, leak or read out of bounds; a
 * configuration it accepts must write out as YAML it accepts again. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse what conf_write made of c; abort if the parser refuses its own
 * output, which would make a saved state file unreadable at the next start. */
static void round_trip(const struct xlb_conf *c)
{
	char err[CONF_ERR_MAX], *buf = NULL;
	struct xlb_conf again;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return;
	if (conf_write(c, f) || fclose(f)) {
		free(buf);
		return;
	}
	if (conf_parse_string(buf, "written", &again, err, sizeof(err))) {
		fprintf(stderr, "conf_write output refused: %s\n%s", err, buf);
		abort();
	}
	conf_free(&again);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONF_ERR_MAX];
	struct xlb_conf c;
	char *text;
	int ret;

	/* conf_parse_string takes a C string: the input up to its first NUL. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ret = conf_parse_string(text, "fuzz", &c, err, sizeof(err));
	if (ret == 0)
		round_trip(&c);
	else if (ret > 0 || !err[0])
		abort();	/* an error must be -errno with a message */
	conf_free(&c);
	free(text);
	return 0;
}
