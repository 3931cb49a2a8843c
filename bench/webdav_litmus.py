#!/usr/bin/env python3
"""litmus, the WebDAV conformance suite, against http-serve --webdav,
lighttpd with mod_webdav and Apache 2.4 with mod_dav and mod_dav_fs, each
started here with a configuration of its own on loopback, in one run:
tests passed of those run, per suite (basic, copymove, props, locks,
http). Servers not installed are left out with a line that says which.

usage: bench/webdav_litmus.py [--nettool ./nettool]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

from benchlib import free_port, stop, wait_port

SUITES = ["basic", "copymove", "props", "locks", "http"]


def nettool(nt, tmp, port):
    root = os.path.join(tmp, "nt")
    os.mkdir(root)
    return subprocess.Popen([nt, "http-serve", "-q", "-b", "127.0.0.1", "-p", str(port),
                             "-d", root, "--webdav"], stderr=subprocess.DEVNULL)


def lighttpd(tmp, port):
    root = os.path.join(tmp, "lt")
    os.mkdir(root)
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
    os.mkdir(root)
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nettool", default="./nettool")
    a = ap.parse_args()
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
