/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* The xlbd control protocol, spoken by xlbctl over a unix stream socket.
 *
 * DOC: one request, one reply, then the server closes the connection.
 * The server reads a request until its newline (or EOF) and serves many
 * connections at once, none of them able to hold the others up.
 * Each is one JSON object (json-c) on one line ending in "\n"; a request
 * is at most CTL_MSG_MAX bytes (longer ones are refused), a reply at most
 * CTL_REPLY_MAX. A request names its verb
 * in "cmd"; the other members are the verb's arguments, in the same text
 * forms as the command line (VIP "198.18.1.1:80/tcp", "[2001:db8::1]:80/tcp";
 * address; check "none|tcp|syn|udp|http[:/PATH]|https[:/PATH]"). Every
 * reply has "ok": true|false; a failed one carries "error": a one-line
 * reason naming the problem, and the daemon's state is unchanged.
 *
 * Requests are strict (ctlproto.h parses them; ctlproto.c's table lists
 * each verb's members): a request without its newline (the client hung
 * up), anything after the newline or after the object, bytes that are not
 * JSON, a member given twice, a member the verb does not take, a string
 * that is not UTF-8 or has a control character, an integer member written
 * as 100.7 or 1e2: each is refused and nothing runs. Values are checked as
 * xlb.conf(5) checks them (settings.h holds names, ranges and defaults).
 *
 *   cmd                args                                   reply members
 *   vip-add            vip, [algo], [encap], [check],         -
 *                      [interval], [timeout], [rise], [fall],
 *                      [error_rate], [check_port], [all_down],
 *                      [adaptive], [flow_table], [udp_idle]
 *   vip-del            vip                                    -
 *   vip-list           -                                      vips
 *   backend-add        vip, addr, [weight], [mac]             -
 *   backend-del        vip, addr                              -
 *   backend-set-weight vip, addr, weight                      -
 *   backend-drain      vip, addr                              -
 *   backend-undrain    vip, addr                              -
 *   list               -                                      vips
 *   stats              -                                      counters, vips
 *   flows              [vip], [backend], [client], [limit]    flows, total
 *   reload             [force] (JSON true/false)              - (the -c
 *                                                              file merged
 *                                                              as SIGHUP)
 *   config             -                                      config (the
 *                                                              running
 *                                                              xlb.conf)
 *   peers              -                                      peers, dropped,
 *                                                              sent (peer.h)
 *   shutdown           -                                      - (then xlbd
 *                                                              detaches and
 *                                                              exits)
 *   node-drain         [grace] (seconds)                      node
 *   node-undrain       -                                      node
 *   node-status        -                                      node
 *
 * vip-add's interval and timeout are numbers of seconds with at most three
 * decimals; a timeout above the interval is refused, an absent one is
 * lowered to it. all_down is "open|drop", adaptive "off|latency|load|both",
 * flow_table "on|off" (strings), error_rate a number from 0 to 1 (the
 * fraction of the last 10 checks); rise, fall, check_port, weight, limit
 * and udp_idle (seconds) are integers.
 *
 * vips: [{ "vip", "id", "algo", "encap", "flow_table", "udp_idle",
 *          "all_down", "adaptive",
 *          "check": {"type", "path", "interval", "timeout", "rise",
 *          "fall"}, "packets", "bytes", "new_flows", "backends": [{ "addr",
 *          "slot", "weight", "drained", "mac"?, "health": "up|down|unknown",
 *          "effective_weight", "latency_ms", "last_check" ("ok",
 *          "fail: REASON"), "transitions", "packets", "bytes",
 *          "new_flows" }] }]
 * counters: { "<name>": N, ... } (enum xlb_counter names), plus
 *          "flows_in_table": N, "flow_table_size": N
 * node (and "routing" in stats): { "drained", "phase"
 *          ("serving|graceful|withdrawn"), "grace_left_ms"?, "routing"
 *          (routes kept for BIRD or not), and with routing "device",
 *          "device_up", "include", "routes", "synced" (BIRD has the files
 *          as they are), and with a BIRD socket "socket", "configures_ok",
 *          "configures_failed", "last_ok", "last_result" }
 * node-drain is idempotent: on a drained node it changes nothing. grace
 * (default CTL_GRACE_DEFAULT_S) is how long the routes stay, marked with
 * the graceful-shutdown community, before they are withdrawn.
 * flows: [{ "client": "ADDR:PORT", "vip", "backend", "state"
 *          ("unconfirmed|established|fin"), "idle_s", "idle_limit_s",
 *          "expired" }]
 *
 * Changes are applied to the data plane, then to the running
 * configuration, which xlbd saves atomically to its state file.
 */
#ifndef XLB_CTL_H
#define XLB_CTL_H

#define CTL_MSG_MAX		65536	/* a request */
#define CTL_REPLY_MAX		(64 << 20)	/* a reply: 16k backends listed */
/* xlbd's control socket, unless configured (-s, node.control-socket), is
 * one per data plane: CTL_SOCK_DIR/IFACE.sock. xlbctl finds it with -i
 * IFACE, or as the only *.sock in CTL_SOCK_DIR. */
#define CTL_SOCK_DIR		"/run/xlb"
#define CTL_SOCK_EXT		".sock"
/* What the configuration holds until the interface is known, and what
 * state files saved before sockets were per interface hold: xlbd puts
 * CTL_SOCK_DIR/IFACE.sock in its place. */
#define CTL_SOCK_DEFAULT	CTL_SOCK_DIR "/xlbd.sock"
/* A request must arrive whole within this, from the connection's accept;
 * its reply must be taken within as much again. */
#define CTL_TIMEOUT_MS		5000
#define CTL_FLOWS_LIMIT_MAX	1000000000	/* flows' "limit" */
#define CTL_GRACE_DEFAULT_S	5		/* node-drain's "grace" */
#define CTL_GRACE_MAX_S		3600

#endif
