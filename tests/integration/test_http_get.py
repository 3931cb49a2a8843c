"""http-get against Python's http.server and a scripted server that sends
exactly the bytes a case needs."""
import hashlib
import http.server
import os
import socket
import stat
import threading
import time

import harness
from harness import check, deadline, sha256


class Scripted:
    """Serves each accepted connection with the next handler in order:
    handler(conn, request_head) writes whatever bytes the case needs."""

    def __init__(self, t, handlers, family=socket.AF_INET, host="127.0.0.1"):
        self.ls = socket.socket(family, socket.SOCK_STREAM)
        t.socks.append(self.ls)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((host, 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.requests = []
        self.handlers = list(handlers)
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()

    def run(self):
        self.ls.settimeout(30)
        for h in self.handlers:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            c.settimeout(30)
            self.requests.append(harness.recv_head(c))
            try:
                h(c)
            except OSError:
                pass
            finally:
                c.close()

    def url(self, path="/"):
        return f"http://127.0.0.1:{self.port}{path}"


def send(data):
    return lambda c: c.sendall(data)


def resp(status="200 OK", body=b"", headers=()):
    h = "".join(f"{k}: {v}\r\n" for k, v in headers)
    return f"HTTP/1.1 {status}\r\n{h}\r\n".encode() + body


def test_content_length_and_request_shape(t):
    srv = Scripted(t, [send(resp(body=b"hello", headers=[("Content-Length", 5)]))])
    rc, out, err = t.run("http-get", "-H", "X-Test: 1", "-H", "Accept: text/plain",
                         srv.url("/a/b?q=1#frag"))
    check(rc == 0 and out == b"hello" and err == "", (rc, out, err))
    req = srv.requests[0].decode()
    check(req.startswith("GET /a/b?q=1 HTTP/1.1\r\n"), req)
    check(f"Host: 127.0.0.1:{srv.port}\r\n" in req and "User-Agent: nettool/" in req, req)
    check("Accept: text/plain\r\n" in req and "Accept: */*" not in req, req)
    check("X-Test: 1\r\n" in req and "Connection: close\r\n" in req, req)


def test_chunked_with_extensions_and_trailers_split_small(t):
    body = (b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n")
    data = resp(headers=[("Transfer-Encoding", "chunked")]) + body

    def dribble(c):
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            c.send(data[i:i + 1])

    srv = Scripted(t, [dribble])
    rc, out, err = t.run("http-get", srv.url())
    check(rc == 0 and out == b"hello world", (rc, out, err))


def test_read_until_close_head_204_304_and_1xx(t):
    srv = Scripted(t, [
        send(b"HTTP/1.0 200 OK\r\n\r\nuntil close"),
        send(resp(headers=[("Content-Length", 100)])),  # HEAD: no body follows
        send(resp("204 No Content")),
        send(resp("304 Not Modified", headers=[("Content-Length", 10)])),
        send(resp("100 Continue") + resp("103 Early Hints", headers=[("Link", "x")]) +
             resp(body=b"final", headers=[("Content-Length", 5)])),
    ])
    rc, out, _ = t.run("http-get", srv.url())
    check(rc == 0 and out == b"until close", (rc, out))
    rc, out, _ = t.run("http-get", "-I", srv.url())
    check(rc == 0 and out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\n"), out)
    rc, out, _ = t.run("http-get", srv.url())
    check(rc == 0 and out == b"", rc)
    rc, out, _ = t.run("http-get", srv.url())
    check(rc == 0 and out == b"", rc)
    # -i: every head as it came, the interim ones too, as curl prints them
    rc, out, _ = t.run("http-get", "-i", srv.url())
    check(rc == 0 and out == b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
          b"Link: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal", out)


def redirect(code, location):
    return send(resp(f"{code} Moved", headers=[("Location", location), ("Content-Length", 0)]))


def test_every_redirect_code_relative_and_absolute(t):
    handlers = []
    for code in (301, 302, 303, 307, 308):
        handlers += [redirect(code, "../next/./page?x=1"),
                     send(resp(body=b"here", headers=[("Content-Length", 4)]))]
    srv = Scripted(t, handlers)
    for code in (301, 302, 303, 307, 308):
        rc, out, err = t.run("http-get", "-L", srv.url("/dir/sub/start"))
        check(rc == 0 and out == b"here", (code, rc, err))
        check(srv.requests[-1].startswith(b"GET /dir/next/page?x=1 HTTP/1.1"), srv.requests[-1])
    other = Scripted(t, [send(resp(body=b"abs", headers=[("Content-Length", 3)]))])
    srv = Scripted(t, [redirect(302, other.url("/absolute"))])
    rc, out, err = t.run("http-get", "-L", srv.url())
    check(rc == 0 and out == b"abs" and other.requests[0].startswith(b"GET /absolute "),
          (rc, err))
    # without -L a redirect is a complete response
    srv2 = Scripted(t, [redirect(301, "/x")])
    rc, out, _ = t.run("http-get", srv2.url())
    check(rc == 0 and out == b"", rc)


def test_redirect_loop_and_https_refused(t):
    srv = Scripted(t, [redirect(302, "/again")] * 4)
    rc, out, err = t.run("http-get", "-L", "--max-redirs", "3", srv.url())
    check(rc == 6 and "more than 3 redirects" in err, (rc, err))
    srv = Scripted(t, [redirect(301, "https://example.invalid/")])
    rc, out, err = t.run("http-get", "-L", srv.url())
    check(rc == 2 and "https is not supported" in err, (rc, err))
    rc, out, err = t.run("http-get", "https://example.invalid/")
    check(rc == 2 and "https is not supported" in err, (rc, err))


def test_truncated_and_bad_chunk_leave_no_file(t):
    srv = Scripted(t, [
        send(resp(body=b"x" * 100, headers=[("Content-Length", 1000)])),
        send(resp(headers=[("Transfer-Encoding", "chunked")]) + b"5\r\nhello\r\nzz\r\n"),
        send(resp(headers=[("Transfer-Encoding", "chunked")]) + b"-5\r\nhello\r\n"),
        send(resp(headers=[("Transfer-Encoding", "chunked")]) + b"1" * 18 + b"\r\n"),
        send(resp(headers=[("Content-Length", 5), ("Transfer-Encoding", "chunked")])),
        send(resp(headers=[("Content-Length", 5), ("Content-Length", 6)])),
        send(b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n"),
    ])
    out_path = t.path("file.bin")
    expect = ["transfer closed with 900 bytes remaining", "bad chunk size at byte",
              "bad chunk size", "bad chunk size", "both Transfer-Encoding and Content-Length",
              "conflicting Content-Length", "obsolete line folding"]
    for why in expect:
        rc, out, err = t.run("http-get", "-o", out_path, srv.url())
        check(rc == 6 and why in err, (why, rc, err))
        check(os.listdir(t.tmp) == [], os.listdir(t.tmp))


def test_server_that_never_answers_exit_5(t):
    done = threading.Event()
    srv = Scripted(t, [lambda c: done.wait(20)])
    start = time.monotonic()
    try:
        rc, out, err = t.run("http-get", "-m", "0.5", srv.url())
    finally:
        done.set()
    check(rc == 5 and "--max-time: the operation timed out waiting for the response" in err,
          (rc, err))
    check(time.monotonic() - start < 5 * harness.SLOW)


def test_connection_refused_and_resolution(t):
    s = t.sock()
    s.bind(("127.0.0.1", 0))
    rc, _, err = t.run("http-get", f"http://127.0.0.1:{s.getsockname()[1]}/")
    check(rc == 4, (rc, err))
    rc, _, err = t.run("http-get", "http://bad host/")
    check(rc == 2, (rc, err))
    rc, _, err = t.run("http-get", "-H", "X: a\r\nInjected: 1", "http://127.0.0.1/")
    check(rc == 2, (rc, err))


def serve_dir(t, directory, host="127.0.0.1", family=socket.AF_INET):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=directory, **k)

        def log_message(self, *a):
            pass

    class Server(http.server.ThreadingHTTPServer):
        address_family = family

    httpd = Server((host, 0), Quiet)
    th = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    th.start()
    t.cleanups.append(lambda: (httpd.shutdown(), httpd.server_close()))
    return httpd.server_address[1]


@deadline(240)
def test_random_bodies_by_sha256(t):
    d = t.path("www")
    os.mkdir(d)
    sizes = [0, 1, 1000, 65536, 1 << 20, 200 << 20]
    digests = {}
    for n in sizes:
        with open(os.path.join(d, f"f{n}"), "wb") as f:
            h = hashlib.sha256()
            left = n
            while left:
                b = os.urandom(min(left, 1 << 20))
                f.write(b)
                h.update(b)
                left -= len(b)
            digests[n] = h.hexdigest()
    port = serve_dir(t, d)
    for n in sizes:
        out = t.path(f"got{n}")
        rc, _, err = t.run("http-get", "-s", "-o", out, f"http://127.0.0.1:{port}/f{n}",
                           timeout=120)
        check(rc == 0, err)
        with open(out, "rb") as f:
            h = hashlib.sha256()
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        check(h.hexdigest() == digests[n], n)
        os.unlink(out)


def test_ipv6_literal_and_remote_name(t):
    d = t.path("www")
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, "sub", "data.txt"), "wb") as f:
        f.write(b"six\n")
    try:
        port = serve_dir(t, d, host="::1", family=socket.AF_INET6)
    except OSError:
        raise harness.Skip("no IPv6 loopback")
    work = t.path("work")
    os.mkdir(work)
    rc, out, err = t.run("http-get", "-O", f"http://[::1]:{port}/sub/data.txt", cwd=work)
    check(rc == 0 and os.listdir(work) == ["data.txt"], (rc, err, os.listdir(work)))
    rc, out, err = t.run("http-get", "-O", f"http://[::1]:{port}/sub/", cwd=work)
    check(rc == 0 and "index.html" in os.listdir(work), (rc, err))


def test_output_failure_is_atomic(t):
    if os.geteuid() == 0:
        # root writes anywhere: make the final rename fail instead
        d = t.path("out")
        os.mkdir(d)
        target = os.path.join(d, "file")
        os.mkdir(target)  # a directory stands where the file should go
    else:
        d = t.path("ro")
        os.mkdir(d)
        os.chmod(d, stat.S_IRUSR | stat.S_IXUSR)
        target = os.path.join(d, "file")
    srv = Scripted(t, [send(resp(body=b"data", headers=[("Content-Length", 4)]))])
    rc, out, err = t.run("http-get", "-o", target, srv.url())
    check(rc == 1 and err, (rc, err))
    leftovers = [x for x in os.listdir(d) if x != "file"]
    check(leftovers == [], leftovers)


def test_fail_and_basic_auth(t):
    srv = Scripted(t, [send(resp("404 Not Found", body=b"nope", headers=[("Content-Length", 4)])),
                       send(resp("404 Not Found", body=b"nope", headers=[("Content-Length", 4)])),
                       send(resp(body=b"ok", headers=[("Content-Length", 2)]))])
    rc, out, err = t.run("http-get", "-f", srv.url())
    check(rc == 7 and out == b"" and "404" in err, (rc, out, err))
    rc, out, err = t.run("http-get", srv.url())
    check(rc == 0 and out == b"nope", (rc, out))
    rc, out, err = t.run("http-get", f"http://al%40ice:s3cret@127.0.0.1:{srv.port}/")
    check(rc == 0 and b"Authorization: Basic YWxAaWNlOnMzY3JldA==\r\n" in srv.requests[-1],
          srv.requests[-1])


def test_continue_partial_file(t):
    full = os.urandom(10000)
    out = t.path("part")
    with open(out, "wb") as f:
        f.write(full[:4000])
    srv = Scripted(t, [
        send(resp("206 Partial Content", body=full[4000:],
                  headers=[("Content-Length", 6000), ("Content-Range", "bytes 4000-9999/10000")])),
        send(resp(body=full, headers=[("Content-Length", 10000)]))])
    rc, _, err = t.run("http-get", "-C", "-o", out, srv.url())
    check(rc == 0 and b"Range: bytes=4000-\r\n" in srv.requests[0], (rc, err))
    with open(out, "rb") as f:
        check(f.read() == full)
    with open(out, "wb") as f:
        f.write(b"garbage")
    rc, _, err = t.run("http-get", "-C", "-o", out, srv.url())  # a 200: start over
    with open(out, "rb") as f:
        check(rc == 0 and f.read() == full, (rc, err))


def test_nginx_interop(t):
    nginx = harness.need("nginx")
    d = t.path("www")
    os.mkdir(d)
    data = os.urandom(3 << 20)
    with open(os.path.join(d, "blob"), "wb") as f:
        f.write(data)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    conf = t.path("nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; master_process off; pid {t.path('nginx.pid')}; error_log stderr;
events {{}}
http {{ access_log off; client_body_temp_path {t.tmp}; proxy_temp_path {t.tmp};
  fastcgi_temp_path {t.tmp}; uwsgi_temp_path {t.tmp}; scgi_temp_path {t.tmp};
  server {{ listen 127.0.0.1:{port}; root {d}; }} }}
""")
    p = harness.Proc(t, [nginx, "-c", conf, "-p", t.tmp])
    end = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            check(time.monotonic() < end, "nginx did not start:\n" + p.stderr())
            time.sleep(0.05)
    os.mkdir(os.path.join(d, "dir"))
    with open(os.path.join(d, "dir", "index.html"), "wb") as f:
        f.write(b"in dir\n")
    rc, out, err = t.run("http-get", f"http://127.0.0.1:{port}/blob")
    check(rc == 0 and sha256(out) == sha256(data), (rc, err))
    rc, out, err = t.run("http-get", "-L", f"http://127.0.0.1:{port}/dir")  # 301 to dir/
    check(rc == 0 and out == b"in dir\n", (rc, out, err))
    rc, out, err = t.run("http-get", "-f", f"http://127.0.0.1:{port}/missing")
    check(rc == 7 and out == b"", (rc, err))
    p.signal(harness.signal.SIGQUIT)
    p.wait(10)


def test_output_to_a_device_or_fifo_is_written_in_place(t):
    """-o on a device (like /dev/null) or FIFO writes to it, never replaces it.
    The device is a null device made in the test's own directory, so that a
    regression cannot harm the machine's /dev/null."""
    dev = t.path("null")
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError:
        dev = None  # not root: the FIFO only
    srv = Scripted(t, ([send(resp(body=b"data", headers=[("Content-Length", 4)]))] if dev else [])
                   + [send(resp(body=b"fifo", headers=[("Content-Length", 4)]))])
    if dev:
        rc, out, err = t.run("http-get", "-o", dev, srv.url())
        check(stat.S_ISCHR(os.stat(dev).st_mode), "the device was replaced")
        check(rc == 0 and sorted(os.listdir(t.tmp)) == ["null"], (rc, err, os.listdir(t.tmp)))
    fifo = t.path("fifo")
    os.mkfifo(fifo)
    got = []
    th = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    th.start()
    rc, out, err = t.run("http-get", "-o", fifo, srv.url())
    th.join(10)
    check(rc == 0 and got == [b"fifo"] and stat.S_ISFIFO(os.stat(fifo).st_mode), (rc, got, err))


def test_output_through_a_symlink_replaces_its_target(t):
    srv = Scripted(t, [send(resp(body=b"new", headers=[("Content-Length", 3)]))])
    target = t.path("real")
    with open(target, "wb") as f:
        f.write(b"old")
    link = t.path("link")
    os.symlink(target, link)
    rc, out, err = t.run("http-get", "-o", link, srv.url())
    check(rc == 0 and os.path.islink(link), (rc, err))
    with open(target, "rb") as f:
        check(f.read() == b"new")


@deadline(30)
def test_progress_bar_on_a_terminal(t):
    """On a terminal, with the body going to a file: a progress line while
    the transfer runs, cleared at the end; none with -s."""
    release = threading.Event()

    def slow(c):
        c.sendall(resp(headers=[("Content-Length", 200000)]) + b"x" * 100000)
        release.wait(20)
        c.sendall(b"y" * 100000)

    srv = Scripted(t, [slow, send(resp(body=b"z", headers=[("Content-Length", 1)]))])
    out = t.path("f")
    term = harness.Tmux(t, f"{harness.NETTOOL} http-get -o {out} {srv.url()}")
    try:
        # redrawn at most ten times a second, on arriving data: some count
        pane = term.wait(lambda s: "/200000 bytes" in s)
        check("%" in pane, pane)
    finally:
        release.set()
    pane = term.wait(lambda s: "EXIT=" in s)
    check("EXIT=0" in pane and "bytes" not in pane, pane)
    check(os.path.getsize(out) == 200000)
    term2 = harness.Tmux(t, f"{harness.NETTOOL} http-get -s -o {out} {srv.url()}")
    pane = term2.wait(lambda s: "EXIT=" in s)
    check("EXIT=0" in pane and "bytes" not in pane, pane)
