#!/usr/bin/env python3
"""Send one file from /dev/shm on stdin through nettool tcp-client and its
peers (OpenBSD nc -N, ncat, socat) into the same sink on loopback, in one
run; print each one's median throughput, its ratio to the best peer, and
iperf3's loopback figure as the ceiling.

usage: bench/tcp_client_throughput.py [--size-mb 2048] [--runs 3] [--nettool ./nettool]
                                     [--baseline OTHER_NETTOOL]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def build_sink():
    out = "/tmp/nettool-bench-sink"
    subprocess.run(["cc", "-O2", "-o", out, os.path.join(HERE, "sink.c")], check=True)
    return out


def one_run(sink_bin, argv, path, size):
    sink = subprocess.Popen([sink_bin, "1"], stdout=subprocess.PIPE, text=True)
    port = int(sink.stdout.readline().split()[1])
    argv = [a.replace("PORT", str(port)) for a in argv]
    with open(path, "rb") as f:
        t0 = time.monotonic()
        rc = subprocess.run(argv, stdin=f, stdout=subprocess.DEVNULL, timeout=300).returncode
        got = int(sink.stdout.readline())
        dt = time.monotonic() - t0
    sink.wait(timeout=30)
    if rc != 0 or got != size:
        return None
    return size / dt


def iperf3_ceiling(size):
    iperf = shutil.which("iperf3")
    if not iperf:
        return None
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    srv = subprocess.Popen([iperf, "-s", "-1", "--forceflush", "-B", "127.0.0.1", "-p", str(port)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        while "listening" not in srv.stdout.readline():
            pass
        out = subprocess.run([iperf, "-c", "127.0.0.1", "-p", str(port), "-n",
                              str(size), "-J"], capture_output=True, text=True,
                             timeout=120).stdout
        bps = json.loads(out)["end"]["sum_received"]["bits_per_second"]
        return bps / 8
    except (ValueError, KeyError, subprocess.TimeoutExpired):
        return None
    finally:
        srv.kill()
        srv.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=2048)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--nettool", default="./nettool")
    ap.add_argument("--baseline", help="another nettool build, measured alongside (e.g. the previous commit's)")
    a = ap.parse_args()
    size = a.size_mb << 20
    path = "/dev/shm/nettool-bench.bin"
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(a.size_mb):
            f.write(block)
    sink = build_sink()
    tools = [("nettool tcp-client", [os.path.abspath(a.nettool), "tcp-client", "127.0.0.1", "PORT"])]
    if a.baseline:
        tools.append(("nettool baseline", [os.path.abspath(a.baseline), "tcp-client", "127.0.0.1",
                                           "PORT"]))
    nc = shutil.which("nc.openbsd") or shutil.which("nc")
    if nc:
        tools.append(("nc -N", [nc, "-N", "127.0.0.1", "PORT"]))
    if shutil.which("ncat"):
        tools.append(("ncat --send-only", ["ncat", "--send-only", "127.0.0.1", "PORT"]))
    if shutil.which("socat"):
        tools.append(("socat -u", ["socat", "-u", "STDIN", "TCP:127.0.0.1:PORT"]))
        tools.append(("socat -u -b 131072", ["socat", "-b", "131072", "-u", "STDIN",
                                             "TCP:127.0.0.1:PORT"]))
    results = {name: [] for name, _ in tools}
    try:
        for _ in range(a.runs):  # interleave the tools so noise hits them alike
            for name, argv in tools:
                r = one_run(sink, argv, path, size)
                if r:
                    results[name].append(r)
        ceiling = iperf3_ceiling(size)
    finally:
        os.unlink(path)
    med = {n: statistics.median(v) for n, v in results.items() if v}
    peers = [v for n, v in med.items() if not n.startswith("nettool")]
    best = max(peers) if peers else None
    print(f"{a.size_mb} MiB from /dev/shm on stdin, {a.runs} runs, median")
    for name, _ in tools:
        if name not in med:
            print(f"  {name:22s} FAILED")
            continue
        line = f"  {name:22s} {med[name] / 1e9:6.2f} GB/s"
        if best:
            line += f"   x{med[name] / best:.2f} of best peer"
        if ceiling:
            line += f"   {100 * med[name] / ceiling:5.1f}% of iperf3"
        print(line)
    if ceiling:
        print(f"  {'iperf3 (ceiling)':22s} {ceiling / 1e9:6.2f} GB/s")
    else:
        print("  iperf3 not installed: no ceiling")
    return 0


if __name__ == "__main__":
    sys.exit(main())
