/* Control protocol between tcpmigd and tcpmigctl over a root-only unix stream socket.
 *
 * One request per connection: a single line of text (at most TM_CTL_MAX_REQ
 * bytes including the '\n'), words separated by single spaces:
 *
 *   flows                         all tracked flows
 *   flow ID|CLIENT                one flow (ID = number, CLIENT = addr:port of the client)
 *   migrate ID|CLIENT ADDR:PORT   hand the flow to that backend; the answer comes when
 *                                 the handoff committed or rolled back (bounded by the
 *                                 daemon's handoff timeout)
 *   stats                         global counters
 *   version
 *
 * The answer is one JSON object followed by '\n', then the daemon closes:
 *   {"ok":true, ...}                          success; payload keys below
 *   {"ok":false,"error":"text","reason":"id"} failure; "reason" is a stable token
 *
 *   flows:   {"ok":true,"flows":[FLOW,...]}
 *   flow:    {"ok":true,"flow":FLOW}
 *   migrate: {"ok":true,"flow":FLOW,"migration":{"from":"A:P","to":"A:P","elapsed_us":N}}
 *   stats:   {"ok":true,"stats":{"name":N,...}}
 *   version: {"ok":true,"version":"x.y"}
 *
 *   FLOW = {"id":N,"client":"A:P","service":"A:P","backend":"A:P","state":"established",
 *           "path":"slow","migrating":false,"bytes_c2s":N,"bytes_s2c":N,"pkts_c2s":N,
 *           "pkts_s2c":N,"migrations":N,"rollbacks":N,"age_ms":N,"idle_ms":N,
 *           "last_error":"reason or empty"}
 *
 * Failure reasons: "bad-request", "unknown-flow", "unknown-backend", "not-established",
 * "busy" (a handoff is already running), "quiescence-timeout", "target-timeout",
 * "target-refused" (RST), "target-options" (option set the client cannot live with),
 * "old-backend-active", "flow-closed", "internal".
 */
#ifndef TCPMIG_CTLPROTO_H
#define TCPMIG_CTLPROTO_H

#define TM_CTL_DEFAULT_SOCK "/run/tcpmigd.sock"
#define TM_CTL_MAX_REQ 1024
#define TM_CTL_VERSION "0.1"

#endif
