"""tcp-client and http-get through proxies: microsocks (SOCKS5, with and
without a password) and tinyproxy (HTTP CONNECT and absolute-form), and
small Python stand-ins for the replies no real proxy sends on purpose
(malformed, cut short, each refusal code); http-get over a Unix socket."""
import os
import socket
import struct
import subprocess
import threading
import time

import harness
from harness import check, deadline, free_port




def start_daemon(t, argv, port):
    """A peer that listens on port; stopped by the test."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t.cleanups.append(lambda: (p.terminate(), p.wait(10)))
    end = time.monotonic() + 10 * harness.SLOW
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"{argv[0]} did not listen on {port}")


def microsocks(t, *auth):
    harness.need("microsocks")
    port = free_port()
    start_daemon(t, ["microsocks", "-i", "127.0.0.1", "-p", str(port), *auth], port)
    return port


def tinyproxy(t):
    harness.need("tinyproxy")
    port = free_port()
    conf = t.path("tinyproxy.conf")
    with open(conf, "w") as f:
        f.write(f"Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 20\n"
                "Allow 127.0.0.1\nLogLevel Critical\n")
    start_daemon(t, ["tinyproxy", "-d", "-c", conf], port)
    return port


def echo_through(t, *args):
    """A line through tcp-client to an echo server, stdin kept open until
    the echo is back (some proxies close both ways at a half-close)."""
    srv = t.server("tcp-echo-server", "-b", "127.0.0.1")
    p = harness.Proc(t, [harness.NETTOOL, "tcp-client", *args, "127.0.0.1", str(srv.port)],
                     stdin=subprocess.PIPE)
    p.p.stdin.write(b"through the proxy\x00\xff\n")
    p.p.stdin.flush()
    got = p.p.stdout.readline()
    p.p.stdin.close()
    rc = p.p.wait(10 * harness.SLOW)
    srv.stop()
    return rc, got, p.stderr()


@deadline(60)
def test_tcp_client_through_socks5(t):
    port = microsocks(t)
    rc, got, err = echo_through(t, "--proxy", f"127.0.0.1:{port}")
    check(rc == 0 and got == b"through the proxy\x00\xff\n", (rc, got, err))
    # the name goes to the proxy to resolve
    srv = t.server("tcp-echo-server", "-b", "127.0.0.1")
    rc, out, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{port}", "-z", "-v", "localhost",
                         str(srv.port))
    check(rc == 0, err)
    srv.stop()
    closed = free_port()
    rc, _, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{port}", "127.0.0.1", str(closed),
                       input=b"x")
    check(rc == 4 and "could not connect to 127.0.0.1 port" in err, (rc, err))
    rc, _, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{free_port()}", "127.0.0.1", "9",
                       input=b"x")
    check(rc == 4 and "proxy 127.0.0.1 port" in err, (rc, err))


@deadline(60)
def test_tcp_client_socks5_password(t):
    port = microsocks(t, "-u", "me", "-P", "s3cret")
    rc, got, err = echo_through(t, "--proxy", f"127.0.0.1:{port}", "--proxy-auth", "me:s3cret")
    check(rc == 0 and got == b"through the proxy\x00\xff\n", (rc, got, err))
    rc, _, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{port}", "--proxy-auth", "me:wrong",
                       "127.0.0.1", "9", input=b"x")
    check(rc == 4 and "refused the username and password" in err, (rc, err))
    rc, _, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{port}", "127.0.0.1", "9",
                       input=b"x")
    check(rc == 4 and "accepts none of our methods" in err, (rc, err))


@deadline(60)
def test_tcp_client_through_http_connect(t):
    port = tinyproxy(t)
    rc, got, err = echo_through(t, "--proxy", f"127.0.0.1:{port}", "--proxy-type", "http")
    check(rc == 0 and got == b"through the proxy\x00\xff\n", (rc, got, err))
    rc, _, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{port}", "--proxy-type", "http",
                       "127.0.0.1", str(free_port()), input=b"x")
    check(rc == 4 and "answered CONNECT with" in err, (rc, err))


class FakeProxy:
    """Accepts connections and answers each with reply(conn) (a function
    given the connection after reading what the client sends first)."""

    def __init__(self, t, reply):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        t.socks.append(self.sock)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                self.reply(c)
            except OSError:
                pass
            finally:
                c.close()


def socks5_replying(rep_bytes, hello=b"\x05\x00"):
    def reply(c):
        c.recv(16)
        c.sendall(hello)
        if hello[1:] != b"\x00":
            return
        c.recv(300)
        c.sendall(rep_bytes)
    return reply


@deadline(60)
def test_proxy_replies_no_real_proxy_sends(t):
    ok_addr = b"\x01\x7f\x00\x00\x01\x00\x50"
    for code in range(1, 9):
        fake = FakeProxy(t, socks5_replying(b"\x05" + bytes([code]) + b"\x00" + ok_addr))
        rc, _, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{fake.port}", "example.test",
                           "80", input=b"x")
        check(rc == 4 and "could not connect to example.test port 80" in err, (code, rc, err))
    for name, reply in (("version", socks5_replying(b"\x04\x00\x00" + ok_addr)),
                        ("address type", socks5_replying(b"\x05\x00\x00\x09\x00\x00")),
                        ("cut short", socks5_replying(b"\x05\x00\x00\x01\x7f")),
                        ("not socks", socks5_replying(b"", hello=b"HT"))):
        fake = FakeProxy(t, reply)
        rc, _, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{fake.port}", "example.test",
                           "80", input=b"x")
        check(rc == 6, (name, rc, err))
    # SOCKS4: a refusal, and garbage
    for rep, want in ((b"\x00\x5b" + b"\x00" * 6, 4), (b"\x05\x5a" + b"\x00" * 6, 6)):
        fake = FakeProxy(t, lambda c, rep=rep: (c.recv(300), c.sendall(rep)))
        rc, _, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{fake.port}", "--proxy-type",
                           "socks4", "example.test", "80", input=b"x")
        check(rc == want, (rep, rc, err))
    # HTTP: 407, garbage, and a 200 with the tunnel's first bytes right behind it
    for rep, want, text in ((b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", 4, "--proxy-auth"),
                            (b"SSH-2.0-nope\r\n\r\n", 6, "malformed"),):
        fake = FakeProxy(t, lambda c, rep=rep: (c.recv(300), c.sendall(rep)))
        rc, _, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{fake.port}", "--proxy-type",
                           "http", "example.test", "80", input=b"x")
        check(rc == want and text in err, (rep, rc, err))
    seen = []

    def connect_then_data(c):
        req = b""
        while b"\r\n\r\n" not in req:
            req += c.recv(300)
        seen.append(req)
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\nfirst bytes")
        seen.append(c.recv(100))
    fake = FakeProxy(t, connect_then_data)
    rc, out, err = t.run("tcp-client", "--proxy", f"127.0.0.1:{fake.port}", "--proxy-type",
                         "http", "--proxy-auth", "me:pw", "example.test", "80", input=b"sent")
    check(rc == 0 and out == b"first bytes", (rc, out, err))
    check(seen[0].startswith(b"CONNECT example.test:80 HTTP/1.1\r\n") and
          b"Proxy-Authorization: Basic bWU6cHc=\r\n" in seen[0] and seen[1] == b"sent", seen)
    # bad options: exit 2
    for args in (["--proxy", "nohostport"], ["--proxy-type", "socks5"],
                 ["--proxy", "127.0.0.1:1", "--proxy-type", "gopher"],
                 ["--proxy", "127.0.0.1:1", "--proxy-auth", "nocolon"]):
        rc, _, err = t.run("tcp-client", *args, "127.0.0.1", "9")
        check(rc == 2, (args, rc, err))


@deadline(60)
def test_http_get_through_proxies(t):
    root = t.path("www")
    os.mkdir(root)
    with open(os.path.join(root, "a.txt"), "wb") as f:
        f.write(b"the file\n")
    srv = t.server("http-serve", "-d", root, "-b", "127.0.0.1", "--log", t.path("log"))
    url = f"http://127.0.0.1:{srv.port}/a.txt"
    tp = tinyproxy(t)
    rc, out, err = t.run("http-get", "-v", "-x", f"http://127.0.0.1:{tp}", url)
    check(rc == 0 and out == b"the file\n" and f"> GET {url} HTTP/1.1" in err, (rc, err))
    # http_proxy (lower case only), no_proxy and --noproxy
    env = dict(os.environ, http_proxy=f"http://127.0.0.1:{tp}")
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    rc, out, err = t.run("http-get", "-v", url, env=env)
    check(rc == 0 and f"> GET {url}" in err, err)
    for extra_env, args in (({"no_proxy": "127.0.0.1"}, []), ({"NO_PROXY": "*"}, []),
                            ({}, ["--noproxy", "localhost,127.0.0.1"]), ({}, ["-x", ""])):
        rc, out, err = t.run("http-get", "-v", *args, url, env=dict(env, **extra_env))
        check(rc == 0 and "> GET /a.txt HTTP/1.1" in err, (extra_env, args, err))
    env2 = dict(os.environ, HTTP_PROXY="http://127.0.0.1:1")
    env2.pop("http_proxy", None)
    rc, out, err = t.run("http-get", url, env=env2)  # upper case is not read, as curl
    check(rc == 0 and out == b"the file\n", err)
    # SOCKS5, the name resolved by the proxy, and with a password
    ms = microsocks(t)
    rc, out, err = t.run("http-get", "-x", f"socks5h://127.0.0.1:{ms}",
                         f"http://localhost:{srv.port}/a.txt")
    check(rc == 0 and out == b"the file\n", err)
    msa = microsocks(t, "-u", "u", "-P", "p w")
    rc, out, err = t.run("http-get", "-f", "-x", f"socks5://u:p%20w@127.0.0.1:{msa}", url)
    check(rc == 0 and out == b"the file\n", err)
    rc, out, err = t.run("http-get", "-x", f"socks5://u:bad@127.0.0.1:{msa}", url)
    check(rc == 4, (rc, err))
    # -o and a redirect through the proxy
    rc, _, err = t.run("http-get", "-L", "-o", t.path("got"), "-x", f"http://127.0.0.1:{tp}",
                       f"http://127.0.0.1:{srv.port}/")
    check(rc == 0 and b"a.txt" in open(t.path("got"), "rb").read(), err)
    rc, _, err = t.run("http-get", "-x", "gopher://127.0.0.1:70", url)
    check(rc == 2 and "unknown scheme" in err, err)
    srv.stop()


@deadline(30)
def test_http_get_over_a_unix_socket(t):
    root = t.path("www")
    os.mkdir(root)
    with open(os.path.join(root, "v.json"), "wb") as f:
        f.write(b'{"ok":1}\n')
    sock = t.path("api.sock")
    srv = t.start("http-serve", "-d", root, "-U", sock, "-q")
    srv.wait_line(r"listening on (\S+)$")
    rc, out, err = t.run("http-get", "--unix-socket", sock, "http://localhost/v.json")
    check(rc == 0 and out == b'{"ok":1}\n', (rc, err))
    rc, out, err = t.run("http-get", "--unix-socket", t.path("none.sock"), "http://x/")
    check(rc == 4, (rc, err))
    srv.signal(15)
    check(srv.wait(10) == 0)
