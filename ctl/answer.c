/* Validation of tcpmigd answers (common/ctlproto.h) and typed access to their fields. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"

/* Accepts exactly one JSON object (RFC 8259, valid UTF-8, bounded depth) with a boolean
 * "ok", surrounded by whitespace only.  Returns 0 with a->root and a->ok set, or -EBADMSG
 * (-ENODATA when empty) with *why saying what is wrong. */
int ctl_answer_parse(struct ctl_answer *a, const char **why)
{
	static char msg[160];
	struct json_tokener *tok = NULL;
	struct json_object *ok;
	struct ctl_json_err jerr;
	int ret = -EBADMSG;

	a->root = NULL;
	a->ok = false;
	if (a->len == 0) {
		*why = "empty answer";
		return -ENODATA;
	}
	if (a->len > CTL_MAX_ANSWER) {
		*why = "answer too large";
		return -EMSGSIZE;
	}
	/* Our own strict check first: json-c alone lets through NaN, "1." and more, and
	 * `tcpmigctl -j` copies the answer verbatim. */
	if (!ctl_json_check(a->raw, a->len, &jerr)) {
		if (jerr.truncated)
			snprintf(msg, sizeof(msg), "truncated: the JSON ends early (%zu bytes)",
				 a->len);
		else
			snprintf(msg, sizeof(msg), "not JSON: %s at byte %zu", jerr.why, jerr.off);
		*why = msg;
		goto out;
	}
	if (a->raw[strspn(a->raw, " \t\r\n")] != '{') {
		*why = "not a JSON object";
		goto out;
	}
	tok = json_tokener_new_ex(CTL_JSON_DEPTH);
	if (!tok) {
		*why = "out of memory";
		ret = -ENOMEM;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	a->root = json_tokener_parse_ex(tok, a->raw, (int)a->len);
	if (json_tokener_get_error(tok) != json_tokener_success || !a->root) {
		snprintf(msg, sizeof(msg), "json-c: %s",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		*why = msg;
		goto out;
	}
	if (!json_object_object_get_ex(a->root, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		*why = "no boolean \"ok\"";
		goto out;
	}
	a->ok = json_object_get_boolean(ok);
	ret = 0;
out:
	if (tok)
		json_tokener_free(tok);
	if (ret) {
		json_object_put(a->root);
		a->root = NULL;
	}
	return ret;
}

void ctl_answer_free(struct ctl_answer *a)
{
	json_object_put(a->root);
	free(a->raw);
	memset(a, 0, sizeof(*a));
}

/* Field getters: 0, -ENOENT when missing or null, -EINVAL when of the wrong type. */
static int field(struct json_object *obj, const char *key, enum json_type type,
		 struct json_object **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return -ENOENT;
	if (!json_object_is_type(v, type))
		return -EINVAL;
	*out = v;
	return 0;
}

int ctl_json_u64(struct json_object *obj, const char *key, uint64_t *v)
{
	struct json_object *o;
	int ret = field(obj, key, json_type_int, &o);

	if (ret)
		return ret;
	/* json-c keeps values above INT64_MAX as uint64; get_int64 clamps those, so only a
	 * truly negative number comes back negative. */
	if (json_object_get_int64(o) < 0)
		return -EINVAL;
	*v = json_object_get_uint64(o);
	return 0;
}

int ctl_json_str(struct json_object *obj, const char *key, const char **s)
{
	struct json_object *o;
	int ret = field(obj, key, json_type_string, &o);

	if (!ret)
		*s = json_object_get_string(o);
	return ret;
}

int ctl_json_obj(struct json_object *obj, const char *key, struct json_object **out)
{
	return field(obj, key, json_type_object, out);
}
