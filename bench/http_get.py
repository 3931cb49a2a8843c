#!/usr/bin/env python3
"""http-get against curl, wget and busybox wget, in one run, from nginx on
loopback: a 1 GiB download to /dev/null (throughput and CPU seconds per
GiB, medians); 1,000 GETs of a 1 KiB file as separate processes
(start-up included) and as the URLs of one command (a glob, one kept
connection), against curl doing the same; and 200 URLs of 64 KiB with
-Z --parallel-max 50 against curl -Z.

usage: bench/http_get.py [--size-mb 1024] [--runs 3] [--small 1000] [--parallel 200]
                         [--nettool ./nettool] [--baseline OTHER_NETTOOL] [--only big,small,many]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import timed  # noqa: E402


def start_nginx(root, tmp):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; master_process off; pid {tmp}/nginx.pid; error_log stderr;
events {{}}
http {{ access_log off; sendfile on; client_body_temp_path {tmp}; proxy_temp_path {tmp};
  fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{port}; root {root}; }} }}
""")
    p = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nginx did not start")


def many(a, tools, port, loops):
    """URLs of one command: a glob of 1 KiB ones, then -Z of 64 KiB ones."""
    # (a baseline from before several URLs were taken is left out)
    pick = [(n, argv[:-2]) for n, argv in tools if n == "nettool http-get" or n == "curl"]
    cases = [(f"{a.small} URLs of 1 KiB in one command (one kept connection)",
              [], f"http://127.0.0.1:{port}/small?[1-{a.small}]"),
             (f"{a.parallel} URLs of 64 KiB, -Z --parallel-max 50",
              ["-Z", "--parallel-max", "50"], f"http://127.0.0.1:{port}/mid?[1-{a.parallel}]")]
    for title, extra, url in cases:
        print(f"{title}, {a.runs} runs, median wall s")
        res = {n: [] for n, _ in pick}
        for _ in range(a.runs):
            for name, argv in pick:
                r = timed(argv + extra + [url])
                if r:
                    res[name].append(r[0])
        curl = statistics.median(res["curl"]) if res.get("curl") else None
        for name, _ in pick:
            if not res[name]:
                print(f"  {name:18s} FAILED")
                continue
            w = statistics.median(res[name])
            note = f"   curl/this x{curl / w:.2f}" if curl else ""
            if not extra and name in loops:
                note += f"   separate processes/this x{loops[name] / w:.1f}"
            print(f"  {name:18s} {w:6.3f} s{note}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--nettool", default="./nettool")
    ap.add_argument("--baseline", help="another nettool build, measured alongside (e.g. the previous commit's)")
    ap.add_argument("--parallel", type=int, default=200)
    ap.add_argument("--only", default="big,small,many")
    a = ap.parse_args()
    if not shutil.which("nginx"):
        raise SystemExit("nginx is not installed")
    nt = os.path.abspath(a.nettool)
    tmp = tempfile.mkdtemp(prefix="nettool-bench-")
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    with open(os.path.join(root, "big"), "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(a.size_mb):
            f.write(block)
    with open(os.path.join(root, "small"), "wb") as f:
        f.write(os.urandom(1024))
    with open(os.path.join(root, "mid"), "wb") as f:
        f.write(os.urandom(64 * 1024))
    ng, port = start_nginx(root, tmp)
    big = f"http://127.0.0.1:{port}/big"
    tools = [("nettool http-get", [nt, "http-get", "-s", "-o", "/dev/null"])]
    if a.baseline:
        tools.append(("nettool baseline", [os.path.abspath(a.baseline), "http-get", "-s", "-o",
                                           "/dev/null"]))
    if shutil.which("curl"):
        tools.append(("curl", ["curl", "-s", "-o", "/dev/null"]))
    if shutil.which("wget"):
        tools.append(("wget", ["wget", "-q", "-O", "/dev/null"]))
    if shutil.which("busybox"):
        tools.append(("busybox wget", ["busybox", "wget", "-q", "-O", "/dev/null"]))
    only = a.only.split(",")
    try:
        res = {n: [] for n, _ in tools}
        for _ in range(a.runs if "big" in only else 0):
            for name, argv in tools:
                r = timed(argv + [big])
                if r:
                    res[name].append(r)
        gib = a.size_mb / 1024
        if "big" in only:
            print(f"{a.size_mb} MiB from nginx to /dev/null, {a.runs} runs, median")
        for name, _ in tools if "big" in only else []:
            v = res[name]
            if not v:
                print(f"  {name:18s} FAILED")
                continue
            wall = statistics.median(x[0] for x in v)
            cpu = statistics.median(x[1] for x in v)
            print(f"  {name:18s} {a.size_mb * 1.048576 / wall / 1000:5.2f} GB/s   "
                  f"{cpu / gib:5.2f} CPU s/GiB")
        small = f"http://127.0.0.1:{port}/small"
        if "small" in only:
            print(f"{a.small} sequential GETs of 1 KiB, whole processes, {a.runs} runs, median")
        times = {}
        for name, argv in [t for t in tools if (t[0].startswith("nettool") or t[0] == "curl")
                           and "small" in only]:
            t = []
            for _ in range(a.runs):
                t0 = time.monotonic()
                for _ in range(a.small):
                    subprocess.run(argv + [small], check=True)
                t.append(time.monotonic() - t0)
            times[name] = statistics.median(t)
            print(f"  {name:18s} {times[name]:6.2f} s  ({times[name] / a.small * 1e3:.2f} ms each)")
        if "many" in only:
            many(a, tools, port, times)
    finally:
        ng.terminate()
        ng.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
