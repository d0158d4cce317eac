/* tcpmigctl flows: every tracked flow as one row of an ss-like table. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"

enum {
	COL_ID,
	COL_CLIENT,
	COL_SERVICE,
	COL_BACKEND,
	COL_STATE,
	COL_PATH,
	COL_C2S,
	COL_S2C,
	COL_MIGR,
	NCOLS
};

static const struct {
	const char *title, *key;
	bool number, human;
} cols[NCOLS] = {
    [COL_ID] = {"ID", "id", true, false},
    [COL_CLIENT] = {"CLIENT", "client", false, false},
    [COL_SERVICE] = {"SERVICE", "service", false, false},
    [COL_BACKEND] = {"BACKEND", "backend", false, false},
    [COL_STATE] = {"STATE", "state", false, false},
    /* "fast": offloaded to the eBPF fast path; "slow": NFQUEUE. */
    [COL_PATH] = {"PATH", "path", false, false},
    [COL_C2S] = {"BYTES(c>s)", "bytes_c2s", true, true},
    [COL_S2C] = {"BYTES(s>c)", "bytes_s2c", true, true},
    [COL_MIGR] = {"MIGR", "migrations", true, false},
};

/* Text of one cell, "-" when the daemon left the field out; -EINVAL on a wrong type. */
static int cell_text(struct json_object *flow, int col, char **cell)
{
	char buf[32] = "-";
	const char *s;
	uint64_t v;
	int ret;

	if (cols[col].number) {
		ret = ctl_json_u64(flow, cols[col].key, &v);
		if (!ret && cols[col].human)
			ctl_fmt_bytes(v, buf, sizeof(buf));
		else if (!ret)
			snprintf(buf, sizeof(buf), "%" PRIu64, v);
		*cell = strdup(buf);
	} else {
		ret = ctl_json_str(flow, cols[col].key, &s);
		*cell = !ret && *s ? ctl_sanitize(s) : strdup(buf);
	}
	if (ret && ret != -ENOENT)
		return ret;
	return *cell ? 0 : -ENOMEM;
}

static void print_row(FILE *f, char *const *row, const size_t *width)
{
	for (int c = 0; c < NCOLS; c++) {
		int w = (int)width[c];

		if (cols[c].number)
			fprintf(f, "%*s", w, row[c]);
		else if (c == NCOLS - 1)
			fputs(row[c], f);
		else
			fprintf(f, "%-*s", w, row[c]);
		fputs(c == NCOLS - 1 ? "\n" : "  ", f);
	}
}

int flows_print(FILE *f, struct json_object *root, const char **why)
{
	static char msg[96];
	struct json_object *flows, *flow;
	char **cells = NULL, *titles[NCOLS];
	size_t n, width[NCOLS];
	int ret = 0;

	if (!json_object_object_get_ex(root, "flows", &flows) ||
	    !json_object_is_type(flows, json_type_array)) {
		*why = "no \"flows\" array";
		return -EBADMSG;
	}
	n = json_object_array_length(flows);
	cells = calloc(n * NCOLS + 1, sizeof(*cells));
	if (!cells) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (int c = 0; c < NCOLS; c++) {
		titles[c] = (char *)cols[c].title;
		width[c] = strlen(cols[c].title);
	}
	for (size_t i = 0; i < n; i++) {
		flow = json_object_array_get_idx(flows, i);
		if (!json_object_is_type(flow, json_type_object)) {
			snprintf(msg, sizeof(msg), "flows[%zu] is not an object", i);
			*why = msg;
			ret = -EBADMSG;
			goto out;
		}
		for (int c = 0; c < NCOLS; c++) {
			char **cell = &cells[i * NCOLS + (size_t)c];

			ret = cell_text(flow, c, cell);
			if (ret) {
				snprintf(msg, sizeof(msg), "flows[%zu].%s has the wrong type", i,
					 cols[c].key);
				*why = ret == -ENOMEM ? "out of memory" : msg;
				ret = ret == -ENOMEM ? ret : -EBADMSG;
				goto out;
			}
			if (strlen(*cell) > width[c])
				width[c] = strlen(*cell);
		}
	}
	print_row(f, titles, width);
	for (size_t i = 0; i < n; i++)
		print_row(f, &cells[i * NCOLS], width);
out:
	for (size_t i = 0; i < n * NCOLS; i++)
		free(cells[i]);
	free(cells);
	return ret;
}

int cmd_flows(const struct ctl_opts *o, int argc, char **argv)
{
	struct ctl_answer a;
	const char *why;
	int ret;

	ret = ctl_check_extra_args("flows", argc, argv, 1);
	if (ret)
		return ret;
	ret = ctl_call(o, "flows", "flows", &a);
	if (ret || o->json)
		goto out;
	if (flows_print(stdout, a.root, &why))
		ret = ctl_bad_answer(why);
out:
	ctl_answer_free(&a);
	return ret;
}
