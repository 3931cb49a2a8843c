"""http-get beyond GET: methods, request bodies, Basic authentication and
how redirects treat them, against a Python http.server that records each
request's method, target, headers and exact body bytes, and against curl
sending the same options to the same recorder where curl is installed."""
import base64
import http.server
import os
import shutil
import subprocess
import threading

import harness
from harness import check, deadline


class Recorder:
    """Records every request. /r/CODE redirects to the query's target (or
    /done); /early answers 413 without reading the body."""

    def __init__(self, t, host="127.0.0.1"):
        seen = self.seen = []
        cond = self.cond = threading.Condition()

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def any(self):
                if self.path == "/early":
                    self.send_response(413)
                    self.send_header("Content-Length", "0")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    return
                seen.append((self.command, self.path, dict(self.headers), self.body()))
                if self.path.startswith("/r/"):
                    code = int(self.path[3:6])
                    to = self.path.split("?to=", 1)[1] if "?to=" in self.path else "/done"
                    self.send_response(code)
                    self.send_header("Location", to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                out = b"ok\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)

            def body(self):
                if self.headers.get("Transfer-Encoding") == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            check(self.rfile.readline() == b"\r\n", "chunked trailer")
                            return out
                        out += self.rfile.read(size)
                        check(self.rfile.readline() == b"\r\n", "chunk end")
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def handle_expect_100(self):
                """/refuse answers 413 at once and counts what still comes;
                /silent never sends 100; the rest answer 100."""
                if self.path == "/refuse":
                    self.send_response(413)
                    self.send_header("Content-Length", "0")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.flush()
                    self.connection.settimeout(10)
                    n = 0
                    while True:
                        got = self.connection.recv(65536)
                        if not got:
                            break
                        n += len(got)
                    with cond:  # after the client has gone: see wait_count
                        seen.append(("REFUSED", self.path, dict(self.headers), n))
                        cond.notify_all()
                    self.close_connection = True
                    return False
                if self.path == "/silent":
                    return True
                return super().handle_expect_100()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = any

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer((host, 0), H)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        self.host = host
        # a short poll interval, so that the shutdown at cleanup is quick
        threading.Thread(target=self.srv.serve_forever, args=(0.05,), daemon=True).start()
        t.cleanups.append(lambda: (self.srv.shutdown(), self.srv.server_close()))

    def url(self, path="/"):
        return f"http://{self.host}:{self.port}{path}"

    def wait_count(self, n, timeout=10):
        """Wait until n requests are recorded: a refused one is recorded
        only once its client has closed, which may be after it exited."""
        with self.cond:
            check(self.cond.wait_for(lambda: len(self.seen) >= n, timeout * harness.SLOW),
                  f"{len(self.seen)} of {n} requests recorded")


def shape(req):
    """What a request carries, for comparing with curl's."""
    method, path, h, body = req
    return (method, path, h.get("Content-Type"), h.get("Content-Length"),
            h.get("Authorization"), body)


@deadline(60)
def test_data_options_send_what_curl_sends(t):
    rec = Recorder(t)
    crlf = t.path("crlf.txt")
    with open(crlf, "wb") as f:
        f.write(b"l1\r\nl2\n\x00end")
    text = t.path("text.txt")
    with open(text, "wb") as f:
        f.write(b"l1\r\nl2\n")
    cases = [
        (["-d", "a=1", "-d", "b=2"], "POST", "/p", b"a=1&b=2"),
        (["-d", "@" + text, "-d", "@-"], "POST", "/p", b"l1l2&l1l2"),
        (["--data-binary", "@" + crlf], "POST", "/p", b"l1\r\nl2\n\x00end"),
        (["--data-urlencode", "name=a b&c", "--data-urlencode", "=x y",
          "--data-urlencode", "z/1", "--data-urlencode", "f@" + crlf], "POST", "/p",
         b"name=a+b%26c&x+y&z%2F1&f=l1%0D%0Al2%0A%00end"),
        (["--json", '{"n":', "--json", "1}"], "POST", "/p", b'{"n":1}'),
        (["-G", "-d", "q=1", "--data-urlencode", "s=a b"], "GET", "/p?q=1&s=a+b", b""),
        (["-X", "PUT", "-d", "x"], "PUT", "/p", b"x"),
        (["-X", "DELETE"], "DELETE", "/p", b""),
    ]
    curl = shutil.which("curl")
    if not curl:
        print("SKIP the curl comparison: curl is not installed")
    for args, method, path, body in cases:
        rc, out, err = t.run("http-get", *args, rec.url("/p"), input=b"l1\r\nl2\n")
        check(rc == 0 and out == b"ok\n", (args, rc, err))
        ours = rec.seen[-1]
        check(ours[0] == method and ours[1] == path and ours[3] == body, (args, ours))
        want_type = ("application/json" if "--json" in args else
                     None if method in ("GET", "DELETE") else "application/x-www-form-urlencoded")
        check(ours[2].get("Content-Type") == want_type, (args, ours[2]))
        if "--json" in args:
            check(ours[2].get("Accept") == "application/json", ours[2])
        if curl:
            p = subprocess.run([curl, "-s", *args, rec.url("/p")], capture_output=True,
                               input=b"l1\r\nl2\n", timeout=20 * harness.SLOW)
            check(p.returncode == 0, p.stderr)
            check(shape(ours) == shape(rec.seen[-1]), (args, shape(ours), shape(rec.seen[-1])))


@deadline(30)
def test_data_keeps_nul_bytes(t):
    """-d @FILE drops CR and LF only; a NUL byte is data (curl stops there)."""
    rec = Recorder(t)
    path = t.path("nul.txt")
    with open(path, "wb") as f:
        f.write(b"a\x00b\r\n")
    rc, _, err = t.run("http-get", "-d", "@" + path, rec.url("/p"))
    check(rc == 0 and rec.seen[-1][3] == b"a\x00b", (rc, err, rec.seen[-1]))


@deadline(30)
def test_bad_body_options_send_nothing(t):
    rec = Recorder(t)
    for args in (["-X", "BAD METHOD"], ["-X", ""], ["-d", "@/nonexistent/file"],
                 ["--json", "@/nonexistent/file"], ["-u", "nocolon"], ["-I", "-d", "x"]):
        rc, out, err = t.run("http-get", *args, rec.url("/p"))
        check(rc == 2 and out == b"" and err.count("\n") <= 2, (args, rc, err))
    check(rec.seen == [], rec.seen)


@deadline(60)
def test_redirects_change_the_method_as_rfc_9110_says(t):
    rec = Recorder(t)
    for code, method, want_method, want_body in (
            (301, "POST", "GET", b""), (302, "POST", "GET", b""), (303, "POST", "GET", b""),
            (303, "PUT", "GET", b""), (302, "PUT", "PUT", b"data"),
            (307, "POST", "POST", b"data"), (308, "PUT", "PUT", b"data")):
        del rec.seen[:]
        rc, out, err = t.run("http-get", "-L", "-X", method, "-d", "data",
                             rec.url(f"/r/{code}"))
        check(rc == 0 and out == b"ok\n", (code, rc, err))
        first, done = rec.seen
        check(first[0] == method and first[3] == b"data", first)
        check(done[1] == "/done" and done[0] == want_method and done[3] == want_body,
              (code, method, done))
        check(("Content-Length" in done[2]) == bool(want_body), (code, done[2]))


@deadline(60)
def test_basic_auth_to_the_first_host_only(t):
    a, b = Recorder(t), Recorder(t)
    want = "Basic " + base64.b64encode(b"me:p@ss").decode()
    rc, _, err = t.run("http-get", "-u", "me:p@ss", a.url("/x"))
    check(rc == 0 and a.seen[-1][2].get("Authorization") == want, (rc, err, a.seen[-1][2]))
    rc, _, err = t.run("http-get", f"http://me:p%40ss@127.0.0.1:{a.port}/y")
    check(rc == 0 and a.seen[-1][2].get("Authorization") == want, (rc, err))
    # a redirect to the same host keeps them, to another host (port) drops
    # them, -H Authorization included
    for args in (["-u", "me:p@ss"], ["-H", "Authorization: " + want]):
        del a.seen[:], b.seen[:]
        rc, out, err = t.run("http-get", "-L", *args, a.url("/r/302?to=/r/307?to=" + b.url("/z")))
        check(rc == 0 and out == b"ok\n", (rc, err))
        check([r[2].get("Authorization") for r in a.seen] == [want, want], a.seen)
        check(len(b.seen) == 1 and "Authorization" not in b.seen[0][2], b.seen)


@deadline(30)
def test_an_answer_before_the_body_is_taken(t):
    """A server that answers 413 and closes without reading a large body:
    the answer is what the user sees (exit 7 with -f), not a send error."""
    rec = Recorder(t)
    big = t.path("big")
    with open(big, "wb") as f:
        f.write(os.urandom(8 << 20))
    rc, out, err = t.run("http-get", "-f", "--data-binary", "@" + big, rec.url("/early"))
    check(rc == 7 and "413" in err, (rc, err))


def parse_form(headers, body):
    """A multipart/form-data body as [(name, filename, type, bytes)], by
    Python's email parser."""
    import email.parser
    import email.policy
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n" + body)
    check(msg.is_multipart(), headers)
    return [(p.get_param("name", header="content-disposition"), p.get_filename(),
             p.get("Content-Type"), p.get_payload(decode=True)) for p in msg.iter_parts()]


@deadline(60)
def test_form_parts_as_rfc_7578_says(t):
    rec = Recorder(t)
    data = bytes(range(256)) * 40 + b"\r\n--\r\n"
    with open(t.path("pic.bin"), "wb") as f:
        f.write(data)
    with open(t.path("note.txt"), "wb") as f:
        f.write(b"from a file\n")
    args = ["-F", "name=Ada Lovelace", "-F", "pic=@" + t.path("pic.bin"),
            "-F", "doc=@" + t.path("note.txt") + ";type=text/plain;filename=n.txt",
            "-F", "text=<" + t.path("note.txt"), "-F", "in=@-;filename=stdin.dat"]
    rc, out, err = t.run("http-get", *args, rec.url("/form"), input=b"piped\x00in")
    check(rc == 0 and out == b"ok\n", (rc, err))
    method, path, h, body = rec.seen[-1]
    check(method == "POST" and int(h["Content-Length"]) == len(body), h)
    boundary = h["Content-Type"].split("boundary=")[1]
    check(boundary.encode() not in data, boundary)
    want = [("name", None, None, b"Ada Lovelace"),
            ("pic", "pic.bin", None, data),
            ("doc", "n.txt", "text/plain", b"from a file\n"),
            ("text", None, None, b"from a file\n"),
            ("in", "stdin.dat", None, b"piped\x00in")]
    check(parse_form(h, body) == want, parse_form(h, body))
    curl = shutil.which("curl")
    if not curl:
        print("SKIP the curl comparison of -F: curl is not installed")
        return
    p = subprocess.run([curl, "-s", *args, rec.url("/form")], capture_output=True,
                       input=b"piped\x00in", timeout=20 * harness.SLOW)
    check(p.returncode == 0, p.stderr)
    theirs = parse_form(rec.seen[-1][2], rec.seen[-1][3])
    # curl names a file's type where we leave it to the server (RFC 7578 4.4)
    check([(n, f, d) for n, f, _, d in theirs] == [(n, f, d) for n, f, _, d in want],
          theirs)


@deadline(60)
def test_upload_file_puts_it_with_its_length(t):
    rec = Recorder(t)
    data = os.urandom(3 << 20)  # over 1 MiB: Expect: 100-continue
    path = t.path("up load.bin")
    with open(path, "wb") as f:
        f.write(data)
    rc, out, err = t.run("http-get", "-T", path, rec.url("/dir/"))
    check(rc == 0 and out == b"ok\n", (rc, err))
    method, target, h, body = rec.seen[-1]
    check(method == "PUT" and target == "/dir/up%20load.bin", (method, target))
    check(h.get("Content-Length") == str(len(data)) and body == data, h)
    check(h.get("Expect") == "100-continue", h)
    # a small one, with another method; stdin on a file
    with open(t.path("small"), "wb") as f:
        f.write(b"abc")
    with open(t.path("small"), "rb") as f:
        rc, out, err = t.run("http-get", "-X", "POST", "-T", "-", rec.url("/s"), stdin=f)
    method, target, h, body = rec.seen[-1]
    check(rc == 0 and method == "POST" and body == b"abc", (rc, err, method, body))
    check("Expect" not in h and h.get("Content-Length") == "3", h)


@deadline(60)
def test_upload_from_a_pipe_is_chunked(t):
    rec = Recorder(t)
    data = os.urandom(5 << 20)
    rc, out, err = t.run("http-get", "-T", "-", rec.url("/p"), input=data)
    check(rc == 0 and out == b"ok\n", (rc, err))
    method, _, h, body = rec.seen[-1]
    check(method == "PUT" and h.get("Transfer-Encoding") == "chunked", h)
    check("Content-Length" not in h and body == data, (h, len(body)))


@deadline(60)
def test_expect_100_continue_both_ways(t):
    """A final status before 100 Continue: no body byte is sent. No answer
    at all: the body goes after a second."""
    import time
    rec = Recorder(t)
    big = t.path("big")
    with open(big, "wb") as f:
        f.write(os.urandom(2 << 20))
    rc, out, err = t.run("http-get", "-f", "-T", big, rec.url("/refuse"))
    check(rc == 7 and "413" in err, (rc, err))
    rec.wait_count(1)
    check(rec.seen[-1][0] == "REFUSED" and rec.seen[-1][3] == 0, rec.seen[-1])
    rc, out, err = t.run("http-get", "-f", "-T", "-", rec.url("/refuse"), input=b"x" * 100)
    rec.wait_count(2)
    check(rc == 7 and rec.seen[-1][3] == 0, (rc, err, rec.seen[-1]))
    start = time.monotonic()
    rc, out, err = t.run("http-get", "-T", big, rec.url("/silent"))
    took = time.monotonic() - start
    check(rc == 0 and rec.seen[-1][3] == open(big, "rb").read(), (rc, err))
    check(took >= 0.9, took)


@deadline(60)
def test_redirects_repeat_a_file_body_not_a_piped_one(t):
    rec = Recorder(t)
    path = t.path("f")
    with open(path, "wb") as f:
        f.write(b"file body")
    for code in (307, 308):
        del rec.seen[:]
        rc, out, err = t.run("http-get", "-L", "-T", path, rec.url(f"/r/{code}"))
        check(rc == 0 and [r[3] for r in rec.seen] == [b"file body"] * 2, (rc, err, rec.seen))
        rc, out, err = t.run("http-get", "-L", "-F", "f=@" + path, rec.url(f"/r/{code}"))
        check(rc == 0 and rec.seen[-1][3] == rec.seen[-2][3] and
              b"file body" in rec.seen[-1][3], (rc, err))
        rc, out, err = t.run("http-get", "-L", "-T", "-", rec.url(f"/r/{code}"),
                             input=b"piped body")
        check(rc == 6 and "pipe" in err and rec.seen[-1][3] == b"piped body", (rc, err))
    # 303 drops it, piped or not
    rc, out, err = t.run("http-get", "-L", "-T", "-", rec.url("/r/303"), input=b"p")
    check(rc == 0 and rec.seen[-1][0] == "GET" and rec.seen[-1][3] == b"", (rc, err))


@deadline(30)
def test_bad_upload_options_send_nothing(t):
    rec = Recorder(t)
    path = t.path("f")
    with open(path, "wb") as f:
        f.write(b"x")
    for args in (["-T", path, "-d", "x"], ["-T", path, "-F", "a=b"], ["-F", "a=b", "-d", "x"],
                 ["--json", "{}", "-F", "a=b"], ["-F", "novalue"], ["-F", "a=@/nonexistent"],
                 ["-F", "=x"], ["-T", "/nonexistent"], ["-T", t.tmp], ["-I", "-T", path],
                 ["-F", "a=@" + path + ";size=1"]):
        rc, out, err = t.run("http-get", *args, rec.url("/p"))
        check(rc == 2 and out == b"" and err.count("\n") <= 2, (args, rc, err))
    check(rec.seen == [], rec.seen)


@deadline(30)
def test_output_file_mode_follows_the_umask(t):
    rec = Recorder(t)
    out = t.path("new.txt")
    rc, _, err = t.run("http-get", "-X", "POST", "-o", out, rec.url("/x"),
                       preexec_fn=lambda: os.umask(0o027))
    check(rc == 0 and os.stat(out).st_mode & 0o7777 == 0o640, (rc, err, oct(os.stat(out).st_mode)))
    os.chmod(out, 0o604)
    rc, _, err = t.run("http-get", "-X", "POST", "-o", out, rec.url("/x"))
    check(rc == 0 and os.stat(out).st_mode & 0o7777 == 0o604, oct(os.stat(out).st_mode))
