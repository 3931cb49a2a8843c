"""http-get --retry: which failures are tried again, how long it waits
(--retry-delay, Retry-After, --retry-max-time), and that no attempt leaves
half a file or a dropped response in the output; curl is the oracle for
the count of attempts."""
import os
import subprocess
import time

import harness
from harness import check, deadline


def ok(body):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def status(code, extra=b"", body=b"busy\n"):
    return (b"HTTP/1.1 %d Oops\r\n%sContent-Length: %d\r\n\r\n%s"
            % (code, extra, len(body), body))


STALL = "stall"  # accept, read the head, answer nothing


class Script:
    """Answers the n-th connection with the n-th reply (the last one
    again after that): bytes, STALL, or a function of the request head.
    Keeps every request head and the time it came."""

    def __init__(self, t, replies):
        self.replies = replies
        self.heads, self.times = [], []
        self.ls = t.listener()
        self.port = self.ls.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/f"
        self.held = []
        t.cleanups.append(lambda: [c.close() for c in self.held])
        harness.accept_loop(self.ls, self.answer)

    def answer(self, c):
        c.settimeout(10)
        try:
            head = harness.recv_head(c)
        except OSError:
            c.close()
            return
        self.times.append(time.monotonic())
        self.heads.append(head)
        r = self.replies[min(len(self.heads), len(self.replies)) - 1]
        if callable(r):
            r = r(head, c)
        if r == STALL:
            self.held.append(c)
            return
        if isinstance(r, tuple):  # part of an answer, then a stall
            c.sendall(r[0])
            self.held.append(c)
            return
        try:
            c.sendall(r)
        except OSError:
            pass
        c.close()


def retry_lines(err):
    return [x for x in err.splitlines() if "retrying in" in x]


@deadline(60)
def test_statuses_are_tried_again_and_never_reach_the_output(t):
    srv = Script(t, [status(503), status(500), ok(b"the page\n")])
    rc, out, err = t.run("http-get", "--retry", "3", "--retry-delay", "0.05", srv.url)
    check(rc == 0 and out == b"the page\n", (rc, out, err))
    check(len(srv.heads) == 3 and len(retry_lines(err)) == 2, err)
    check("HTTP 503 Oops: retrying in 0.05 s, 3 retries left" in err, err)
    # into a file: the file appears whole, once
    srv = Script(t, [status(502), ok(b"x" * 100000)])
    out = t.path("got")
    rc, _, err = t.run("http-get", "-s", "--retry", "1", "--retry-delay", "0.05", "-o", out, srv.url)
    with open(out, "rb") as f:
        check(rc == 0 and f.read() == b"x" * 100000, err)
    check(err == "" and len(srv.heads) == 2, err)  # -s: no retry message
    check(os.listdir(os.path.dirname(out)).count("got") == 1 and
          not [n for n in os.listdir(os.path.dirname(out)) if "nettool-" in n])


@deadline(60)
def test_what_is_not_retried_and_exhaustion(t):
    # 404 is no transient error; with -f it is one for --retry-all-errors
    srv = Script(t, [status(404, body=b"nope\n")])
    rc, out, _ = t.run("http-get", "--retry", "3", "--retry-delay", "0.05", srv.url)
    check(rc == 0 and out == b"nope\n" and len(srv.heads) == 1)
    rc, out, _ = t.run("http-get", "-f", "--retry", "2", "--retry-all-errors",
                       "--retry-delay", "0.05", srv.url)
    check(rc == 7 and out == b"" and len(srv.heads) == 4, (rc, len(srv.heads)))
    # retries run out: the last answer is the result, as without --retry
    srv = Script(t, [status(503)])
    rc, out, err = t.run("http-get", "--retry", "2", "--retry-delay", "0.05", srv.url)
    check(rc == 0 and out == b"busy\n" and len(srv.heads) == 3, (rc, out, err))
    rc, out, err = t.run("http-get", "-f", "--retry", "1", "--retry-delay", "0.05", srv.url)
    check(rc == 7 and out == b"" and len(srv.heads) == 5, (rc, out, err))
    # refused: only with --retry-connrefused
    closed = t.sock()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    rc, _, err = t.run("http-get", "--retry", "2", "--retry-delay", "0.05", url)
    check(rc == 4 and not retry_lines(err), err)
    rc, _, err = t.run("http-get", "--retry", "2", "--retry-connrefused", "--retry-delay", "0.05", url)
    check(rc == 4 and len(retry_lines(err)) == 2, err)
    check(err.count("refused") == 3, err)  # each attempt's reason, said once


@deadline(60)
def test_attempt_counts_as_curl(t):
    curl = harness.need("curl")
    for replies, extra in (([status(503), status(503), ok(b"a")], []),
                           ([status(429), ok(b"a")], []),
                           ([status(503)], ["-f"]),
                           ([status(404)], ["-f", "--retry-all-errors"]),
                           ([status(404)], []),
                           ([status(301, b"Location: /x\r\n")], [])):
        srv = Script(t, replies)
        c = subprocess.run([curl, "-s", "--retry", "2", "--retry-delay", "1", *extra, srv.url],
                           capture_output=True, timeout=30)
        theirs = len(srv.heads)
        srv.heads.clear()
        rc, out, _ = t.run("http-get", "-s", "--retry", "2", "--retry-delay", "0.05", *extra,
                           srv.url)
        # curl also writes each retried answer's body; http-get drops them
        check(len(srv.heads) == theirs and c.stdout.endswith(out), (extra, len(srv.heads), theirs))
        check(rc == c.returncode or (rc, c.returncode) == (7, 22), (rc, c.returncode))


@deadline(60)
def test_twice_503_with_retry_after_then_200(t):
    busy = status(503, b"Retry-After: 1\r\n")
    srv = Script(t, [busy, busy, ok(b"at last\n")])
    rc, out, err = t.run("http-get", "--retry", "3", srv.url)
    check(rc == 0 and out == b"at last\n" and len(srv.heads) == 3, (rc, out, err))
    check(len(retry_lines(err)) == 2, err)
    check(all("retrying in 1 s" in x for x in retry_lines(err)), err)
    check(srv.times[1] - srv.times[0] >= 0.9 and srv.times[2] - srv.times[1] >= 0.9, srv.times)


@deadline(60)
def test_retry_after_and_retry_max_time(t):
    srv = Script(t, [status(429, b"Retry-After: 1\r\n"), ok(b"a")])
    rc, _, err = t.run("http-get", "--retry", "1", "--retry-delay", "0.05", srv.url)
    check(rc == 0 and "retrying in 1 s" in err, err)
    check(srv.times[1] - srv.times[0] >= 0.9, srv.times)
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 2))
    srv = Script(t, [status(503, b"Retry-After: " + when.encode() + b"\r\n"), ok(b"a")])
    rc, _, err = t.run("http-get", "--retry", "1", srv.url)
    check(rc == 0 and srv.times[1] - srv.times[0] >= 0.9, (err, srv.times))
    # a window of 1 s with 0.3 s between tries: no try starts past it
    srv = Script(t, [status(503)])
    t0 = time.monotonic()
    rc, _, err = t.run("http-get", "--retry", "100", "--retry-delay", "0.3",
                       "--retry-max-time", "1", srv.url)
    check(rc == 0 and 2 <= len(srv.heads) <= 4 and time.monotonic() - t0 < 3,
          (len(srv.heads), err))
    # a Retry-After past the window: no retry at all
    srv = Script(t, [status(503, b"Retry-After: 60\r\n")])
    rc, _, err = t.run("http-get", "--retry", "3", "--retry-max-time", "5", srv.url)
    check(rc == 0 and len(srv.heads) == 1 and not retry_lines(err), err)


@deadline(60)
def test_timeouts_are_retried_each_try_its_own_max_time(t):
    srv = Script(t, [STALL, STALL, ok(b"late\n")])
    rc, out, err = t.run("http-get", "-m", "0.3", "--retry", "2", "--retry-delay", "0.05", srv.url)
    check(rc == 0 and out == b"late\n" and len(retry_lines(err)) == 2, (rc, err))
    check("timed out" in retry_lines(err)[0], err)


@deadline(60)
def test_a_file_is_never_left_half_written_and_continue_resumes(t):
    data = os.urandom(200000)
    half = (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data)) + data[:70000]
    out = t.path("file")
    with open(out, "wb") as f:
        f.write(b"old content")
    # every try stalls half way: the old file stays as it was
    srv = Script(t, [(half,)])
    rc, _, err = t.run("http-get", "-m", "0.3", "--retry", "1", "--retry-delay", "0.05", "-o", out,
                       srv.url)
    with open(out, "rb") as f:
        check(rc == 5 and f.read() == b"old content", (rc, err))
    check(not [n for n in os.listdir(os.path.dirname(out)) if "nettool-" in n])

    # -C: the second try asks for the rest and appends it
    def rest(head, c):
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"range: bytes="):
                start = int(line.split(b"=")[1].rstrip(b"-"))
                return (b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\n"
                        b"Content-Length: %d\r\n\r\n" % (start, len(data) - 1, len(data),
                                                         len(data) - start)) + data[start:]
        return (half,)

    part = (b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-%d/%d\r\n"
            b"Content-Length: %d\r\n\r\n" % (len(data) - 1, len(data), len(data))) + data[:70000]
    os.unlink(out)
    open(out, "wb").close()
    srv = Script(t, [(part,), rest])
    rc, _, err = t.run("http-get", "-C", "-m", "0.5", "--retry", "2", "--retry-delay", "0.05",
                       "-o", out, srv.url)
    with open(out, "rb") as f:
        got = f.read()
    check(rc == 0 and got == data, (rc, len(got), err))
    check(b"range: bytes=70000-" in srv.heads[1].lower(), srv.heads[1])


@deadline(60)
def test_what_cannot_be_replayed_is_not(t):
    # standard output already has part of a body: not taken back, not doubled
    data = b"y" * 50000
    half = (b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n") + data
    srv = Script(t, [(half,), ok(b"whole")])
    rc, out, err = t.run("http-get", "-m", "0.3", "--retry", "2", "--retry-delay", "0.05", srv.url)
    check(rc == 5 and out == data and len(srv.heads) == 1, (rc, len(out), err))
    check("not tried again" in err, err)
    # a body read from a pipe was sent once and cannot be again
    def read_then_busy(head, c):
        if b"100-continue" in head.lower():
            c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        got = head.split(b"\r\n\r\n", 1)[1]
        while not got.endswith(b"0\r\n\r\n"):
            got += c.recv(65536)
        return status(503)

    srv = Script(t, [read_then_busy, ok(b"a")])
    p = subprocess.run([harness.NETTOOL, "http-get", "-T", "-", "--retry", "2", "--retry-delay",
                        "0.05", srv.url], input=b"piped body", capture_output=True, timeout=20)
    check(p.returncode == 0 and p.stdout == b"busy\n" and len(srv.heads) == 1, p.stderr)
    check(b"not tried again: the body was read from a pipe" in p.stderr, p.stderr)
    # one the server refused before reading it is sent on the next try
    srv = Script(t, [status(503), ok(b"a")])
    p = subprocess.run([harness.NETTOOL, "http-get", "-T", "-", "--retry", "2", "--retry-delay",
                        "0.05", srv.url], input=b"piped body", capture_output=True, timeout=20)
    check(p.returncode == 0 and p.stdout == b"a" and len(srv.heads) == 2, p.stderr)


def test_retry_options_are_checked(t):
    for args in (["--retry", "x"], ["--retry", "-1"], ["--retry-delay", "soon"],
                 ["--retry-max-time", "1x"]):
        rc, _, err = t.run("http-get", *args, "http://127.0.0.1:1/")
        check(rc == 2 and args[0] in err, (args, err))
