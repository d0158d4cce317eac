/* tcpmigctl stats: the daemon's counters, "name value" per line, sorted by name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int stats_print(FILE *f, struct json_object *root, const char **why)
{
	struct json_object *stats, *val;
	const char **names;
	size_t n = 0;
	int ret = 0;

	if (ctl_json_obj(root, "stats", &stats)) {
		*why = "no \"stats\" object";
		return -EBADMSG;
	}
	names = calloc((size_t)json_object_object_length(stats) + 1, sizeof(*names));
	if (!names) {
		*why = "out of memory";
		return -ENOMEM;
	}
	json_object_object_foreach(stats, key, v)
	{
		(void)v;
		names[n++] = key;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; !ret && i < n; i++) {
		json_object_object_get_ex(stats, names[i], &val);
		ctl_fput_safe(f, names[i]);
		fputc(' ', f);
		ret = ctl_fput_value(f, val);
		fputc('\n', f);
	}
	if (ret)
		*why = "out of memory";
	free(names);
	return ret;
}

int cmd_stats(const struct ctl_opts *o, int argc, char **argv)
{
	struct ctl_answer a;
	const char *why;
	int ret;

	ret = ctl_check_extra_args("stats", argc, argv, 1);
	if (ret)
		return ret;
	ret = ctl_call(o, "stats", "stats", &a);
	if (ret || o->json)
		goto out;
	if (stats_print(stdout, a.root, &why))
		ret = ctl_bad_answer(why);
out:
	ctl_answer_free(&a);
	return ret;
}
