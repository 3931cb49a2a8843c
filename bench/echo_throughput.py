#!/usr/bin/env python3
"""Echo servers side by side in one run: 64 parallel streaming clients
through nettool tcp-echo-server, socat TCP-LISTEN,fork EXEC:cat and
ncat -k -l --exec /bin/cat; 64 clients exchanging 1-KiB len32 frames
through tcp-echo-server --frame len32; then 10,000 idle connections held
by nettool tcp-echo-server with its resident memory.

usage: bench/echo_throughput.py [--clients 64] [--seconds 5] [--runs 3] [--idle 10000]
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
import time

from benchlib import free_port, rss_kib, stop, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))


def build_load():
    out = "/tmp/nettool-bench-echo-load"
    subprocess.run(["cc", "-O2", "-o", out, os.path.join(HERE, "echo_load.c")], check=True)
    return out






def start_nettool(nettool, *extra):
    p = subprocess.Popen([nettool, "tcp-echo-server", "-b", "127.0.0.1", "-p", "0",
                          "--backlog", "4096"] + list(extra), stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    port = int(re.search(r":(\d+)$", line.strip()).group(1))
    return p, port


def start_cmd(argv):
    port = free_port()
    p = subprocess.Popen([a.replace("PORT", str(port)) for a in argv],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    return p, port




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nettool", default="./nettool")
    ap.add_argument("--baseline", help="another nettool build, measured alongside (e.g. the previous commit's)")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--idle", type=int, default=10000)
    a = ap.parse_args()
    nettool = os.path.abspath(a.nettool)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, a.idle + 1000) if hard != resource.RLIM_INFINITY else a.idle + 1000
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    load = build_load()
    servers = [("nettool tcp-echo-server", None)]
    if a.baseline:
        servers.append(("nettool baseline", "baseline"))
    if shutil.which("socat"):
        servers.append(("socat fork EXEC:cat",
                        ["socat", "TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork,backlog=512",
                         "EXEC:cat"]))
    if shutil.which("ncat"):
        servers.append(("ncat -k --exec cat",
                        ["ncat", "-k", "-l", "127.0.0.1", "PORT", "--exec", "/bin/cat",
                         "-m", "1000"]))
    res = {n: [] for n, _ in servers}
    for _ in range(a.runs):
        for name, argv in servers:
            if argv == "baseline":
                p, port = start_nettool(os.path.abspath(a.baseline))
            else:
                p, port = start_nettool(nettool) if argv is None else start_cmd(argv)
            try:
                out = subprocess.run([load, "stream", "127.0.0.1", str(port),
                                      str(a.clients), str(a.seconds)],
                                     capture_output=True, text=True, timeout=a.seconds + 60)
                if out.returncode == 0:
                    res[name].append(float(out.stdout))
            finally:
                stop(p)
    print(f"{a.clients} streaming clients, {a.seconds:g} s, {a.runs} runs, median echoed throughput")
    base = statistics.median(res[servers[0][0]]) if res[servers[0][0]] else None
    for name, _ in servers:
        if not res[name]:
            print(f"  {name:26s} FAILED")
            continue
        m = statistics.median(res[name])
        ratio = f"   nettool is x{base / m:.1f}" if base and name != servers[0][0] else ""
        print(f"  {name:26s} {m / 1e6:9.1f} MB/s{ratio}")
    # framed echo: 1-KiB len32 frames
    fps = []
    for _ in range(a.runs):
        p, port = start_nettool(nettool, "--frame", "len32")
        try:
            out = subprocess.run([load, "frames", "127.0.0.1", str(port), str(a.clients),
                                  str(a.seconds)], capture_output=True, text=True,
                                 timeout=a.seconds + 60)
            if out.returncode == 0:
                fps.append(float(out.stdout))
        finally:
            stop(p)
    if fps:
        print(f"{a.clients} clients, 1-KiB len32 frames through tcp-echo-server --frame len32: "
              f"{statistics.median(fps) / 1e3:.0f} k frames/s (median of {len(fps)})")
    # idle connections and memory
    p, port = start_nettool(nettool)
    try:
        before = rss_kib(p.pid)
        h = subprocess.Popen([load, "idle", "127.0.0.1", str(port), str(a.idle)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = h.stdout.readline().strip()
        after = rss_kib(p.pid)
        h.stdin.close()
        h.wait(timeout=60)
        print(f"{a.idle} idle connections: {line or 'FAILED'}; server RSS "
              f"{before / 1024:.1f} MiB before, {after / 1024:.1f} MiB holding them")
    finally:
        stop(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
