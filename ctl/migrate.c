/* tcpmigctl migrate ID|CLIENT --to ADDR:PORT: hand a flow to another backend and wait for the
 * daemon's verdict; exit 0 means the handoff committed. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"

/* "migrated flow 3 from 10.0.0.1:80 to 10.0.0.2:80 in 1.234 ms" */
int migrate_print(FILE *f, struct json_object *root, const char **why)
{
	struct json_object *flow, *mig;
	const char *from, *to;
	uint64_t id, us;

	if (ctl_json_obj(root, "flow", &flow) || ctl_json_u64(flow, "id", &id)) {
		*why = "no \"flow\" object with an \"id\"";
		return -EBADMSG;
	}
	if (ctl_json_obj(root, "migration", &mig) || ctl_json_str(mig, "from", &from) ||
	    ctl_json_str(mig, "to", &to) || ctl_json_u64(mig, "elapsed_us", &us)) {
		*why = "no \"migration\" object with \"from\", \"to\" and \"elapsed_us\"";
		return -EBADMSG;
	}
	fprintf(f, "migrated flow %" PRIu64 " from ", id);
	ctl_fput_safe(f, from);
	fputs(" to ", f);
	ctl_fput_safe(f, to);
	fprintf(f, " in %" PRIu64 ".%03u ms\n", us / 1000, (unsigned int)(us % 1000));
	return 0;
}

static int take_to(const char *val, const char **to)
{
	if (*to)
		return ctl_usage_error("migrate", "migrate: '--to' given twice");
	*to = val;
	return 0;
}

int cmd_migrate(const struct ctl_opts *o, int argc, char **argv)
{
	char ref[CTL_ADDRSTRLEN], to[CTL_ADDRSTRLEN], req[TM_CTL_MAX_REQ];
	const char *ref_arg = NULL, *to_arg = NULL, *why;
	struct ctl_answer a;
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (!strcmp(s, "--to")) {
			if (i + 1 >= argc)
				return ctl_usage_error("migrate",
						       "migrate: option '--to' needs ADDR:PORT");
			ret = take_to(argv[++i], &to_arg);
		} else if (!strncmp(s, "--to=", 5)) {
			ret = take_to(s + 5, &to_arg);
		} else if ((s[0] == '-' && s[1]) || ref_arg) {
			return ctl_check_extra_args("migrate", argc, argv, i);
		} else {
			ref_arg = s;
			ret = 0;
		}
		if (ret)
			return ret;
	}
	if (!ref_arg)
		return ctl_usage_error("migrate", "migrate: missing ID|CLIENT");
	if (!to_arg)
		return ctl_usage_error("migrate", "migrate: missing --to ADDR:PORT");
	if (!ctl_parse_flow_ref(ref_arg, ref, sizeof(ref)) ||
	    !ctl_parse_addrport("--to", to_arg, to, sizeof(to))) {
		ctl_usage("migrate");
		return CTL_EXIT_USAGE;
	}
	snprintf(req, sizeof(req), "migrate %s %s", ref, to);
	ret = ctl_call(o, "migrate", req, &a);
	if (ret || o->json)
		goto out;
	/* ok:true means committed, whatever else the answer lacks: still exit 0. */
	if (migrate_print(stdout, a.root, &why)) {
		fprintf(stderr, "%s: warning: tcpmigd reported success, but %s\n", CTL_PROG, why);
		printf("migrated flow %s to %s\n", ref, to);
	}
out:
	ctl_answer_free(&a);
	return ret;
}
