#!/usr/bin/env python3
"""Uploads, in one run on loopback, medians of --runs:

1. A file from /dev/shm (--size-mb, default 1 GiB) PUT by `http-get -T` and
   `curl -T` into `http-serve --upload` and into nginx's WebDAV PUT
   (`dav_methods PUT`), every client into every server: MB/s, and CPU
   seconds per GiB of client and server.
2. 1,000 sequential small JSON POSTs (`--json '{"n":1}'`) to nginx:
   wall time of http-get against curl.
3. A form upload of a 100 MiB file (`-F file=@...`) into http-serve: http-get
   against curl.
4. GET latency of 64 keep-alive clients (wrk) at http-serve, alone and
   while uploads of the big file run back to back: the ratio of medians.

usage: bench/http_upload.py [--size-mb 1024] [--runs 5] [--nettool ./nettool]
                            [--only put,json,form,stall]
"""
import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, timed, wait_port  # noqa: E402


def cpu_of(pid):
    """User+system seconds of a running process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_nginx(tmp, root):
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; master_process off; pid {tmp}/nginx.pid; error_log stderr crit;
events {{}}
http {{ access_log off; sendfile on; client_body_temp_path {root};
  proxy_temp_path {tmp}; fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  client_max_body_size 0; client_body_buffer_size 1m;
  server {{ listen 127.0.0.1:{port}; root {root};
    location / {{ dav_methods PUT; create_full_put_path on; }}
    location = /api {{ default_type application/json; return 200 '{{"ok":1}}\\n'; }} }} }}
""")
    p = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stderr=subprocess.DEVNULL)
    wait_port(port, p)
    return p, port


def start_nettool(nettool, root):
    port = free_port()
    p = subprocess.Popen([nettool, "http-serve", "-p", str(port), "-b", "127.0.0.1", "-d", root,
                          "-q", "--upload", "--overwrite", "--max-body", "100G"],
                         stderr=subprocess.DEVNULL)
    wait_port(port, p)
    return p, port


def put_matrix(args, servers, src, size):
    clients = {"nettool": [args.nettool, "http-get", "-s", "-o", "/dev/null", "-T", src],
               "curl": ["curl", "-s", "-f", "-o", "/dev/null", "-T", src]}
    gib = size / (1 << 30)
    rows = {}
    combos = [(s, c) for s in servers for c in clients]
    for run in range(args.runs):
        # a new order each round (the same for every invocation): what one
        # run leaves behind (pages to free, a cold cache) falls on them all
        random.Random(run).shuffle(combos)
        for sname, cname in combos:
            sp, port = servers[sname]
            url = f"http://127.0.0.1:{port}/up.bin"
            before = cpu_of(sp.pid)
            r = timed(clients[cname] + [url])
            if r is None:
                print(f"  {cname} -> {sname}: failed")
                continue
            rows.setdefault((cname, sname), []).append(
                (size / r[0] / 1e6, r[1] / gib, (cpu_of(sp.pid) - before) / gib))
    print(f"PUT {size >> 20} MiB, medians of {args.runs}: MB/s, CPU s/GiB client, server")
    med = {}
    for (cname, sname), v in sorted(rows.items()):
        med[(cname, sname)] = tuple(statistics.median(x[i] for x in v) for i in range(3))
        m = med[(cname, sname)]
        print(f"  {cname:8} -> {sname:8} {m[0]:8.0f} MB/s   client {m[1]:.2f}   server {m[2]:.2f}")
    try:
        print(f"  nettool pair / curl-nginx pair: "
              f"{med[('nettool', 'nettool')][0] / med[('curl', 'nginx')][0]:.2f}x (target 1.2x)")
        print(f"  nettool -> nginx / curl -> nginx: "
              f"{med[('nettool', 'nginx')][0] / med[('curl', 'nginx')][0]:.2f}x (target 1.0x)")
        print(f"  curl -> nettool / curl -> nginx: "
              f"{med[('curl', 'nettool')][0] / med[('curl', 'nginx')][0]:.2f}x (target 1.0x)")
    except KeyError:
        pass


def json_posts(args, nginx_port):
    url = f"http://127.0.0.1:{nginx_port}/api"
    tools = {"nettool": [args.nettool, "http-get", "-s", "--json", '{"n":1}', url],
             "curl": ["curl", "-s", "--json", '{"n":1}', url]}
    res = {}
    for _ in range(args.runs):
        for name, argv in tools.items():
            t0 = time.monotonic()
            for _ in range(args.posts):
                subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            res.setdefault(name, []).append(time.monotonic() - t0)
    m = {k: statistics.median(v) for k, v in res.items()}
    print(f"{args.posts} JSON POSTs, medians of {args.runs}: nettool {m['nettool']:.2f} s, "
          f"curl {m['curl']:.2f} s ({m['curl'] / m['nettool']:.2f}x)")


def form_upload(args, port, tmp):
    src = os.path.join(tmp, "form.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(100 << 20))
    url = f"http://127.0.0.1:{port}/"
    tools = {"nettool": [args.nettool, "http-get", "-s", "-o", "/dev/null", "-F",
                         f"file=@{src}", url],
             "curl": ["curl", "-s", "-f", "-o", "/dev/null", "-F", f"file=@{src}", url]}
    res = {}
    for _ in range(args.runs):
        for name, argv in tools.items():
            r = timed(argv)
            if r:
                res.setdefault(name, []).append(r)
    m = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
         for k, v in res.items()}
    print(f"form upload of 100 MiB into http-serve, medians of {args.runs}: "
          + ", ".join(f"{k} {100 * 1.048576 / v[0]:.0f} MB/s ({v[1]:.2f} CPU s)"
                      for k, v in m.items())
          + f"; nettool/curl {m['curl'][0] / m['nettool'][0]:.2f}x")


def wrk_latency(port, seconds):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency",
                          f"http://127.0.0.1:{port}/small.txt"], capture_output=True,
                         text=True).stdout
    m = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)", out, re.M)
    n = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)
    scale = {"us": 1e-3, "ms": 1, "s": 1e3}
    return float(m.group(1)) * scale[m.group(2)], float(n.group(1)) * scale[n.group(2)]


def stall(args, nettool_port, src, root):
    with open(os.path.join(root, "small.txt"), "wb") as f:
        f.write(b"x" * 1024)
    alone = wrk_latency(nettool_port, 3)
    stop = time.monotonic() + 4
    up = subprocess.Popen(["sh", "-c", f'while [ "$(date +%s)" -lt {int(time.time()) + 4} ]; do '
                           f'curl -s -o /dev/null -T {src} http://127.0.0.1:{nettool_port}/u.bin; '
                           'done'])
    busy = wrk_latency(nettool_port, 3)
    up.wait(timeout=max(1, stop - time.monotonic()) + 60)
    print(f"GET latency, 64 keep-alive clients at http-serve (2 threads): alone p50 {alone[0]:.2f}"
          f" ms p99 {alone[1]:.2f} ms; during uploads p50 {busy[0]:.2f} ms p99 {busy[1]:.2f} ms"
          f" ({busy[0] / alone[0]:.2f}x at p50, target within 2x)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--nettool", default="./nettool")
    ap.add_argument("--only", default="put,json,form,stall",
                    help="which parts to run, comma-separated")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    args.nettool = os.path.abspath(args.nettool)
    for prog in ("curl", "nginx", "wrk"):
        if not shutil.which(prog):
            raise SystemExit(f"{prog} is not installed")
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    tmp = tempfile.mkdtemp(prefix="nt-upbench-", dir=shm)
    procs = []
    try:
        src = os.path.join(tmp, "src.bin")
        size = args.size_mb << 20
        with open(src, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(args.size_mb):
                f.write(chunk)
        roots = {n: os.path.join(tmp, n) for n in ("nginx", "nettool")}
        for r in roots.values():
            os.mkdir(r)
        ng = start_nginx(tmp, roots["nginx"])
        nt = start_nettool(args.nettool, roots["nettool"])
        procs += [ng[0], nt[0]]
        if "put" in parts:
            put_matrix(args, {"nettool": nt, "nginx": ng}, src, size)
        if "json" in parts:
            json_posts(args, ng[1])
        if "form" in parts:
            form_upload(args, nt[1], tmp)
        if "stall" in parts:
            stall(args, nt[1], src, roots["nettool"])
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
