/* Strict RFC 8259 syntax check of one JSON text, because json-c's strict mode still takes
 * NaN, Infinity, "1." and single-quoted keys, and `tcpmigctl -j` promises valid JSON. */
#include "ctl.h"

struct jcur {
	const unsigned char *p, *end;
	struct ctl_json_err *err;
	int depth;
};

static bool fail(struct jcur *c, const char *why)
{
	c->err->why = why;
	c->err->truncated = c->p >= c->end;
	if (c->err->truncated)
		c->err->why = "the JSON ends early";
	return false;
}

#define NEED(c)                                                                                    \
	do {                                                                                       \
		if ((c)->p >= (c)->end)                                                            \
			return fail((c), NULL);                                                    \
	} while (0)

static void skip_ws(struct jcur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static bool is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_hex(unsigned char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* One UTF-8 sequence of 2..4 bytes: no overlong forms, no surrogates, at most U+10FFFF. */
static bool utf8_seq(struct jcur *c)
{
	unsigned char b0 = *c->p, lo = 0x80, hi = 0xbf;
	int n;

	if (b0 >= 0xc2 && b0 <= 0xdf)
		n = 1;
	else if (b0 >= 0xe0 && b0 <= 0xef)
		n = 2;
	else if (b0 >= 0xf0 && b0 <= 0xf4)
		n = 3;
	else
		return fail(c, "invalid UTF-8");
	if (b0 == 0xe0)
		lo = 0xa0;
	else if (b0 == 0xed)
		hi = 0x9f;
	else if (b0 == 0xf0)
		lo = 0x90;
	else if (b0 == 0xf4)
		hi = 0x8f;
	c->p++;
	for (int i = 0; i < n; i++, c->p++) {
		NEED(c);
		if (*c->p < lo || *c->p > hi)
			return fail(c, "invalid UTF-8");
		lo = 0x80;
		hi = 0xbf;
	}
	return true;
}

static bool string(struct jcur *c)
{
	c->p++; /* the opening quote */
	for (;;) {
		NEED(c);
		if (*c->p == '"') {
			c->p++;
			return true;
		}
		if (*c->p < 0x20)
			return fail(c, "control character in a string");
		if (*c->p >= 0x80) {
			if (!utf8_seq(c))
				return false;
			continue;
		}
		if (*c->p++ != '\\')
			continue;
		NEED(c);
		switch (*c->p++) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			break;
		case 'u':
			for (int i = 0; i < 4; i++, c->p++) {
				NEED(c);
				if (!is_hex(*c->p))
					return fail(c, "bad \\u escape");
			}
			break;
		default:
			c->p--;
			return fail(c, "bad escape in a string");
		}
	}
}

static bool digits(struct jcur *c)
{
	NEED(c);
	if (!is_digit(*c->p))
		return fail(c, "digit expected");
	while (c->p < c->end && is_digit(*c->p))
		c->p++;
	return true;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool number(struct jcur *c)
{
	if (*c->p == '-')
		c->p++;
	NEED(c);
	if (*c->p == '0')
		c->p++;
	else if (!digits(c))
		return false;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!digits(c))
			return false;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		NEED(c);
		if (*c->p == '+' || *c->p == '-')
			c->p++;
		if (!digits(c))
			return false;
	}
	return true;
}

static bool literal(struct jcur *c, const char *word)
{
	for (; *word; word++, c->p++) {
		NEED(c);
		if (*c->p != (unsigned char)*word)
			return fail(c, "unexpected character");
	}
	return true;
}

static bool value(struct jcur *c);

/* Object or array: '{' or '[' then members separated by ',' up to the closing bracket. */
static bool container(struct jcur *c)
{
	bool object = *c->p == '{';
	unsigned char close = object ? '}' : ']';

	if (++c->depth > CTL_JSON_DEPTH)
		return fail(c, "nested too deeply");
	c->p++;
	skip_ws(c);
	NEED(c);
	if (*c->p == close)
		goto done;
	for (;;) {
		if (object) {
			NEED(c);
			if (*c->p != '"')
				return fail(c, "quoted member name expected");
			if (!string(c))
				return false;
			skip_ws(c);
			NEED(c);
			if (*c->p != ':')
				return fail(c, "':' expected");
			c->p++;
			skip_ws(c);
		}
		if (!value(c))
			return false;
		skip_ws(c);
		NEED(c);
		if (*c->p == close)
			break;
		if (*c->p != ',')
			return fail(c, object ? "',' or '}' expected" : "',' or ']' expected");
		c->p++;
		skip_ws(c);
	}
done:
	c->p++;
	c->depth--;
	return true;
}

static bool value(struct jcur *c)
{
	NEED(c);
	switch (*c->p) {
	case '{':
	case '[':
		return container(c);
	case '"':
		return string(c);
	case 't':
		return literal(c, "true");
	case 'f':
		return literal(c, "false");
	case 'n':
		return literal(c, "null");
	default:
		if (*c->p == '-' || is_digit(*c->p))
			return number(c);
		return fail(c, "unexpected character");
	}
}

/* Exactly one JSON value in @s[0..len), whitespace around it allowed. */
bool ctl_json_check(const char *s, size_t len, struct ctl_json_err *err)
{
	struct jcur c = {(const unsigned char *)s, (const unsigned char *)s + len, err, 0};
	bool good;

	err->why = NULL;
	err->truncated = false;
	skip_ws(&c);
	good = value(&c);
	if (good) {
		skip_ws(&c);
		if (c.p < c.end)
			good = fail(&c, "trailing data after the first value");
	}
	err->off = (size_t)(c.p - (const unsigned char *)s);
	return good;
}
