#!/usr/bin/env bash
# iperf3 through migrated, offloaded flows while tcpmigd is killed (-9) and restarted.
#
#   c1 iperf3 -c 10.0.0.1 ──── gw (tcpmigd, fast path, rules) ──┬── s1 socat sink (never used)
#                                                               └── s2 iperf3 -s  (serves it all)
# Issue 5, "done when": a kill -9 of tcpmigd during an iperf3 run through a migrated flow does
# not interrupt it.  A rule sends every new connection to port 5201 to server 2 at its first
# request (seed 000's decision), so iperf3's control and data connections are both handed off
# (sequence numbers translated for their whole life) and then offloaded to the kernel.
# Upload: the daemon is killed 2 s into an 8 s run and stays dead; the run must finish with every
# second carrying data, the byte counts as iperf3 itself allows (check_run), the connections
# closing cleanly (the kernel translates their FINs) and no RST on the control connection.  Download (-R): killed at
# 2 s, restarted at 4 s (pinned maps: the new daemon re-adopts both flows), same checks.
source "$(dirname "$0")/lib.sh"

command -v iperf3 >/dev/null || skip_all "iperf3 not installed"
lab_up --servers 2 --clients 1
S1=$LAB_S1_IP4 S2=$LAB_S2_IP4 C1=$LAB_C1_IP4
# Server 1 is the service address and the default backend: its kernel completes each handshake
# before the rule moves the connection at its first request.  A sink that accepts every
# connection and keeps whatever reaches it, not iperf3: iperf3's server, when the commit's RST
# ends the connection it accepted, closes and reopens its listener, refusing (or resetting in its
# accept queue) the client's next connection in that window; a test of iperf3 on server 1 then.
: >"$T/s1-bytes"
bg nsx s1 socat -u TCP-LISTEN:5201,fork,reuseaddr OPEN:"$T/s1-bytes",append
bg nsx s2 iperf3 -s -p 5201 --logfile "$T/iperf-s2.log" 2>>"$T/iperf-s2.log"
cat >"$T/iperf.rules" <<RULES
alert tcp any any -> $S1 5201 (msg:"IPERF3"; flow:to_server,established; sid:1000201;)
RULES
mkdir -p "$T/bpffs"
mount -t bpf bpf "$T/bpffs" || { echo "Bail out! cannot mount a bpffs"; exit 1; }
CONF="service $S1:5201
	backend $S1:5201
	backend $S2:5201
rules $T/iperf.rules
on sid 1000201 migrate $S2:5201
fast-path on
fast-path-pin $T/bpffs/tcpmig"
TCPMIG_FASTPATH= gw_start "$CONF"
sleep 0.5

# RSTs to the client only: with -R, iperf3's client itself resets its data connection at the end
# (it closes with data unread), on plain forwarding too.
nsx c1 tcpdump -i eth0 -nn -U -w "$T/rst.pcap" "tcp port 5201 and dst host $C1 and tcp[tcpflags] & tcp-rst != 0" \
	2>"$T/tcpdump.err" &
_bg_pids+=($!)
for _ in $(seq 50); do grep -qs listening "$T/tcpdump.err" && break; sleep 0.1; done
check "tcpdump captures RSTs to the client" grep -qs listening "$T/tcpdump.err"

# flows_on: "N backend path" lines of the daemon's flows, e.g. "2 10.0.0.2:5201 fast".
flows_on() {
	jget "$(ctl -j flows)" "'\n'.join(sorted(set('%d %s %s' % (sum(1 for g in d['flows'] if g['backend'] == f['backend'] and g['path'] == f['path']), f['backend'], f['path']) for f in d['flows'])))"
}
# check_run NAME JSON: iperf3's own verdict and numbers.  Its server closes the data sockets as
# soon as the client's TEST_END arrives on the control connection, with what is still unread
# (a send buffer's worth at most): sum_received can be a little short of sum_sent and that close
# resets the data connection.  Measured on this lab without tcpmig in the path as well (-R:
# every run; upload: seldom on plain forwarding, often through a managed flow, slow path or fast,
# migrated or not).  So: received <= sent within the buffers, and an RST only on a data
# connection whose bytes were cut that way; the control connection must close cleanly.
check_run() {
	local name=$1 json=$2 short
	is "$name: iperf3 exit 0" "$rc" 0
	is "$name: no error in iperf3's report" "$(jget "$(cat "$json")" "d.get('error', 'none')")" none
	short=$(jget "$(cat "$json")" "d['end']['sum_sent']['bytes'] - d['end']['sum_received']['bytes']")
	check "$name: received <= sent, short by less than the socket buffers (${short} bytes)" \
		test "${short:-x}" -ge 0 -a "${short:-x}" -lt $((16 << 20))
	check "$name: more than 1 GB received" \
		test "$(jget "$(cat "$json")" "d['end']['sum_received']['bytes']")" -gt 1000000000
	is "$name: every 1 s interval carried data (no stall around the kill)" \
		"$(jget "$(cat "$json")" "sum(1 for i in d['intervals'] if i['sum']['bytes'] == 0)")" 0
	diag "$name: $(jget "$(cat "$json")" "'%.2f Gbit/s, %d retransmits' % (d['end']['sum_received']['bits_per_second'] / 1e9, d['end']['sum_sent'].get('retransmits', 0))")"
	eval "short_$name=$short"
	data_ports+=" $(jget "$(cat "$json")" "' '.join(str(c['local_port']) for c in d['start']['connected'])")"
}
data_ports=''
# offloaded_on NAME: both connections on server 2, offloaded (what the daemon says otherwise).
offloaded_on() {
	local got
	got=$(flows_on)
	is "$1: control and data connections on server 2, offloaded" "$got" "2 $S2:5201 fast"
	[[ $got == "2 $S2:5201 fast" ]] || { diag "$(ctl -j flows)"; diag "$(tail -20 "$T/gw.log")"; }
}

# --- upload, daemon killed and not restarted ----------------------------------------------------
nsx c1 iperf3 -c "$S1" -p 5201 -t 8 -J >"$T/up.json" 2>"$T/up.err" &
cl=$!
sleep 2
offloaded_on upload
gw_kill
wait $cl
rc=$?
check_run upload "$T/up.json"
sleep 0.5
is "upload: server 2's sockets of the run closed completely (kernel-translated FINs)" \
	"$(nsx s2 ss -tanH "sport = :5201" | awk '{print $5}' | grep -cE "^$C1:")" 0

# --- download, daemon killed, restarted mid-run --------------------------------------------------
TCPMIG_FASTPATH= gw_restart up "$CONF"
check "a restarted daemon does not re-adopt the closed flows" test "$(stat_of fast_readopt_closed)" -ge 2
is "... and has none" "$(jget "$(ctl -j flows)" "len(d['flows'])")" 0
nsx c1 iperf3 -c "$S1" -p 5201 -t 8 -R -J >"$T/down.json" 2>"$T/down.err" &
cl=$!
sleep 2
offloaded_on download
gw_kill
sleep 2
TCPMIG_FASTPATH= gw_restart down "$CONF"
check "download: the restarted daemon re-adopted both flows" \
	grep -q "re-adopted 2 offloaded flow" "$T/gw.log"
is "download: ... on server 2, offloaded" "$(flows_on)" "2 $S2:5201 fast"
wait $cl
rc=$?
check_run download "$T/down.json"
# (The model sometimes ends a -R data connection in "closing" rather than "closed", without any
# kill as well: a gap in its close tracking, see the issue notes; what matters here is that the
# daemon, alive again, took both closes back from the kernel.)
states() { jget "$(ctl -j flows)" "sorted(set(f['path'] + ':' + ('ended' if f['state'] in ('fin-wait', 'closing', 'closed') else f['state']) for f in d['flows']))"; }
for _ in $(seq 40); do [[ $(states) == "['slow:ended']" ]] && break; sleep 0.05; done
is "download: the re-adopted flows' closes went through the daemon (slow path, closed)" "$(states)" "['slow:ended']"
[[ $(states) == "['slow:ended']" ]] || diag "$(ctl -j flows)"

# --- who served what -----------------------------------------------------------------------------
kill -INT "${_bg_pids[-1]}" 2>/dev/null
sleep 0.2
# RSTs to the client: none on a control connection; on a data connection only if its run's
# received bytes fell short (iperf3's close with unread data, above).
rsts=$(tcpdump -nn -r "$T/rst.pcap" 2>/dev/null | awk '{split($5, a, "."); p = a[length(a)]; sub(":", "", p); print p}')
bad=0
for p in $rsts; do
	[[ " $data_ports " == *" $p "* ]] || bad=$((bad + 1))
done
is "no RST reached the client on a control connection" "$bad" 0
cut_runs=$(((short_upload > 0) + (short_download > 0)))
check "RSTs on data connections ($(wc -w <<<"$rsts")) only where iperf3 cut bytes ($cut_runs run(s))" \
	test "$(wc -w <<<"$rsts")" -le "$cut_runs"
tcpdump -nn -r "$T/rst.pcap" 2>/dev/null | head -5 | sed 's/^/#   /'
is "server 2's iperf3 ran both tests" "$(grep -c 'Accepted connection' "$T/iperf-s2.log")" 2
is "server 1 never received a byte" "$(stat -c %s "$T/s1-bytes")" 0
is "upload: the rule handed both connections to server 2 at their first request" \
	"$(grep -c "handed off $S1:5201 -> $S2:5201" "$T/gw.up.log")" 2
is "download: the same" "$(grep -c "handed off $S1:5201 -> $S2:5201" "$T/gw.down.log")" 2
is "no failed rewrites in the kernel" "$(stat_of fast_rewrite_failed_drop)" 0
diag "kernel counters: $(jget "$(ctl -j stats)" "' '.join('%s=%d' % (k[5:], v) for k, v in d['stats'].items() if k.startswith('fast_') and v)")"
done_testing
