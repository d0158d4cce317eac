/* tcpmigctl events [-f]: alerts, analyzer decisions, handoffs and rollbacks as they happen. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ctl.h"

#define EVENTS_POLL_MS 200

static int events_print(FILE *f, struct json_object *root, uint64_t *next, const char **why)
{
	struct json_object *list;
	uint64_t lost = 0;

	if (!json_object_object_get_ex(root, "events", &list) ||
	    !json_object_is_type(list, json_type_array) || ctl_json_u64(root, "next", next)) {
		*why = "no \"events\" array or \"next\"";
		return -EBADMSG;
	}
	ctl_json_u64(root, "lost", &lost);
	if (lost)
		fprintf(f, "(%" PRIu64 " older event(s) no longer kept)\n", lost);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i);
		const char *when, *type, *text;
		uint64_t flow;

		if (ctl_json_str(e, "time", &when) || ctl_json_str(e, "type", &type) ||
		    ctl_json_str(e, "text", &text) || ctl_json_u64(e, "flow", &flow)) {
			*why = "an event lacks time/type/text/flow";
			return -EBADMSG;
		}
		ctl_fput_safe(f, when);
		fputc(' ', f);
		ctl_fput_safe(f, type);
		if (flow)
			fprintf(f, " flow %" PRIu64, flow);
		fputs(": ", f);
		ctl_fput_safe(f, text);
		fputc('\n', f);
	}
	fflush(f);
	return 0;
}

int cmd_events(const struct ctl_opts *o, int argc, char **argv)
{
	bool follow = false;
	uint64_t since = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow"))
			follow = true;
		else
			return ctl_usage_error("events", "unexpected argument '%s'", argv[i]);
	}
	for (;;) {
		struct ctl_answer a;
		char req[64];
		const char *why;
		uint64_t next = since;
		int ret;

		snprintf(req, sizeof(req), "events %" PRIu64, since);
		ret = ctl_call(o, "events", req, &a);
		if (!ret && o->json)
			ctl_json_u64(a.root, "next", &next);
		else if (!ret && events_print(stdout, a.root, &next, &why))
			ret = ctl_bad_answer(why);
		ctl_answer_free(&a);
		if (ret || !follow)
			return ret;
		since = next;
		nanosleep(&(struct timespec){ 0, EVENTS_POLL_MS * 1000000L }, NULL);
	}
}
