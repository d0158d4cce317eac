/* tcpmigctl internals: options, the daemon call, argument parsers and output helpers. */
#ifndef TCPMIG_CTL_H
#define TCPMIG_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctlproto.h"

struct json_object;

#define CTL_PROG	      "tcpmigctl"
#define CTL_MAX_ANSWER	      (16u << 20) /* bytes; a bigger answer is treated as broken */
#define CTL_DEFAULT_TIMEOUT_S 30
#define CTL_MAX_TIMEOUT_S     86400
#define CTL_JSON_DEPTH	      32
#define CTL_ADDRSTRLEN	      64 /* "[ipv6]:port" plus room */

/* Exit codes; documented in docs/tcpmigctl.8 and `tcpmigctl --help`. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,	  /* tcpmigd said no, or its answer was broken / late */
	CTL_EXIT_USAGE = 2,	  /* bad command line; nothing was sent */
	CTL_EXIT_UNREACHABLE = 3, /* could not connect to the control socket */
};

struct ctl_opts {
	const char *sock;
	int timeout_ms;
	bool json;
};

/* One answer of tcpmigd: the raw bytes (NUL-terminated) and the parsed object. */
struct ctl_answer {
	char *raw;
	size_t len;
	struct json_object *root;
	bool ok;
};

/* parse.c: command-line parsers; they return false and print why, quoting the input. */
bool ctl_parse_addrport(const char *what, const char *s, char *canon, size_t canon_len);
bool ctl_parse_flow_ref(const char *s, char *canon, size_t canon_len);
bool ctl_parse_timeout(const char *s, int *timeout_ms);
bool ctl_parse_sock(const char *s);

/* usage.c */
void ctl_help(FILE *f);
void ctl_usage(const char *cmd);
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ctl_check_extra_args(const char *cmd, int argc, char **argv, int first);

/* fmt.c: output helpers; strings from the daemon never reach the terminal raw. */
void ctl_fmt_bytes(uint64_t v, char *buf, size_t len);
char *ctl_sanitize(const char *s);
void ctl_fput_safe(FILE *f, const char *s);
int ctl_fput_value(FILE *f, struct json_object *v);

/* json_check.c */
struct ctl_json_err {
	const char *why;
	size_t off; /* byte offset of the problem */
	bool truncated;
};
bool ctl_json_check(const char *s, size_t len, struct ctl_json_err *err);

/* answer.c: validate an answer and read its fields. */
int ctl_answer_parse(struct ctl_answer *a, const char **why);
void ctl_answer_free(struct ctl_answer *a);
int ctl_json_u64(struct json_object *obj, const char *key, uint64_t *v);
int ctl_json_str(struct json_object *obj, const char *key, const char **s);
int ctl_json_obj(struct json_object *obj, const char *key, struct json_object **out);

/* ipc.c: one request/answer exchange on the control socket. */
enum ctl_stage { CTL_STAGE_CONNECT, CTL_STAGE_SEND, CTL_STAGE_RECV };
int ctl_exchange(const struct ctl_opts *o, const char *req, struct ctl_answer *a,
		 enum ctl_stage *stage);

/* call.c: exchange + validation + diagnostics; returns an exit code (enum ctl_exit). */
int ctl_call(const struct ctl_opts *o, const char *cmd, const char *req, struct ctl_answer *a);
int ctl_bad_answer(const char *why);

/* One file per subcommand: cmd_* parse argv (argv[0] is the command) and run it;
 * *_print render an ok answer and return 0 or -EBADMSG with *why set. */
int cmd_flows(const struct ctl_opts *o, int argc, char **argv);
int cmd_flow(const struct ctl_opts *o, int argc, char **argv);
int cmd_migrate(const struct ctl_opts *o, int argc, char **argv);
int cmd_stats(const struct ctl_opts *o, int argc, char **argv);
int cmd_version(const struct ctl_opts *o, int argc, char **argv);
int cmd_rules(const struct ctl_opts *o, int argc, char **argv);
int cmd_reload(const struct ctl_opts *o, int argc, char **argv);
int cmd_events(const struct ctl_opts *o, int argc, char **argv);

int flows_print(FILE *f, struct json_object *root, const char **why);
int flow_print(FILE *f, struct json_object *root, const char **why);
int migrate_print(FILE *f, struct json_object *root, const char **why);
int stats_print(FILE *f, struct json_object *root, const char **why);
int version_print(FILE *f, struct json_object *root, const char **why);
int rules_print(FILE *f, struct json_object *root, const char **why);

#endif
