/* tcpmigctl flow ID|CLIENT: one flow, one "key: value" per line. */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"

/* The order of FLOW in common/ctlproto.h; keys the daemon adds later follow in its order. */
static const char *const flow_keys[] = {
    "id",	 "client",    "service",   "backend",	 "state",    "path",
    "migrating", "bytes_c2s", "bytes_s2c", "pkts_c2s",	 "pkts_s2c", "migrations",
    "rollbacks", "age_ms",    "idle_ms",   "last_error",
};

static bool is_flow_key(const char *key)
{
	for (size_t i = 0; i < sizeof(flow_keys) / sizeof(flow_keys[0]); i++)
		if (!strcmp(key, flow_keys[i]))
			return true;
	return false;
}

static int print_field(FILE *f, const char *key, struct json_object *val)
{
	ctl_fput_safe(f, key);
	fputs(": ", f);
	if (ctl_fput_value(f, val))
		return -ENOMEM;
	fputc('\n', f);
	return 0;
}

int flow_print(FILE *f, struct json_object *root, const char **why)
{
	struct json_object *flow, *val;
	int ret = ctl_json_obj(root, "flow", &flow);

	if (ret) {
		*why = "no \"flow\" object";
		return -EBADMSG;
	}
	for (size_t i = 0; !ret && i < sizeof(flow_keys) / sizeof(flow_keys[0]); i++)
		if (json_object_object_get_ex(flow, flow_keys[i], &val))
			ret = print_field(f, flow_keys[i], val);
	json_object_object_foreach(flow, key, v)
	{
		if (!ret && !is_flow_key(key))
			ret = print_field(f, key, v);
	}
	if (ret)
		*why = "out of memory";
	return ret;
}

int cmd_flow(const struct ctl_opts *o, int argc, char **argv)
{
	char ref[CTL_ADDRSTRLEN], req[TM_CTL_MAX_REQ];
	struct ctl_answer a;
	const char *why;
	int ret;

	if (argc < 2)
		return ctl_usage_error("flow", "flow: missing ID|CLIENT");
	if (argv[1][0] == '-' && argv[1][1])
		return ctl_check_extra_args("flow", argc, argv, 1);
	if (!ctl_parse_flow_ref(argv[1], ref, sizeof(ref))) {
		ctl_usage("flow");
		return CTL_EXIT_USAGE;
	}
	ret = ctl_check_extra_args("flow", argc, argv, 2);
	if (ret)
		return ret;
	snprintf(req, sizeof(req), "flow %s", ref);
	ret = ctl_call(o, "flow", req, &a);
	if (ret || o->json)
		goto out;
	if (flow_print(stdout, a.root, &why))
		ret = ctl_bad_answer(why);
out:
	ctl_answer_free(&a);
	return ret;
}
