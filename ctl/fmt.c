/* Output helpers of tcpmigctl: byte units and printing of daemon-supplied text. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"

/* 1023 -> "1023", 1234 -> "1.2K", 15 << 20 -> "15M": one decimal below 10, base 1024. */
void ctl_fmt_bytes(uint64_t v, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	do {
		d /= 1024;
		u++;
	} while (d >= 1024 && u < 5);
	/* Rounding must not print "10.0K" or "1024K"; those belong one step up. */
	if (d < 9.95)
		snprintf(buf, len, "%.1f%c", d, units[u]);
	else if (d < 1023.5 || u == 5)
		snprintf(buf, len, "%.0f%c", d, units[u]);
	else
		snprintf(buf, len, "%.1f%c", d / 1024, units[u + 1]);
}

/* A copy of @s with control characters shown as \xNN, so that a daemon string cannot
 * move the cursor or change the terminal.  The daemon validated UTF-8 is kept. */
char *ctl_sanitize(const char *s)
{
	size_t n = 0;
	char *out, *p;

	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		n += (*c < 0x20 || *c == 0x7f) ? 4 : 1;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	p = out;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			p += sprintf(p, "\\x%02x", *c);
		else
			*p++ = (char)*c;
	}
	*p = '\0';
	return out;
}

void ctl_fput_safe(FILE *f, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			fprintf(f, "\\x%02x", *c);
		else
			fputc(*c, f);
	}
}

/* A JSON value as one line of text: strings bare, "-" for null or "", others as JSON. */
int ctl_fput_value(FILE *f, struct json_object *v)
{
	const char *s;

	switch (json_object_get_type(v)) {
	case json_type_null:
		fputs("-", f);
		return 0;
	case json_type_string:
		s = json_object_get_string(v);
		if (!*s)
			fputs("-", f);
		else
			ctl_fput_safe(f, s);
		return 0;
	default:
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!s)
			return -ENOMEM;
		ctl_fput_safe(f, s);
		return 0;
	}
}
