/* Rule options: the option list tokenizer and every option but content, its modifiers and pcre. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"

/* Options a rule may give once (bits of rl_opts.seen). */
enum rl_once {
	ONCE_MSG,
	ONCE_SID,
	ONCE_REV,
	ONCE_GID,
	ONCE_CLASSTYPE,
	ONCE_PRIORITY,
	ONCE_FLAGS,
	ONCE_FLOW,
	ONCE_DSIZE,
	ONCE_NONE,
};

typedef void (*opt_fn)(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val);

static bool is(struct rl_str s, const char *w)
{
	return s.n == strlen(w) && !memcmp(s.p, w, s.n);
}

static bool need_val(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	if (has_val && val.n)
		return true;
	rl_error(o->c, name, "option needs a value");
	return false;
}

/* [A-Za-z0-9_.-]+: classtype names, metadata keys, reference systems. */
static bool is_word(struct rl_str s)
{
	size_t i;

	if (!s.n)
		return false;
	for (i = 0; i < s.n; i++)
		if (!isalnum((unsigned char)s.p[i]) && !strchr("_.-", s.p[i]))
			return false;
	return true;
}

/* A "quoted string" with \" \; \\ \: escapes resolved; NULL (error said) when malformed. */
static const char *unquote(struct rl_opts *o, struct rl_str v)
{
	char *out, *d;
	size_t i;

	if (v.n < 2 || v.p[0] != '"' || v.p[v.n - 1] != '"') {
		rl_error(o->c, v, "want a quoted string");
		return NULL;
	}
	out = d = rl_alloc(&o->c->rs->arena, v.n);
	if (!out) {
		rl_oom(o->c);
		return NULL;
	}
	for (i = 1; i + 1 < v.n; i++) {
		if (v.p[i] == '\\') {
			if (i + 2 >= v.n || !strchr("\"\\;:", v.p[i + 1])) {
				rl_error(o->c, rl_str(v.p + i, 1 + (i + 2 < v.n)),
					 "bad escape in string");
				return NULL;
			}
			*d++ = v.p[++i];
		} else if (v.p[i] == '"') {
			rl_error(o->c, v, "unescaped '\"' in string");
			return NULL;
		} else {
			*d++ = v.p[i];
		}
	}
	*d = 0;
	return out;
}

static void opt_msg(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	const char *m;

	if (need_val(o, name, val, has_val) && (m = unquote(o, val)))
		o->r->info.msg = m;
}

static bool num_opt(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val,
		    long long min, long long max, __u32 *out)
{
	long long v;

	if (!need_val(o, name, val, has_val))
		return false;
	if (val.p[0] == '+' || !rl_parse_num(val, min, max, &v)) {
		rl_error(o->c, val, "bad %.*s (want %lld..%lld)", (int)name.n, name.p, min, max);
		return false;
	}
	*out = (__u32)v;
	return true;
}

static void opt_sid(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	__u32 v;

	if (num_opt(o, name, val, has_val, 1, 4294967295ll, &v)) {
		o->r->info.sid = v;
		o->r->sid_tok = val;
	}
	o->has_sid = true;
}

static void opt_rev(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	num_opt(o, name, val, has_val, 1, 4294967295ll, &o->r->info.rev);
}

static void opt_gid(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	num_opt(o, name, val, has_val, 1, 4294967295ll, &o->r->info.gid);
}

static void opt_priority(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	num_opt(o, name, val, has_val, 1, 2147483647ll, &o->r->info.priority);
}

static void opt_classtype(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	if (!need_val(o, name, val, has_val))
		return;
	if (!is_word(val)) {
		rl_error(o->c, val, "bad classtype");
		return;
	}
	o->r->info.classtype = rl_strndup(&o->c->rs->arena, val.p, val.n);
	if (!o->r->info.classtype)
		rl_oom(o->c);
}

static bool kv_push(struct rl_opts *o, struct tm_rule_kv **v, size_t *n, size_t *cap,
		    struct rl_str key, struct rl_str value)
{
	struct tm_rule_kv kv;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct tm_rule_kv *t = realloc(*v, ncap * sizeof(*t));

		if (!t) {
			rl_oom(o->c);
			return false;
		}
		*v = t;
		*cap = ncap;
	}
	kv.key = rl_strndup(&o->c->rs->arena, key.p, key.n);
	kv.value = rl_strndup(&o->c->rs->arena, value.p, value.n);
	if (!kv.key || !kv.value) {
		rl_oom(o->c);
		return false;
	}
	(*v)[(*n)++] = kv;
	return true;
}

/* metadata:key value, key value; (the value is everything after the key's first blank) */
static void opt_metadata(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	const char *p, *end;

	if (!need_val(o, name, val, has_val))
		return;
	for (p = val.p, end = val.p + val.n; p <= end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		struct rl_str item = rl_trim(rl_str(p, (size_t)((comma ? comma : end) - p)));
		struct rl_str key = item, value = {0};
		size_t i;

		for (i = 0; i < item.n && !isspace((unsigned char)item.p[i]); i++)
			;
		key.n = i;
		if (i < item.n)
			value = rl_trim(rl_str(item.p + i, item.n - i));
		if (!item.n) {
			rl_error(o->c, val, "empty metadata item");
			return;
		}
		if (!is_word(key)) {
			rl_error(o->c, key, "bad metadata key");
			return;
		}
		if (!value.n) {
			rl_error(o->c, item, "metadata item needs a key and a value");
			return;
		}
		if (!kv_push(o, &o->meta, &o->nmeta, &o->capmeta, key, value))
			return;
		if (!comma)
			break;
		p = comma + 1;
	}
}

/* reference:system,id; */
static void opt_reference(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	const char *comma;
	struct rl_str sys, id;

	if (!need_val(o, name, val, has_val))
		return;
	comma = memchr(val.p, ',', val.n);
	if (!comma) {
		rl_error(o->c, val, "reference needs system,id");
		return;
	}
	sys = rl_trim(rl_str(val.p, (size_t)(comma - val.p)));
	id = rl_trim(rl_str(comma + 1, (size_t)(val.p + val.n - comma - 1)));
	if (!is_word(sys) || !id.n) {
		rl_error(o->c, val, "reference needs system,id");
		return;
	}
	kv_push(o, &o->refs, &o->nrefs, &o->caprefs, sys, id);
}

/* One flag letter (Snort: FSRPAU, C or 1 = CWR, E or 2 = ECE); 0 if not one. */
static __u8 flag_bit(char ch)
{
	switch (toupper((unsigned char)ch)) {
	case 'F':
		return TM_TCP_FIN;
	case 'S':
		return TM_TCP_SYN;
	case 'R':
		return TM_TCP_RST;
	case 'P':
		return TM_TCP_PSH;
	case 'A':
		return TM_TCP_ACK;
	case 'U':
		return TM_TCP_URG;
	case 'C':
	case '1':
		return TM_TCP_CWR;
	case 'E':
	case '2':
		return TM_TCP_ECE;
	}
	return 0;
}

/* flags:[!|*|+]<FSRPAUCE12 or 0>[+|*|!][,<mask>] -- a modifier may lead or trail, as in Snort. */
static void opt_flags(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	const char *comma;
	struct rl_str test, mask = {0};
	bool zero = false, mod = false;
	size_t i;

	if (!need_val(o, name, val, has_val))
		return;
	comma = memchr(val.p, ',', val.n);
	test = rl_trim(rl_str(val.p, comma ? (size_t)(comma - val.p) : val.n));
	if (comma)
		mask = rl_trim(rl_str(comma + 1, (size_t)(val.p + val.n - comma - 1)));
	o->r->has_flags = true;
	o->r->flags_mode = RL_FLAGS_EXACT;
	for (i = 0; i < test.n; i++) {
		char ch = test.p[i];

		if (ch == '+' || ch == '*' || ch == '!') {
			if (mod) {
				rl_error(o->c, val, "more than one flags modifier");
				return;
			}
			mod = true;
			o->r->flags_mode = ch == '+'   ? RL_FLAGS_ALL
					   : ch == '*' ? RL_FLAGS_ANY
						       : RL_FLAGS_NOT;
		} else if (ch == '0') {
			zero = true;
		} else if (flag_bit(ch)) {
			o->r->flags |= flag_bit(ch);
		} else {
			rl_error(o->c, rl_str(test.p + i, 1), "bad TCP flag");
			return;
		}
	}
	if (zero && o->r->flags) {
		rl_error(o->c, val, "flag 0 (no flags) combined with other flags");
		return;
	}
	if (!zero && !o->r->flags) {
		rl_error(o->c, val, "no TCP flags given");
		return;
	}
	if (comma && !mask.n) {
		rl_error(o->c, val, "empty flags mask");
		return;
	}
	for (i = 0; i < mask.n; i++) {
		if (!flag_bit(mask.p[i]) || mask.p[i] == '0') {
			rl_error(o->c, rl_str(mask.p + i, 1), "bad TCP flag in mask");
			return;
		}
		o->r->flags_mask |= flag_bit(mask.p[i]);
	}
}

/* flow:to_server|to_client|from_server|from_client, established|not_established|stateless */
static void opt_flow(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	static const char *const unsupported[] = {"no_stream", "only_stream", "no_frag",
						  "only_frag"};
	const char *p, *end;

	if (!need_val(o, name, val, has_val))
		return;
	for (p = val.p, end = val.p + val.n; p <= end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		struct rl_str it = rl_trim(rl_str(p, (size_t)((comma ? comma : end) - p)));
		__u8 dir = 0, state = RL_FLOW_ANY;
		size_t i;

		if (is(it, "to_server") || is(it, "from_client"))
			dir = TM_RULE_TO_SERVER;
		else if (is(it, "to_client") || is(it, "from_server"))
			dir = TM_RULE_TO_CLIENT;
		else if (is(it, "established"))
			state = RL_FLOW_ESTABLISHED;
		else if (is(it, "not_established"))
			state = RL_FLOW_NOT_ESTABLISHED;
		else if (is(it, "stateless"))
			state = RL_FLOW_STATELESS;
		for (i = 0; !dir && !state && i < sizeof(unsupported) / sizeof(*unsupported); i++) {
			if (is(it, unsupported[i])) {
				rl_error(o->c, it, "unsupported flow option");
				return;
			}
		}
		if (!dir && !state) {
			rl_error(o->c, it.n ? it : val,
				 it.n ? "unknown flow option" : "empty flow option");
			return;
		}
		if ((dir && o->r->flow_dir && o->r->flow_dir != dir) ||
		    (state && o->r->flow_state && o->r->flow_state != state)) {
			rl_error(o->c, it, "conflicting flow option");
			return;
		}
		if (dir)
			o->r->flow_dir = dir;
		if (state)
			o->r->flow_state = state;
		if (!comma)
			break;
		p = comma + 1;
	}
}

static bool dsize_num(struct rl_str s, __u32 *out)
{
	long long v;

	s = rl_trim(s);
	if (!s.n || s.p[0] == '-' || !rl_parse_num(s, 0, 65535, &v))
		return false;
	*out = (__u32)v;
	return true;
}

/* dsize:N | <N | >N | <=N | >=N | N<>M | N<=>M (both ranges inclusive, as Snort 2's <>) */
static void opt_dsize(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	struct rl_rule *r = o->r;
	const char *mid;
	bool ok;

	if (!need_val(o, name, val, has_val))
		return;
	r->has_dsize = true;
	if (val.n > 2 && (mid = memmem(val.p, val.n, "<=>", 3))) {
		r->dsize_op = RL_DSIZE_RANGE;
		ok = dsize_num(rl_str(val.p, (size_t)(mid - val.p)), &r->dsize_lo) &&
		     dsize_num(rl_str(mid + 3, (size_t)(val.p + val.n - mid - 3)), &r->dsize_hi);
	} else if (val.n > 1 && (mid = memmem(val.p, val.n, "<>", 2))) {
		r->dsize_op = RL_DSIZE_RANGE;
		ok = dsize_num(rl_str(val.p, (size_t)(mid - val.p)), &r->dsize_lo) &&
		     dsize_num(rl_str(mid + 2, (size_t)(val.p + val.n - mid - 2)), &r->dsize_hi);
	} else if (val.n > 1 && (val.p[0] == '<' || val.p[0] == '>') && val.p[1] == '=') {
		r->dsize_op = val.p[0] == '<' ? RL_DSIZE_LE : RL_DSIZE_GE;
		ok = dsize_num(rl_str(val.p + 2, val.n - 2), &r->dsize_lo);
	} else if (val.p[0] == '<' || val.p[0] == '>') {
		r->dsize_op = val.p[0] == '<' ? RL_DSIZE_LT : RL_DSIZE_GT;
		ok = dsize_num(rl_str(val.p + 1, val.n - 1), &r->dsize_lo);
	} else {
		r->dsize_op = RL_DSIZE_EQ;
		ok = dsize_num(val, &r->dsize_lo);
	}
	if (!ok) {
		rl_error(o->c, val, "bad dsize (want N, <N, >N, <=N, >=N, N<>M; N <= 65535)");
		return;
	}
	if (r->dsize_op == RL_DSIZE_RANGE && r->dsize_lo > r->dsize_hi)
		rl_error(o->c, val, "dsize range ends before it starts");
}

static const struct opt_def {
	const char *name;
	opt_fn fn;
	enum rl_once once;
} opt_table[] = {
    {"msg", opt_msg, ONCE_MSG},
    {"sid", opt_sid, ONCE_SID},
    {"rev", opt_rev, ONCE_REV},
    {"gid", opt_gid, ONCE_GID},
    {"classtype", opt_classtype, ONCE_CLASSTYPE},
    {"priority", opt_priority, ONCE_PRIORITY},
    {"metadata", opt_metadata, ONCE_NONE},
    {"reference", opt_reference, ONCE_NONE},
    {"flags", opt_flags, ONCE_FLAGS},
    {"flow", opt_flow, ONCE_FLOW},
    {"dsize", opt_dsize, ONCE_DSIZE},
    {"content", rl_opt_content, ONCE_NONE},
    {"nocase", rl_opt_modifier, ONCE_NONE},
    {"offset", rl_opt_modifier, ONCE_NONE},
    {"depth", rl_opt_modifier, ONCE_NONE},
    {"distance", rl_opt_modifier, ONCE_NONE},
    {"within", rl_opt_modifier, ONCE_NONE},
    {"fast_pattern", rl_opt_fast_pattern, ONCE_NONE},
    {"pcre", rl_opt_pcre, ONCE_NONE},
};

/* Snort options we know and do not implement: say "unsupported" rather than "unknown". */
static const char snort_only[] =
    "uricontent rawbytes http_client_body http_cookie http_raw_cookie http_header "
    "http_raw_header http_method http_uri http_raw_uri http_stat_code http_stat_msg "
    "http_encode isdataat byte_test byte_jump byte_extract byte_math ftpbounce asn1 cvs "
    "dce_iface dce_opnum dce_stub_data sip_method sip_stat_code sip_header sip_body "
    "gtp_type gtp_info gtp_version ssl_version ssl_state base64_decode base64_data "
    "pkt_data file_data urilen fragoffset ttl tos id ipopts fragbits seq ack window "
    "itype icode icmp_id icmp_seq rpc ip_proto sameip stream_reassemble stream_size "
    "flowbits logto session resp react tag activates activated_by count replace "
    "detection_filter threshold protected_content hash length regex sd_pattern service "
    "rem target soid appids dnp3_func dnp3_ind dnp3_obj dnp3_data modbus_func "
    "modbus_unit modbus_data cip_attribute cip_class cip_conn_path_class cip_instance "
    "cip_req cip_rsp cip_service cip_status enip_command enip_req enip_rsp ber_data "
    "ber_skip js_data vba_data bufferlen raw_data file_type file_meta lua so";

static void dispatch(struct rl_opts *o, struct rl_str name, struct rl_str val, bool has_val)
{
	const char *w;
	size_t i;

	for (i = 0; i < sizeof(opt_table) / sizeof(*opt_table); i++) {
		const struct opt_def *d = &opt_table[i];

		if (!is(name, d->name))
			continue;
		if (d->once != ONCE_NONE) {
			if (o->seen & (1u << d->once)) {
				rl_error(o->c, name, "option given twice");
				return;
			}
			o->seen |= 1u << d->once;
		}
		d->fn(o, name, val, has_val);
		return;
	}
	for (w = snort_only; *w; w += strspn(w, " ")) {
		size_t n = strcspn(w, " ");

		if (n == name.n && !memcmp(w, name.p, n)) {
			rl_error(o->c, name, "unsupported option");
			return;
		}
		w += n;
	}
	rl_error(o->c, name, "unknown option");
}

static void skip_blanks(const char **p, const char *end)
{
	while (*p < end && isspace((unsigned char)**p))
		(*p)++;
}

/* Copy a heap-grown array into the arena; false when out of memory. */
static bool to_arena(struct rl_opts *o, const void *v, size_t n, size_t size, void **out)
{
	*out = NULL;
	if (!n)
		return true;
	*out = rl_alloc(&o->c->rs->arena, n * size);
	if (!*out) {
		rl_oom(o->c);
		return false;
	}
	memcpy(*out, v, n * size);
	return true;
}

/*
 * name[:value]; ... -- a value ends at a ';' outside "quotes"; a backslash escapes the next
 * character everywhere.  The last option's ';' may be missing.
 */
void rl_parse_options(struct rl_ctx *c, struct rl_rule *r, struct rl_str opts)
{
	struct rl_opts o = {.c = c, .r = r};
	const char *p = opts.p, *end = opts.p + opts.n;
	bool broken = false;
	void *v;

	for (;;) {
		struct rl_str name, val = {NULL, 0};
		bool has_val = false, inq = false;

		skip_blanks(&p, end);
		if (p == end)
			break;
		name.p = p;
		while (p < end && *p != ':' && *p != ';' && !isspace((unsigned char)*p))
			p++;
		name.n = (size_t)(p - name.p);
		skip_blanks(&p, end);
		if (p < end && *p == ':') {
			val.p = ++p;
			for (; p < end; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '"')
					inq = !inq;
				else if (*p == ';' && !inq)
					break;
			}
			val.n = (size_t)(p - val.p);
			has_val = true;
			if (inq) {
				rl_error(c, rl_trim(val), "unterminated string");
				broken = true;
				break;
			}
		} else if (p < end && *p != ';') {
			rl_error(c, rl_str(name.p, (size_t)(p - name.p) + 1),
				 "expected ':' or ';' after option name");
			broken = true;
			p = memchr(p, ';', (size_t)(end - p));
			if (!p)
				break;
			p++;
			continue;
		}
		if (p < end)
			p++; /* the ';' */
		if (!name.n) {
			rl_error(c, rl_trim(rl_str(name.p, (size_t)(p - name.p))),
				 "missing option name");
			continue;
		}
		dispatch(&o, name, rl_trim(val), has_val);
	}
	rl_steps_finish(&o);
	if (!o.has_sid && !broken)
		rl_error(c, rl_trim(opts), "rule has no sid");
	if (to_arena(&o, o.meta, o.nmeta, sizeof(*o.meta), &v)) {
		r->info.metadata = v;
		r->info.n_metadata = o.nmeta;
	}
	if (to_arena(&o, o.refs, o.nrefs, sizeof(*o.refs), &v)) {
		r->info.references = v;
		r->info.n_references = o.nrefs;
	}
	free(o.meta);
	free(o.refs);
	free(o.steps);
}
