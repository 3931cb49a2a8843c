"""--reliable --file against TCP on paths with a real MTU, a round trip
and random loss (bench/udp_reliable.py --netns --mtu N, --rtt MS,...).

1. --mtu: a namespace of its own, its loopback at that MTU with TSO, GSO
   and UDP segmentation off (ethtool), so each packet of TCP and of UDP is
   dropped on its own by one nftables rule (numgen random) on input: data
   and acknowledgements alike. Without ethtool, segments of up to 64 KiB
   would be dropped whole: the comparison is skipped, loudly.
2. --rtt: two namespaces joined by bench/tun_path.c, a TUN device in
   each and a process between them that holds each packet for half the
   round trip and drops a share at random, each way (this kernel has no
   netem). Packets are at most the MTU (a TUN device has no offload).

Each is run, for each loss rate, in rounds: udp-client --reliable --file
into udp-server --reliable -o FILE (SHA-256 checked, and again with
--no-digest on both sides), and tcp-client into
tcp-server, with CUBIC (Debian's default) and with this machine's default
congestion control when that differs (BBR, for one, is itself tolerant of
random loss). TCP is cut off after --tcp-seconds: its rate is then the
bytes that arrived in that time. CPU seconds per GiB of each side, from
the processes' own resource usage, are reported beside the rates.
"""
import hashlib
import os
import shutil
import statistics
import subprocess
import time

from lossy_ns import sh as ns_run, start

GIB = 1 << 30
# nettool as it comes (SHA-256 on both sides), and without the digest
VARIANTS = (("nettool", ()), ("--no-digest", ("--no-digest",)))


def wait_cpu(p, timeout=None, kill=False):
    """Wait for p (SIGTERM first when kill, SIGKILL past timeout); returns
    (whether it ended by itself, its CPU seconds) from its own usage."""
    if kill:
        p.terminate()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return not kill, ru.ru_utime + ru.ru_stime
        if deadline is not None and time.monotonic() > deadline:
            p.kill()
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            return False, ru.ru_utime + ru.ru_stime
        time.sleep(0.002)


def end(p):
    """Stop p and return its CPU seconds."""
    return wait_cpu(p, 10, kill=True)[1]


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def nettool_file(nt, srv_ns, cli_ns, host, src, digest, out, timeout, extra=()):
    """(MB/s or 0 when wrong, client CPU s, server CPU s, -v summary);
    extra: options for both sides."""
    if os.path.exists(out):
        os.unlink(out)
    srv, port = start(srv_ns, [nt, "udp-server", "-b", host, "-p", "0", "--reliable", "-o", out] +
                      list(extra))
    errf = os.path.join(os.path.dirname(out), "cli.err")
    t0 = time.monotonic()
    with open(errf, "w") as e:
        cli = subprocess.Popen(["ip", "netns", "exec", cli_ns, nt, "udp-client", "-v",
                                "--reliable", "--file", src] + list(extra) + [host, str(port)],
                               stdout=subprocess.DEVNULL, stderr=e)
        _, ccpu = wait_cpu(cli, timeout)
    secs = time.monotonic() - t0
    scpu = end(srv)
    with open(errf) as e:
        err = e.read()
    ok = cli.returncode == 0 and os.path.exists(out) and sha(out) == digest
    summary = [x.split(": ", 2)[-1] for x in err.splitlines() if "retransmitted" in x]
    return (os.path.getsize(src) / secs / 1e6 if ok else 0), ccpu, scpu, \
        (summary[-1] if summary else err.strip())


def tcp_file(nt, srv_ns, cli_ns, host, src, cc, cap):
    """(MB/s, finished, client CPU s, server CPU s, bytes) of tcp-client into
    tcp-server with congestion control cc (None: the default)."""
    out = src + ".tcp"
    with open(out, "wb") as sink:
        srv, port = start(srv_ns, [nt, "tcp-server", "-b", host, "-p", "0"], stdout=sink)
    opt = ["--sockopt", f"tcp_congestion={cc}"] if cc else []
    t0 = time.monotonic()
    with open(src, "rb") as f:
        cli = subprocess.Popen(["ip", "netns", "exec", cli_ns, nt, "tcp-client"] + opt +
                               [host, str(port)], stdin=f, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        done, ccpu = wait_cpu(cli, cap)
    # the server ends when the client's close arrives (killed if it has not)
    _, scpu = wait_cpu(srv, 10 if done else 0.05)
    secs = time.monotonic() - t0
    got = os.path.getsize(out)
    done = done and got == os.path.getsize(src)
    os.unlink(out)
    return got / secs / 1e6, done, ccpu, scpu, got


def default_cc():
    with open("/proc/sys/net/ipv4/tcp_congestion_control") as f:
        return f.read().strip()


def per_gib(cpu, moved):
    """CPU seconds per GiB of moved bytes."""
    return cpu * GIB / moved if moved else 0


def measure(nt, srv_ns, cli_ns, host, src, tmp, runs, losses, set_loss, cap, label):
    digest = sha(src)
    size = os.path.getsize(src)
    ccs = ["cubic"] + ([default_cc()] if default_cc() != "cubic" else [])
    res = {}
    for r in range(runs):
        for loss in losses:
            set_loss(loss)
            row = res.setdefault(loss, {})
            for name, extra in VARIANTS:
                rate, cc_, sc, summ = nettool_file(nt, srv_ns, cli_ns, host, src, digest,
                                                   os.path.join(tmp, "rd.out"), 600, extra)
                row.setdefault(name, []).append((rate, cc_, sc))
                row["summary " + name] = summ
            for cc in ccs:
                rate2, done, c2, s2, got = tcp_file(nt, srv_ns, cli_ns, host, src, cc, cap)
                row.setdefault(f"tcp {cc}", []).append((rate2, c2, s2, done, got))
            print(f"  {label}, round {r + 1}, {loss}% loss: " +
                  ", ".join(f"{name} {row[name][-1][0]:.1f}" for name, _ in VARIANTS) + " MB/s, " +
                  ", ".join(f"{k} {v[-1][0]:.2f}{'' if v[-1][3] else ' (cut off)'}"
                            for k, v in row.items() if k.startswith("tcp")), flush=True)
    print(f"{label}, {size >> 20} MiB, medians of {runs} (MB/s; CPU s/GiB client+server; "
          f"a 0 is a failed or corrupted run; TCP cut off after {cap:.0f} s):")
    for loss in losses:
        row = res[loss]
        line = f"  {loss:>3}% loss:"
        rates = []
        for name, _ in VARIANTS:
            nt_rate = statistics.median(x[0] for x in row[name])
            nt_c = statistics.median(x[1] for x in row[name])
            nt_s = statistics.median(x[2] for x in row[name])
            rates.append(nt_rate)
            line += (f" {name} {nt_rate:7.1f} (cpu {per_gib(nt_c, size):.2f}"
                     f"+{per_gib(nt_s, size):.2f})")
        for k, v in row.items():
            if not k.startswith("tcp"):
                continue
            t = statistics.median(x[0] for x in v)
            # CPU per GiB of what arrived (a run cut off moved less)
            tc = statistics.median(per_gib(x[1], x[4]) for x in v)
            ts = statistics.median(per_gib(x[2], x[4]) for x in v)
            line += (f" | {k} {t:7.2f}{'' if all(x[3] for x in v) else '*'}"
                     f" (cpu {tc:.2f}+{ts:.2f})"
                     " -> nettool " + "/".join(f"{x / t if t else float('inf'):.1f}"
                                               for x in rates) + "x")
        print(line)
        for name, _ in VARIANTS:
            print(f"       {name}, last run: {row['summary ' + name]}")


def mtu_path(nt, tmp, src, runs, mtu, cap, losses=(0, 2, 20)):
    if not shutil.which("ethtool"):
        print("SKIP --mtu: needs ethtool (Debian: ethtool) to turn segmentation offload off, "
              "else nftables drops 64 KiB segments whole")
        return
    ns = f"ntmtu{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    try:
        ns_run(ns, ["ip", "link", "set", "lo", "up", "mtu", str(mtu)])
        ns_run(ns, ["ethtool", "-K", "lo", "tso", "off", "gso", "off",
                    "tx-udp-segmentation", "off"])
        ns_run(ns, ["nft", "add table inet lossy"])
        ns_run(ns, ["nft", "add chain inet lossy in { type filter hook input priority 0 ; }"])

        def set_loss(pct):
            ns_run(ns, ["nft", "flush chain inet lossy in"])
            if pct:
                ns_run(ns, ["nft", "add rule inet lossy in meta l4proto { tcp, udp } "
                                   f"numgen random mod 100 < {pct} drop"])
        measure(nt, ns, ns, "127.0.0.1", src, tmp, runs, losses, set_loss, cap,
                f"loopback at MTU {mtu}, offload off, nftables loss each way")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def rtt_path(nt, tmp, src, runs, rtt_ms, cap, mtu=1500, losses=(0, 2, 20)):
    tun_bin = os.path.join(tmp, "tun_path")
    subprocess.run(["cc", "-O2", "-o", tun_bin, os.path.join(os.path.dirname(__file__),
                                                             "tun_path.c")], check=True)
    a, b = f"ntrtta{os.getpid() % 100000}", f"ntrttb{os.getpid() % 100000}"
    state = {"p": None}

    def set_loss(pct):
        if state["p"]:
            end(state["p"])
        p = subprocess.Popen([tun_bin, a, b, "--rtt-ms", str(rtt_ms), "--drop", str(pct),
                              "--seconds", "3600"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        if p.stdout.readline().strip() != "ready":
            raise SystemExit("tun_path did not start")
        state["p"] = p
        for ns, dev, addr in ((a, "ntpath0", "10.78.0.1/24"), (b, "ntpath1", "10.78.0.2/24")):
            ns_run(ns, ["ip", "addr", "add", addr, "dev", dev])
            ns_run(ns, ["ip", "link", "set", dev, "up", "mtu", str(mtu)])
    for ns in (a, b):
        subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
        ns_run(ns, ["ip", "link", "set", "lo", "up"])
    try:
        measure(nt, b, a, "10.78.0.2", src, tmp, runs, losses, set_loss, cap,
                f"a path of {rtt_ms} ms round trip, MTU {mtu}, random loss each way")
    finally:
        if state["p"]:
            end(state["p"])
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
