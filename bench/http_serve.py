#!/usr/bin/env python3
"""http-serve side by side in one run, on loopback, with wrk as the client:
nettool http-serve, nginx (worker_processes auto, sendfile, open_file_cache,
no access log), lighttpd and python3 -m http.server.
  - 1 KiB file, wrk -t2 -c64 -d10s: requests per second (nettool also with
    --no-affinity: its workers free to move between CPUs)
  - 1 GiB file: curl to /dev/null, and wrk -t2 -c4 -d10s: throughput (nettool also
    with -t 1: on a small machine shared with the client one thread moves more)
  - 10,000 idle keep-alive connections (after one request each): resident size
  - the 1 KiB rate again with --auth (wrk sending the account's Basic
    credentials): within 10 % of the rate without accounts
  - GET /many/?tar of a folder of 10,000 small files (curl to /dev/null)
    against tar -c of it into a pipe

Each measurement is taken --runs times, the servers taking turns, and the
median is printed.

usage: bench/http_serve.py [--seconds 10] [--runs 3] [--idle 10000] [--nettool ./nettool]
                           [--only small,big,idle,auth,tar]
"""
import argparse
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import free_port, wait_port






BASELINE = [None]  # --baseline: another build, run as "nettool-base"


def start(name, root, tmp, nettool):
    port = free_port()
    if name.startswith("nettool"):
        if name == "nettool-base":
            nettool = BASELINE[0]
        argv = [nettool, "http-serve", "-d", root, "-b", "127.0.0.1", "-p", str(port), "-q",
                "--keepalive-timeout", "120", "--max-clients", "20000"]
        if name == "nettool-t1":
            argv += ["-t", "1"]
        if name == "nettool-free":
            argv += ["--no-affinity"]
        if name == "nettool-auth":
            argv += ["--auth", "bench:pw"]
    elif name == "nginx":
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes auto; daemon off; pid {tmp}/nginx.pid; error_log stderr;
worker_rlimit_nofile 30000;
events {{ worker_connections 20000; }}
http {{ access_log off; sendfile on; keepalive_timeout 120; keepalive_requests 100000;
  open_file_cache max=1000 inactive=60s;
  client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
  uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{port}; root {root}; }} }}
""")
        argv = ["nginx", "-c", conf, "-p", tmp]
    elif name == "lighttpd":
        conf = os.path.join(tmp, "lighttpd.conf")
        with open(conf, "w") as f:
            f.write(f"""server.document-root = "{root}"
server.port = {port}
server.bind = "127.0.0.1"
server.event-handler = "linux-sysepoll"
server.network-backend = "sendfile"
server.max-fds = 30000
server.max-connections = 15000
server.max-keep-alive-requests = 100000
server.max-keep-alive-idle = 120
""")
        argv = ["lighttpd", "-D", "-f", conf]
    else:
        argv = [sys.executable, "-m", "http.server", "-b", "127.0.0.1", "-d", root, str(port)]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    wait_port(port)
    return p, port


def stop(p):
    try:
        os.killpg(p.pid, 15)
    except ProcessLookupError:
        pass
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.wait()


def group_rss_kib(pgid):
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # process group
                continue
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def wrk(port, path, conns, secs, *extra):
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{secs}s", *extra,
                          f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         timeout=secs + 60).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    unit = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9}
    return (float(rps.group(1)) if rps else 0,
            float(tr.group(1)) * unit.get(tr.group(2), 1) if tr else 0)


def idle_rss(p, port, n):
    socks = []
    req = b"GET /small HTTP/1.1\r\nHost: a\r\n\r\n"
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(req)
        socks.append(s)
    for s in socks:
        got = b""
        while b"\r\n\r\n" not in got or len(got) < got.index(b"\r\n\r\n") + 4 + 1024:
            b = s.recv(65536)
            if not b:
                break
            got += b
    rss = group_rss_kib(p.pid)
    for s in socks:
        s.close()
    return rss


def auth_rate(a, root, tmp, nettool):
    """The 1 KiB rate with and without an account, taking turns."""
    hdr = ["-H", "Authorization: Basic YmVuY2g6cHc="]  # bench:pw
    print(f"1 KiB file with --auth (Basic on every request), wrk -t2 -c64: requests/s, "
          f"median of {a.runs}")
    res = {"nettool": [], "nettool-auth": []}
    for _ in range(a.runs):
        for name in res:
            p, port = start(name, root, tmp, nettool)
            try:
                res[name].append(wrk(port, "/small", 64, a.seconds,
                                     *(hdr if name == "nettool-auth" else []))[0])
            finally:
                stop(p)
    med = {n: statistics.median(v) for n, v in res.items()}
    for name, v in res.items():
        print(f"  {name:12s} {med[name]:10.0f}   ({' '.join(f'{x:.0f}' for x in v)})")
    print(f"  with accounts / without: x{med['nettool-auth'] / med['nettool']:.3f}")


def tar_speed(a, root, tmp, nettool):
    """A folder of 10,000 small files as ?tar, against tar -c into a pipe."""
    many = os.path.join(root, "many")
    os.makedirs(many, exist_ok=True)
    for i in range(10000):
        with open(os.path.join(many, f"f{i:05d}"), "wb") as f:
            f.write(os.urandom(i % 4096))
    tar = shutil.which("tar")
    print(f"a folder of 10,000 small files (20 MB): seconds, median of {a.runs}")
    ours, theirs = [], []
    for _ in range(a.runs):
        p, port = start("nettool", root, tmp, nettool)
        try:
            t0 = time.monotonic()
            subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/many/?tar"],
                           check=True, timeout=300)
            ours.append(time.monotonic() - t0)
        finally:
            stop(p)
        if tar:
            t0 = time.monotonic()
            subprocess.run(f"{tar} -cf - -C {root} many | cat > /dev/null", shell=True,
                           check=True, timeout=300)
            theirs.append(time.monotonic() - t0)
    print(f"  nettool ?tar, by curl     {statistics.median(ours):6.3f}")
    if theirs:
        print(f"  tar -c into a pipe        {statistics.median(theirs):6.3f}   "
              f"tar / nettool x{statistics.median(theirs) / statistics.median(ours):.2f}")
    else:
        print("  tar is not installed: no comparison")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--nettool", default="./nettool")
    ap.add_argument("--baseline", help="another nettool build, measured alongside (e.g. the previous commit's)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="small,big,idle,auth,tar")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    nettool = os.path.abspath(a.nettool)
    base = ["nettool-base"] if a.baseline else []
    BASELINE[0] = a.baseline and os.path.abspath(a.baseline)
    tmp = tempfile.mkdtemp(prefix="nettool-bench-")
    root = os.path.join(tmp, "www")
    os.mkdir(root)
    with open(os.path.join(root, "small"), "wb") as f:
        f.write(os.urandom(1024))
    with open(os.path.join(root, "big"), "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(1024):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())  # no writeback under the first server's rounds
    with open(os.path.join(root, "big"), "rb") as f:  # and all of it in the page cache
        while f.read(1 << 24):
            pass
    servers = ["nettool"] + [n for n, b in (("nginx", "nginx"), ("lighttpd", "lighttpd"))
                             if shutil.which(b)] + ["python3"]
    parts = a.only.split(",")
    if "small" in parts:
        print(f"1 KiB file, wrk -t2 -c64 -d{a.seconds}s: requests/s, median of {a.runs}")
        rows = servers[:1] + base + ["nettool-free"] + servers[1:]  # also without CPU affinity
        small = {n: [] for n in rows}
        for _ in range(a.runs):
            for name in rows:
                p, port = start(name, root, tmp, nettool)
                try:
                    small[name].append(wrk(port, "/small", 64, a.seconds)[0])
                finally:
                    stop(p)
        med = {n: statistics.median(v) for n, v in small.items()}
        for name in rows:
            runs = " ".join(f"{x:.0f}" for x in small[name])
            print(f"  {name:12s} {med[name]:10.0f}   ({runs})")
        peers = [v for k, v in med.items() if k in ("nginx", "lighttpd")]
        if peers:
            print(f"  nettool / better of nginx and lighttpd: x{med['nettool'] / max(peers):.2f}")
    if "big" in parts:
        print(f"1 GiB file: curl to /dev/null, and wrk -t2 -c4: GB/s, median of {a.runs}")
        big = ["nettool"] + base + ["nettool-t1"] + servers[1:-1]  # also one thread
        curl, wrk4 = {n: [] for n in big}, {n: [] for n in big}
        for _ in range(a.runs):
            for name in big:
                p, port = start(name, root, tmp, nettool)
                try:
                    t0 = time.monotonic()
                    subprocess.run(["curl", "-s", "-o", "/dev/null",
                                    f"http://127.0.0.1:{port}/big"], check=True, timeout=300)
                    curl[name].append((1 << 30) / (time.monotonic() - t0) / 1e9)
                    wrk4[name].append(wrk(port, "/big", 4, a.seconds)[1] / 1e9)
                finally:
                    stop(p)
        for name in big:
            print(f"  {name:12s} curl {statistics.median(curl[name]):5.2f}   "
                  f"wrk -c4 {statistics.median(wrk4[name]):5.2f}   "
                  f"({' '.join(f'{x:.2f}' for x in curl[name])} / "
                  f"{' '.join(f'{x:.2f}' for x in wrk4[name])})")
    if "auth" in parts:
        auth_rate(a, root, tmp, nettool)
    if "tar" in parts:
        tar_speed(a, root, tmp, nettool)
    if "idle" in parts:
        print(f"{a.idle} idle keep-alive connections: resident size")
        for name in servers[:1] + base + servers[1:-1]:
            p, port = start(name, root, tmp, nettool)
            try:
                rss = idle_rss(p, port, a.idle)
            finally:
                stop(p)
            print(f"  {name:10s} {rss / 1024:8.1f} MiB")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
