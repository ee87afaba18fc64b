// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/* The strict request parser of the control protocol (ctlproto.h).
 *
 * json-c parses; what it lets through is checked here: it keeps the last
 * of two equal keys, so the top-level keys are found again in the text
 * and decoded by json-c itself (escapes included) to spot a duplicate;
 * its "strict" mode still takes single quotes, so the text between
 * strings is checked too. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctlproto.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
/* The object and a value inside it: deeper is refused by json-c. */
#define CTL_DEPTH		2

#define S(id)		{ .setting = (id) }
#define S_REQ(id)	{ .setting = (id), .required = true }
#define M(n, t)		{ .setting = SET_MAX, .name = (n), .type = (t) }
#define M_INT(n, hi)	{ .setting = SET_MAX, .name = (n), .type = CTL_INT, \
			  .max = (hi) }

/* What a check takes from a request (xlbd's ctl.c, check_args). */
#define CHECK_MEMBERS							\
	S(SET_CHECK), S(SET_INTERVAL), S(SET_TIMEOUT), S(SET_RISE),	\
	S(SET_FALL), S(SET_ERROR_RATE), S(SET_CHECK_PORT), S(SET_PATH),	\
	S(SET_HOST), S(SET_EXPECT), S(SET_BODY), S(SET_PAYLOAD)

static const struct ctl_member m_vip_add[] = {
	S_REQ(SET_VIP), S(SET_ALGO), S(SET_ENCAP), CHECK_MEMBERS,
	S(SET_ALL_DOWN), S(SET_ADAPTIVE), S(SET_FLOW_TABLE), S(SET_UDP_IDLE),
	S(SET_START_DOWN), S(SET_PANIC), S(SET_SLOW_START),
};
static const struct ctl_member m_backend_set[] = {
	S_REQ(SET_VIP), S_REQ(SET_ADDR), S(SET_WEIGHT), CHECK_MEMBERS,
	M("check_inherit", CTL_BOOL), S(SET_CAPACITY),
};
static const struct ctl_member m_vip[] = { S_REQ(SET_VIP) };
static const struct ctl_member m_backend[] = { S_REQ(SET_VIP), S_REQ(SET_ADDR) };
static const struct ctl_member m_backend_add[] = {
	S_REQ(SET_VIP), S_REQ(SET_ADDR), S(SET_WEIGHT), S(SET_MAC),
	S(SET_CAPACITY),
};
static const struct ctl_member m_set_weight[] = {
	S_REQ(SET_VIP), S_REQ(SET_ADDR), S_REQ(SET_WEIGHT),
};
static const struct ctl_member m_reload[] = { M("force", CTL_BOOL) };
static const struct ctl_member m_flows[] = {
	S(SET_VIP), M("backend", CTL_STRING), M("client", CTL_STRING),
	M_INT("limit", CTL_FLOWS_LIMIT_MAX),
};

static const struct ctl_member m_node_drain[] = {
	M_INT("grace", CTL_GRACE_MAX_S),
};

#define VERB(c, m)	{ (c), (m), ARRAY_SIZE(m) }
#define VERB0(c)	{ (c), NULL, 0 }

static const struct ctl_verb verbs[] = {
	VERB("vip-add", m_vip_add),
	VERB("vip-set", m_vip_add),
	VERB("vip-del", m_vip),
	VERB0("vip-list"),
	VERB("backend-add", m_backend_add),
	VERB("backend-del", m_backend),
	VERB("backend-set-weight", m_set_weight),
	VERB("backend-drain", m_backend),
	VERB("backend-undrain", m_backend),
	VERB("backend-maint", m_backend),
	VERB("backend-ready", m_backend),
	VERB("backend-set", m_backend_set),
	VERB0("list"),
	VERB0("stats"),
	VERB("flows", m_flows),
	VERB0("shutdown"),
	VERB("reload", m_reload),
	VERB0("config"),
	VERB0("peers"),
	VERB("node-drain", m_node_drain),
	VERB0("node-undrain"),
	VERB0("node-status"),
};

const struct ctl_verb *ctl_verb_find(const char *cmd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(verbs); i++)
		if (!strcmp(verbs[i].cmd, cmd))
			return &verbs[i];
	return NULL;
}

const char *ctl_member_name(const struct ctl_member *m)
{
	return m->setting < SET_MAX ? settings[m->setting].member : m->name;
}

enum ctl_jtype ctl_member_type(const struct ctl_member *m)
{
	if (m->setting >= SET_MAX)
		return m->type;
	switch (settings[m->setting].type) {
	case SETTING_UINT:
		return CTL_INT;
	case SETTING_MS:
	case SETTING_PCT:
		return CTL_NUMBER;
	default:
		return CTL_STRING;
	}
}

struct parse {
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
refuse(struct parse *p, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- framing and JSON ---- */

/* The line without its newline; what json-c reads. */
static int frame(struct parse *p, const char *buf, size_t len, size_t *body)
{
	const char *nl;

	if (!len)
		return refuse(p, -EINVAL, "empty request");
	if (len > CTL_MSG_MAX)
		return refuse(p, -EMSGSIZE, "request too long (at most %d "
			      "bytes)", CTL_MSG_MAX);
	if (memchr(buf, '\0', len))
		return refuse(p, -EINVAL, "request contains a NUL byte");
	nl = memchr(buf, '\n', len);
	if (!nl)
		return refuse(p, -EINVAL, "request does not end in a newline "
			      "(one JSON object per line)");
	if (nl != buf + len - 1)
		return refuse(p, -EINVAL, "data after the request's newline "
			      "(one request per connection)");
	*body = len - 1;
	return 0;
}

static int parse_json(struct parse *p, const char *buf, size_t len,
		      json_object **out)
{
	struct json_tokener *tok = json_tokener_new_ex(CTL_DEPTH);
	enum json_tokener_error e;
	json_object *o;

	if (!tok)
		return refuse(p, -ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	e = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (e == json_tokener_continue || (!o && e == json_tokener_success))
		return refuse(p, -EINVAL, "request is not a whole JSON object");
	if (e == json_tokener_error_depth)
		return refuse(p, -EINVAL, "request is not a flat JSON object "
			      "(values are strings or numbers)");
	if (e != json_tokener_success) {
		json_object_put(o);
		return refuse(p, -EINVAL, "request is not JSON: %s",
			      json_tokener_error_desc(e));
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return refuse(p, -EINVAL, "request is not a JSON object");
	}
	*out = o;
	return 0;
}

/* ---- duplicate keys ---- */

/* Index of the quote closing the string that opens at s[i]. */
static size_t string_end(const char *s, size_t n, size_t i)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i;
}

/* The key s[i..j] (quotes included) as json-c decodes it, checked against
 * and added to seen. */
static int key_once(struct parse *p, const char *s, size_t i, size_t j,
		    json_object *seen)
{
	struct json_tokener *tok = json_tokener_new();
	const char *name;
	json_object *k;
	int rc = 0;

	if (!tok)
		return refuse(p, -ENOMEM, "out of memory");
	k = json_tokener_parse_ex(tok, s + i, (int)(j - i + 1));
	json_tokener_free(tok);
	if (!k || !json_object_is_type(k, json_type_string)) {
		json_object_put(k);
		return refuse(p, -EINVAL, "request is not JSON: bad key");
	}
	name = json_object_get_string(k);
	/* json-c cuts a name at a NUL: "cmd\u0000x" would be "cmd". */
	if (!settings_line_ok(name, (size_t)json_object_get_string_len(k)) ||
	    strlen(name) != (size_t)json_object_get_string_len(k))
		rc = refuse(p, -EINVAL, "a member's name is not UTF-8 text or "
			    "has a control character");
	else if (json_object_object_get_ex(seen, name, NULL))
		rc = refuse(p, -EINVAL, "duplicate member '%s'", name);
	else if (json_object_object_add(seen, name, NULL))
		rc = refuse(p, -ENOMEM, "out of memory");
	json_object_put(k);
	return rc;
}

/* Between strings, only what JSON has: structure, numbers, true, false,
 * null. json-c's strict mode still reads 'single' quotes. */
static bool json_char(char c)
{
	return c && strchr(" \t\r{}[],:0123456789-+.eEtruefalsn", c);
}

/* Each top-level key once. The text is JSON json-c took, so a string
 * is found by its quotes and a key is the string after '{' or ',' at
 * depth 1. */
static int no_duplicates(struct parse *p, const char *s, size_t n)
{
	json_object *seen = json_object_new_object();
	bool want_key = false;
	int depth = 0, rc = 0;
	size_t i, j;

	if (!seen)
		return refuse(p, -ENOMEM, "out of memory");
	for (i = 0; i < n && !rc; i++) {
		char c = s[i];

		if (c == '"') {
			j = string_end(s, n, i);
			if (depth == 1 && want_key)
				rc = key_once(p, s, i, j, seen);
			want_key = false;
			i = j;
		} else if (!json_char(c)) {
			rc = refuse(p, -EINVAL, "request is not JSON: "
				    "unexpected '%c'", c);
		} else if (c == '{' || c == '[') {
			want_key = ++depth == 1;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == ',' && depth == 1) {
			want_key = true;
		}
	}
	json_object_put(seen);
	return rc;
}

/* ---- members ---- */

static const struct ctl_member *verb_member(const struct ctl_verb *v,
					    const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(ctl_member_name(&v->members[i]), name))
			return &v->members[i];
	return NULL;
}

static int check_string(struct parse *p, const char *name, json_object *v)
{
	const char *s = json_object_get_string(v);
	size_t len = (size_t)json_object_get_string_len(v);

	if (strlen(s) != len)
		return refuse(p, -EINVAL, "%s contains a NUL character", name);
	if (!settings_text_ok(s, len))
		return refuse(p, -EINVAL, "%s is not UTF-8 text", name);
	/* No member of the protocol is free text, and a reason quotes
	 * values: it must stay one line. */
	if (!settings_line_ok(s, len))
		return refuse(p, -EINVAL, "%s contains a control character",
			      name);
	if (len >= CONF_STR_MAX)
		return refuse(p, -EINVAL, "%s is too long (at most %d bytes)",
			      name, CONF_STR_MAX - 1);
	return 0;
}

static int check_member(struct parse *p, const struct ctl_verb *v,
			const char *name, json_object *val)
{
	const struct ctl_member *m = verb_member(v, name);

	if (!m)
		return refuse(p, -EINVAL, "unknown member '%s' for %s", name,
			      v->cmd);
	switch (ctl_member_type(m)) {
	case CTL_STRING:
		if (!json_object_is_type(val, json_type_string))
			return refuse(p, -EINVAL, "%s must be a string", name);
		return check_string(p, name, val);
	case CTL_INT:
		if (!json_object_is_type(val, json_type_int))
			/* Quoted as JSON: a string's control characters
			 * escaped, the reason one line. */
			return refuse(p, -EINVAL, "%s must be an integer, not "
				      "%s", name, json_object_to_json_string_ext(
					      val, JSON_C_TO_STRING_PLAIN));
		/* A setting's range is the settings table's to check. */
		if (m->setting == SET_MAX && (json_object_get_int64(val) < 0 ||
					      json_object_get_int64(val) > m->max))
			return refuse(p, -EINVAL, "%s %s out of range 0..%lld",
				      name, json_object_get_string(val), m->max);
		return 0;
	case CTL_NUMBER:
		if (!json_object_is_type(val, json_type_int) &&
		    !json_object_is_type(val, json_type_double))
			return refuse(p, -EINVAL, "%s must be a number", name);
		return 0;
	case CTL_BOOL:
		if (!json_object_is_type(val, json_type_boolean))
			return refuse(p, -EINVAL, "%s must be true or false",
				      name);
		return 0;
	}
	return 0;
}

static int check_members(struct parse *p, json_object *o)
{
	const struct ctl_verb *v;
	json_object *cmd;
	size_t i;
	int rc;

	if (!json_object_object_get_ex(o, "cmd", &cmd))
		return refuse(p, -EINVAL, "missing cmd");
	if (!json_object_is_type(cmd, json_type_string))
		return refuse(p, -EINVAL, "cmd must be a string");
	rc = check_string(p, "cmd", cmd);
	if (rc)
		return rc;
	v = ctl_verb_find(json_object_get_string(cmd));
	if (!v)
		return refuse(p, -EINVAL, "unknown command '%s'",
			      json_object_get_string(cmd));
	json_object_object_foreach(o, name, val) {
		if (!settings_line_ok(name, strlen(name)))
			return refuse(p, -EINVAL, "a member's name is not "
				      "UTF-8 text or has a control character");
		if (!strcmp(name, "cmd"))
			continue;
		rc = check_member(p, v, name, val);
		if (rc)
			return rc;
	}
	for (i = 0; i < v->n; i++)
		if (v->members[i].required &&
		    !json_object_object_get_ex(o, ctl_member_name(&v->members[i]),
					       NULL))
			return refuse(p, -EINVAL, "missing %s",
				      ctl_member_name(&v->members[i]));
	return 0;
}

int ctl_parse_request(const char *buf, size_t len, json_object **out,
		      char *err, size_t errlen)
{
	struct parse p = { err, errlen };
	json_object *o = NULL;
	size_t body = 0;
	int rc;

	*out = NULL;
	rc = frame(&p, buf, len, &body) ?: parse_json(&p, buf, body, &o) ?:
	     no_duplicates(&p, buf, body) ?: check_members(&p, o);
	if (rc) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return 0;
}
