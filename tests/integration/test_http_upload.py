"""http-serve --upload against curl, Python's http.client and raw sockets:
PUT, form uploads, DELETE, 100-continue, --max-body, path rules, bodies
cut short, a full disk; and how bodies are framed without --upload."""
import http.client
import os
import re
import shutil
import socket
import subprocess
import time
import uuid

import harness
from harness import check, deadline, recv_all
from test_http_serve import exchange, make_root, status_of


def up_server(t, *extra):
    root = make_root(t)
    return root, t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload", *extra)


def put(port, path, body, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20 * harness.SLOW)
    try:
        c.request("PUT", path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def leftovers(root):
    return [n for _, _, files in os.walk(root) for n in files if n.startswith(".nettool-up-")]


def read(path):
    with open(path, "rb") as f:
        return f.read()


@deadline(60)
def test_put_new_replace_and_conflicts(t):
    root, srv = up_server(t)
    data = os.urandom(3 << 20)
    check(put(srv.port, "/new.bin", data)[0] == 201)
    check(read(os.path.join(root, "new.bin")) == data)
    mask = os.umask(0)
    os.umask(mask)
    check(os.stat(os.path.join(root, "new.bin")).st_mode & 0o777 == 0o666 & ~mask)
    check(put(srv.port, "/new.bin", b"other")[0] == 409)  # no --overwrite
    check(read(os.path.join(root, "new.bin")) == data)
    check(put(srv.port, "/sub", b"x")[0] == 409)  # a directory
    check(put(srv.port, "/sub/", b"x")[0] == 409)
    check(put(srv.port, "/nodir/x", b"x")[0] == 409)  # no such directory
    check(put(srv.port, "/empty", b"")[0] == 201 and read(os.path.join(root, "empty")) == b"")
    srv.stop()
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload", "--overwrite")
    check(put(srv.port, "/new.bin", b"other")[0] == 204)
    check(read(os.path.join(root, "new.bin")) == b"other")
    curl = shutil.which("curl")
    if curl:
        src = t.path("c.txt")
        with open(src, "wb") as f:
            f.write(b"by curl\n")
        p = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-T", src,
                            f"http://127.0.0.1:{srv.port}/sub/"], capture_output=True, timeout=20)
        check(p.stdout == b"201" and read(os.path.join(root, "sub", "c.txt")) == b"by curl\n", p)
    else:
        print("SKIP curl -T into http-serve: curl is not installed")
    check(leftovers(root) == [])
    srv.stop()


@deadline(60)
def test_path_rules(t):
    root, srv = up_server(t)
    outside = t.path("outside")
    os.mkdir(outside)
    os.symlink(outside, os.path.join(root, "ldir"))
    # /out is a symlink to a file outside the root
    for path, want in (("/out", 403), ("/ldir/x", 403), ("/.hidden", 403), ("/sub/.x", 403),
                       ("/a%2Fb", 404), ("/x%00", 400)):
        check(put(srv.port, path, b"x")[0] == want, path)
    check(read(t.path("secret")) == b"outside\n" and os.listdir(outside) == [])
    # ".." never climbs out of the root
    for target in (b"/../../up.txt", b"/sub/../../up.txt", b"/%2e%2e/up.txt"):
        resp = exchange(srv.port, b"PUT " + target + b" HTTP/1.1\r\nHost: a\r\n"
                        b"Content-Length: 2\r\nConnection: close\r\n\r\nhi")
        check(status_of(resp) == 400 and not os.path.exists(t.path("up.txt")), resp)
    srv.stop()
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload", "--dotfiles")
    check(put(srv.port, "/.hidden", b"x")[0] == 201)
    check(leftovers(root) == [])
    srv.stop()


@deadline(60)
def test_expect_100_continue(t):
    root, srv = up_server(t, "--max-body", "1M")

    def head_only(path, length):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10 * harness.SLOW)
        t.socks.append(s)
        s.sendall(f"PUT {path} HTTP/1.1\r\nHost: a\r\nContent-Length: {length}\r\n"
                  "Expect: 100-continue\r\n\r\n".encode())
        return s, harness.recv_head(s)

    s, got = head_only("/e.bin", 5)
    check(got.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), got)
    s.sendall(b"hello")
    rest = got[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
    while b"\r\n\r\n" not in rest:
        rest += s.recv(4096)
    check(status_of(rest) == 201 and read(os.path.join(root, "e.bin")) == b"hello", rest)
    # refused: the final status at once, and the body never read
    for path, length, want in (("/e.bin", 5, 409), ("/big", 2 << 20, 413), ("/.x", 5, 403)):
        s, got = head_only(path, length)
        check(status_of(got) == want, (path, got))
        s.settimeout(10 * harness.SLOW)
        tail = recv_all(s)  # returns once the server closes
        s.close()
        check(b"100 Continue" not in got + tail, (path, got + tail))
    check(leftovers(root) == [] and not os.path.exists(os.path.join(root, "big")))
    srv.stop()


@deadline(60)
def test_body_cut_short_leaves_nothing(t):
    root, srv = up_server(t)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10 * harness.SLOW)
    s.sendall(b"PUT /partial.bin HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n")
    s.sendall(os.urandom(1 << 20))
    end = time.monotonic() + 10 * harness.SLOW
    while not leftovers(root) and time.monotonic() < end:
        time.sleep(0.01)
    check(leftovers(root), "the temporary should exist while the body comes")
    s.close()  # killed mid-upload
    while leftovers(root) and time.monotonic() < end:
        time.sleep(0.01)
    check(leftovers(root) == [] and not os.path.exists(os.path.join(root, "partial.bin")))
    # a client killed mid-upload: curl itself
    curl = shutil.which("curl")
    if curl:
        big = t.path("big")
        with open(big, "wb") as f:
            f.write(os.urandom(64 << 20))
        p = subprocess.Popen([curl, "-s", "--limit-rate", "2M", "-T", big,
                              f"http://127.0.0.1:{srv.port}/curl.bin"])
        t.cleanups.append(lambda: p.poll() is None and p.kill())
        while not leftovers(root) and time.monotonic() < end:
            time.sleep(0.01)
        p.kill()
        p.wait()
        while leftovers(root) and time.monotonic() < end:
            time.sleep(0.01)
        check(leftovers(root) == [] and not os.path.exists(os.path.join(root, "curl.bin")))
    # a bad chunk size: 400, the connection closed, no file
    resp = exchange(srv.port, b"PUT /c.bin HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                    b"\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n")
    check(status_of(resp) == 400 and not os.path.exists(os.path.join(root, "c.bin")), resp)
    # a chunked body is fine
    resp = exchange(srv.port, b"PUT /c.bin HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                    b"\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n")
    check(status_of(resp) == 201 and read(os.path.join(root, "c.bin")) == b"hello world", resp)
    srv.stop()


@deadline(60)
def test_max_body(t):
    root, srv = up_server(t, "--max-body", "100K")
    check(put(srv.port, "/ok", b"x" * 100 * 1024)[0] == 201)
    resp = exchange(srv.port, b"PUT /no HTTP/1.1\r\nHost: a\r\nContent-Length: 102401\r\n\r\n")
    check(status_of(resp) == 413, resp)  # decided from the head alone
    chunk = b"%x\r\n" % 65536 + b"y" * 65536 + b"\r\n"
    resp = exchange(srv.port, b"PUT /no HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + chunk * 2 + b"0\r\n\r\n")
    check(status_of(resp) == 413 and not os.path.exists(os.path.join(root, "no")), resp)
    check(leftovers(root) == [])
    srv.stop()
    rc, _, err = t.run("http-serve", "--max-body", "12x")
    check(rc == 2, err)
    rc, _, err = t.run("http-serve", "--overwrite")
    check(rc == 2, err)


def form_body(boundary, files, fields=()):
    out = b""
    for name, value in fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                .encode() + value + b"\r\n")
    for fname, content in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{fname}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                .encode() + content + b"\r\n")
    return out + f"--{boundary}--\r\n".encode()


@deadline(60)
def test_form_upload_as_a_browser_sends_it(t):
    root, srv = up_server(t)
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=20 * harness.SLOW)
    c.request("GET", "/sub/")
    page = c.getresponse().read()
    check(b'enctype="multipart/form-data"' in page and b'name="file"' in page, page)
    boundary = "----WebKitFormBoundary" + uuid.uuid4().hex[:16]
    one, two = os.urandom(200000) + b"\r\n--" + boundary.encode()[:-1], b"second\n"
    body = form_body(boundary, [("one.bin", one), ("C:\\Users\\me\\two.txt", two)],
                     [("note", b"ignored")])
    c.request("POST", "/sub/", body=body,
              headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    r = c.getresponse()
    page = r.read()
    check(r.status == 201 and b"one.bin" in page and b"two.txt" in page, (r.status, page))
    check(read(os.path.join(root, "sub", "one.bin")) == one)
    check(read(os.path.join(root, "sub", "two.txt")) == two)
    # the same connection goes on
    c.request("GET", "/sub/two.txt")
    check(c.getresponse().read() == two)
    # one name that exists: nothing of the form is stored
    body = form_body(boundary, [("three.txt", b"3"), ("two.txt", b"again")])
    c.request("POST", "/sub/", body=body,
              headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    r = c.getresponse()
    r.read()
    check(r.status == 409 and not os.path.exists(os.path.join(root, "sub", "three.txt")))
    c.close()
    # bad forms
    for ctype, body, want in (("text/plain", b"x", 415),
                              (f"multipart/form-data; boundary={boundary}",
                               form_body(boundary, [("cut.txt", b"c")])[:-10], 400),
                              (f"multipart/form-data; boundary={boundary}",
                               form_body(boundary, [("../../x", b"no")]), 201),
                              (f"multipart/form-data; boundary={boundary}",
                               form_body(boundary, [(".dot", b"no")]), 403)):
        resp = exchange(srv.port, b"POST /sub/ HTTP/1.1\r\nHost: a\r\nContent-Type: "
                        + ctype.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        check(status_of(resp) == want, (ctype, resp[:200]))
    check(read(os.path.join(root, "sub", "x")) == b"no")  # the name without its path
    check(not os.path.exists(os.path.join(root, "sub", "cut.txt")))
    curl = shutil.which("curl")
    if curl:
        src = t.path("by curl.txt")
        with open(src, "wb") as f:
            f.write(b"curl form\n")
        p = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-F",
                            f"file=@{src}", f"http://127.0.0.1:{srv.port}/"],
                           capture_output=True, timeout=20)
        check(p.stdout == b"201" and read(os.path.join(root, "by curl.txt")) == b"curl form\n", p)
    rc, out, err = t.run("http-get", "-F", "file=@" + t.path("by curl.txt") + ";filename=n.txt",
                         f"http://127.0.0.1:{srv.port}/sub/")
    check(rc == 0 and read(os.path.join(root, "sub", "n.txt")) == b"curl form\n", err)
    check(leftovers(root) == [])
    srv.stop()


@deadline(60)
def test_methods_without_upload_and_delete(t):
    root = make_root(t)
    srv = t.server("http-serve", "-d", root, "-q")
    for m in ("POST", "PUT", "DELETE"):
        resp = exchange(srv.port, f"{m} /sub/a.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
                        "Connection: close\r\n\r\nabc".encode())
        check(status_of(resp) == 405 and b"\r\nAllow: GET, HEAD, OPTIONS\r\n" in resp, resp)
    resp = exchange(srv.port, b"OPTIONS * HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    check(status_of(resp) == 200 and b"\r\nAllow: GET, HEAD, OPTIONS\r\n" in resp, resp)
    # a body on a refused method is read past: the pipelined GET is answered
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10 * harness.SLOW)
    t.socks.append(s)
    s.sendall(b"POST /sub/a.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 26\r\n\r\n"
              b"GET /index.html HTTP/1.1\r\n"
              b"GET /sub/a.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    got = recv_all(s)
    s.close()
    check(got.count(b"HTTP/1.1 ") == 2 and got.endswith(b"sub file\n") and b"home" not in got,
          got)
    srv.stop()
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload", "--allow-delete")
    resp = exchange(srv.port, b"OPTIONS /sub/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    check(b"\r\nAllow: GET, HEAD, OPTIONS, PUT, POST, MKCOL, DELETE\r\n" in resp, resp)
    for path, want in (("/sub/a.txt", 204), ("/sub/a.txt", 404), ("/sub", 409), ("/out", 403)):
        resp = exchange(srv.port, f"DELETE {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        check(status_of(resp) == want, (path, resp))
    check(not os.path.exists(os.path.join(root, "sub", "a.txt")) and os.path.exists(t.path("secret")))
    # a pipelined GET after a PUT's body
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10 * harness.SLOW)
    t.socks.append(s)
    s.sendall(b"PUT /p.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
              b"GET /p.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    got = recv_all(s)
    s.close()
    check(got.startswith(b"HTTP/1.1 201 ") and got.endswith(b"\r\n\r\nhello"), got)
    srv.stop()


def small_tmpfs(t, size, what):
    """A tmpfs of its own of size, or None (and a SKIP line) without root."""
    mnt = t.path("small")
    os.mkdir(mnt)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mnt],
                       capture_output=True)
    if p.returncode != 0:
        print(f"SKIP {what}: cannot mount a small tmpfs here (needs root)")
        return None
    t.cleanups.append(lambda: subprocess.run(["umount", "-l", mnt]))
    return mnt


def used(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


@deadline(60)
def test_full_disk_is_507_with_nothing_left(t):
    mnt = small_tmpfs(t, "1m", "the full-disk test")
    if not mnt:
        return
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", mnt, "-q", "--upload")
    status = put(srv.port, "/big.bin", os.urandom(3 << 20))[0]
    check(status == 507, status)
    check(os.listdir(mnt) == [], os.listdir(mnt))
    check(put(srv.port, "/small.txt", b"fits")[0] == 201)
    srv.stop()


@deadline(60)
def test_replaced_large_file_is_freed(t):
    """The server lets go of a large file that a PUT replaced (on a thread
    of its own) while it runs on: the space comes back."""
    mnt = small_tmpfs(t, "48m", "the replaced-file test")
    if not mnt:
        return
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", mnt, "-q", "--upload", "--overwrite")
    a, b = os.urandom(20 << 20), os.urandom(20 << 20)
    check(put(srv.port, "/big.bin", a)[0] == 201)
    check(put(srv.port, "/big.bin", b)[0] == 204)
    check(read(os.path.join(mnt, "big.bin")) == b)
    while used(mnt) > 21 << 20:  # the deadline ends a wait that never ends
        time.sleep(0.02)
    check(put(srv.port, "/big.bin", a)[0] == 204)  # 60 MiB would not fit
    check(read(os.path.join(mnt, "big.bin")) == a and leftovers(mnt) == [])
    srv.stop()


@deadline(30)
def test_access_log_and_upload_progress(t):
    root = make_root(t)
    log = t.path("access.log")
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "--log", log, "--upload")
    src = t.path("five")
    with open(src, "wb") as f:
        f.write(os.urandom(300000))
    rc, out, err = t.run("http-get", "--progress", "-T", src, f"http://127.0.0.1:{srv.port}/up")
    check(rc == 0 and "sent " in err and "300000/300000" in err, (rc, err))
    check(status_of(exchange(srv.port, b"GET /sub/a.txt HTTP/1.1\r\nHost: a\r\n"
                                       b"Connection: close\r\n\r\n")) == 200)
    check(srv.stop() == 0)
    text = read(log)
    check(re.search(rb'"PUT /up HTTP/1\.1" 201 0 300000$', text, re.M), text)
    check(re.search(rb'"GET /sub/a\.txt HTTP/1\.1" 200 9 0$', text, re.M), text)



def traced_upload(src, url):
    """http-get -T under strace: (status, sendfile calls, preads of the file)."""
    p, calls = harness.traced([harness.NETTOOL, "http-get", "-s", "-o", os.devnull, "-T", src,
                               url], ["sendfile", "pread64"], capture_output=True)
    big_reads = [n for n in re.findall(r"pread64\(.*\) = (\d+)", calls) if int(n) >= 4096]
    return p.returncode, calls.count("sendfile("), len(big_reads)  # not the loader's


@deadline(90)
def test_upload_by_sendfile_except_to_this_host(t):
    """A file goes by sendfile to a server elsewhere (a network namespace of
    the test's own), and by read and write to one on this host; both arrive
    whole."""
    ns, addr = harness.far_host(t)
    root = make_root(t)
    far = harness.Proc(t, ["ip", "netns", "exec", ns, harness.NETTOOL, "http-serve", "-d", root,
                           "-q", "--upload", "--overwrite", "--public-write", "-b", addr, "-p", "0"])
    port = int(far.wait_line(r"listening on \S+:(\d+)$").group(1))
    near = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload", "--overwrite")
    src = t.path("src.bin")
    data = os.urandom((3 << 20) + 5)
    with open(src, "wb") as f:
        f.write(data)
    rc, sendfiles, preads = traced_upload(src, f"http://{addr}:{port}/far.bin")
    check(rc == 0 and sendfiles > 0 and preads == 0, (rc, sendfiles, preads))
    check(read(os.path.join(root, "far.bin")) == data)
    rc, sendfiles, preads = traced_upload(src, f"http://127.0.0.1:{near.port}/near.bin")
    check(rc == 0 and sendfiles == 0 and preads > 0, (rc, sendfiles, preads))
    check(read(os.path.join(root, "near.bin")) == data)
    far.signal(15)
    check(far.wait(10) == 0)
    near.stop()
