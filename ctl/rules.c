/* tcpmigctl rules / reload: the analyzer's loaded rules with hit counters; reload rules + policy. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"

int rules_print(FILE *f, struct json_object *root, const char **why)
{
	struct json_object *list;
	const char *file = "";
	size_t n;

	if (!json_object_object_get_ex(root, "rules", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		*why = "no \"rules\" array";
		return -EBADMSG;
	}
	ctl_json_str(root, "file", &file);
	n = json_object_array_length(list);
	if (!*file) {
		fprintf(f, "no rules loaded (no 'rules' line in tcpmigd.conf)\n");
		return 0;
	}
	fprintf(f, "%-10s %-4s %-4s %-7s %8s  %-28s %s\n", "SID", "GID", "REV", "ACTION", "HITS",
		"POLICY", "MSG");
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(list, i);
		uint64_t sid, gid, rev, hits;
		const char *act, *pol, *msg;

		if (ctl_json_u64(r, "sid", &sid) || ctl_json_u64(r, "gid", &gid) ||
		    ctl_json_u64(r, "rev", &rev) || ctl_json_u64(r, "hits", &hits) ||
		    ctl_json_str(r, "action", &act) || ctl_json_str(r, "policy", &pol) ||
		    ctl_json_str(r, "msg", &msg)) {
			*why = "a rule lacks sid/gid/rev/hits/action/policy/msg";
			return -EBADMSG;
		}
		fprintf(f, "%-10llu %-4llu %-4llu %-7.7s %8llu  ", (unsigned long long)sid,
			(unsigned long long)gid, (unsigned long long)rev, act, (unsigned long long)hits);
		{
			char *p = ctl_sanitize(*pol ? pol : "-");

			fprintf(f, "%-28s ", p ? p : "?");
			free(p);
		}
		ctl_fput_safe(f, msg);
		fputc('\n', f);
	}
	fprintf(f, "%zu rule(s) from ", n);
	ctl_fput_safe(f, file);
	fputc('\n', f);
	return 0;
}

int cmd_rules(const struct ctl_opts *o, int argc, char **argv)
{
	struct ctl_answer a;
	const char *why;
	int ret;

	ret = ctl_check_extra_args("rules", argc, argv, 1);
	if (ret)
		return ret;
	ret = ctl_call(o, "rules", "rules", &a);
	if (!ret && !o->json && rules_print(stdout, a.root, &why))
		ret = ctl_bad_answer(why);
	ctl_answer_free(&a);
	return ret;
}

int cmd_reload(const struct ctl_opts *o, int argc, char **argv)
{
	struct ctl_answer a;
	const char *file = "";
	int ret;

	ret = ctl_check_extra_args("reload", argc, argv, 1);
	if (ret)
		return ret;
	ret = ctl_call(o, "reload", "reload", &a);
	if (!ret && !o->json) {
		ctl_json_str(a.root, "rules", &file);
		fputs("reloaded", stdout);
		if (*file) {
			fputs(", rules from ", stdout);
			ctl_fput_safe(stdout, file);
		}
		fputc('\n', stdout);
	}
	ctl_answer_free(&a);
	return ret;
}
