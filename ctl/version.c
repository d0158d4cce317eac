/* tcpmigctl version: our version and the daemon's. */
#include <errno.h>

#include <json-c/json.h>

#include "ctl.h"

int version_print(FILE *f, struct json_object *root, const char **why)
{
	const char *v;

	if (ctl_json_str(root, "version", &v)) {
		*why = "no \"version\" string";
		return -EBADMSG;
	}
	fprintf(f, "tcpmigctl %s\ntcpmigd ", TM_CTL_VERSION);
	ctl_fput_safe(f, v);
	fputc('\n', f);
	return 0;
}

int cmd_version(const struct ctl_opts *o, int argc, char **argv)
{
	struct ctl_answer a;
	const char *why;
	int ret;

	ret = ctl_check_extra_args("version", argc, argv, 1);
	if (ret)
		return ret;
	ret = ctl_call(o, "version", "version", &a);
	if (ret || o->json)
		goto out;
	if (version_print(stdout, a.root, &why))
		ret = ctl_bad_answer(why);
out:
	ctl_answer_free(&a);
	return ret;
}
