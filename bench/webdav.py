#!/usr/bin/env python3
"""WebDAV side by side, in one run on loopback: http-serve --webdav,
lighttpd with mod_webdav and Apache 2.4 with mod_dav and mod_dav_fs, each
started here with a configuration of its own:
  - litmus, the conformance suite: tests passed of those run, per suite
    (basic, copymove, props, locks, http);
  - PROPFIND Depth 1 of a folder of 10,000 files, wrk -t2 -c8: requests
    per second (medians of --runs);
  - rclone copy of 1,000 small files up (a :webdav: remote): seconds.
Servers and clients not installed are left out with a line that says which.

usage: bench/webdav.py [--nettool ./nettool] [--runs 3] [--seconds 5] [--only litmus,propfind,rclone]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import free_port, stop, wait_port

SUITES = ["basic", "copymove", "props", "locks", "http"]


def nettool(nt, tmp, port):
    root = os.path.join(tmp, "nt")
    os.makedirs(root, exist_ok=True)
    return subprocess.Popen([nt, "http-serve", "-q", "-b", "127.0.0.1", "-p", str(port),
                             "-d", root, "--webdav"], stderr=subprocess.DEVNULL)


def lighttpd(tmp, port):
    root = os.path.join(tmp, "lt")
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(tmp, "lighttpd.conf")
    with open(conf, "w") as f:
        f.write(f"""server.modules = ("mod_webdav")
server.document-root = "{root}"
server.port = {port}
server.bind = "127.0.0.1"
webdav.activate = "enable"
webdav.is-readonly = "disable"
webdav.sqlite-db-name = "{tmp}/lighttpd-webdav.db"
""")
    return subprocess.Popen(["lighttpd", "-D", "-f", conf], stderr=subprocess.DEVNULL)


def apache(tmp, port):
    root = os.path.join(tmp, "ap")
    os.makedirs(root, exist_ok=True)
    mods = "/usr/lib/apache2/modules"
    conf = os.path.join(tmp, "apache.conf")
    with open(conf, "w") as f:
        f.write(f"""ServerRoot "{tmp}"
Listen 127.0.0.1:{port}
ServerName localhost
PidFile {tmp}/apache.pid
ErrorLog {tmp}/apache-error.log
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule dav_module {mods}/mod_dav.so
LoadModule dav_fs_module {mods}/mod_dav_fs.so
DavLockDB {tmp}/apache-davlock
DocumentRoot "{root}"
<Directory "{root}">
  Dav On
  Require all granted
</Directory>
""")
    return subprocess.Popen(["apache2", "-X", "-f", conf], stderr=subprocess.DEVNULL,
                            env=dict(os.environ, APACHE_RUN_DIR=tmp, APACHE_LOCK_DIR=tmp))


def litmus(port, tmp):
    p = subprocess.run(["litmus", f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                       timeout=300, cwd=tmp, env=dict(os.environ, TESTS=" ".join(SUITES)))
    got = {s: (int(ok), int(n)) for s, n, ok in
           re.findall(r"summary for `(\w+)': of (\d+) tests run: (\d+) passed", p.stdout)}
    return got


ROOTS = {"nettool --webdav": "nt", "lighttpd mod_webdav": "lt", "apache2 mod_dav": "ap"}


def started(name, start, tmp):
    port = free_port()
    p = start(tmp, port)
    wait_port(port, p)
    return p, port


def propfind_rate(servers, runs, secs):
    """wrk sending PROPFIND Depth 1 of a folder of 10,000 files."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write('wrk.method = "PROPFIND"\nwrk.headers["Depth"] = "1"\n')
    script.close()
    res = {n: [] for n, _ in servers}
    tmps = {n: tempfile.mkdtemp(prefix="nettool-dav-") for n, _ in servers}
    for name, _ in servers:
        folder = os.path.join(tmps[name], ROOTS[name], "many")
        os.makedirs(folder)
        for i in range(10000):
            open(os.path.join(folder, f"f{i:05d}.txt"), "w").close()
    for _ in range(runs):
        for name, start in servers:
            p, port = started(name, start, tmps[name])
            try:
                out = subprocess.run(["wrk", "-t2", "-c8", f"-d{secs}s", "-s", script.name,
                                      f"http://127.0.0.1:{port}/many/"], capture_output=True,
                                     text=True, timeout=secs + 60).stdout
                m = re.search(r"Requests/sec:\s+([\d.]+)", out)
                bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                res[name].append(0.0 if bad or not m else float(m.group(1)))
            finally:
                stop(p)
    os.unlink(script.name)
    for t in tmps.values():
        shutil.rmtree(t, ignore_errors=True)
    med = {n: statistics.median(v) for n, v in res.items()}
    print(f"PROPFIND Depth 1 of a folder of 10,000 files, wrk -t2 -c8 -d{secs}s: requests/s, "
          f"median of {runs}")
    for name, v in res.items():
        print(f"  {name:20s} {med[name]:9.1f}   ({' '.join(f'{x:.1f}' for x in v)})")
    peers = [v for k, v in med.items() if not k.startswith("nettool") and v > 0]
    if peers:
        print(f"  nettool / the faster of the others: x{med['nettool --webdav'] / max(peers):.2f}")


def rclone_up(servers, runs):
    """rclone copy of 1,000 small files into each."""
    if not shutil.which("rclone"):
        print("rclone is not installed: no rclone figures")
        return
    src = tempfile.mkdtemp(prefix="nettool-dav-src-")
    for i in range(1000):
        with open(os.path.join(src, f"f{i:04d}.txt"), "wb") as f:
            f.write(os.urandom(i % 2000))
    res = {n: [] for n, _ in servers}
    env = dict(os.environ, RCLONE_CONFIG=os.devnull)
    for _ in range(runs):
        for name, start in servers:
            tmp = tempfile.mkdtemp(prefix="nettool-dav-")
            p, port = started(name, start, tmp)
            try:
                t0 = time.monotonic()
                r = subprocess.run(["rclone", "copy", src, ":webdav:",
                                    f"--webdav-url=http://127.0.0.1:{port}/"], env=env,
                                   capture_output=True, timeout=600)
                res[name].append(time.monotonic() - t0 if r.returncode == 0 else float("inf"))
            finally:
                stop(p)
                shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(src, ignore_errors=True)
    print(f"rclone copy of 1,000 small files up: seconds, median of {runs}")
    for name, v in res.items():
        print(f"  {name:20s} {statistics.median(v):7.2f}   ({' '.join(f'{x:.2f}' for x in v)})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nettool", default="./nettool")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--only", default="litmus,propfind,rclone")
    a = ap.parse_args()
    only = a.only.split(",")
    if not shutil.which("litmus"):
        raise SystemExit("litmus is not installed (Debian: litmus)")
    nt = os.path.abspath(a.nettool)
    servers = [("nettool --webdav", lambda tmp, port: nettool(nt, tmp, port))]
    if shutil.which("lighttpd") and os.path.exists("/usr/lib/lighttpd/mod_webdav.so"):
        servers.append(("lighttpd mod_webdav", lighttpd))
    else:
        print("lighttpd with mod_webdav is not installed (Debian: lighttpd-mod-webdav): left out")
    if shutil.which("apache2") and os.path.exists("/usr/lib/apache2/modules/mod_dav_fs.so"):
        servers.append(("apache2 mod_dav", apache))
    else:
        print("apache2 with mod_dav is not installed: left out")
    if "propfind" in only:
        propfind_rate(servers, a.runs, a.seconds)
    if "rclone" in only:
        rclone_up(servers, a.runs)
    if "litmus" not in only:
        return 0
    print("litmus: tests passed / run, per suite (a suite that fails early stops the run)")
    print(f"  {'server':20s} " + " ".join(f"{s:>9s}" for s in SUITES) + "      total")
    for name, start in servers:
        tmp = tempfile.mkdtemp(prefix="nettool-litmus-")
        port = free_port()
        p = start(tmp, port)
        try:
            wait_port(port, p)
            got = litmus(port, tmp)
        finally:
            stop(p)
            shutil.rmtree(tmp, ignore_errors=True)
        cells = [f"{got[s][0]:>4d}/{got[s][1]:<4d}" if s in got else f"{'-':>9s}" for s in SUITES]
        ok = sum(v[0] for v in got.values())
        run = sum(v[1] for v in got.values())
        print(f"  {name:20s} " + " ".join(cells) + f"   {ok}/{run}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
