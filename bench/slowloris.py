#!/usr/bin/env python3
"""Ordinary GETs while thousands of connections sit in their request head:
nettool http-serve (and another build with --baseline) and nginx, side by
side in one run on loopback. Each server gets N connections that send half
a request head and stall, then M ordinary GETs (a new connection each, one
after another) are timed; prints the median, 99th percentile and worst
latency, and how many GETs failed within 5 s.

usage: bench/slowloris.py [--stalled 5000] [--gets 200] [--runs 3]
                          [--nettool ./nettool] [--baseline OTHER_NETTOOL]
"""
import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import free_port, stop, wait_port

HALF_HEAD = b"GET /small HTTP/1.1\r\nHost: a\r\n"






def start(name, binary, root, tmp):
    port = free_port()
    if name == "nginx":
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes auto; daemon off; pid {tmp}/nginx.pid; error_log stderr crit;
worker_rlimit_nofile 30000;
events {{ worker_connections 20000; }}
http {{ access_log off; sendfile on;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{port}; root {root}; }} }}
""")
        argv = ["nginx", "-c", conf, "-p", tmp]
    else:
        argv = [binary, "http-serve", "-d", root, "-b", "127.0.0.1", "-p", str(port), "-q"]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    wait_port(port)
    return p, port


def one_get(port):
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        if not data.startswith(b"HTTP/1.1 200"):
            return None
    except OSError:
        return None
    return time.monotonic() - t0


def measure(port, stalled, gets):
    """The GET latencies that succeeded, the count that failed, and how
    many stalled connections the server let in within 5 s each."""
    held = []
    try:
        for _ in range(stalled):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(HALF_HEAD)
            except OSError:
                break  # it stopped taking connections
            held.append(s)
        times = [one_get(port) for _ in range(gets)]
    finally:
        for s in held:
            s.close()
    ok = sorted(t for t in times if t is not None)
    return ok, gets - len(ok), len(held)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stalled", type=int, default=5000)
    ap.add_argument("--gets", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--nettool", default="./nettool")
    ap.add_argument("--baseline", help="another nettool build, measured alongside")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    tmp = tempfile.mkdtemp(prefix="nettool-bench-")
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    with open(os.path.join(root, "small"), "wb") as f:
        f.write(os.urandom(1024))
    servers = [("nettool", os.path.abspath(a.nettool))]
    if a.baseline:
        servers.append(("nettool baseline", os.path.abspath(a.baseline)))
    if shutil.which("nginx"):
        servers.append(("nginx", None))
    res = {n: ([], 0, []) for n, _ in servers}
    try:
        for _ in range(a.runs):  # servers take turns, so noise hits them alike
            for name, binary in servers:
                p, port = start(name, binary, root, tmp)
                try:
                    ok, failed, held = measure(port, a.stalled, a.gets)
                finally:
                    stop(p)
                res[name] = (res[name][0] + ok, res[name][1] + failed, res[name][2] + [held])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{a.gets} GETs of 1 KiB while {a.stalled} connections stall in their head, "
          f"{a.runs} runs: latency in ms")
    for name, _ in servers:
        ok, failed, held = res[name]
        took = f"   stalled ones let in: {min(held)}" if min(held) < a.stalled else ""
        if not ok:
            print(f"  {name:18s} every GET failed{took}")
            continue
        p99 = ok[min(len(ok) - 1, int(len(ok) * 0.99))]
        print(f"  {name:18s} median {statistics.median(ok) * 1e3:7.2f}   p99 {p99 * 1e3:7.2f}"
              f"   worst {ok[-1] * 1e3:8.2f}   failed {failed}{took}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
