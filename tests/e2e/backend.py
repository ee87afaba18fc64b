#!/usr/bin/python3
"""A lab backend: a small threaded HTTP/1.0 server whose health the tests
steer by writing files.

    backend.py NAME DIR [--port 80] [--bind ::] [--log FILE]

GET /         200, body "NAME\\n"
GET /health   status from DIR/health_status (an integer; 200 when absent),
              body "ok\\n" for 2xx, "fail\\n" otherwise; several integers
              ("500 200") are taken in turn, one per /health request, so
              that successive checks alternate whatever their timing
any request   first waits DIR/delay_ms milliseconds (0 when absent)
/health       carries "X-Load: <DIR/load>" when DIR/load exists; with
              DIR/capacity N, each connection open beyond N (keep-alive
              ones held by clients) delays it 20 ms more: a server that
              saturates, for the prediction test
else          404

A request with "Connection: keep-alive" gets its answer with that header
and the connection stays open for the next request (HTTP/1.0 keep-alive;
tests/e2e/longconn.py holds connections so); any other request is answered
and the connection closed, as before.

The files are read again for every request, so a test changes behaviour by
writing them (write a temp file and rename it to avoid a half-read value).
Binds dual-stack: "::" takes IPv4 and IPv6. Logs one line per request
("UNIX_TIME CLIENT REQUEST STATUS SIZE host=HOST") to --log FILE, or
nowhere.
"""
import argparse
import http.server
import os
import socket
import sys
import threading
import time


def read_file(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def read_int(path, default):
    s = read_file(path)
    if s is None or s == "":
        return default
    try:
        return int(s)
    except ValueError:
        return default


class Server(http.server.ThreadingHTTPServer):
    open_conns = 0
    daemon_threads = True
    request_queue_size = 128
    turn = 0
    lock = threading.Lock()

    def next_status(self, path):
        words = (read_file(path) or "").split()
        if len(words) > 1:
            with self.lock:
                word = words[self.turn % len(words)]
                self.turn += 1
        else:
            word = words[0] if words else "200"
        try:
            return int(word)
        except ValueError:
            return 500

    def server_bind(self):
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def version_string(self):
        return "xlb-lab-backend"
    timeout = 5  # a client that connects and says nothing costs one thread

    def parse_request(self):
        # The base class keeps a connection only for HTTP/1.1 servers, whose
        # other habits (persistent by default) the checks must not meet.
        ok = super().parse_request()
        self.keep = (ok and self.headers.get("Connection", "").lower() ==
                     "keep-alive")
        if self.keep:
            self.close_connection = False
        return ok

    def reply(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        if self.keep:
            self.send_header("Connection", "keep-alive")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        d = self.server.dir
        delay = read_int(os.path.join(d, "delay_ms"), 0)
        cap = read_int(os.path.join(d, "capacity"), 0)
        if cap and self.path.startswith("/health"):
            delay += 20 * max(0, self.server.open_conns - cap)
        if delay > 0:
            time.sleep(delay / 1000.0)
        path = self.path.split("?", 1)[0]
        if path == "/":
            self.reply(200, self.server.name + "\n")
        elif path == "/health":
            status = self.server.next_status(os.path.join(d, "health_status"))
            if not 100 <= status <= 599:
                status = 500
            headers = []
            load = read_file(os.path.join(d, "load"))
            if load is not None:
                headers.append(("X-Load", load))
            self.reply(status, "ok\n" if 200 <= status < 300 else "fail\n",
                       headers)
        else:
            self.reply(404, "not found\n")

    do_HEAD = do_GET

    def log_message(self, fmt, *args):
        log = self.server.log
        if log is not None:
            host = self.headers.get("Host", "-") if self.headers else "-"
            log.write("%.3f %s %s host=%s\n" % (time.time(),
                                                 self.address_string(),
                                                 fmt % args, host))
            log.flush()

    def handle(self):
        with self.server.lock:
            self.server.open_conns += 1
        # A TCP check connects and closes without a request: not an error.
        try:
            super().handle()
        except (ConnectionError, socket.timeout):
            pass
        finally:
            with self.server.lock:
                self.server.open_conns -= 1


def main():
    ap = argparse.ArgumentParser(description="xlb lab HTTP backend")
    ap.add_argument("name")
    ap.add_argument("dir")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--bind", default="::")
    ap.add_argument("--log", default=None)
    a = ap.parse_args()
    Server.address_family = (socket.AF_INET6 if ":" in a.bind
                             else socket.AF_INET)
    srv = Server((a.bind, a.port), Handler)
    srv.name = a.name
    srv.dir = a.dir
    srv.log = open(a.log, "a") if a.log else None
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
