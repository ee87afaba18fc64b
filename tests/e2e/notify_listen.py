#!/usr/bin/python3
"""The service manager's side of sd_notify(3), for tests without systemd.

notify_listen.py SOCK LOG [SECONDS] [-- CMD ...]

Binds the datagram socket SOCK (what NOTIFY_SOCKET names) and appends each
message to LOG as one line, its assignments joined by "|", e.g.
"READY=1|STATUS=...". On the first READY=1 it runs CMD (at most 10 s)
before reading on, and logs "check rc=N": CMD sees the daemon as it was when
it said it was ready. Exits after STOPPING=1, or after SECONDS (default
60) in all.
"""
import os
import socket
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    cmd = []
    if "--" in args:
        cmd = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    path, log = args[0], args[1]
    deadline = time.monotonic() + (float(args[2]) if len(args) > 2 else 60)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    checked = False
    with open(log, "a", buffering=1) as out:
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                msg = s.recv(4096).decode(errors="replace")
            except socket.timeout:
                break
            fields = [f for f in msg.split("\n") if f]
            out.write("|".join(fields) + "\n")
            if "READY=1" in fields and cmd and not checked:
                checked = True
                try:
                    rc = subprocess.run(cmd, timeout=10,
                                        stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL).returncode
                except subprocess.TimeoutExpired:
                    rc = "timeout"
                out.write("check rc=%s\n" % rc)
            if "STOPPING=1" in fields:
                break
    s.close()
    os.unlink(path)


if __name__ == "__main__":
    main()
