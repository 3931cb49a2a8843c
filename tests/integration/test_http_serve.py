"""http-serve against raw sockets, curl, http.client and nettool http-get:
a catalogue of hostile requests, listings, ranges, conditionals,
keep-alive, pipelining and timeouts."""
import ast
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse

import harness
from harness import alone, check, deadline, recv_all

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def make_root(t):
    root = t.path("root")
    os.makedirs(os.path.join(root, "sub"))
    with open(os.path.join(root, "index.html"), "wb") as f:
        f.write(b"<h1>home</h1>\n")
    with open(os.path.join(root, "sub", "a.txt"), "wb") as f:
        f.write(b"sub file\n")
    secret = t.path("secret")
    with open(secret, "wb") as f:
        f.write(b"outside\n")
    os.symlink(secret, os.path.join(root, "out"))
    return root


def random_file(root, name, size):
    """Write size random bytes to root/name; returns them."""
    data = os.urandom(size)
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)
    return data


def exchange(port, raw, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout * harness.SLOW)
    try:
        try:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before it read it all
        return recv_all(s)
    finally:
        s.close()


def status_of(resp):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", resp)
    return int(m.group(1)) if m else None


def normal_request_works(port):
    resp = exchange(port, b"GET /sub/a.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    check(status_of(resp) == 200 and resp.endswith(b"\r\n\r\nsub file\n"), resp[:200])


@deadline(60)
def test_hostile_catalogue(t):
    srv = t.server("http-serve", "-d", make_root(t), "-q")
    bad = []
    with open(os.path.join(DATA, "http-serve-hostile.txt")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            want, req = line.rstrip("\n").split("\t", 1)
            raw = ast.literal_eval("b'" + req.replace("'", "\\'") + "'")
            resp = exchange(srv.port, raw)
            if status_of(resp) != int(want):
                bad.append(f"{req!r}: want {want}, got {resp[:60]!r}")
            if b"outside" in resp:
                bad.append(f"{req!r}: leaked the outside file")
    check(not bad, "\n".join(bad))
    long_line = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    check(status_of(exchange(srv.port, long_line)) == 414)
    many = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(10000)) + b"\r\n"
    check(status_of(exchange(srv.port, many)) == 431)
    # a long method is no URI: 501; a long chunk extension is a bad body: 400
    check(status_of(exchange(srv.port, b"A" * 9000 + b" / HTTP/1.1\r\nHost: a\r\n\r\n")) == 501)
    ext = (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;"
           + b"e" * 9000 + b"\r\nhello\r\n0\r\n\r\n")
    check(status_of(exchange(srv.port, ext)) == 400)
    # without Host the answer comes at once, not after the announced body
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10 * harness.SLOW)
    t.socks.append(s)
    s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n")
    check(status_of(s.recv(4096)) == 400)
    s.close()  # so the server's lingering close ends before its stop
    normal_request_works(srv.port)
    check(srv.stop() == 0)


@deadline(30)
def test_slowloris_gets_408(t):
    srv = t.server("http-serve", "-d", make_root(t), "-q", "--header-timeout", "1")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    t.socks.append(s)
    start = time.monotonic()
    s.sendall(b"GET / HTTP/1.1\r\n")
    resp = b""
    for i in range(20):  # one byte every 0.2 s: never a whole head
        try:
            s.sendall(b"X"[:1])
        except OSError:
            break
        s.settimeout(0.2)
        try:
            chunk = s.recv(4096)
            if chunk:
                resp += chunk
                break
        except socket.timeout:
            pass
    s.settimeout(10)
    resp += recv_all(s)
    took = time.monotonic() - start
    s.close()
    check(status_of(resp) == 408, resp[:100])
    check(0.9 <= took < 3 * harness.SLOW, took)
    normal_request_works(srv.port)
    srv.stop()


def test_keepalive_pipelining_and_idle_timeout(t):
    srv = t.server("http-serve", "-d", make_root(t), "-q", "--keepalive-timeout", "0.5")
    two = (b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n"
           b"HEAD /sub/a.txt HTTP/1.1\r\nHost: a\r\n\r\n"
           b"GET /sub/a.txt HTTP/1.1\r\nHost: a\r\n\r\n")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    t.socks.append(s)
    s.sendall(two)
    start = time.monotonic()
    data = recv_all(s)  # the server closes the idle connection itself
    took = time.monotonic() - start
    check(data.count(b"HTTP/1.1 200 OK") == 3, data)
    check(data.index(b"<h1>home</h1>") < data.rindex(b"sub file\n"), data)
    check(data.count(b"sub file\n") == 1, "HEAD sent a body")
    check(0.4 <= took < 3 * harness.SLOW, took)
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    for _ in range(3):
        c.request("GET", "/sub/a.txt")
        r = c.getresponse()
        check(r.status == 200 and r.read() == b"sub file\n")
    c.close()
    srv.stop()


def test_headers_conditionals_and_redirect(t):
    srv = t.server("http-serve", "-d", make_root(t), "-q")
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    c.request("GET", "/index.html")
    r = c.getresponse()
    body = r.read()
    check(r.status == 200 and body == b"<h1>home</h1>\n")
    check(r.getheader("Content-Type") == "text/html; charset=utf-8")
    check(r.getheader("Server").startswith("nettool/") and r.getheader("Date"))
    etag, lm = r.getheader("ETag"), r.getheader("Last-Modified")
    check(etag and lm and r.getheader("Content-Length") == "14")
    c.request("GET", "/index.html", headers={"If-None-Match": etag})
    r = c.getresponse()
    check(r.status == 304 and r.read() == b"")
    c.request("GET", "/index.html", headers={"If-Modified-Since": lm})
    r = c.getresponse()
    check(r.status == 304 and r.read() == b"")
    c.request("GET", "/index.html", headers={"Range": "bytes=4-7"})
    r = c.getresponse()
    check(r.status == 206 and r.read() == b"home" and
          r.getheader("Content-Range") == "bytes 4-7/14")
    c.request("GET", "/index.html", headers={"Range": "bytes=-3"})
    r = c.getresponse()
    check(r.status == 206 and r.read() == b"1>\n")
    c.request("GET", "/sub")
    r = c.getresponse()
    r.read()
    check(r.status == 301 and r.getheader("Location") == "/sub/", r.getheader("Location"))
    c.request("GET", "/nope")
    r = c.getresponse()
    check(r.status == 404 and b"404 Not Found" in r.read())
    c.close()
    srv.stop()


def test_listing_with_awkward_names_round_trips(t):
    root = make_root(t)
    d = os.path.join(root, "odd")
    os.mkdir(d)
    names = ["with space.txt", "<script>alert(1).txt", "ünïcødé.txt", "100%.txt",
             "a&b\"c'.txt"]
    for n in names:
        with open(os.path.join(d, n), "wb") as f:
            f.write(n.encode() + b"\n")
    srv = t.server("http-serve", "-d", root, "-q")
    rc, page, err = t.run("http-get", f"http://127.0.0.1:{srv.port}/odd/")
    check(rc == 0 and b"<script>" not in page, page[:300])
    hrefs = [h for h in re.findall(rb'href="([^"]*)"', page) if not h.startswith(b"?")]
    check(hrefs[0] == b"../", hrefs)
    hrefs = hrefs[1:]
    check(len(hrefs) == len(names), hrefs)
    curl = shutil.which("curl")
    for h in hrefs:
        url = f"http://127.0.0.1:{srv.port}/odd/" + h.decode()
        got = (subprocess.run([curl, "-s", url], capture_output=True, timeout=10).stdout if curl
               else t.run("http-get", url)[1])
        name = urllib.parse.unquote(h.decode())
        check(got == name.encode() + b"\n", (h, got))
    srv2 = t.server("http-serve", "-d", root, "-q", "--no-list")
    check(status_of(exchange(srv2.port, b"GET /odd/ HTTP/1.1\r\nHost: a\r\n\r\n")) == 403)
    srv.stop()
    srv2.stop()


def test_custom_404_access_log_and_follow_symlinks(t):
    root = make_root(t)
    page = t.path("404.html")
    with open(page, "wb") as f:
        f.write(b"custom not found\n")
    log = t.path("access.log")
    srv = t.server("http-serve", "-d", root, "--404", page, "--log", log, "--follow-symlinks")
    resp = exchange(srv.port, b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n")
    check(status_of(resp) == 404 and resp.endswith(b"custom not found\n"), resp)
    resp = exchange(srv.port, b"GET /out HTTP/1.1\r\nHost: a\r\n\r\n")
    check(status_of(resp) == 200 and resp.endswith(b"outside\n"), resp)
    exchange(srv.port, b"GET /\x1b[31mred HTTP/1.1\r\nHost: a\r\n\r\n")
    check(srv.stop() == 0)
    with open(log, "rb") as f:
        text = f.read()
    check(re.search(rb'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                    rb'"GET /missing HTTP/1\.1" 404 17 0$', text, re.M), text)
    check(re.search(rb'"GET /out HTTP/1\.1" 200 8 0$', text, re.M), text)
    check(b"\x1b" not in text and b"\\x1b[31mred" in text, text)


@deadline(120)
def test_large_file_and_sigterm(t):
    root = make_root(t)
    data = random_file(root, "big.bin", 64 << 20)
    srv = t.server("http-serve", "-d", root, "-q")
    out = t.path("got")
    rc, _, err = t.run("http-get", "-o", out, f"http://127.0.0.1:{srv.port}/big.bin", timeout=60)
    with open(out, "rb") as f:
        check(rc == 0 and f.read() == data, err)
    idle = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    t.socks.append(idle)
    srv.signal(signal.SIGTERM)
    check(srv.wait(10) == 0)


@alone
@deadline(60)
def test_out_of_descriptors_no_spin(t):
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))

    srv = t.server("http-serve", "-d", make_root(t), "-q", preexec_fn=limit)
    held = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(60)]
    t.socks.extend(held)
    srv.check_idle()
    for s in held:
        s.close()
    normal_request_works(srv.port)  # waits in the queue until accepting resumes
    check(srv.stop() == 0)


@alone
@deadline(60)
def test_out_of_descriptors_across_workers(t):
    """One worker's idle clients hold every descriptor the limit allows;
    a client of another worker (the kernel steers by CPU) is still served,
    as that worker has none of its own to close."""
    import resource
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or cpus[:2] != [0, 1]:
        raise harness.Skip("needs CPUs 0 and 1 to steer clients to two workers")

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))

    srv = t.server("http-serve", "-d", make_root(t), "-q", preexec_fn=limit)
    try:
        os.sched_setaffinity(0, {0})
        held = [socket.create_connection(("127.0.0.1", srv.port), timeout=10)
                for _ in range(40)]
        t.socks.extend(held)
        srv.check_idle(0.3)
        os.sched_setaffinity(0, {1})
        normal_request_works(srv.port)
    finally:
        os.sched_setaffinity(0, cpus)
    check(srv.stop() == 0)


def test_curl_keepalive_ranges_conditionals_head(t):
    curl = harness.need("curl")
    root = make_root(t)
    srv = t.server("http-serve", "-d", root, "-q")
    base = f"http://127.0.0.1:{srv.port}"
    # two URLs in one run: curl reuses the connection when the server keeps it
    p = subprocess.run([curl, "-sv", base + "/index.html", base + "/sub/a.txt"],
                       capture_output=True, timeout=20)
    check(p.returncode == 0 and p.stdout == b"<h1>home</h1>\nsub file\n", p.stdout)
    check(b"Re-using existing connection" in p.stderr or b"Reusing existing" in p.stderr,
          p.stderr[-600:])
    p = subprocess.run([curl, "-s", "-r", "4-7", "-w", "%{http_code}", base + "/index.html"],
                       capture_output=True, timeout=20)
    check(p.stdout == b"home206", p.stdout)
    p = subprocess.run([curl, "-s", "-r", "100-200", "-w", "%{http_code}", base + "/index.html"],
                       capture_output=True, timeout=20)
    check(p.stdout.endswith(b"416"), p.stdout)
    # If-Modified-Since from the file's own time: 304 and no body
    p = subprocess.run([curl, "-s", "-z", os.path.join(root, "index.html"), "-w", "%{http_code}",
                        base + "/index.html"], capture_output=True, timeout=20)
    check(p.stdout == b"304", p.stdout)
    etags = t.path("etags")
    p = subprocess.run([curl, "-s", "--etag-save", etags, "-o", os.devnull, base + "/index.html"],
                       capture_output=True, timeout=20)
    p = subprocess.run([curl, "-s", "--etag-compare", etags, "-w", "%{http_code}",
                        base + "/index.html"], capture_output=True, timeout=20)
    check(p.stdout == b"304", p.stdout)
    p = subprocess.run([curl, "-sI", base + "/sub/a.txt"], capture_output=True, timeout=20)
    head = p.stdout.decode()
    check(head.startswith("HTTP/1.1 200 OK\r\n") and "Content-Length: 9\r\n" in head and
          head.endswith("\r\n\r\n") and "sub file" not in head, head)
    srv.stop()


def test_urllib_and_wget(t):
    import urllib.error
    import urllib.request
    root = make_root(t)
    data = random_file(root, "blob.bin", 3 << 20)
    srv = t.server("http-serve", "-d", root, "-q")
    base = f"http://127.0.0.1:{srv.port}"
    with urllib.request.urlopen(base + "/sub/a.txt", timeout=10) as r:
        check(r.status == 200 and r.read() == b"sub file\n")
        check(r.headers["Content-Type"] == "text/plain; charset=utf-8", r.headers)
    try:
        urllib.request.urlopen(base + "/nope", timeout=10)
        check(False, "no HTTPError for 404")
    except urllib.error.HTTPError as e:
        check(e.code == 404)
    with urllib.request.urlopen(base + "/sub", timeout=10) as r:  # follows the 301
        check(r.status == 200 and r.geturl() == base + "/sub/" and b"a.txt" in r.read())
    wget = shutil.which("wget")
    if not wget:
        print("SKIP http_serve/urllib_and_wget (wget part): peer 'wget' is not installed")
        srv.stop()
        return
    out = t.path("blob.bin")
    with open(out, "wb") as f:
        f.write(data[:1000000])  # a partial download that wget -c continues with a Range
    p = subprocess.run([wget, "-q", "-c", "-O", out, base + "/blob.bin"], capture_output=True,
                       timeout=30)
    with open(out, "rb") as f:
        check(p.returncode == 0 and f.read() == data, p.stderr)
    p = subprocess.run([wget, "-q", "-O", "-", base + "/index.html"], capture_output=True,
                       timeout=30)
    check(p.returncode == 0 and p.stdout == b"<h1>home</h1>\n", p.stdout)
    srv.stop()


def test_many_ranges_are_capped(t):
    srv = t.server("http-serve", "-d", make_root(t), "-q")
    ranges = ",".join(f"{i}-{i}" for i in range(600))  # within the 8 KiB field limit
    resp = exchange(srv.port, b"GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
                    b"Range: bytes=" + ranges.encode() + b"\r\n\r\n")
    check(status_of(resp) == 200 and resp.endswith(b"\r\n\r\n<h1>home</h1>\n"), resp[:200])
    check(srv.stop() == 0)


def test_threads_option(t):
    for bad in ["0", "12x", "-1", "100000"]:
        rc, _, err = t.run("http-serve", "-t", bad, "-p", "0")
        check(rc == 2 and "nettool: http-serve:" in err, (bad, rc, err))
    srv = t.server("http-serve", "-d", make_root(t), "-q", "-t", "4")
    check(len(os.listdir(f"/proc/{srv.pid}/task")) >= 4)  # a sanitizer may add one
    # 200 clients at once, each on its own connection: every one is served
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(200)]
    t.socks.extend(socks)
    for s in socks:
        s.sendall(b"GET /sub/a.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    for s in socks:
        resp = recv_all(s)
        s.close()
        check(status_of(resp) == 200 and resp.endswith(b"sub file\n"), resp[:100])
    check(srv.stop() == 0)


@deadline(60)
def test_max_clients_makes_room(t):
    srv = t.server("http-serve", "-d", make_root(t), "-q", "--max-clients", "2", "-t", "1")
    held = []
    for _ in range(2):  # the first is then the connection quiet longest
        s = t.connect(srv.port)
        s.sendall(b"GET /sub/a.txt HTTP/1.1\r\nHost: a\r\n\r\n")
        check(b"sub file\n" in s.recv(4096))
        held.append(s)
    third = t.connect(srv.port)
    third.sendall(b"GET /sub/a.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    resp = recv_all(third)
    check(status_of(resp) == 200 and resp.endswith(b"sub file\n"), resp[:100])
    check(recv_all(held[0]) == b"", "the quietest connection was not closed")
    held[1].sendall(b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n")
    check(held[1].recv(4096).endswith(b"<h1>home</h1>\n"), "a busier connection was closed")
    for s in held + [third]:
        s.close()
    check(srv.stop() == 0)


@deadline(60)
def test_shutdown_finishes_responses_in_flight(t):
    root = make_root(t)
    data = random_file(root, "big.bin", 48 << 20)
    srv = t.server("http-serve", "-d", root, "-q", "-t", "2")
    reader = t.connect(srv.port)
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    reader.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
    got = reader.recv(65536)  # the response is under way
    stalled = t.connect(srv.port)  # asks for the file too, and never reads
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    stalled.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
    idle = t.connect(srv.port)
    idle.sendall(b"GET /sub/a.txt HTTP/1.1\r\nHost: a\r\n\r\n")
    check(idle.recv(4096).endswith(b"sub file\n"))
    check(stalled.recv(1))  # its response started too
    start = time.monotonic()
    srv.signal(signal.SIGTERM)
    check(idle.recv(4096) == b"", "an idle keep-alive connection stayed open")
    got += recv_all(reader)
    head, _, body = got.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200 OK") and len(body) == len(data), (head, len(body)))
    check(body == data, "the body in flight was corrupted")
    try:  # still draining, but no longer listening
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        check(False, "still accepting after SIGTERM")
    except ConnectionRefusedError:
        pass
    check(srv.p.poll() is None, "exited before the stalled client's grace ran out")
    check(srv.wait(10) == 0)
    took = time.monotonic() - start
    check(1.5 <= took < 6 * harness.SLOW, f"stopped after {took:.2f} s with a stalled client")


@alone
@deadline(120)
def test_past_1024_descriptors(t):
    import resource
    n = 1500
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n + 100:
        raise harness.Skip(f"the hard descriptor limit {hard} is below {n + 100}")
    if soft != resource.RLIM_INFINITY and soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, hard))
        t.cleanups.append(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))

    def limit():  # the server starts at a 1,024 soft limit and raises it itself
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, max(n * 2, 4096)))

    srv = t.server("http-serve", "-d", make_root(t), "-q", "--max-clients", str(n + 10),
                   preexec_fn=limit)
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(n)]
    t.socks.extend(socks)
    for s in socks:
        s.sendall(b"GET /sub/a.txt HTTP/1.1\r\nHost: a\r\n\r\n")
    for s in socks:  # all stay open: over 1,500 descriptors in the server at once
        resp = s.recv(4096)
        check(status_of(resp) == 200 and resp.endswith(b"sub file\n"), resp[:100])
    fds = len(os.listdir(f"/proc/{srv.pid}/fd"))
    check(fds > n, f"server holds {fds} descriptors")
    for s in socks[::100]:  # the first and last connections are all still served
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n")
        check(s.recv(4096).endswith(b"<h1>home</h1>\n"))
    normal_request_works(srv.port)
    check(srv.stop() == 0)


def test_changed_file_is_served_new(t):
    root = make_root(t)
    path = os.path.join(root, "page.txt")
    with open(path, "wb") as f:
        f.write(b"first version\n")
    os.utime(path, (1700000000, 1700000000))
    srv = t.server("http-serve", "-d", root, "-q")

    def get():
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        c.request("GET", "/page.txt")
        r = c.getresponse()
        body = r.read()
        c.close()
        return body, r.getheader("Last-Modified"), r.getheader("ETag")

    body1, lm1, etag1 = get()
    check(body1 == b"first version\n" and lm1 == "Tue, 14 Nov 2023 22:13:20 GMT", (body1, lm1))
    with open(path, "r+b") as f:  # in place, at once: no cache may hide it
        f.write(b"second version, longer\n")
    os.utime(path, (1700000100, 1700000100))
    body2, lm2, etag2 = get()
    check(body2 == b"second version, longer\n" and lm2 == "Tue, 14 Nov 2023 22:15:00 GMT" and
          etag2 != etag1, (body2, lm2, etag2))
    tmp = os.path.join(root, ".new")
    with open(tmp, "wb") as f:  # replaced by a rename, same size and time
        f.write(b"THIRD version, longer!\n")
    os.utime(tmp, (1700000100, 1700000100))
    os.rename(tmp, path)
    body3, lm3, etag3 = get()
    check(body3 == b"THIRD version, longer!\n" and lm3 == lm2 and etag3 != etag2,
          (body3, lm3, etag3, etag2))
    srv.stop()


@deadline(60)
def test_every_kind_of_change_seen_by_every_worker(t):
    """Each change below is made after every worker has the file cached
    (16 fresh connections spread over 4 threads), and each of 16 fresh
    connections after it must see it at once."""
    root = t.path("croot")
    os.makedirs(os.path.join(root, "d"))
    os.makedirs(os.path.join(root, "real"))
    files = {"f.txt": b"plain one\n", "d/f.txt": b"dir one\n", "real/g.txt": b"real one\n"}
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    os.symlink("real", os.path.join(root, "link"))  # inside the root: served
    outside_link = t.path("hardlink")
    os.link(os.path.join(root, "f.txt"), outside_link)
    srv = t.server("http-serve", "-d", root, "-q", "-t", "4")

    def get(path):
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def all_see(path, status, body, what):
        got = {get(path) for _ in range(16)}
        if callable(body):
            check(len(got) == 1 and all(st == status and body(b) for st, b in got),
                  (what, path, got))
        elif status != 200:
            got = {st for st, _ in got}
            check(got == {status}, (what, path, got))
        else:
            check(got == {(status, body)}, (what, path, got))

    def change(path, before, after, what, fn, status=200):
        all_see(path, 200, before, what + " (before)")
        fn()
        all_see(path, status, after, what)

    def rewrite_keep_times(rel, data):
        p = os.path.join(root, rel)
        st = os.stat(p)
        with open(p, "r+b") as f:
            f.write(data)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))

    change("/f.txt", b"plain one\n", b"PLAIN ONE\n", "same size, mtime put back",
           lambda: rewrite_keep_times("f.txt", b"PLAIN ONE\n"))

    def via_hard_link():
        with open(outside_link, "r+b") as f:
            f.write(b"plain two\n")
    change("/f.txt", b"PLAIN ONE\n", b"plain two\n", "written through a hard link outside",
           via_hard_link)

    def swap_dir():
        os.makedirs(os.path.join(root, "d2"))
        with open(os.path.join(root, "d2", "f.txt"), "wb") as f:
            f.write(b"dir two\n")
        os.rename(os.path.join(root, "d"), os.path.join(root, "d_old"))
        os.rename(os.path.join(root, "d2"), os.path.join(root, "d"))
    change("/d/f.txt", b"dir one\n", b"dir two\n", "its directory replaced", swap_dir)

    change("/link/g.txt", b"real one\n", b"REAL ONE\n", "through a symlink, rewritten",
           lambda: rewrite_keep_times("real/g.txt", b"REAL ONE\n"))

    def repoint():
        os.makedirs(os.path.join(root, "real2"))
        with open(os.path.join(root, "real2", "g.txt"), "wb") as f:
            f.write(b"real two\n")
        os.symlink("real2", os.path.join(root, "link.new"))
        os.rename(os.path.join(root, "link.new"), os.path.join(root, "link"))
    change("/link/g.txt", b"REAL ONE\n", b"real two\n", "its symlink repointed", repoint)

    def truncate():
        os.truncate(os.path.join(root, "d", "f.txt"), 0)
    change("/d/f.txt", b"dir two\n", b"", "truncated", truncate)

    os.makedirs(os.path.join(root, "w"))
    with open(os.path.join(root, "w", "index.html"), "wb") as f:
        f.write(b"w index\n")
    change("/w/", b"w index\n", lambda b: b"<html" in b and b"index.html" not in b,
           "its index removed", lambda: os.unlink(os.path.join(root, "w", "index.html")))

    def dir_to_file():
        os.rmdir(os.path.join(root, "w"))
        with open(os.path.join(root, "w"), "wb") as f:
            f.write(b"w file\n")
    all_see("/w", 301, None, "a directory without its slash")
    dir_to_file()
    all_see("/w", 200, b"w file\n", "a directory replaced by a file")

    change("/f.txt", b"plain two\n", b"", "deleted",
           lambda: (os.unlink(os.path.join(root, "f.txt")), os.unlink(outside_link)), status=404)
    srv.stop()


def steered_cpus():
    """The CPUs, where the server's workers keep to one each; else Skip."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    online = os.sysconf("SC_NPROCESSORS_ONLN")
    if len(cpus) < 2 or cpus != list(range(len(cpus))) or len(cpus) != online or online > 64:
        raise harness.Skip(f"steering needs CPUs 0..n-1, n >= 2, all allowed; have {cpus}")
    return cpus


def thread_cpus(pid):
    """Cpus_allowed_list of each thread of pid."""
    out = []
    for tid in sorted(os.listdir(f"/proc/{pid}/task")):
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            out += [line.split()[1] for line in f if line.startswith("Cpus_allowed_list")]
    return out


def wait_threads(pid, cond, what):
    """Wait until cond holds of thread_cpus(pid), read as it changes."""
    end = time.monotonic() + 10 * harness.SLOW
    while not cond(thread_cpus(pid)):
        check(time.monotonic() < end, (what, thread_cpus(pid)))
        time.sleep(0.01)


@deadline(60)
def test_workers_keep_to_a_cpu_but_not_for_a_large_body(t):
    cpus = steered_cpus()
    root = make_root(t)
    random_file(root, "big.bin", 48 << 20)
    srv = t.server("http-serve", "-d", root, "-q")
    every = f"{cpus[0]}-{cpus[-1]}"
    base = thread_cpus(srv.pid)  # (a sanitizer's runtime may add a thread of its own)
    check(sorted(x for x in base if x != every) == [str(c) for c in cpus], base)
    s = t.connect(srv.port)
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
    first = s.recv(4096)  # then not read for a while: the body stalls
    check(first.startswith(b"HTTP/1.1 200 ") and b"\r\n\r\n" in first, first[:100])
    wait_threads(srv.pid, lambda got: got.count(every) == base.count(every) + 1,
                 "no worker let go of its CPU")
    got, want = len(first) - first.index(b"\r\n\r\n") - 4, 48 << 20
    s.settimeout(10 * harness.SLOW)
    while got < want:
        chunk = s.recv(1 << 20)
        check(chunk, "connection closed early")
        got += len(chunk)
    wait_threads(srv.pid, lambda got: sorted(got) == sorted(base),
                 "the worker did not return to its CPU")
    normal_request_works(srv.port)
    s.close()
    srv.stop()


@deadline(60)
def test_steering_by_cpu_gives_way_when_one_cpu_takes_all(t):
    """With one worker per CPU, a connection goes to the worker of the CPU
    that took it in (on loopback, its client's); when one CPU takes in
    nearly all of them, the server goes back to spreading them by address."""
    cpus = steered_cpus()
    root = make_root(t)
    srv = t.server("http-serve", "-d", root)  # one thread per CPU: steered
    notice = "connections arrive unevenly across CPUs"
    mine = os.sched_getaffinity(0)

    def fetch(path, cpu):
        os.sched_setaffinity(0, {cpu})  # this thread only: where its SYN is taken in
        try:
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        finally:
            os.sched_setaffinity(0, mine)
        try:
            s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            check(status_of(recv_all(s)) == 200, path)
        finally:
            s.close()

    for i in range(300):  # every CPU in turn: even
        fetch(b"/sub/a.txt?even", cpus[i % len(cpus)])
    for i in range(400):  # all from the first CPU
        fetch(b"/sub/a.txt?one", cpus[0])
    srv.wait_line(notice)
    lines = srv.stderr().splitlines()
    at = [n for n, line in enumerate(lines) if notice in line]
    last_even = max(n for n, line in enumerate(lines) if "?even" in line)
    check(len(at) == 1 and at[0] > last_even, (at, last_even))
    normal_request_works(srv.port)
    srv.stop()


@deadline(30)
def test_if_range_never_joins_two_versions(t):
    root = make_root(t)
    path = os.path.join(root, "v.txt")
    with open(path, "wb") as f:
        f.write(b"version one\n")
    srv = t.server("http-serve", "-d", root, "-q")
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10 * harness.SLOW)
    c.request("HEAD", "/v.txt")
    r = c.getresponse()
    r.read()
    etag, lm = r.getheader("ETag"), r.getheader("Last-Modified")
    for validator in (etag, lm):
        c.request("GET", "/v.txt", headers={"Range": "bytes=8-", "If-Range": validator})
        r = c.getresponse()
        check(r.status == 206 and r.read() == b"one\n", validator)
    with open(path + ".new", "wb") as f:
        f.write(b"the second version\n")
    os.utime(path + ".new", (1e9, 1e9))
    os.rename(path + ".new", path)
    for validator in (etag, lm, "W/" + etag):
        c.request("GET", "/v.txt", headers={"Range": "bytes=8-", "If-Range": validator})
        r = c.getresponse()
        check(r.status == 200 and r.read() == b"the second version\n", validator)
    c.close()
    srv.stop()


@deadline(30)
def test_listing_reads_as_a_person_expects(t):
    root = make_root(t)
    random_file(root, "sub/big.bin", 1536 * 1024)
    os.mkdir(os.path.join(root, "sub", "inner"))
    srv = t.server("http-serve", "-d", root, "-q")
    _, page, _ = t.run("http-get", f"http://127.0.0.1:{srv.port}/sub/")
    check(b'<meta charset="utf-8">' in page and b"<style>" in page and b"<script" not in page, page)
    check(b'<a href="../">../</a>' in page, page)
    check(b'<td class="n" title="1572864 bytes">1.5M</td>' in page, page)
    check(b'<td class="n" title="9 bytes">9</td>' in page, page)  # a.txt
    check(re.search(rb'<a href="inner/">inner/</a></td><td class="n">-</td>', page), page)
    check(b"<form" not in page, page)
    # folders first, then a person's order: case folded, numbers by value
    order = t.path("order")
    names = ["file10.txt", "File2.txt", "file1.txt", "b.txt", "Zeta", "alpha", "img007.png",
             "img7.png"]
    os.mkdir(order)
    for n in names:
        if n[0].isupper() and "." not in n:
            os.mkdir(os.path.join(order, n))
        else:
            with open(os.path.join(order, n), "wb") as f:
                f.write(b"x" * len(n))
    os.mkdir(os.path.join(order, "alpha2"))
    os.unlink(os.path.join(order, "alpha"))
    os.mkdir(os.path.join(order, "alpha"))
    srv2 = t.server("http-serve", "-d", order, "-q")
    base = f"http://127.0.0.1:{srv2.port}/"

    def shown(query=""):
        _, p, _ = t.run("http-get", base + query)
        return [h.decode() for h in re.findall(rb'<td><a href="([^"?]*)"', p)]

    check(shown() == ["alpha/", "alpha2/", "Zeta/", "b.txt", "file1.txt", "File2.txt",
                      "file10.txt", "img007.png", "img7.png"], shown())
    check(shown("?sort=name&order=desc") == ["Zeta/", "alpha2/", "alpha/", "img7.png",
                                              "img007.png", "file10.txt", "File2.txt",
                                              "file1.txt", "b.txt"], shown("?sort=name&order=desc"))
    by_size = shown("?sort=size&order=desc")
    check(by_size[:3] == ["Zeta/", "alpha2/", "alpha/"] and by_size[3:5] == ["img007.png",
                                                                        "file10.txt"], by_size)
    check(srv2.stop() == 0)
    os.mkdir(os.path.join(root, "empty"))
    with open(os.path.join(root, "index.html"), "wb"):
        pass
    _, page, _ = t.run("http-get", f"http://127.0.0.1:{srv.port}/empty/")
    check(b"../" in page, page)
    srv.stop()
