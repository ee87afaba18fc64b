/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The control protocol's requests (ctl.h) as data, and their strict
 * parser: which members each verb takes, of which JSON type. xlbd parses
 * every request with ctl_parse_request(); xlbctl builds its requests from
 * the same table; the fuzzer (tests/fuzz/fuzz_ctl.c) drives the parser. */
#ifndef XLB_CTLPROTO_H
#define XLB_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "settings.h"

enum ctl_jtype {
	CTL_STRING,		/* UTF-8 text as settings_text_ok() wants */
	CTL_INT,		/* a JSON integer: 100, not 100.0 or 1e2 */
	CTL_NUMBER,		/* an integer or a decimal: 5, 0.5 */
	CTL_BOOL,		/* true or false */
};

/* A member a verb takes: a setting (its request name and type come from
 * the settings table) or, with setting SET_MAX, one of the protocol's. */
struct ctl_member {
	enum setting_id setting;
	const char *name;		/* setting SET_MAX only */
	enum ctl_jtype type;		/* setting SET_MAX only */
	bool required;
	long long max;			/* CTL_INT, setting SET_MAX: 0..max */
};

struct ctl_verb {
	const char *cmd;
	const struct ctl_member *members;
	size_t n;
};

const struct ctl_verb *ctl_verb_find(const char *cmd);
const char *ctl_member_name(const struct ctl_member *m);
enum ctl_jtype ctl_member_type(const struct ctl_member *m);

/* One request as read from a connection: exactly one JSON object on one
 * line, its "\n" the last byte (len counts it; no NUL inside). Refused,
 * with a one-line reason in err: no newline, anything after it, bytes
 * that are not JSON, a duplicate member, a verb it does not know, a
 * member the verb does not take or of the wrong type (weight 100.7), a
 * string that is not UTF-8 text, a required member missing. On success
 * *out is the object (the caller puts it) and 0 is returned; else
 * -EINVAL (or -ENOMEM) and *out is NULL. */
int ctl_parse_request(const char *buf, size_t len, json_object **out,
		      char *err, size_t errlen);

#endif
