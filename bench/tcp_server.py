#!/usr/bin/env python3
"""The listening side, side by side in one run on loopback:
  - file transfer pairs: 1 GiB from /dev/shm into a file on /dev/shm, with
    nettool tcp-server/tcp-client, nc -l/nc -N, socat (default buffers and
    -b 131072), and each nettool end against every peer in the other place;
  - --exec cat: 8 clients at a time, each connecting, sending 5 bytes,
    half-closing and reading the echo: connections per second, against
    ncat --sh-exec, socat fork SYSTEM and tcpserver;
  - --chat with 1,000 clients: how long a typed line takes to reach all of
    them, and the server's resident size.
Medians over runs that take turns.

usage: bench/tcp_server.py [--size-mb 1024] [--runs 3] [--seconds 5] [--nettool ./nettool]
                           [--only pairs,exec,chat]
"""
import argparse
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

from benchlib import free_port, rss_kib

NC = shutil.which("nc.openbsd") or shutil.which("nc")




def listening(port, timeout=10):
    """Wait until something listens on port, without connecting (a one-shot
    receiver would take a probe for its connection)."""
    want = f":{port:04X} 00000000:0000 0A"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open("/proc/net/tcp") as f:
            if want in f.read():
                return
        time.sleep(0.01)
    raise RuntimeError(f"nothing listens on {port}")


def receivers(nt):
    r = [("nettool tcp-server", lambda p, o: [nt, "tcp-server", "-b", "127.0.0.1", "-p", str(p)])]
    if NC:
        r.append(("nc -l", lambda p, o: [NC, "-l", "127.0.0.1", str(p)]))
    if shutil.which("socat"):
        r.append(("socat", lambda p, o: ["socat", "-u", f"TCP-LISTEN:{p},bind=127.0.0.1,reuseaddr",
                                          "STDOUT"]))
        r.append(("socat -b 131072", lambda p, o: ["socat", "-b", "131072", "-u",
                                                    f"TCP-LISTEN:{p},bind=127.0.0.1,reuseaddr",
                                                    "STDOUT"]))
    return r


def senders(nt):
    s = [("nettool tcp-client", lambda p: [nt, "tcp-client", "127.0.0.1", str(p)])]
    if NC:
        s.append(("nc -N", lambda p: [NC, "-N", "127.0.0.1", str(p)]))
    if shutil.which("socat"):
        s.append(("socat", lambda p: ["socat", "-u", "STDIN", f"TCP:127.0.0.1:{p}"]))
        s.append(("socat -b 131072", lambda p: ["socat", "-b", "131072", "-u", "STDIN",
                                                f"TCP:127.0.0.1:{p}"]))
    return s


def transfer(recv_argv, send_argv, src, dst, size):
    port = free_port()
    with open(dst, "wb") as o:
        r = subprocess.Popen(recv_argv(port, dst), stdin=subprocess.DEVNULL, stdout=o,
                             stderr=subprocess.DEVNULL)
        try:
            listening(port)
            t0 = time.monotonic()
            with open(src, "rb") as i:
                s = subprocess.run(send_argv(port), stdin=i, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, timeout=300)
            r.wait(timeout=300)
            dt = time.monotonic() - t0
        finally:
            if r.poll() is None:
                r.kill()
                r.wait()
    if s.returncode != 0 or os.path.getsize(dst) != size:
        return None
    return size / dt


def pairs(a, nt):
    size = a.size_mb << 20
    src, dst = "/dev/shm/nettool-bench-in", "/dev/shm/nettool-bench-out"
    with open(src, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(a.size_mb):
            f.write(block)
    rs, ss = dict(receivers(nt)), dict(senders(nt))
    combos = [("nettool tcp-server", "nettool tcp-client")]
    combos += [(n, n.replace(" -l", " -N")) for n in rs if n.startswith("nc")]
    combos += [(n, n) for n in rs if n.startswith("socat")]
    combos += [(r, "nettool tcp-client") for r in rs if not r.startswith("nettool")]
    combos += [("nettool tcp-server", s) for s in ss if not s.startswith("nettool")]
    res = {c: [] for c in combos}
    try:
        for _ in range(a.runs):
            for c in combos:
                v = transfer(rs[c[0]], ss[c[1]], src, dst, size)
                if v:
                    res[c].append(v)
    finally:
        for p in (src, dst):
            if os.path.exists(p):
                os.unlink(p)
    print(f"{a.size_mb} MiB from /dev/shm into a file on /dev/shm, {a.runs} runs, median GB/s")
    for (r, s), v in res.items():
        print(f"  {r:20s} <- {s:20s} {statistics.median(v) / 1e9 if v else 0:6.2f}"
              f"{'' if v else '  FAILED'}")


def exec_round(port, seconds, half_close=True):
    """Connections per second from 8 threads, each: connect, send 5
    bytes, half-close (unless told not to), read the 5 bytes echoed."""
    done = [0] * 8
    stop = time.monotonic() + seconds

    def worker(i):
        while time.monotonic() < stop:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            got = b""
            try:
                s.sendall(b"hello")
                if half_close:
                    s.shutdown(socket.SHUT_WR)
                while len(got) < 5:
                    chunk = s.recv(64)
                    if not chunk:
                        break
                    got += chunk
            except OSError:
                pass  # no answer in 2 s
            s.close()
            if got == b"hello":
                done[i] += 1
    ths = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    t0 = time.monotonic()
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    return sum(done) / (time.monotonic() - t0)


def execs(a, nt):
    servers = [("nettool --exec cat", lambda p: [nt, "tcp-server", "-b", "127.0.0.1", "-p",
                                                 str(p), "--exec", "cat"])]
    if shutil.which("ncat"):
        servers.append(("ncat -lk --sh-exec cat", lambda p: ["ncat", "-lk", "127.0.0.1", str(p),
                                                             "--sh-exec", "cat"]))
    if shutil.which("socat"):
        servers.append(("socat fork SYSTEM:cat", lambda p: [
            "socat", f"TCP-LISTEN:{p},bind=127.0.0.1,reuseaddr,fork,backlog=512", "SYSTEM:cat"]))
    if shutil.which("tcpserver"):
        servers.append(("tcpserver sh -c cat", lambda p: ["tcpserver", "-H", "-R", "-l", "0",
                                                          "-c", "100", "127.0.0.1", str(p),
                                                          "sh", "-c", "cat"]))
        servers.append(("tcpserver cat", lambda p: ["tcpserver", "-H", "-R", "-l", "0", "-c",
                                                    "100", "127.0.0.1", str(p), "cat"]))
    res = {n: ([], []) for n, _ in servers}
    for _ in range(a.runs):
        for name, argv in servers:
            for i, half_close in enumerate((True, False)):
                port = free_port()
                p = subprocess.Popen(argv(port), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
                try:
                    listening(port)
                    res[name][i].append(exec_round(port, a.seconds, half_close))
                finally:
                    os.killpg(p.pid, 15)
                    p.wait()
    print(f"a program per connection, 8 clients at a time, {a.seconds} s, {a.runs} runs, "
          f"median connections/s")
    print(f"  {'':26s} {'half-close':>10s} {'close':>8s}")
    for name, _ in servers:
        print(f"  {name:26s} {statistics.median(res[name][0]):10.0f} "
              f"{statistics.median(res[name][1]):8.0f}")
    print("  (half-close: send, shut down writing, read the echo; close: send, read the\n"
          "   echo, close. ncat drops the echo once the client half-closes.)")


def chat(a, nt):
    srv = subprocess.Popen([nt, "tcp-server", "-b", "127.0.0.1", "-p", "0", "--chat"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    port = int(srv.stderr.readline().split(b":")[-1])
    threading.Thread(target=lambda: srv.stderr.read(), daemon=True).start()
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
    time.sleep(1)  # the join notices
    for c in clients:
        c.setblocking(False)
        try:
            while c.recv(1 << 16):
                pass
        except BlockingIOError:
            pass
    ep = select.epoll()
    for c in clients:
        ep.register(c.fileno(), select.EPOLLIN)
    times = []
    for i in range(a.runs * 5):
        marker = b"line %d\n" % i
        pending = {c.fileno(): b"" for c in clients}
        by_fd = {c.fileno(): c for c in clients}
        t0 = time.monotonic()
        srv.stdin.write(marker)
        srv.stdin.flush()
        while pending:
            for fd, _ in ep.poll(5):
                data = by_fd[fd].recv(1 << 16)
                if fd in pending:
                    pending[fd] += data
                    if pending[fd].endswith(marker):
                        del pending[fd]
        times.append(time.monotonic() - t0)
    rss = rss_kib(srv.pid)
    for c in clients:
        c.close()
    srv.terminate()
    srv.wait()
    print(f"--chat with 1000 clients: a typed line reaches all of them in "
          f"{statistics.median(times) * 1e3:.1f} ms (median of {len(times)}, worst "
          f"{max(times) * 1e3:.1f}); server RSS {rss / 1024:.1f} MiB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--nettool", default="./nettool")
    ap.add_argument("--only", default="pairs,exec,chat")
    a = ap.parse_args()
    nt = os.path.abspath(a.nettool)
    parts = a.only.split(",")
    if "pairs" in parts:
        pairs(a, nt)
    if "exec" in parts:
        execs(a, nt)
    if "chat" in parts:
        chat(a, nt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
