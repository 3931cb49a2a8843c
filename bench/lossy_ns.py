"""--reliable on a path the kernel makes lossy, beside the peers a user
would pick for a file over a lossy link (bench/udp_reliable.py --netns).

A network namespace of its own, its loopback up (UDP segmentation offload
off, with ethtool, so each datagram is dropped on its own), and one
nftables rule on its input hook that drops UDP at random (numgen random
mod 100), so each way: data and acknowledgements alike. TCP in the namespace is not
touched. For each loss rate, in rounds, interleaved:

- nettool records: udp-client --reliable, 64-byte lines, into udp-server
  --reliable -o FILE; records per second; the output compared line for
  line.
- nettool file: udp-client --reliable --file; MB/s; SHA-256 compared.
- uftp (Debian's uftp: NAK-based, multicast or unicast) at a fixed
  1 Gbit/s (-R 1000000 -C none), into uftpd; MB/s by uftp's own "Total
  elapsed time", which leaves out its announce phase (favourable to it),
  and by the wall clock.
- kcptun (Debian's kcptun: KCP over UDP with Reed-Solomon FEC), mode
  fast3, no encryption or compression, windows of 1024 packets: a TCP
  stream through kcptun-client and kcptun-server into nettool tcp-server;
  MB/s until the last byte arrived.

Peers that are not installed are skipped with a line that says which.
"""
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import time

from benchlib import free_port, stop


def sh(ns, argv, **kw):
    return subprocess.run(["ip", "netns", "exec", ns] + argv, check=True,
                          capture_output=True, **kw)


def make_ns(name):
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    sh(name, ["ip", "link", "set", "lo", "up"])
    # UDP segmentation offload on a loopback passes a run of datagrams as
    # one packet, which the rule would drop whole: off, so each is dropped
    # on its own (udp-client --reliable sends in such runs)
    if shutil.which("ethtool"):
        sh(name, ["ethtool", "-K", "lo", "tx-udp-segmentation", "off"])
    else:
        print("note: no ethtool (Debian: ethtool): runs of datagrams are dropped whole")
    sh(name, ["nft", "add table inet lossy"])
    sh(name, ["nft", "add chain inet lossy in { type filter hook input priority 0 ; }"])


def set_loss(ns, pct):
    sh(ns, ["nft", "flush chain inet lossy in"])
    if pct:
        sh(ns, ["nft", f"add rule inet lossy in meta l4proto udp numgen random mod 100 < {pct} drop"])


def start(ns, argv, pattern=r"listening on \S+:(\d+)$", stdout=subprocess.DEVNULL, stdin=None):
    p = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdout=stdout, stdin=stdin,
                         stderr=subprocess.PIPE, text=True)
    m = re.search(pattern, p.stderr.readline())
    if not m:
        stop(p)
        raise SystemExit(f"{argv[0]} did not start")
    return p, int(m.group(1))


def nettool_run(nt, ns, tmp, src, file_mode, timeout=300):
    """(rate, ok, the client's summary line): records/s or MB/s."""
    out = os.path.join(tmp, "nt.out")
    srv, port = start(ns, [nt, "udp-server", "-b", "127.0.0.1", "-p", "0", "--reliable",
                           "-o", out])
    argv = ["ip", "netns", "exec", ns, nt, "udp-client", "-v", "--reliable"]
    argv += ["--file", src] if file_mode else []
    t0 = time.monotonic()
    with open(src if not file_mode else os.devnull, "rb") as f:
        p = subprocess.run(argv + ["127.0.0.1", str(port)], stdin=f, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
    secs = time.monotonic() - t0
    stop(srv)
    ok = p.returncode == 0 and os.path.exists(out) and same(out, src)
    if os.path.exists(out):
        os.unlink(out)
    summary = [x for x in p.stderr.splitlines() if "retransmitted" in x]
    size = os.path.getsize(src)
    rate = size / secs / 1e6 if file_mode else count_lines(src) / secs
    return rate, ok, summary[-1].split(": ", 2)[-1] if summary else p.stderr.strip()


def count_lines(path):
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def same(a, b):
    with open(a, "rb") as f, open(b, "rb") as g:
        return hashlib.sha256(f.read()).digest() == hashlib.sha256(g.read()).digest()


def uftp_run(ns, tmp, src, timeout=300):
    """(MB/s by uftp's own time, MB/s by the wall clock, ok)."""
    dest = os.path.join(tmp, "uftp")
    os.makedirs(dest, exist_ok=True)
    port = str(free_port())
    d = subprocess.Popen(["ip", "netns", "exec", ns, "uftpd", "-d", "-D", dest, "-I", "lo",
                          "-p", port, "-q", "-B", "4194304", "-x", "1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)  # uftpd says nothing when it is ready
    t0 = time.monotonic()
    p = subprocess.run(["ip", "netns", "exec", ns, "uftp", "-M", "127.0.0.1", "-I", "lo", "-p",
                        port, "-R", "1000000", "-C", "none", "-q", src],
                       capture_output=True, text=True, timeout=timeout)
    wall = time.monotonic() - t0
    stop(d)
    got = os.path.join(dest, os.path.basename(src))
    ok = p.returncode == 0 and os.path.exists(got) and same(got, src)
    shutil.rmtree(dest, ignore_errors=True)
    m = re.search(r"Total elapsed time: ([\d.]+) seconds", p.stdout + p.stderr)
    size = os.path.getsize(src) / 1e6
    return (size / float(m.group(1)) if m and float(m.group(1)) > 0 else 0), size / wall, ok


def kcptun_run(nt, ns, tmp, src, timeout=300):
    """(MB/s, ok) of a TCP stream through kcptun."""
    out = os.path.join(tmp, "kcp.out")
    size = os.path.getsize(src)
    # stdin that stays open: tcp-server must not half-close, which kcptun
    # takes for the end of the stream
    hold = subprocess.Popen(["sleep", str(timeout)], stdout=subprocess.PIPE)
    with open(out, "wb") as sink:
        srv, tport = start(ns, [nt, "tcp-server", "-b", "127.0.0.1", "-p", "0"], stdout=sink,
                           stdin=hold.stdout)
    kport, lport = free_port(), free_port()
    common = ["--mode", "fast3", "--crypt", "none", "--nocomp", "--sndwnd", "1024",
              "--rcvwnd", "1024", "--quiet"]
    ks = subprocess.Popen(["ip", "netns", "exec", ns, "kcptun-server", "-l",
                           f"127.0.0.1:{kport}", "-t", f"127.0.0.1:{tport}"] + common,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kc = subprocess.Popen(["ip", "netns", "exec", ns, "kcptun-client", "-l",
                           f"127.0.0.1:{lport}", "-r", f"127.0.0.1:{kport}"] + common,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while time.monotonic() < end:  # kcptun-client says nothing when it is ready
        ss = subprocess.run(["ip", "netns", "exec", ns, "ss", "-Hltn", f"sport = :{lport}"],
                            capture_output=True, text=True)
        if ss.stdout.strip():
            break
        time.sleep(0.05)
    # the file, then a stdin that stays open (no half-close, as above)
    feed = subprocess.Popen(["sleep", str(timeout)], stdout=subprocess.PIPE)
    t0 = time.monotonic()
    cli = subprocess.Popen(["sh", "-c", 'cat "$0"; cat', src], stdin=feed.stdout,
                           stdout=subprocess.PIPE)
    tc = subprocess.Popen(["ip", "netns", "exec", ns, nt, "tcp-client", "127.0.0.1", str(lport)],
                          stdin=cli.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = t0 + timeout
    while time.monotonic() < end and os.path.getsize(out) < size:
        time.sleep(0.01)
    secs = time.monotonic() - t0
    for p in (tc, cli, feed, kc, ks, srv, hold):
        stop(p)
    ok = os.path.getsize(out) == size and same(out, src)
    os.unlink(out)
    return size / secs / 1e6, ok


def run(nt, tmp, records, data, runs, losses=(0, 2, 20)):
    if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        print("SKIP --netns: needs root, ip and nft (Debian: nftables, iproute2)")
        return
    have_uftp = shutil.which("uftp") and shutil.which("uftpd")
    have_kcp = shutil.which("kcptun-client") and shutil.which("kcptun-server")
    if not have_uftp:
        print("SKIP uftp: not installed (Debian: uftp)")
    if not have_kcp:
        print("SKIP kcptun: not installed (Debian: kcptun)")
    ns = f"ntloss{os.getpid() % 100000}"
    make_ns(ns)
    res = {}
    try:
        for r in range(runs):
            for loss in losses:
                set_loss(ns, loss)
                row = res.setdefault(loss, {})
                rate, ok, summ = nettool_run(nt, ns, tmp, records, False)
                row.setdefault("records", []).append(rate if ok else 0)
                row.setdefault("rec_summary", []).append(summ)
                rate, ok, summ = nettool_run(nt, ns, tmp, data, True)
                row.setdefault("file", []).append(rate if ok else 0)
                row.setdefault("file_summary", []).append(summ)
                if have_uftp:
                    own, wall, ok = uftp_run(ns, tmp, data)
                    row.setdefault("uftp", []).append(own if ok else 0)
                    row.setdefault("uftp_wall", []).append(wall if ok else 0)
                if have_kcp:
                    rate, ok = kcptun_run(nt, ns, tmp, data)
                    row.setdefault("kcptun", []).append(rate if ok else 0)
                print(f"  round {r + 1}, {loss}% loss: " + ", ".join(
                    f"{k} {v[-1]:,.1f}" for k, v in row.items() if not k.endswith("summary")),
                    flush=True)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    med = {loss: {k: statistics.median(v) for k, v in row.items() if not k.endswith("summary")}
           for loss, row in res.items()}
    clean = med[losses[0]]
    print(f"nftables in a namespace dropping UDP at random each way, medians of {runs} "
          f"(a 0 is a failed or corrupted run):")
    print(f"  {'loss':>5} {'records/s':>12} {'of clean':>8} {'file MB/s':>10} {'of clean':>8}"
          f" {'uftp (own / wall)':>18} {'kcptun':>7} {'file / best peer':>16}")
    for loss in losses:
        m = med[loss]
        peers = [m.get("uftp", 0), m.get("kcptun", 0)]
        best = max(peers) if any(peers) else 0
        print(f"  {loss:>4}% {m['records']:12,.0f} {m['records'] / clean['records']:8.0%}"
              f" {m['file']:10.1f} {m['file'] / clean['file']:8.0%}"
              f" {m.get('uftp', 0):8.1f} / {m.get('uftp_wall', 0):6.1f}  {m.get('kcptun', 0):7.1f}"
              f" {(m['file'] / best if best else float('nan')):15.2f}x")
    for loss in losses:
        print(f"  {loss}% file, last run: {res[loss]['file_summary'][-1]}")
        print(f"  {loss}% records, last run: {res[loss]['rec_summary'][-1]}")
