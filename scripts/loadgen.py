#!/usr/bin/python3
"""An open-loop HTTP load for the experiment: RATE requests a second for
DURATION seconds, each on a new TCP connection (so each is a new flow the
balancer decides), started on schedule whether or not earlier ones ended.

    loadgen.py HOST PORT --rate R --duration S [--timeout T] [--label L]
               [--sources A,B,...]

Writes one CSV line per request to standard output:

    label,start_s,latency_ms,backend,error

start_s counts from the first request; backend is the body's first word
(tests/e2e/backend.py answers its name); error is empty for a 200 answer,
else what went wrong (refused, reset, timeout, status ...). Latency runs
from connect to the end of the answer. Bounded: at most R*S requests,
each given at most T seconds, and no more than MAX_INFLIGHT at once (a
request that would exceed it is recorded as "overload", not sent).
With --sources, request i leaves from address i mod N of the list (many
clients, as source hashing needs to spread).
"""
import argparse
import asyncio
import sys
import time

MAX_INFLIGHT = 1000


async def one(host, port, timeout, source):
    """(backend, error) of one request."""
    writer = None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port,
                                    local_addr=(source, 0) if source else None),
            timeout)
        writer.write(b"GET / HTTP/1.0\r\nHost: xlb\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), timeout)
    except asyncio.TimeoutError:
        return "", "timeout"
    except ConnectionRefusedError:
        return "", "refused"
    except ConnectionResetError:
        return "", "reset"
    except OSError as e:
        return "", "oserror-%d" % (e.errno or 0)
    finally:
        if writer is not None:
            writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1:2]
    if status != [b"200"]:
        return "", "status-" + (status[0].decode() if status else "none")
    words = body.split()
    return (words[0].decode() if words else ""), ""


async def run(a):
    total = int(a.rate * a.duration)
    start = time.monotonic()
    inflight = 0
    lines = []

    sources = a.sources.split(",") if a.sources else [None]

    async def timed(i, t0):
        nonlocal inflight
        be, err = await one(a.host, a.port, a.timeout,
                            sources[i % len(sources)])
        ms = (time.monotonic() - t0) * 1000
        inflight -= 1
        lines.append((t0 - start, "%.3f,%s,%s" % (ms, be, err)))

    tasks = []
    for i in range(total):
        due = start + i / a.rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t0 = time.monotonic()
        if inflight >= MAX_INFLIGHT:
            lines.append((t0 - start, "0,,overload"))
            continue
        inflight += 1
        tasks.append(asyncio.ensure_future(timed(i, t0)))
    if tasks:
        await asyncio.wait(tasks)
    lines.sort()
    sys.stdout.write("".join("%s,%.4f,%s\n" % (a.label, t, rest)
                             for t, rest in lines))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--label", default="")
    p.add_argument("--sources", default="")
    a = p.parse_args()
    if not (0 < a.rate <= 10000 and 0 < a.duration <= 3600):
        p.error("rate must be in (0, 10000], duration in (0, 3600]")
    asyncio.run(run(a))


if __name__ == "__main__":
    main()
