"""http-get with several URLs: one kept connection for them all, curl's
globs and -o/-O order, -Z with --parallel-max against a server that counts
the connections open at once, and the first failure's status; curl is
the oracle for what is fetched and where it is written."""
import os
import subprocess
import threading
import time

import harness
from harness import check, deadline


class KeepAlive:
    """HTTP/1.1 with keep-alive: /NAME answers "body of NAME\\n" (/status/N
    with status N), after delay seconds; counts connections, the most open
    at once, and requests. close_after: close each connection after that
    many answers, without saying so (a kept connection gone stale)."""

    def __init__(self, t, delay=0.0, close_after=0):
        self.delay, self.close_after = delay, close_after
        self.lock = threading.Lock()
        self.conns = self.open = self.most = 0
        self.paths = []
        self.ls = t.listener()
        self.port = self.ls.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        harness.accept_loop(self.ls, self.accepted)

    def accepted(self, c):
        with self.lock:
            self.conns += 1
            self.open += 1
            self.most = max(self.most, self.open)
        threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        answered = 0
        pending = b""
        try:
            c.settimeout(10)
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    pending += chunk
                head, pending = pending.split(b"\r\n\r\n", 1)
                path = head.split(b" ")[1].decode()
                with self.lock:
                    self.paths.append(path)
                if self.delay:
                    time.sleep(self.delay)
                code = int(path.split("/")[2]) if path.startswith("/status/") else 200
                body = f"body of {path}\n".encode()
                c.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s"
                          % (code, len(body), body))
                answered += 1
                if self.close_after and answered >= self.close_after:
                    return
        except OSError:
            return
        finally:
            with self.lock:
                self.open -= 1
            c.close()


def curl(*args, cwd=None):
    p = subprocess.run([harness.need("curl"), "-s", *args], capture_output=True, timeout=30,
                       cwd=cwd)
    return p.returncode, p.stdout


@deadline(60)
def test_one_connection_for_many_urls_as_curl(t):
    harness.need("curl")
    srv = KeepAlive(t)
    urls = [srv.base + p for p in ("/a", "/b", "/c")]
    wo = "%{num_connects}\\n"
    crc, cout = curl("-w", wo, *urls)
    c_conns = srv.conns
    rc, out, err = t.run("http-get", "-w", wo, *urls)
    check(rc == 0 and out == cout, (out, cout))
    check(c_conns == 1 and srv.conns - c_conns == 1, (c_conns, srv.conns))
    check(out == b"body of /a\n1\nbody of /b\n0\nbody of /c\n0\n", out)
    # a different host:port is a connection of its own
    other = KeepAlive(t)
    rc, out, _ = t.run("http-get", urls[0], other.base + "/x", urls[1])
    check(rc == 0 and out == b"body of /a\nbody of /x\nbody of /b\n", out)
    check(srv.conns == 4 and other.conns == 1, (srv.conns, other.conns))


@deadline(60)
def test_a_stale_kept_connection_is_redialled(t):
    srv = KeepAlive(t, close_after=1)
    urls = [srv.base + f"/{i}" for i in range(5)]
    rc, out, err = t.run("http-get", "-w", "%{num_connects}", *urls)
    check(rc == 0 and err == "", (rc, err))
    check(out == b"".join(b"body of /%d\n1" % i for i in range(5)), out)
    check(srv.paths == [f"/{i}" for i in range(5)] and srv.conns == 5, (srv.paths, srv.conns))


@deadline(60)
def test_globs_and_output_names_as_curl(t):
    harness.need("curl")
    srv = KeepAlive(t)
    mine, theirs = t.path("mine"), t.path("theirs")
    os.mkdir(mine)
    os.mkdir(theirs)
    args = ["-o", "f_#1_#2.txt", srv.base + "/{x,y}/[08-10]",
            "-O", srv.base + "/dir/named.txt",
            "-o", "plain", srv.base + "/p[a-c:2]",
            srv.base + "/to-stdout"]
    crc, cout = curl(*args, cwd=theirs)
    p = subprocess.run([harness.NETTOOL, "http-get", "-s", *args], capture_output=True,
                       timeout=30, cwd=mine)
    check(p.returncode == crc == 0 and p.stdout == cout == b"body of /to-stdout\n",
          (p.returncode, p.stdout, p.stderr))
    check(sorted(os.listdir(mine)) == sorted(os.listdir(theirs)),
          (os.listdir(mine), os.listdir(theirs)))
    for name in os.listdir(theirs):
        with open(os.path.join(mine, name), "rb") as a, open(os.path.join(theirs, name), "rb") as b:
            check(a.read() == b.read(), name)
    check(len(os.listdir(mine)) == 8, os.listdir(mine))  # 6 + named.txt + plain (the last)
    # -g: brackets as they are; a bad glob is a usage error naming it
    rc, _, err = t.run("http-get", srv.base + "/[1-")
    check(rc == 2 and "unclosed" in err, err)
    rc, out, _ = t.run("http-get", "-g", srv.base + "/x%5B1%5D")
    check(rc == 0 and out == b"body of /x%5B1%5D\n", out)
    rc, _, err = t.run("http-get", "-o", "a", "-o", "b", srv.base + "/one")
    check(rc == 2 and "more -o" in err, err)


@deadline(60)
def test_parallel_is_bounded_and_faster(t):
    srv = KeepAlive(t, delay=0.2)
    d = t.path("out")
    os.mkdir(d)
    t0 = time.monotonic()
    rc, out, err = t.run("http-get", "-Z", "--parallel-max", "5", "-o",
                         os.path.join(d, "n#1"), srv.base + "/[1-20]")
    took = time.monotonic() - t0
    check(rc == 0 and out == b"", (rc, err))
    check(sorted(os.listdir(d)) == sorted(f"n{i}" for i in range(1, 21)), os.listdir(d))
    for i in range(1, 21):
        with open(os.path.join(d, f"n{i}"), "rb") as f:
            check(f.read() == b"body of /%d\n" % i)
    # twenty answers of 0.2 s, five at a time: about 0.8 s, never 4
    check(srv.most <= 5 and srv.most >= 2 and srv.conns <= 5, (srv.most, srv.conns))
    check(took < 3 * harness.SLOW, took)
    # to stdout: every body whole, in some order
    rc, out, _ = t.run("http-get", "-Z", srv.base + "/{a,b,c,d}")
    check(rc == 0 and sorted(out.splitlines()) == [b"body of /" + x for x in (b"a", b"b", b"c", b"d")], out)


@deadline(60)
def test_the_first_failure_is_the_status(t):
    srv = KeepAlive(t)
    closed = t.sock()
    closed.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    for extra in ([], ["-Z"]):
        rc, out, err = t.run("http-get", "-f", *extra, srv.base + "/ok", srv.base + "/status/404",
                             dead, srv.base + "/fine")
        check(rc == 7, (extra, rc, err))
        check(b"body of /ok\n" in out and b"body of /fine\n" in out, out)
        rc, out, err = t.run("http-get", "-f", *extra, dead, srv.base + "/status/500")
        check(rc == 4, (extra, rc, err))
    rc, out, _ = t.run("http-get", "--parallel-max", "0", srv.base + "/x")
    check(rc == 2)
