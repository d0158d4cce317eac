/* libFuzzer target: arbitrary bytes as a tcpmigd answer through validation and every renderer. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	static int (*const renderers[])(FILE *, struct json_object *, const char **) = {
	    flows_print, flow_print, migrate_print, stats_print, version_print,
	};
	static FILE *sink;
	struct ctl_answer a = {0};
	const char *why;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (len > CTL_MAX_ANSWER)
		return 0;
	a.raw = malloc(len + 1);
	if (!a.raw)
		return 0;
	memcpy(a.raw, data, len);
	a.raw[len] = '\0';
	a.len = len;
	if (!ctl_answer_parse(&a, &why))
		for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++)
			renderers[i](sink, a.root, &why);
	ctl_answer_free(&a);
	return 0;
}
