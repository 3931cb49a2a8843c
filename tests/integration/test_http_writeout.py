"""http-get --write-out against curl as the oracle, on one recording
server that answers with fixed bytes; --max-time against a trickle."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import harness
from harness import check, deadline

PAGE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"X-Test: one\r\nX-Test: two\r\nContent-Length: 11\r\n\r\nhello world")
MOVED = b"HTTP/1.1 302 Found\r\nLocation: /page?x=1\r\nContent-Length: 0\r\n\r\n"
OLD = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<p>old</p>"


class Fixed:
    """Answers each request by its path, a connection per request."""

    def __init__(self, t):
        self.ls = t.listener()
        self.port = self.ls.getsockname()[1]
        harness.accept_loop(self.ls, self.answer)

    def answer(self, c):
        with c:
            c.settimeout(10)
            head = harness.recv_head(c)
            path = head.split(b" ")[1] if head.count(b" ") >= 2 else b"/"
            c.sendall(MOVED if path == b"/moved" else OLD if path == b"/old" else PAGE)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


SAME = ("%{http_code} %{response_code} %{http_version} %{size_download} %{size_upload} "
        "%{size_header} %{num_redirects} [%{redirect_url}] %{url} %{url_effective} "
        "[%{content_type}] %{remote_ip} %{remote_port} %{local_ip} %{exitcode} "
        "%{filename_effective} %{method} %{scheme} [%header{x-test}] [%header{nope}] "
        "%%{ok}\\t100%%\\n")


def both(t, args):
    """(curl's stdout, ours) for the same arguments, -s added."""
    curl = shutil.which("curl")
    c = subprocess.run([curl, "-s", *args], capture_output=True, timeout=20)
    rc, out, err = t.run("http-get", "-s", *args)
    return c.stdout, out, c.returncode, rc


@deadline(60)
def test_write_out_variables_as_curl(t):
    harness.need("curl")
    srv = Fixed(t)
    dev_null = ["-o", os.devnull]
    for args in (dev_null + ["-w", SAME, srv.url("/page")],
                 dev_null + ["-w", SAME, srv.url("/moved")],
                 dev_null + ["-L", "-w", SAME, srv.url("/moved")],
                 dev_null + ["-w", SAME, srv.url("/old")],
                 dev_null + ["-X", "PUT", "-d", "abc", "-w", SAME, srv.url("/page")],
                 ["-w", "\\n%{http_code}\\n", srv.url("/page")]):
        theirs, ours, crc, rc = both(t, args)
        check(ours == theirs and rc == crc, (args, ours, theirs))
    # refused: code 000, curl's exit status; curl's message differs in words
    closed = t.sock()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    theirs, ours, crc, rc = both(t, ["-w", "%{http_code} %{exitcode} %{num_connects}", url])
    check(rc == 4 and ours == b"000 4 0" and theirs == b"000 7 0", (ours, theirs))


@deadline(60)
def test_write_out_json_streams_and_files(t):
    harness.need("curl")
    srv = Fixed(t)
    rc, out, err = t.run("http-get", "-s", "-o", os.devnull, "-w", "%{json}", srv.url("/page"))
    mine = json.loads(out)
    c = subprocess.run(["curl", "-s", "-o", os.devnull, "-w", "%{json}", srv.url("/page")],
                       capture_output=True, timeout=20)
    theirs = json.loads(c.stdout)
    differ = {"time_connect", "time_namelookup", "time_pretransfer", "time_redirect",
              "time_starttransfer", "time_total", "local_port", "size_request",
              "speed_download", "speed_upload"}
    check(set(mine) <= set(theirs), set(mine) - set(theirs))
    check({k: v for k, v in mine.items() if k not in differ} ==
          {k: theirs[k] for k in mine if k not in differ}, (mine, theirs))
    times = [mine[k] for k in ("time_namelookup", "time_connect", "time_pretransfer",
                               "time_starttransfer", "time_total")]
    check(times == sorted(times) and times[0] >= 0 and times[-1] < 10, times)
    rc, out, err = t.run("http-get", "-s", "-o", os.devnull, "-w", "%{header_json}",
                         srv.url("/page"))
    c = subprocess.run(["curl", "-s", "-o", os.devnull, "-w", "%{header_json}",
                        srv.url("/page")], capture_output=True, timeout=20)
    check(json.loads(out) == json.loads(c.stdout), (out, c.stdout))
    # @FILE, %{stderr} and an unknown variable, as curl
    fmt = t.path("fmt")
    with open(fmt, "w") as f:
        f.write("a%{stderr}b%{stdout}c%{nosuch}d")
    p = subprocess.run(["curl", "-s", "-o", os.devnull, "-w", "@" + fmt, srv.url("/page")],
                       capture_output=True, timeout=20)
    rc, out, err = t.run("http-get", "-s", "-o", os.devnull, "-w", "@" + fmt, srv.url("/page"))
    check(out == p.stdout == b"acd", (out, p.stdout))
    for e in (err, p.stderr.decode()):
        check(e.startswith("b") and "unknown --write-out variable: 'nosuch'" in e, e)
    # %output{FILE} then %output{>>FILE} (curl 8.3's; this curl may not have it)
    o1 = t.path("o1")
    with open(o1, "w") as f:
        f.write("old")
    rc, out, err = t.run("http-get", "-s", "-o", os.devnull, "-w",
                         "a%output{" + o1 + "}b%{http_code}%output{>>" + o1 + "}c%{stdout}d",
                         srv.url("/page"))
    with open(o1, "rb") as f:
        check((rc, out, f.read()) == (0, b"ad", b"b200c"), (rc, out, err))


@deadline(30)
def test_max_time_against_a_trickle(t):
    stop = threading.Event()
    ls = t.listener()

    def trickle():
        c, _ = ls.accept()
        with c:
            c.recv(4096)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():
                try:
                    c.sendall(b"x")
                except OSError:
                    return
                stop.wait(0.05)
    threading.Thread(target=trickle, daemon=True).start()
    start = time.monotonic()
    try:
        rc, out, err = t.run("http-get", "-sS", "-m", "0.6", "-w", "%{exitcode} %{http_code}",
                             f"http://127.0.0.1:{ls.getsockname()[1]}/")
    finally:
        stop.set()
    took = time.monotonic() - start
    check(rc == 5 and "--max-time" in err and out.endswith(b"5 200"), (rc, err, out[-20:]))
    check(0.5 <= took < 3 * harness.SLOW, took)


@deadline(30)
def test_timeouts_and_write_out_checked(t):
    for args, what in ((["-m", "x"], "-m"), (["--connect-timeout", "-1"], "--connect-timeout")):
        rc, _, err = t.run("http-get", *args, "http://127.0.0.1:9/")
        check(rc == 2 and what in err, (args, rc, err))
    rc, _, err = t.run("http-get", "-w", "@/no/such/file", "http://127.0.0.1:9/")
    check("--write-out: /no/such/file" in err, err)
