#!/usr/bin/python3
"""Long-lived connections through a VIP, for failover tests.

    longconn.py HOST [--port 80] [--conns 50] [--duration 10]
                [--interval 0.1] [--stall-ms 150] [--timeout 1.0]
                [--ready FILE] [--events N] [--source ADDR]

Opens --conns TCP connections to HOST:PORT and keeps each one busy for
--duration seconds: an HTTP/1.1 request with "Connection: keep-alive" every
--interval seconds, the next one sent once the answer is in (one request
in flight per connection). Per request it notes the send and answer times:

  stall    an answer later than --stall-ms (default 150, below TCP's 200 ms
           minimum retransmission timeout: a lost segment shows)
  failed   no answer within --timeout seconds (it is still awaited, to the
           end of the run, so that answers stay in step), or no answer by
           the end
  reset    the connection was reset or closed by the peer: it stops there

Per connection it keeps the counts, the backends that answered (the body),
and the bad-request timeline: first_bad (send time of the first stalled or
failed request) and last_bad (when the last one ended: its answer, or the
end of the run), and the first --events (default 20) bad requests as
[sent, ended, "stall"|"failed"|"reset"|"error"], so that a test can check
they all fall inside the window where it broke something. Times are UNIX
seconds. --ready FILE is written once every connection has had its first
answer (or given up), so a test knows when to break something. SIGTERM or
SIGINT ends the run early, as the end of --duration would. --source ADDR
binds the connections to that local address (fresh 5-tuples: a test can
keep them apart from the flows of an earlier run).

Prints one JSON line: totals, first_bad/last_bad over all connections, and
"conns", the list of per-connection records. Exit status 0 when it ran
(whatever it measured), 2 on bad arguments.
"""
import argparse
import asyncio
import json
import signal
import sys
import time

MAX_HEADER = 8192


class Conn:
    """One connection's record."""

    def __init__(self, cid):
        self.cid = cid
        self.local_port = None
        self.connected = False
        self.requests = 0
        self.ok = 0
        self.stalls = 0
        self.failed = 0
        self.reset = False
        self.error = None
        self.backends = set()
        self.first_bad = None
        self.last_bad = None
        self.max_ms = 0.0
        self.events = []

    def bad(self, sent, ended, kind, keep):
        if self.first_bad is None:
            self.first_bad = sent
        self.last_bad = max(self.last_bad or ended, ended)
        if len(self.events) < keep:
            self.events.append([round(sent, 6), round(ended, 6), kind])

    def record(self):
        return {"id": self.cid, "port": self.local_port,
                "connected": self.connected, "requests": self.requests,
                "ok": self.ok, "stalls": self.stalls, "failed": self.failed,
                "reset": self.reset, "error": self.error,
                "backends": sorted(self.backends),
                "first_bad": self.first_bad, "last_bad": self.last_bad,
                "max_ms": round(self.max_ms, 1), "events": self.events}


class Run:
    """What all connections share: the options, the end (SIGTERM moves it
    to now) and the count of connections still getting going."""

    def __init__(self, a):
        self.a = a
        self.end = time.time() + a.duration
        self.left = a.conns

    def stop(self):
        self.end = min(self.end, time.time())

    def started_one(self):
        self.left -= 1
        if self.left == 0 and self.a.ready:
            with open(self.a.ready, "w") as f:
                f.write("%.6f\n" % time.time())


async def read_answer(reader):
    """One HTTP answer: its body as text; raises on a malformed one."""
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEADER:
        raise ValueError("header too long")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError("bad status line %r" % lines[0][:40])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    body = await reader.readexactly(length) if length else b""
    if parts[1] != "200":
        raise ValueError("status %s" % parts[1])
    return body.decode("latin-1").strip()


async def await_answer(conn, reader, sent, run):
    """The answer to the request sent at SENT, awaited until the later of
    its timeout and the end of the run; notes a stall or a failure."""
    a = run.a
    fail_at = sent + a.timeout
    task = asyncio.ensure_future(read_answer(reader))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.05)
            if done:
                break
            if time.time() >= max(fail_at, run.end):
                task.cancel()
                conn.failed += 1
                conn.bad(sent, time.time(), "failed", a.events)
                return None
        body = task.result()
    except BaseException:
        task.cancel()
        raise
    now = time.time()
    ms = (now - sent) * 1000.0
    conn.max_ms = max(conn.max_ms, ms)
    if now > fail_at:
        conn.failed += 1
        conn.bad(sent, now, "failed", a.events)
    elif ms > a.stall_ms:
        conn.stalls += 1
        conn.bad(sent, now, "stall", a.events)
    else:
        conn.ok += 1
    conn.backends.add(body)
    return body


async def run_conn(conn, run):
    a = run.a
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n"
               % (a.path, a.host)).encode()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                a.host, a.port,
                local_addr=(a.source, 0) if a.source else None),
            a.timeout * 2)
    except (OSError, asyncio.TimeoutError) as e:
        conn.error = "connect: %s" % (e.__class__.__name__)
        run.started_one()
        return
    conn.connected = True
    conn.local_port = writer.get_extra_info("sockname")[1]
    first = True
    try:
        while time.time() < run.end:
            sent = time.time()
            writer.write(request)
            await writer.drain()
            conn.requests += 1
            body = await await_answer(conn, reader, sent, run)
            if first:
                first = False
                run.started_one()
            if body is None:
                break
            await asyncio.sleep(max(0.0, min(sent + a.interval, run.end) -
                                    time.time()))
    except (ConnectionResetError, asyncio.IncompleteReadError,
            BrokenPipeError) as e:
        conn.reset = True
        conn.error = e.__class__.__name__
        conn.bad(time.time(), time.time(), "reset", a.events)
    except (OSError, ValueError, asyncio.LimitOverrunError) as e:
        conn.error = "%s: %s" % (e.__class__.__name__, e)
        conn.failed += 1
        conn.bad(time.time(), time.time(), "error", a.events)
    finally:
        if first:
            run.started_one()
        writer.close()


async def run_all(a):
    run = Run(a)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, run.stop)
    conns = [Conn(i) for i in range(a.conns)]
    await asyncio.gather(*(run_conn(c, run) for c in conns))
    return conns


def summary(conns):
    firsts = [c.first_bad for c in conns if c.first_bad is not None]
    lasts = [c.last_bad for c in conns if c.last_bad is not None]
    return {
        "conns": len(conns),
        "connected": sum(c.connected for c in conns),
        "requests": sum(c.requests for c in conns),
        "ok": sum(c.ok for c in conns),
        "stalls": sum(c.stalls for c in conns),
        "failed": sum(c.failed for c in conns),
        "resets": sum(c.reset for c in conns),
        "errors": sum(c.error is not None for c in conns),
        "first_bad": min(firsts) if firsts else None,
        "last_bad": max(lasts) if lasts else None,
        "max_ms": max((c.max_ms for c in conns), default=0.0),
        "per_conn": [c.record() for c in conns],
    }


def main():
    ap = argparse.ArgumentParser(description="long-lived HTTP connections")
    ap.add_argument("host")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--path", default="/")
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--stall-ms", type=float, default=150.0)
    ap.add_argument("--timeout", type=float, default=1.0)
    ap.add_argument("--ready", default=None)
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--source", default=None)
    a = ap.parse_args()
    if not (0 < a.conns <= 1000 and 0 < a.duration <= 600 and
            0 < a.interval <= 60 and a.timeout > 0 and a.stall_ms > 0 and
            0 <= a.events <= 1000):
        print("longconn: --conns 1..1000, --duration 0..600 s, --interval "
              "0..60 s, --events 0..1000, positive --timeout and --stall-ms",
              file=sys.stderr)
        return 2
    conns = asyncio.run(run_all(a))
    print(json.dumps(summary(conns), separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
