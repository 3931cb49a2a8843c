#!/usr/bin/env python3
"""--reliable through lossy paths, in one run:

1. Through bench/lossy_relay.c on loopback (built here with cc): a clean
   path (no relay), 2 % loss, and 20 % loss both ways with 25 % reordering
   and 5 % duplication. For each, --records 64-byte records (lines) and a
   --file-mb file: records per second, MB/s; the output is checked (each
   record exactly once and in order; the file's SHA-256).
2. With root, `ip` and `nft`: a network namespace of its own whose nftables
   rules drop 20 % of packets each way. The same file by udp-client
   --reliable --file, and by tcp-client into tcp-server (capped at
   --tcp-seconds): MB/s of each and the ratio.

--baseline OTHER_NETTOOL adds another build's records per second on the
20 % path (with --baseline-records, since an old one may be slow).

--netns measures instead on a path the kernel makes lossy, nettool beside
uftp and kcptun: see bench/lossy_ns.py.

--netns --mtu 1500 [--rtt 20,100] instead measures the file against TCP
on a loopback of that MTU with offload off, and through paths of those
round trips: see bench/paths_ns.py.

usage: bench/udp_reliable.py [--records 50000] [--file-mb 100] [--runs 3]
                             [--nettool ./nettool] [--baseline OLD] [--tcp-seconds 60]
                             [--netns [--mtu N] [--rtt MS,...]]
"""
import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from benchlib import stop  # noqa: E402
import lossy_ns  # noqa: E402
import paths_ns  # noqa: E402


def start(argv, pattern, ns=None):
    """Start argv (in namespace ns); returns the process and the port its
    stderr names."""
    if ns:
        argv = ["ip", "netns", "exec", ns] + argv
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(pattern, line)
    if not m:
        raise SystemExit(f"{argv[0]}: {line.strip()}")
    return p, int(m.group(1))


def timed(argv, stdin_path, timeout):
    t0 = time.monotonic()
    with open(stdin_path, "rb") as f:
        p = subprocess.run(argv, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
    return time.monotonic() - t0, p.returncode, p.stderr


def one_path(args, nt, tmp, relay_bin, loss, records_file, nrec, data_file, sha, host="127.0.0.1",
             ns=None, file_only=False):
    """Records/s and MB/s through one path; None where it failed."""
    out_rec, out_file = os.path.join(tmp, "rec.out"), os.path.join(tmp, "file.out")
    res = {}
    if not file_only:
        srv, port = start([nt, "udp-server", "-b", host, "-p", "0", "--reliable", "-o", out_rec],
                          r":(\d+)$", ns)
        relay = None
        if loss:
            relay, port = start([relay_bin, str(port), "--drop", str(loss[0]), "--dup",
                                 str(loss[1]), "--reorder", str(loss[2]), "--seconds", "600"],
                                r"relay on (\d+)")
        secs, rc, err = timed([nt, "udp-client", "-v", "--reliable", host, str(port)],
                              records_file, 600)
        if relay:
            stop(relay)
        stop(srv)
        with open(out_rec, "rb") as f, open(records_file, "rb") as g:
            ok = f.read() == g.read()
        os.unlink(out_rec)
        res["records"] = nrec / secs if rc == 0 and ok else None
        res["rec_err"] = err.strip().splitlines()[-1] if err.strip() else ""
    srv, port = start([nt, "udp-server", "-b", host, "-p", "0", "--reliable", "-o", out_file],
                      r":(\d+)$", ns)
    relay = None
    if loss:
        relay, port = start([relay_bin, str(port), "--drop", str(loss[0]), "--dup", str(loss[1]),
                             "--reorder", str(loss[2]), "--seconds", "600"], r"relay on (\d+)")
    secs, rc, err = timed([nt, "udp-client", "-v", "--reliable", "--file", data_file, host,
                           str(port)], "/dev/null", 600)
    if relay:
        stop(relay)
    stop(srv)
    ok = rc == 0 and sha in err and os.path.exists(out_file)
    if ok:
        with open(out_file, "rb") as f:
            ok = hashlib.sha256(f.read()).hexdigest() == sha
    if os.path.exists(out_file):
        os.unlink(out_file)
    res["file"] = os.path.getsize(data_file) / secs / 1e6 if ok else None
    res["file_err"] = err.strip().splitlines()[-1] if err.strip() else ""
    return res


def make_ns(name):
    """A namespace joined to this one by a veth pair, dropping 20 % of the
    packets that enter it and 20 % of those that leave it."""
    ns = ["ip", "netns", "exec", name]
    cmds = [["ip", "netns", "add", name],
            ["ip", "link", "add", name + "a", "type", "veth", "peer", "name", name + "b"],
            ["ip", "link", "set", name + "b", "netns", name],
            ["ip", "addr", "add", "10.77.0.1/24", "dev", name + "a"],
            ["ip", "link", "set", name + "a", "up"],
            ns + ["ip", "addr", "add", "10.77.0.2/24", "dev", name + "b"],
            ns + ["ip", "link", "set", name + "b", "up"],
            ns + ["ip", "link", "set", "lo", "up"],
            ns + ["nft", "add table inet lossy"],
            ns + ["nft", "add chain inet lossy in { type filter hook input priority 0 ; }"],
            ns + ["nft", f"add rule inet lossy in iifname {name}b numgen random mod 100 < 20 drop"],
            ns + ["nft", "add chain inet lossy out { type filter hook output priority 0 ; }"],
            ns + ["nft", f"add rule inet lossy out oifname {name}b numgen random mod 100 < 20 drop"]]
    for c in cmds:
        subprocess.run(c, check=True, capture_output=True)


def tcp_through_ns(nt, ns, data_file, cap):
    out = data_file + ".tcp"
    argv = ["ip", "netns", "exec", ns, nt, "tcp-server", "-b", "10.77.0.2", "-p", "0"]
    with open(out, "wb") as sink:
        p = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE, text=True)
        port = int(re.search(r":(\d+)$", p.stderr.readline()).group(1))
        t0 = time.monotonic()
        try:
            with open(data_file, "rb") as f:
                subprocess.run([nt, "tcp-client", "10.77.0.2", str(port)], stdin=f,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=cap)
            done = True
        except subprocess.TimeoutExpired:
            done = False
        secs = time.monotonic() - t0
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    got = os.path.getsize(out)
    os.unlink(out)
    return got / secs / 1e6, done, got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=50000)
    ap.add_argument("--file-mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--nettool", default="./nettool")
    ap.add_argument("--baseline")
    ap.add_argument("--baseline-records", type=int, default=5000)
    ap.add_argument("--tcp-seconds", type=float, default=60)
    ap.add_argument("--netns", action="store_true",
                    help="the nftables path in a namespace, beside uftp and kcptun")
    ap.add_argument("--mtu", type=int,
                    help="with --netns: the file against TCP on a loopback of this MTU, "
                         "offload off (bench/paths_ns.py)")
    ap.add_argument("--rtt", help="with --netns: the file against TCP through paths of these "
                                  "round trips in ms, comma-separated (bench/tun_path.c)")
    args = ap.parse_args()
    nt = os.path.abspath(args.nettool)
    tmp = tempfile.mkdtemp(prefix="nt-rdbench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    relay_bin = os.path.join(tmp, "lossy_relay")
    subprocess.run(["cc", "-O2", "-o", relay_bin, os.path.join(HERE, "lossy_relay.c")], check=True)
    try:
        recs = os.path.join(tmp, "records.txt")
        with open(recs, "w") as f:
            for i in range(args.records):
                f.write(f"r{i:062d}\n")  # 64 bytes with its newline
        data = os.path.join(tmp, "file.bin")
        with open(data, "wb") as f:
            for _ in range(args.file_mb):
                f.write(os.urandom(1 << 20))
        with open(data, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        if args.netns and (args.mtu or args.rtt):
            if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
                print("SKIP --netns: needs root, ip and nft (Debian: nftables, iproute2)")
                return
            if args.mtu:
                paths_ns.mtu_path(nt, tmp, data, args.runs, args.mtu, args.tcp_seconds)
            for rtt in (args.rtt.split(",") if args.rtt else []):
                paths_ns.rtt_path(nt, tmp, data, args.runs, float(rtt), args.tcp_seconds,
                                  mtu=args.mtu or 1500)
            return
        if args.netns:
            lossy_ns.run(nt, tmp, recs, data, args.runs)
            return
        paths = [("clean loopback", None), ("the relay, no loss", (0, 0, 0)),
                 ("2% loss", (0.02, 0, 0)),
                 ("20% loss, 25% reordered, 5% duplicated", (0.20, 0.05, 0.25))]
        table = {}
        for _ in range(args.runs):
            for name, loss in paths:
                r = one_path(args, nt, tmp, relay_bin, loss, recs, args.records, data, sha)
                table.setdefault(name, []).append(r)
                if r["records"] is None or r["file"] is None:
                    print(f"  {name}: FAILED: {r['rec_err']} / {r['file_err']}")
        print(f"--reliable, {args.records} records of 64 bytes and a {args.file_mb} MiB file, "
              f"medians of {args.runs}:")
        clean, relayed = None, (0, 0)
        loss_of = dict(paths).get
        for name, _ in paths:
            rs = [r["records"] for r in table[name] if r["records"]]
            fs = [r["file"] for r in table[name] if r["file"]]
            rec = statistics.median(rs) if rs else 0
            fil = statistics.median(fs) if fs else 0
            clean = clean or (rec, fil)
            print(f"  {name:42} {rec:10,.0f} records/s ({rec / clean[0]:5.1%} of clean)"
                  f"  {fil:7.1f} MB/s ({fil / clean[1]:5.1%})")
            if name == "the relay, no loss":
                relayed = (rec, fil)
            elif loss_of(name) and relayed[0]:
                print(f"  {'':42} {rec / relayed[0]:10.1%} of the relay without loss"
                      f"{'':14}{fil / relayed[1]:5.1%}")
        if args.baseline:
            small = os.path.join(tmp, "small.txt")
            with open(small, "w") as f:
                for i in range(args.baseline_records):
                    f.write(f"r{i:062d}\n")
            for label, tool in (("baseline", os.path.abspath(args.baseline)), ("nettool", nt)):
                srv, port = start([tool, "udp-server", "-b", "127.0.0.1", "-p", "0",
                                   "--reliable", "-o", "/dev/null"], r":(\d+)$")
                relay, rport = start([relay_bin, str(port), "--drop", "0.2", "--dup", "0.05",
                                      "--reorder", "0.25", "--seconds", "600"], r"relay on (\d+)")
                secs, rc, _ = timed([tool, "udp-client", "--reliable", "127.0.0.1", str(rport)],
                                    small, 600)
                stop(relay)
                stop(srv)
                print(f"  {label}: {args.baseline_records} records through 20% loss: "
                      f"{args.baseline_records / secs:,.0f} records/s (exit {rc})")
        if os.geteuid() == 0 and shutil.which("nft") and shutil.which("ip"):
            ns = f"ntrd{os.getpid() % 10000}"
            try:
                make_ns(ns)
                us = []
                for _ in range(args.runs):
                    r = one_path(args, nt, tmp, relay_bin, None, recs, args.records, data, sha,
                                 host="10.77.0.2", ns=ns, file_only=True)
                    if r["file"]:
                        us.append(r["file"])
                tcp, done, got = tcp_through_ns(nt, ns, data, args.tcp_seconds)
                u = statistics.median(us) if us else 0
                print(f"nft namespace dropping 20% each way, the {args.file_mb} MiB file: "
                      f"udp-client --reliable --file {u:.1f} MB/s; tcp-client into tcp-server "
                      f"{tcp:.2f} MB/s ({'done' if done else f'{got >> 20} MiB in {args.tcp_seconds:.0f} s, cut off'}); "
                      f"ratio {u / tcp if tcp else float('inf'):.0f}x")
            finally:
                subprocess.run(["ip", "netns", "del", ns], capture_output=True)
                subprocess.run(["ip", "link", "del", f"{ns}a"], capture_output=True)
        else:
            print("SKIP the nft namespace comparison: needs root, ip and nft")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
