#!/usr/bin/env python3
"""Forwarders side by side in one run, on loopback:

1. Bulk: iperf3 client to iperf3 server, one stream, --seconds each,
   through nettool relay, haproxy (mode tcp, its default threads) and
   socat TCP-LISTEN:...,fork TCP:...: GB/s, medians of --runs.
2. New connections: wrk -c32 with "Connection: close" to nginx serving a
   1 KiB file, through each forwarder: requests per second.
3. --idle idle connections relayed to tcp-echo-server: the relay's RSS.
4. http-get and curl downloading --mb MiB from nginx through tinyproxy.

usage: bench/relay.py [--runs 3] [--seconds 4] [--idle 10000] [--mb 256] [--nettool ./nettool]
"""
import argparse
import json
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, rss_kib, wait_port  # noqa: E402


def spawn(argv, port, **kw):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
    wait_port(port, p)
    return p


def forwarders(nt, tmp, target_port):
    """name -> (process, port) for each forwarder to target_port."""
    out = {}
    port = free_port()
    out["nettool relay"] = (spawn([nt, "relay", "-b", "127.0.0.1", "-p", str(port), "127.0.0.1",
                                   str(target_port)], port), port)
    if shutil.which("haproxy"):
        port = free_port()
        cfg = os.path.join(tmp, f"haproxy-{port}.cfg")
        with open(cfg, "w") as f:
            f.write(f"global\n  maxconn 4000\ndefaults\n  mode tcp\n  timeout connect 10s\n"
                    f"  timeout client 60s\n  timeout server 60s\nlisten fwd\n"
                    f"  bind 127.0.0.1:{port}\n  server s1 127.0.0.1:{target_port}\n")
        out["haproxy"] = (spawn(["haproxy", "-f", cfg], port), port)
    if shutil.which("socat"):
        port = free_port()
        out["socat fork"] = (spawn(["socat", f"TCP-LISTEN:{port},fork,reuseaddr,bind=127.0.0.1",
                                    f"TCP:127.0.0.1:{target_port}"], port), port)
    return out


def stop_all(fw):
    for p, _ in fw.values():
        p.terminate()
        p.wait()


def bulk(args, nt, tmp):
    port = free_port()
    srv = spawn(["iperf3", "-s", "-p", str(port)], port)
    fw = forwarders(nt, tmp, port)
    res = {}
    try:
        for _ in range(args.runs):
            for name, (_, fport) in list(fw.items()) + [("direct", (None, port))]:
                out = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(fport), "-t",
                                      str(args.seconds), "-J"], capture_output=True, text=True)
                try:
                    bps = json.loads(out.stdout)["end"]["sum_received"]["bits_per_second"]
                    res.setdefault(name, []).append(bps / 8e9)
                except (KeyError, ValueError):
                    print(f"  {name}: iperf3 failed")
    finally:
        stop_all(fw)
        srv.terminate()
        srv.wait()
    m = {k: statistics.median(v) for k, v in res.items()}
    print(f"bulk, iperf3 one stream, {args.seconds} s, medians of {args.runs} (GB/s): " +
          ", ".join(f"{k} {v:.2f}" for k, v in m.items()))
    r = m.get("nettool relay", 0)
    for peer in ("haproxy", "socat fork"):
        if m.get(peer):
            print(f"  relay / {peer}: {r / m[peer]:.2f}x")


def start_nginx(tmp):
    root = os.path.join(tmp, "www")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "1k.bin"), "wb") as f:
        f.write(os.urandom(1024))
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"daemon off; master_process off; pid {tmp}/nginx.pid; error_log stderr crit;\n"
                f"events {{ worker_connections 4096; }}\n"
                f"http {{ access_log off; sendfile on; client_body_temp_path {tmp};\n"
                f"  proxy_temp_path {tmp}; fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp};\n"
                f"  scgi_temp_path {tmp}; server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n")
    return spawn(["nginx", "-c", conf, "-p", tmp], port), port, root


def conn_rate(args, nt, tmp, ngx_port):
    fw = forwarders(nt, tmp, ngx_port)
    res = {}
    try:
        for _ in range(args.runs):
            for name, (_, fport) in fw.items():
                out = subprocess.run(["wrk", "-t2", "-c32", f"-d{args.seconds}s", "-H",
                                      "Connection: close", f"http://127.0.0.1:{fport}/1k.bin"],
                                     capture_output=True, text=True).stdout
                m = re.search(r"Requests/sec:\s+([\d.]+)", out)
                if m:
                    res.setdefault(name, []).append(float(m.group(1)))
    finally:
        stop_all(fw)
    m = {k: statistics.median(v) for k, v in res.items()}
    print(f"new connections, wrk -c32 Connection: close, 1 KiB from nginx, medians of "
          f"{args.runs} (requests/s): " + ", ".join(f"{k} {v:,.0f}" for k, v in m.items()))
    if m.get("haproxy"):
        print(f"  relay / haproxy: {m.get('nettool relay', 0) / m['haproxy']:.2f}x")


def idle(args, nt):
    echo_port, relay_port = free_port(), free_port()
    echo = spawn([nt, "tcp-echo-server", "-b", "127.0.0.1", "-p", str(echo_port)], echo_port)
    rl = spawn([nt, "relay", "-b", "127.0.0.1", "-p", str(relay_port), "127.0.0.1",
                str(echo_port)], relay_port)
    socks = []
    try:
        base = rss_kib(rl.pid)
        for i in range(args.idle):
            s = socket.create_connection(("127.0.0.1", relay_port))
            socks.append(s)
        # each has reached the echo server: one byte through every tenth
        for s in socks[::10]:
            s.sendall(b"x")
            s.recv(1)
        time.sleep(0.5)
        rss = rss_kib(rl.pid)
        print(f"{len(socks)} idle relayed connections: relay RSS {rss / 1024:.1f} MiB "
              f"(at start {base / 1024:.1f} MiB; target under 64 MiB)")
    finally:
        for s in socks:
            s.close()
        rl.terminate()
        echo.terminate()
        rl.wait()
        echo.wait()


def through_tinyproxy(args, nt, tmp, ngx_port, root):
    if not shutil.which("tinyproxy") or not shutil.which("curl"):
        print("SKIP http-get through tinyproxy: tinyproxy or curl is not installed")
        return
    with open(os.path.join(root, "big.bin"), "wb") as f:
        for _ in range(args.mb):
            f.write(os.urandom(1 << 20))
    port = free_port()
    conf = os.path.join(tmp, "tinyproxy.conf")
    with open(conf, "w") as f:
        f.write(f"Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 20\nAllow 127.0.0.1\n"
                "LogLevel Critical\n")
    tp = spawn(["tinyproxy", "-d", "-c", conf], port)
    url = f"http://127.0.0.1:{ngx_port}/big.bin"
    tools = {"nettool": [nt, "http-get", "-s", "-x", f"http://127.0.0.1:{port}", "-o",
                         "/dev/null", url],
             "curl": ["curl", "-s", "-x", f"http://127.0.0.1:{port}", "-o", "/dev/null", url]}
    res = {}
    try:
        for _ in range(args.runs):
            for name, argv in tools.items():
                t0 = time.monotonic()
                if subprocess.run(argv).returncode == 0:
                    res.setdefault(name, []).append(args.mb * 1.048576 / (time.monotonic() - t0))
    finally:
        tp.terminate()
        tp.wait()
    m = {k: statistics.median(v) for k, v in res.items()}
    print(f"{args.mb} MiB through tinyproxy, medians of {args.runs} (MB/s): " +
          ", ".join(f"{k} {v:.0f}" for k, v in m.items()) +
          (f"; nettool / curl {m['nettool'] / m['curl']:.2f}x" if len(m) == 2 else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--nettool", default="./nettool")
    args = ap.parse_args()
    nt = os.path.abspath(args.nettool)
    want = 3 * args.idle + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):
        args.idle = min(args.idle, (hard - 1000) // 3)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        print(f"(the descriptor limit {hard} allows {args.idle} idle connections)")
    tmp = tempfile.mkdtemp(prefix="nt-relaybench-")
    ngx = None
    try:
        if shutil.which("iperf3"):
            bulk(args, nt, tmp)
        else:
            print("SKIP bulk: iperf3 is not installed")
        if shutil.which("nginx") and shutil.which("wrk"):
            ngx, ngx_port, root = start_nginx(tmp)
            conn_rate(args, nt, tmp, ngx_port)
        idle(args, nt)
        if ngx:
            through_tinyproxy(args, nt, tmp, ngx_port, root)
    finally:
        if ngx:
            ngx.terminate()
            ngx.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
