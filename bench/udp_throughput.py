#!/usr/bin/env python3
"""UDP side by side in one run, on loopback:
  - fire-and-forget datagrams per second, 64-byte payloads, client to server
    with the server's output to /dev/null: nettool udp-client -N into
    nettool udp-server, against socat (STDIN -> UDP-SENDTO into
    UDP-RECV -> /dev/null); the rate counted is what the server received
  - round trips per second: udp-client into udp-server --echo
  - records per second with --reliable on clean loopback

usage: bench/udp_throughput.py [--count 500000] [--runs 3] [--nettool ./nettool]
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(nt, *args):
    p = subprocess.Popen([nt, "udp-server", "-b", "127.0.0.1", "-p", "0"] + list(args),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = int(re.search(r":(\d+)$", p.stderr.readline().strip()).group(1))
    return p, port


def stop_server(p):
    p.terminate()
    err = p.communicate(timeout=30)[1]
    m = re.search(r"stopped: (\d+) received, (\d+) accepted", err)
    return int(m.group(2)) if m else 0


def nettool_fire(nt, path, count):
    p, port = start_server(nt)
    t0 = time.monotonic()
    subprocess.run([nt, "udp-client", "-N", "127.0.0.1", str(port)], stdin=open(path, "rb"),
                   check=True, timeout=300)
    dt = time.monotonic() - t0
    got = stop_server(p)
    return got / dt, got


def socat_fire(path, count):
    port = free_udp_port()
    # socat sends what one read of stdin gives as one datagram: 64-byte blocks
    srv = subprocess.Popen(["socat", "-u", f"UDP-RECV:{port},bind=127.0.0.1,rcvbuf=4194304",
                            "SYSTEM:wc -c >&2"], stderr=subprocess.PIPE, text=True)
    time.sleep(0.2)  # socat prints nothing when bound
    t0 = time.monotonic()
    subprocess.run(["socat", "-u", "-b", "64", "OPEN:" + path, f"UDP-SENDTO:127.0.0.1:{port}"],
                   check=True, timeout=300)
    dt = time.monotonic() - t0
    srv.terminate()
    err = srv.communicate(timeout=30)[1]
    nums = re.findall(r"\d+", err)
    got = int(nums[-1]) // 64 if nums else 0
    return got / dt, got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--nettool", default="./nettool")
    a = ap.parse_args()
    nt = os.path.abspath(a.nettool)
    d = tempfile.mkdtemp(prefix="nettool-bench-")
    lines = os.path.join(d, "lines")   # 63 characters and a newline: 63-byte datagrams
    raw = os.path.join(d, "raw")       # 64-byte blocks for socat
    with open(lines, "w") as f:
        for i in range(a.count):
            f.write(f"{i:063d}\n")
    with open(raw, "wb") as f:
        f.write(os.urandom(64) * a.count)
    res = {"nettool": [], "socat": []}
    for _ in range(a.runs):
        res["nettool"].append(nettool_fire(nt, lines, a.count))
        if shutil.which("socat"):
            res["socat"].append(socat_fire(raw, a.count))
    print(f"fire-and-forget, {a.count} datagrams of ~64 bytes, {a.runs} runs, median "
          "(rate = datagrams the server received / sender's time)")
    for name, v in res.items():
        if not v:
            print(f"  {name:8s} not installed")
            continue
        rate = statistics.median(x[0] for x in v)
        got = statistics.median(x[1] for x in v)
        print(f"  {name:8s} {rate / 1e3:8.0f} k dgram/s  ({got:.0f} of {a.count} received)")
    # round trips with --echo
    n = min(a.count, 100000)
    with open(lines + ".rt", "w") as f:
        for i in range(n):
            f.write(f"{i:063d}\n")
    rts, rel = [], []
    for _ in range(a.runs):
        p, port = start_server(nt, "--echo")
        t0 = time.monotonic()
        out = subprocess.run([nt, "udp-client", "-w", "1", "127.0.0.1", str(port)],
                             stdin=open(lines + ".rt", "rb"), capture_output=True, timeout=300)
        dt = time.monotonic() - t0
        stop_server(p)
        rts.append(out.stdout.count(b"\n") / dt)
        p, port = start_server(nt, "--reliable")
        t0 = time.monotonic()
        subprocess.run([nt, "udp-client", "--reliable", "127.0.0.1", str(port)],
                       stdin=open(lines + ".rt", "rb"), check=True, timeout=300)
        dt = time.monotonic() - t0
        got = stop_server(p)
        rel.append(got / dt)
    print(f"--echo, {n} datagrams streamed, replies counted: "
          f"{statistics.median(rts) / 1e3:.0f} k round trips/s")
    print(f"--reliable, {n} records on clean loopback: "
          f"{statistics.median(rel) / 1e3:.0f} k records/s")
    for p in (lines, raw, lines + ".rt"):
        os.unlink(p)
    os.rmdir(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
