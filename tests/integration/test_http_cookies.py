"""http-get's cookies (-b, -c, -j) by RFC 6265's rules, with curl as the
oracle: the Cookie headers a server sees from each for the same steps,
and each reading the other's cookie file."""
import http.server
import os
import subprocess
import threading

import harness
from harness import check, deadline

SETS = {
    "/set": ["a=1; Path=/", "b=2; Max-Age=3600", "c=3; Domain=127.0.0.1; Path=/",
             "s=4; Secure", "p=5; Path=/deep", "gone=6; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
             "h=7; HttpOnly; Path=/"],
    "/unset": ["a=; Max-Age=0; Path=/"],
    "/login": ["session=xyz; Path=/"],
}


class Site(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        path = self.path.split("?")[0]
        body = (self.headers.get("Cookie") or "(none)").encode() + b"\n"
        self.server.seen.append((path, self.headers.get("Cookie")))
        self.send_response(302 if path == "/login" else 200)
        for v in SETS.get(path, []):
            self.send_header("Set-Cookie", v)
        if path == "/login":
            self.send_header("Location", "/deep/echo")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def site(t):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    srv.seen = []
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    t.cleanups.append(lambda: (srv.shutdown(), srv.server_close()))
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def curl(*args):
    p = subprocess.run([harness.need("curl"), "-s", *args], capture_output=True, timeout=20)
    check(p.returncode == 0, p.stderr)
    return p.stdout


def cookie_lines(path):
    """A cookie file's cookies, comments and order aside."""
    with open(path) as f:
        return sorted(x for x in f.read().splitlines()
                      if x and (not x.startswith("#") or x.startswith("#HttpOnly_")))


def same_jars(a, b):
    """Whether two jars' lines are the same cookies: a Max-Age expiry is
    counted from each client's own clock, and the two run a moment apart,
    so expiries may differ by a couple of seconds."""
    def key(line):
        f = line.split("\t")
        return f[:4] + f[5:]
    if len(a) != len(b):
        return False
    for x, y in zip(sorted(a, key=key), sorted(b, key=key)):
        fx, fy = x.split("\t"), y.split("\t")
        if len(fx) != 7 or len(fy) != 7 or fx[:4] + fx[5:] != fy[:4] + fy[5:]:
            return False
        if (fx[4] == "0") != (fy[4] == "0") or abs(int(fx[4]) - int(fy[4])) > 2:
            return False
    return True


def names(header):
    return sorted(x.strip() for x in header.split(";")) if header else []


@deadline(60)
def test_the_same_cookies_as_curl_step_by_step(t):
    harness.need("curl")
    srv, base = site(t)
    ours, theirs = t.path("ours.jar"), t.path("theirs.jar")
    steps = [["/set"], ["/echo"], ["/deep/x"], ["/unset"], ["/echo"], ["/login", "-L"]]
    for step in steps:
        url = base + step[0]
        srv.seen.clear()
        curl(*step[1:], "-b", theirs, "-c", theirs, url)
        # curl takes a loopback origin for a secure one and keeps s=4
        # there; over http://, http-get never sets nor sends a Secure cookie
        c_seen = [(p, [x for x in names(h) if x != "s=4"]) for p, h in srv.seen]
        srv.seen.clear()
        rc, _, err = t.run("http-get", "-s", *step[1:], "-b", ours, "-c", ours, url)
        check(rc == 0, err)
        n_seen = [(p, names(h)) for p, h in srv.seen]
        check(n_seen == c_seen, (step, n_seen, c_seen))
    # the two files hold the same cookies, line for line
    theirs_lines = [x for x in cookie_lines(theirs) if "\ts\t4" not in x]
    check(same_jars(cookie_lines(ours), theirs_lines), (cookie_lines(ours), theirs_lines))
    check(any(x.startswith("#HttpOnly_") for x in cookie_lines(ours)), cookie_lines(ours))
    # each reads the other's file and sends the same
    srv.seen.clear()
    curl("-b", ours, base + "/deep/echo")
    rc, _, _ = t.run("http-get", "-b", theirs, base + "/deep/echo")
    check(rc == 0 and names(srv.seen[0][1]) == names(srv.seen[1][1]) != [], srv.seen)
    check("s=4" not in names(srv.seen[1][1]), srv.seen)


@deadline(60)
def test_given_strings_redirects_and_host_only(t):
    srv, base = site(t)
    rc, out, _ = t.run("http-get", "-b", "x=1; y=2", base + "/echo")
    check(rc == 0 and out == b"x=1; y=2\n", out)
    # kept across redirects within one run, with -c - (the jar on stdout)
    rc, out, err = t.run("http-get", "-L", "-c", "-", base + "/login")
    check(rc == 0 and out.startswith(b"session=xyz\n"), (out, err))
    check(b"\tsession\txyz\n" in out and b"127.0.0.1\tFALSE\t/\tFALSE\t0\tsession" in out, out)
    # without a file to keep them, a redirect's cookies are not sent (as curl)
    rc, out, _ = t.run("http-get", "-L", base + "/login")
    check(rc == 0 and out == b"(none)\n", out)
    # a host-only cookie of 127.0.0.1 does not go to localhost
    jar = t.path("jar")
    rc, _, _ = t.run("http-get", "-c", jar, base + "/login")
    port = srv.server_address[1]
    rc, out, _ = t.run("http-get", "-b", jar, f"http://localhost:{port}/echo")
    check(rc == 0 and out == b"(none)\n", out)
    rc, out, _ = t.run("http-get", "-b", jar, "-b", "extra=1", base + "/echo")
    check(rc == 0 and out == b"extra=1; session=xyz\n", out)


@deadline(60)
def test_junk_session_secure_and_expired_in_a_file(t):
    srv, base = site(t)
    jar = t.path("jar")
    with open(jar, "w") as f:
        f.write("# Netscape HTTP Cookie File\n\n"
                "127.0.0.1\tFALSE\t/\tFALSE\t0\tsess\tone\n"
                "127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tkeep\ttwo\n"
                "127.0.0.1\tFALSE\t/\tTRUE\t4102444800\tsec\tthree\n"
                "127.0.0.1\tFALSE\t/\tFALSE\t1000\told\tfour\n"
                ".127.0.0.1\tTRUE\t/other\tFALSE\t0\telse\tfive\n"
                "not a cookie line\n" + "x" * 20000 + "\n")
    rc, out, err = t.run("http-get", "-b", jar, base + "/echo")
    check(rc == 0 and names(out.decode().strip()) == ["keep=two", "sess=one"], out)
    check("line 8 and others is no cookie line: skipped" in err, err)
    rc, out, _ = t.run("http-get", "-j", "-b", jar, base + "/echo")
    check(rc == 0 and out == b"keep=two\n", out)
    # written back: the secure one kept (never sent over http), the expired gone
    out_jar = t.path("out.jar")
    rc, _, _ = t.run("http-get", "-b", jar, "-c", out_jar, base + "/echo")
    lines = cookie_lines(out_jar)
    check(rc == 0 and len(lines) == 4 and any("\tsec\tthree" in x for x in lines), lines)
    check(not any("\told\t" in x for x in lines), lines)
    # no such file: an empty jar, as curl
    rc, out, _ = t.run("http-get", "-b", t.path("absent"), base + "/echo")
    check(rc == 0 and out == b"(none)\n", out)
    # a jar that cannot be read is an error, and is not written over
    os.mkdir(t.path("dir"))
    rc, _, err = t.run("http-get", "-b", t.path("dir"), "-c", t.path("dir"), base + "/echo")
    check(rc == 1 and "dir" in err, err)
    rc, _, err = t.run("http-get", "-b", "bad=\x01", base + "/echo")
    check(rc == 2, err)
