"""http-serve's accounts, with curl and Python's http.client as clients:
401 and its realm, wrong and right credentials, hashed secrets, accounts
of one subtree, read-only roles refused on every way of writing, the
lockout, --public-read, --auth-file, and the private default for
writing."""
import base64
import hashlib
import http.client
import os
import subprocess

import harness
from harness import check, deadline


def make_root(t):
    root = t.path("root")
    os.makedirs(os.path.join(root, "team"))
    with open(os.path.join(root, "top.txt"), "w") as f:
        f.write("top\n")
    with open(os.path.join(root, "team", "doc.txt"), "w") as f:
        f.write("doc\n")
    return root


def request(port, method, path, user=None, body=None, headers=None):
    h = dict(headers or {})
    if user:
        h["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def server(t, root, *extra):
    guest = hashlib.sha256(b"guest pw").hexdigest()
    return t.server("http-serve", "-b", "127.0.0.1", "-d", root, "--upload", "--allow-delete",
                    "--auth", "admin:s3cret", "--auth", f"guest:sha256:{guest}:ro",
                    "--auth", "team:tpw@/team", *extra)


@deadline(60)
def test_who_may_read_and_write(t):
    root = make_root(t)
    srv = server(t, root, "-q")
    st, h, body = request(srv.port, "GET", "/top.txt")
    check(st == 401 and h.get("WWW-Authenticate") == 'Basic realm="nettool", charset="UTF-8"', h)
    check(b"sign in with yours" in body and b'href="/"' in body, body)
    st, _, body = request(srv.port, "GET", "/team/doc.txt", "guest:nope")
    check(st == 401 and b'href="/team/"' in body, body)
    check(request(srv.port, "GET", "/top.txt", "admin:wrong")[0] == 401)
    check(request(srv.port, "GET", "/top.txt", "nobody:s3cret")[0] == 401)
    check(request(srv.port, "GET", "/top.txt", "admin:s3cret")[:3:2] == (200, b"top\n"))
    check(request(srv.port, "GET", "/top.txt", "guest:guest pw")[0] == 200)
    # one subtree's account
    check(request(srv.port, "GET", "/team/doc.txt", "team:tpw")[0] == 200)
    st, _, body = request(srv.port, "GET", "/top.txt", "team:tpw")
    check(st == 403 and b"beyond what your account may do" in body, body)
    check(request(srv.port, "GET", "/teamx", "team:tpw")[0] == 403)
    check(request(srv.port, "PUT", "/team/new.txt", "team:tpw", b"n")[0] == 201)
    check(request(srv.port, "PUT", "/new.txt", "team:tpw", b"n")[0] == 403)
    # :ro refused on every way of writing; the admin may
    form = ("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\n\r\n"
            "x\r\n--b--\r\n").encode()
    ftype = {"Content-Type": "multipart/form-data; boundary=b"}
    check(request(srv.port, "PUT", "/g.txt", "guest:guest pw", b"g")[0] == 403)
    check(request(srv.port, "POST", "/", "guest:guest pw", form, ftype)[0] == 403)
    check(request(srv.port, "DELETE", "/top.txt", "guest:guest pw")[0] == 403)
    check(request(srv.port, "POST", "/", "admin:s3cret", form, ftype)[0] == 201)
    check(request(srv.port, "DELETE", "/top.txt", "admin:s3cret")[0] == 204)
    check(sorted(os.listdir(root)) == ["f.txt", "team"], os.listdir(root))
    # curl's -u, and its --anyauth finding Basic from the 401
    curl = harness.need("curl")
    p = subprocess.run([curl, "-s", "--anyauth", "-u", "team:tpw",
                        f"http://127.0.0.1:{srv.port}/team/doc.txt"], capture_output=True,
                       timeout=20)
    check(p.stdout == b"doc\n", p.stdout)
    check(srv.stop() == 0)


@deadline(60)
def test_lockout_and_its_log(t):
    root = make_root(t)
    log = t.path("log")
    srv = server(t, root, "--log", log)
    for _ in range(9):
        check(request(srv.port, "GET", "/top.txt", "admin:guess")[0] == 401)
    check(request(srv.port, "GET", "/top.txt", "admin:s3cret")[0] == 200)
    check(request(srv.port, "GET", "/top.txt", "admin:guess")[0] == 401)
    st, h, body = request(srv.port, "GET", "/top.txt", "admin:s3cret")
    check(st == 429 and h.get("Retry-After") == "60", (st, h))
    check(b"Too many failed sign-ins" in body, body)
    check(srv.stop() == 0)
    with open(log) as f:
        text = f.read()
    check(text.count("127.0.0.1: authentication failed for user 'admin'") == 10, text)
    check("s3cret" not in text and "guess" not in text)


@deadline(60)
def test_public_read_auth_file_and_bad_specs(t):
    root = make_root(t)
    accounts = t.path("accounts")
    with open(accounts, "w") as f:
        f.write("# who may write\n\nadmin:from file\n  guest:g:ro\n")
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload",
                   "--auth-file", accounts, "--public-read")
    check(request(srv.port, "GET", "/top.txt")[0] == 200)
    check(request(srv.port, "PUT", "/x.txt", None, b"x")[0] == 401)
    check(request(srv.port, "PUT", "/x.txt", "guest:g", b"x")[0] == 403)
    check(request(srv.port, "PUT", "/x.txt", "admin:from file", b"x")[0] == 201)
    check(srv.stop() == 0)
    with open(accounts, "w") as f:
        f.write("admin:ok\nnot an entry\n")
    for args, want in ((["--auth-file", accounts], "line 2"),
                       (["--auth-file", t.path("absent")], "absent"),
                       (["--auth", "admin"], "USER:SECRET"),
                       (["--auth", "a:sha256:12"], "64 hex")):
        rc, _, err = t.run("http-serve", "-b", "127.0.0.1", "-d", root, *args)
        check(rc == 2 and want in err and "not an entry" not in err, (args, err))


@deadline(60)
def test_writing_beyond_loopback_needs_an_account_or_a_yes(t):
    root = make_root(t)
    for args in (["--upload"], ["--upload", "--allow-delete", "-b", "0.0.0.0"],
                 ["--upload", "-b", "::"]):
        rc, _, err = t.run("http-serve", "-d", root, "-p", "0", *args)
        check(rc == 2 and "could write to" in err and "--public-write" in err, (args, err))
    for args in (["--upload", "-b", "127.0.0.1"], ["--upload", "--public-write"],
                 ["--upload", "--auth", "a:b"]):
        srv = t.server("http-serve", "-d", root, "-q", *args)
        check(srv.stop() == 0, args)
    unix = t.start("http-serve", "-d", root, "-q", "--upload", "-U", t.path("sock"))
    unix.wait_line(r"listening on")
    unix.signal(15)
    check(unix.wait(10) == 0)
