/* Unit tests of tcpmigctl's answer validation and renderers: good, broken and hostile answers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tap.h"
#include "ctl.h"

/* Parses @json; returns the error and keeps the answer in @a (caller frees). */
static int parse(struct ctl_answer *a, const char *json, size_t len, const char **why)
{
	memset(a, 0, sizeof(*a));
	a->raw = malloc(len + 1);
	memcpy(a->raw, json, len);
	a->raw[len] = '\0';
	a->len = len;
	*why = "";
	return ctl_answer_parse(a, why);
}

static void answer_ok(const char *name, const char *json, bool want_ok)
{
	struct ctl_answer a;
	const char *why;
	int ret = parse(&a, json, strlen(json), &why);

	ok(ret == 0 && a.ok == want_ok, "%s accepted, ok:%d (%s)", name, want_ok, why);
	ctl_answer_free(&a);
}

static void answer_bad(const char *name, const char *json, size_t len, const char *want_why)
{
	struct ctl_answer a;
	const char *why;
	int ret = parse(&a, json, len, &why);

	ok(ret < 0 && !a.root && !strncmp(why, want_why, strlen(want_why)),
	   "%s rejected: '%s' (want '%s...')", name, why, want_why);
	ctl_answer_free(&a);
}

/* Renders @json with @print into a string and compares; want NULL means "must fail". */
static void render_is(const char *name, int (*print)(FILE *, struct json_object *, const char **),
		      const char *json, const char *want)
{
	struct ctl_answer a;
	const char *why = "";
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	int ret;

	if (parse(&a, json, strlen(json), &why)) {
		ok(0, "%s: answer parses (%s)", name, why);
		ctl_answer_free(&a);
		return;
	}
	f = open_memstream(&out, &outlen);
	ret = print(f, a.root, &why);
	fclose(f);
	if (want)
		ok(ret == 0 && !strcmp(out, want), "%s renders as expected", name);
	else
		ok(ret == -EBADMSG, "%s refused: %s", name, why);
	if (want && (ret || strcmp(out, want)))
		printf("#   got (ret %d, %s):\n%s#   want:\n%s", ret, why, out, want);
	free(out);
	ctl_answer_free(&a);
}

static char *deep(int depth)
{
	char *s = malloc((size_t)depth * 7 + 16), *p = s;

	p += sprintf(p, "{\"ok\":true,\"x\":");
	for (int i = 0; i < depth; i++)
		p += sprintf(p, "[");
	for (int i = 0; i < depth; i++)
		p += sprintf(p, "]");
	sprintf(p, "}\n");
	return s;
}

int main(void)
{
	char *s;

	answer_ok("compact answer", "{\"ok\":true}\n", true);
	answer_ok("answer without newline", "{\"ok\":true}", true);
	answer_ok("spaced ok:false answer",
		  "  \n{ \"ok\" : false , \"error\":\"x\",\"reason\":\"y\"}\r\n\n", false);
	answer_ok("uint64 max", "{\"ok\":true,\"n\":18446744073709551615}\n", true);
	answer_ok("numbers", "{\"ok\":true,\"n\":[0,-0,1.5,-2e10,3E+2,4e-1,null,false]}", true);
	answer_ok("escapes", "{\"ok\":true,\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"}", true);
	answer_ok("UTF-8", "{\"ok\":true,\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}\n",
		  true);
	answer_ok("empty containers", "{\"ok\":true,\"a\":[],\"o\":{},\"e\":[[],{}]}", true);
	s = deep(20);
	answer_ok("nested 21 deep", s, true);
	free(s);
	s = deep(CTL_JSON_DEPTH - 1);
	answer_ok("nested as deep as allowed", s, true);
	free(s);

	answer_bad("empty", "", 0, "empty answer");
	answer_bad("truncated object", "{\"ok\":true,\"flows\":[{", 21, "truncated");
	answer_bad("truncated string", "{\"ok\":true,\"v\":\"0.", 18, "truncated");
	answer_bad("whitespace only", "\n\n", 2, "truncated");
	answer_bad("garbage", "hello\n", 6, "not JSON");
	answer_bad("double comma", "{\"ok\":true,,}\n", 14, "not JSON");
	answer_bad("single quotes", "{'ok':true}\n", 12, "not JSON");
	answer_bad("NaN", "{\"ok\":true,\"a\":NaN}", 19, "not JSON");
	answer_bad("Infinity", "{\"ok\":true,\"a\":-Infinity}", 25, "not JSON");
	answer_bad("1.", "{\"ok\":true,\"a\":1.}", 18, "not JSON");
	answer_bad(".5", "{\"ok\":true,\"a\":.5}", 18, "not JSON");
	answer_bad("+1", "{\"ok\":true,\"a\":+1}", 18, "not JSON");
	answer_bad("01", "{\"ok\":true,\"a\":01}", 18, "not JSON");
	answer_bad("1e", "{\"ok\":true,\"a\":1e}", 18, "not JSON");
	answer_bad("TRUE", "{\"ok\":TRUE}", 11, "not JSON");
	answer_bad("tru", "{\"ok\":tru}", 10, "not JSON");
	answer_bad("raw tab in string", "{\"ok\":true,\"a\":\"\t\"}", 19, "not JSON");
	answer_bad("\\x escape", "{\"ok\":true,\"a\":\"\\x41\"}", 22, "not JSON");
	answer_bad("short \\u escape", "{\"ok\":true,\"a\":\"\\u12g4\"}", 23, "not JSON");
	answer_bad("comment", "{\"ok\":true /* c */}", 20, "not JSON");
	answer_bad("overlong UTF-8", "{\"ok\":true,\"s\":\"\xc0\xaf\"}", 21, "not JSON");
	answer_bad("UTF-8 surrogate", "{\"ok\":true,\"s\":\"\xed\xa0\x80\"}", 22, "not JSON");
	answer_bad("UTF-8 above U+10FFFF", "{\"ok\":true,\"s\":\"\xf4\x90\x80\x80\"}", 23,
		   "not JSON");
	answer_bad("cut UTF-8", "{\"ok\":true,\"s\":\"\xe2\x82", 18, "truncated");
	answer_bad("missing colon", "{\"ok\" true}", 11, "not JSON");
	answer_bad("missing comma", "{\"ok\":true \"a\":1}", 18, "not JSON");
	answer_bad("unclosed array", "{\"ok\":true,\"a\":[1}", 19, "not JSON");
	answer_bad("trailing comma", "{\"ok\":true,}\n", 13, "not JSON");
	answer_bad("bad UTF-8", "{\"ok\":true,\"s\":\"\xff\"}\n", 20, "not JSON");
	answer_bad("NUL byte after", "{\"ok\":true}\0\n", 13, "not JSON");
	answer_bad("NUL byte in string", "{\"ok\":true,\"a\":\"\0\"}", 19, "not JSON");
	answer_bad("two objects", "{\"ok\":true}\n{\"ok\":true}\n", 24,
		   "not JSON: trailing data after the first value at byte 12");
	answer_bad("trailing junk", "{\"ok\":true} x", 13, "not JSON: trailing data");
	answer_bad("array", "[true]\n", 7, "not a JSON object");
	answer_bad("string", "\"ok\"\n", 5, "not a JSON object");
	answer_bad("number", "1\n", 2, "not a JSON object");
	answer_bad("no ok", "{\"flows\":[]}\n", 13, "no boolean");
	answer_bad("ok not boolean", "{\"ok\":1}\n", 9, "no boolean");
	answer_bad("ok string", "{\"ok\":\"true\"}\n", 14, "no boolean");
	s = deep(40);
	answer_bad("too deep", s, strlen(s), "not JSON: nested too deeply at byte 46");
	free(s);

	render_is("flows", flows_print,
		  "{\"ok\":true,\"flows\":[{\"id\":3,\"client\":\"10.0.0.9:40000\","
		  "\"service\":\"10.0.0.1:80\",\"backend\":\"10.0.1.1:8080\",\"state\":"
		  "\"established\",\"path\":\"fast\",\"bytes_c2s\":1234567,\"bytes_s2c\":512,"
		  "\"migrations\":1},"
		  "{\"id\":1234,\"client\":\"[2001:db8::9]:40001\",\"backend\":null,"
		  "\"state\":\"new\",\"bytes_c2s\":0,\"bytes_s2c\":18446744073709551615,"
		  "\"migrations\":0,\"extra\":[1]}]}",
		  "  ID  CLIENT               SERVICE      BACKEND        STATE        PATH  "
		  "BYTES(c>s)  BYTES(s>c)  MIGR\n"
		  "   3  10.0.0.9:40000       10.0.0.1:80  10.0.1.1:8080  established  fast  "
		  "      1.2M         512     1\n"
		  "1234  [2001:db8::9]:40001  -            -              new          -     "
		  "         0         16E     0\n");
	render_is("no flows", flows_print, "{\"ok\":true,\"flows\":[]}",
		  "ID  CLIENT  SERVICE  BACKEND  STATE  PATH  BYTES(c>s)  BYTES(s>c)  MIGR\n");
	render_is("flows with an escape", flows_print,
		  "{\"ok\":true,\"flows\":[{\"id\":1,\"client\":\"\\u001b[2J\",\"service\":\"s\","
		  "\"backend\":\"b\",\"state\":\"x\",\"bytes_c2s\":1,\"bytes_s2c\":2,"
		  "\"migrations\":3}]}",
		  "ID  CLIENT   SERVICE  BACKEND  STATE  PATH  BYTES(c>s)  BYTES(s>c)  MIGR\n"
		  " 1  \\x1b[2J  s        b        x      -              1           2     3\n");
	render_is("flows missing", flows_print, "{\"ok\":true}", NULL);
	render_is("flows not an array", flows_print, "{\"ok\":true,\"flows\":{}}", NULL);
	render_is("flow not an object", flows_print, "{\"ok\":true,\"flows\":[1]}", NULL);
	render_is("id as string", flows_print, "{\"ok\":true,\"flows\":[{\"id\":\"3\"}]}", NULL);
	render_is("negative bytes", flows_print, "{\"ok\":true,\"flows\":[{\"bytes_c2s\":-1}]}",
		  NULL);
	render_is("fractional bytes", flows_print, "{\"ok\":true,\"flows\":[{\"bytes_c2s\":1.5}]}",
		  NULL);
	render_is("client as number", flows_print, "{\"ok\":true,\"flows\":[{\"client\":5}]}",
		  NULL);
	render_is("path as boolean", flows_print, "{\"ok\":true,\"flows\":[{\"path\":true}]}",
		  NULL);

	render_is("flow", flow_print,
		  "{\"ok\":true,\"flow\":{\"zz\":{\"a\":1},\"last_error\":\"\",\"migrating\":true,"
		  "\"id\":3,\"client\":\"10.0.0.9:40000\",\"path\":null,\"bytes_c2s\":5}}",
		  "id: 3\nclient: 10.0.0.9:40000\npath: -\nmigrating: true\nbytes_c2s: 5\n"
		  "last_error: -\nzz: {\"a\":1}\n");
	render_is("flow missing", flow_print, "{\"ok\":true,\"flows\":[]}", NULL);
	render_is("flow not an object", flow_print, "{\"ok\":true,\"flow\":3}", NULL);

	render_is("stats", stats_print,
		  "{\"ok\":true,\"stats\":{\"zeta\":1,\"alpha\":18446744073709551615,\"Beta\":2,"
		  "\"mid\":\"x\"}}",
		  "Beta 2\nalpha 18446744073709551615\nmid x\nzeta 1\n");
	render_is("empty stats", stats_print, "{\"ok\":true,\"stats\":{}}", "");
	render_is("stats missing", stats_print, "{\"ok\":true,\"stats\":[]}", NULL);

	render_is("migrate", migrate_print,
		  "{\"ok\":true,\"flow\":{\"id\":3},\"migration\":{\"from\":\"10.0.1.1:8080\","
		  "\"to\":\"10.0.0.2:11111\",\"elapsed_us\":1234567}}",
		  "migrated flow 3 from 10.0.1.1:8080 to 10.0.0.2:11111 in 1234.567 ms\n");
	render_is("migrate without migration", migrate_print, "{\"ok\":true,\"flow\":{\"id\":3}}",
		  NULL);
	render_is("migrate without flow", migrate_print,
		  "{\"ok\":true,\"migration\":{\"from\":\"a\",\"to\":\"b\",\"elapsed_us\":1}}",
		  NULL);

	render_is("version", version_print, "{\"ok\":true,\"version\":\"0.1\"}",
		  "tcpmigctl " TM_CTL_VERSION "\ntcpmigd 0.1\n");
	render_is("version not a string", version_print, "{\"ok\":true,\"version\":0.1}", NULL);
	return tap_done();
}
