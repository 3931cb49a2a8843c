"""http-get's headers and identity options against curl as the oracle, on
one recording server: -A, -e (;auto), -r, -D, -R, --create-dirs,
--fail-with-body, -s/-S, --resolve, --connect-to, --limit-rate, -K and
--compressed."""
import calendar
import os
import subprocess
import time

import harness
from harness import check, deadline

BODY = b"0123456789abcdefghij" * 10
STAMP = "Sun, 06 Nov 1994 08:49:37 GMT"


class Recorder:
    """Answers by path, a connection per request, and keeps each head."""

    def __init__(self, t):
        self.heads = []
        self.ls = t.listener()
        self.port = self.ls.getsockname()[1]
        harness.accept_loop(self.ls, self.serve)

    def answer(self, path):
        if path.startswith(b"/moved"):
            return b"HTTP/1.1 302 Found\r\nLocation: /page\r\nContent-Length: 0\r\n\r\n"
        if path.startswith(b"/missing"):
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope\n"
        if path.startswith(b"/big"):
            return b"HTTP/1.1 200 OK\r\nContent-Length: 204800\r\n\r\n" + b"x" * 204800
        return (b"HTTP/1.1 200 OK\r\nLast-Modified: " + STAMP.encode() +
                b"\r\nX-Odd:  spaced \r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)

    def serve(self, c):
        with c:
            c.settimeout(10)
            try:
                head = harness.recv_head(c)
                self.heads.append(head)
                c.sendall(self.answer(head.split(b" ")[1]))
            except OSError:
                pass

    def url(self, path="/page"):
        return f"http://127.0.0.1:{self.port}{path}"


def fields(head, names=(b"user-agent", b"referer", b"range", b"host", b"cookie")):
    """The request line and the fields that matter, in order."""
    lines = head.split(b"\r\n\r\n")[0].split(b"\r\n")
    return [lines[0]] + [x for x in lines[1:] if x.split(b":")[0].lower() in names]


def both(t, srv, args):
    """Each one's request fields, exit status and stdout."""
    curl = harness.need("curl")
    srv.heads.clear()
    c = subprocess.run([curl, "-s", *args], capture_output=True, timeout=20)
    theirs = [fields(h) for h in srv.heads]
    srv.heads.clear()
    rc, out, err = t.run("http-get", "-s", *args)
    ours = [fields(h) for h in srv.heads]
    return theirs, ours, c, (rc, out, err)


@deadline(60)
def test_request_fields_as_curl(t):
    srv = Recorder(t)
    for args in (["-A", "agent/7.1", srv.url()],
                 ["-A", "", srv.url()],
                 ["-e", "http://from.example/x", srv.url()],
                 ["-L", "-e", "http://from.example/;auto", srv.url("/moved")],
                 ["-L", "-e", ";auto", srv.url("/moved#frag")],
                 ["-r", "0-9", srv.url()],
                 ["-r", "-5", srv.url()],
                 ["-r", "1-2,5-", srv.url()],
                 ["-b", "a=1", "-A", "x", srv.url()]):
        theirs, ours, c, (rc, out, err) = both(t, srv, args)
        # curl sends User-Agent curl/...; ours is nettool/...: as given, both alike
        if args[0] != "-A" and "-A" not in args:
            theirs = [[x for x in h if not x.lower().startswith(b"user-agent")] for h in theirs]
            ours = [[x for x in h if not x.lower().startswith(b"user-agent")] for h in ours]
        check(ours == theirs and rc == c.returncode and out == c.stdout, (args, ours, theirs))


@deadline(60)
def test_dump_header_remote_time_create_dirs(t):
    srv = Recorder(t)
    curl = harness.need("curl")
    d = t.path("d")
    theirs, ours = os.path.join(d, "c", "h.txt"), os.path.join(d, "n", "h.txt")
    os.makedirs(os.path.dirname(theirs))
    subprocess.run([curl, "-s", "-L", "-D", theirs, "-o", os.devnull, srv.url("/moved")],
                   timeout=20, check=True)
    out = os.path.join(d, "deep", "er", "file")
    rc, _, err = t.run("http-get", "-L", "-D", ours, "--create-dirs", "-R", "-o", out,
                       srv.url("/moved"))
    check(rc == 1 and "-D" in err and not os.path.exists(out), (rc, err))  # no folder for -D
    os.makedirs(os.path.dirname(ours))
    rc, _, err = t.run("http-get", "-L", "-D", ours, "--create-dirs", "-R", "-o", out,
                       srv.url("/moved"))
    check(rc == 0, err)
    with open(ours, "rb") as a, open(theirs, "rb") as b:
        check(a.read() == b.read())
    with open(out, "rb") as f:
        check(f.read() == BODY)
    stamp = calendar.timegm(time.strptime(STAMP, "%a, %d %b %Y %H:%M:%S GMT"))
    check(int(os.stat(out).st_mtime) == stamp, os.stat(out).st_mtime)
    # without -R the file is of now; -D - shares stdout with the body
    rc, _, _ = t.run("http-get", "-o", out, srv.url())
    check(rc == 0 and abs(os.stat(out).st_mtime - time.time()) < 60)
    rc, so, _ = t.run("http-get", "-D", "-", srv.url())
    check(rc == 0 and so.startswith(b"HTTP/1.1 200 OK\r\n") and so.endswith(b"\r\n\r\n" + BODY))


@deadline(60)
def test_fail_with_body_and_silence(t):
    srv = Recorder(t)
    theirs, ours, c, (rc, out, err) = both(t, srv, ["--fail-with-body", srv.url("/missing")])
    check(rc == 7 and c.returncode == 22 and out == c.stdout == b"nope\n", (rc, out))
    out_file = t.path("kept")
    rc, _, err = t.run("http-get", "--fail-with-body", "-o", out_file, srv.url("/missing"))
    with open(out_file, "rb") as f:
        check(rc == 7 and f.read() == b"nope\n" and "404" in err, err)
    # -s says nothing, -sS says what failed, as curl
    rc, _, err = t.run("http-get", "-s", "-f", srv.url("/missing"))
    check(rc == 7 and err == "", err)
    rc, _, err = t.run("http-get", "-sS", "-f", srv.url("/missing"))
    check(rc == 7 and "404" in err, err)
    closed = t.sock()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    rc, _, err = t.run("http-get", "-s", url)
    check(rc == 4 and err == "", err)
    rc, _, err = t.run("http-get", "-s", "--show-error", url)
    check(rc == 4 and "refused" in err, err)


@deadline(60)
def test_resolve_and_connect_to(t):
    srv = Recorder(t)
    for args in (["--resolve", f"name.test:{srv.port}:127.0.0.1", f"http://name.test:{srv.port}/a"],
                 ["--resolve", f"+name.test:{srv.port}:[127.0.0.1]", f"http://name.test:{srv.port}/a"],
                 ["--connect-to", f"name.test:80:127.0.0.1:{srv.port}", "http://name.test/b"],
                 ["--connect-to", f"::127.0.0.1:{srv.port}", "http://other.test:81/c"],
                 ["--connect-to", "nomatch.test::127.0.0.1:9", "--resolve",
                  f"name.test:{srv.port}:127.0.0.1", f"http://name.test:{srv.port}/d"]):
        theirs, ours, c, (rc, out, err) = both(t, srv, args)
        check(rc == 0 and c.returncode == 0 and out == c.stdout == BODY, (args, err))
        check([h[:1] + [x for x in h if x.lower().startswith(b"host")] for h in ours] ==
              [h[:1] + [x for x in h if x.lower().startswith(b"host")] for h in theirs],
              (ours, theirs))
    for bad in (["--resolve", "name.test:80"], ["--resolve", "name.test:x:1.2.3.4"],
                ["--resolve", ":80:1.2.3.4"], ["--connect-to", "a:b:c:d"],
                ["--connect-to", "a:1:b"], ["--limit-rate", "fast"], ["-r", "abc"],
                ["-r", "5"], ["-e", "x\x01"], ["-C", "-o", "f", "-r", "1-2"]):
        rc, _, err = t.run("http-get", *bad, srv.url())
        check(rc == 2, (bad, err))


@deadline(60)
def test_limit_rate(t):
    srv = Recorder(t)
    t0 = time.monotonic()
    rc, out, _ = t.run("http-get", "--limit-rate", "100k", srv.url("/big"))
    took = time.monotonic() - t0
    # 200 KiB at 100 KiB/s: about 2 s, the first 20 ms of bucket aside
    check(rc == 0 and len(out) == 204800 and 1.6 <= took < 6 * harness.SLOW, took)


@deadline(60)
def test_config_file_and_compressed(t):
    srv = Recorder(t)
    cfg = t.path("curlrc")
    with open(cfg, "w") as f:
        f.write("# a comment\n\n"
                "  user-agent = \"with space\\\\and \\\"quotes\\\"\"\n"
                "--referer http://r.example/\n"
                "-r 0-4\n"
                "silent\n"
                f"url = \"{srv.url('/page')}\"\n")
    curl = harness.need("curl")
    srv.heads.clear()
    c = subprocess.run([curl, "-K", cfg], capture_output=True, timeout=20)
    rc, out, err = t.run("http-get", "-K", cfg)
    check(rc == 0 and out == c.stdout, (rc, out, c.stdout, err))
    # the same fields, each in its own order
    check(len(srv.heads) == 2 and sorted(fields(srv.heads[0])) == sorted(fields(srv.heads[1])),
          [fields(h) for h in srv.heads])
    check(b'User-Agent: with space\\and "quotes"' in srv.heads[1], srv.heads[1])
    # -K nested, and --config=FILE
    outer = t.path("outer")
    with open(outer, "w") as f:
        f.write(f"config = {cfg}\n")
    rc, out2, _ = t.run("http-get", f"--config={outer}")
    check(rc == 0 and out2 == out)
    # a file that does not exist, a line that is no option
    rc, _, err = t.run("http-get", "-K", t.path("absent"), srv.url())
    check(rc == 2 and "absent" in err, err)
    with open(cfg, "w") as f:
        f.write("no-such-option = 1\n")
    rc, _, err = t.run("http-get", "-K", cfg, srv.url())
    check(rc == 2 and "line 1" in err and "no-such-option" in err, err)
    rc, _, err = t.run("http-get", "--compressed", srv.url())
    check(rc == 2 and "decompressor" in err, err)
