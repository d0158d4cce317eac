/* A request to tcpmigd from start to exit code: exchange, validation, -j output, diagnostics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"

int ctl_bad_answer(const char *why)
{
	fprintf(stderr, "%s: malformed answer from tcpmigd: %s\n", CTL_PROG, why);
	return CTL_EXIT_FAIL;
}

static int exchange_error(const struct ctl_opts *o, const char *cmd, enum ctl_stage stage, int err)
{
	if (stage == CTL_STAGE_CONNECT) {
		fprintf(stderr, "%s: cannot reach tcpmigd at %s: %s\n", CTL_PROG, o->sock,
			strerror(-err));
		return CTL_EXIT_UNREACHABLE;
	}
	switch (err) {
	case -ETIMEDOUT:
		fprintf(stderr, "%s: no answer from tcpmigd at %s within %g s\n", CTL_PROG, o->sock,
			o->timeout_ms / 1000.0);
		if (!strcmp(cmd, "migrate"))
			fprintf(stderr,
				"%s: the handoff may still commit or roll back; "
				"see 'tcpmigctl flow'\n",
				CTL_PROG);
		break;
	case -EMSGSIZE:
		fprintf(stderr, "%s: answer from tcpmigd is larger than %u MiB; giving up\n",
			CTL_PROG, CTL_MAX_ANSWER >> 20);
		break;
	case -ENODATA:
		fprintf(stderr, "%s: tcpmigd closed the connection without answering\n", CTL_PROG);
		break;
	default:
		fprintf(stderr, "%s: lost connection to tcpmigd at %s: %s\n", CTL_PROG, o->sock,
			strerror(-err));
	}
	return CTL_EXIT_FAIL;
}

/* The answer exactly as tcpmigd sent it (it is valid JSON by now), minus outer whitespace. */
static void print_raw(const struct ctl_answer *a)
{
	size_t start = 0, end = a->len;

	while (start < end && strchr(" \t\r\n", a->raw[start]))
		start++;
	while (end > start && strchr(" \t\r\n", a->raw[end - 1]))
		end--;
	fwrite(a->raw + start, 1, end - start, stdout);
	fputc('\n', stdout);
}

static int refused(const char *cmd, struct json_object *root)
{
	const char *error = "tcpmigd gave no error text", *reason = "no reason";

	ctl_json_str(root, "error", &error);
	ctl_json_str(root, "reason", &reason);
	fprintf(stderr, "%s: %s failed: ", CTL_PROG, cmd);
	if (!*error)
		error = "tcpmigd gave no error text";
	/* Multi-line errors (every file:line of a rejected reload): one line each, indented. */
	for (const char *line = error; *line;) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		char *one = strndup(line, l);

		if (line != error)
			fputs("\n  ", stderr);
		ctl_fput_safe(stderr, one ? one : "?");
		free(one);
		line += l;
		while (*line == '\n')
			line++;
	}
	fputs(" (", stderr);
	ctl_fput_safe(stderr, *reason ? reason : "no reason");
	fputs(")\n", stderr);
	return CTL_EXIT_FAIL;
}

/* Sends @req (one line, without '\n') and validates the answer.  Returns CTL_EXIT_OK with an
 * ok answer in @a (already printed when -j), or another exit code after saying why; the
 * caller frees @a in both cases. */
int ctl_call(const struct ctl_opts *o, const char *cmd, const char *req, struct ctl_answer *a)
{
	char line[TM_CTL_MAX_REQ + 1];
	enum ctl_stage stage;
	const char *why;
	int n, ret;

	memset(a, 0, sizeof(*a));
	n = snprintf(line, sizeof(line), "%s\n", req);
	if (n < 0 || n > TM_CTL_MAX_REQ)
		return ctl_usage_error(cmd, "request longer than %d bytes", TM_CTL_MAX_REQ);
	ret = ctl_exchange(o, line, a, &stage);
	if (ret)
		return exchange_error(o, cmd, stage, ret);
	ret = ctl_answer_parse(a, &why);
	if (ret == -ENODATA)
		return exchange_error(o, cmd, CTL_STAGE_RECV, ret);
	if (ret)
		return ctl_bad_answer(why);
	if (o->json)
		print_raw(a);
	if (!a->ok)
		return refused(cmd, a->root);
	return CTL_EXIT_OK;
}
