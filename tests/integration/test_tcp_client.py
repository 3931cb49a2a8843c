"""tcp-client against Python peers: end-of-input rules, timeouts, options."""
import http.server
import os
import re
import signal
import socket
import subprocess
import threading
import time

import harness
from harness import check, deadline, recv_all, sha256


class Peer:
    """A one-connection Python server running handler(conn) in a thread."""

    def __init__(self, t, handler, host="127.0.0.1"):
        self.ls = t.listener(host=host)
        self.port = self.ls.getsockname()[1]
        self.result = {}
        self.th = threading.Thread(target=self._serve, args=(handler,), daemon=True)
        self.th.start()

    def _serve(self, handler):
        self.ls.settimeout(30)
        conn, addr = self.ls.accept()
        self.result["peer"] = addr
        conn.settimeout(30)
        try:
            handler(conn, self.result)
        except Exception as e:  # reported by join()
            self.result["error"] = repr(e)
        finally:
            conn.close()

    def join(self, timeout=30):
        self.th.join(timeout * harness.SLOW)
        check(not self.th.is_alive(), "peer still running")
        check("error" not in self.result, self.result.get("error"))
        return self.result


def read_then_reply(conn, res):
    data = recv_all(conn)
    res["got"] = data
    conn.sendall(b"sha256 " + sha256(data).encode() + b"\n")


def test_stdin_eof_half_closes_and_reads_reply(t):
    data = os.urandom(5 << 20)
    src = t.path("in")
    with open(src, "wb") as f:
        f.write(data)
    for use_pipe in (False, True):
        peer = Peer(t, read_then_reply)
        if use_pipe:
            rc, out, err = t.run("tcp-client", "127.0.0.1", str(peer.port), input=data)
        else:
            with open(src, "rb") as f:
                rc, out, err = t.run("tcp-client", "127.0.0.1", str(peer.port), stdin=f)
        res = peer.join()
        check(rc == 0 and err == "", (rc, err))
        check(res["got"] == data, "server did not get the whole input")
        check(out == b"sha256 " + sha256(data).encode() + b"\n", out)


def test_http_request_through_pipeline(t):
    """printf 'GET / HTTP/1.0' | nettool tcp-client ... prints the whole reply."""
    with open(t.path("index.html"), "wb") as f:
        f.write(b"<h1>hello</h1>\n" * 1000)
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=t.tmp, **k)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    th = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    th.start()
    try:
        rc, out, err = t.run("tcp-client", "127.0.0.1", str(httpd.server_port),
                             input=b"GET /index.html HTTP/1.0\r\n\r\n")
    finally:
        httpd.shutdown()
        httpd.server_close()
    check(rc == 0, (rc, err))
    head, _, body = out.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.0 200"), head)
    check(body == b"<h1>hello</h1>\n" * 1000, "body incomplete")


def test_server_close_ends_client_with_stdin_open(t):
    def greet_and_close(conn, res):
        conn.sendall(b"bye\n")
    peer = Peer(t, greet_and_close)
    r, w = os.pipe()  # stdin stays open: we never write nor close w
    try:
        p = t.start("tcp-client", "127.0.0.1", str(peer.port), stdin=r)
        out = p.p.stdout.read()
        rc = p.wait()
    finally:
        os.close(r)
        os.close(w)
    peer.join()
    check(rc == 0 and out == b"bye\n", (rc, out, p.stderr()))


def test_server_half_close_still_receives_stdin(t):
    """The server shuts its write side first and goes on reading: all of
    stdin still reaches it (busybox nc drops it)."""
    data = os.urandom(8 << 20)

    def banner_then_read(conn, res):
        conn.sendall(b"banner\n")
        conn.shutdown(socket.SHUT_WR)
        res["got"] = recv_all(conn)

    src = t.path("in")
    with open(src, "wb") as f:
        f.write(data)
    peer = Peer(t, banner_then_read)
    with open(src, "rb") as f:
        rc, out, err = t.run("tcp-client", "127.0.0.1", str(peer.port), stdin=f)
    res = peer.join()
    check(rc == 0 and out == b"banner\n", (rc, out, err))
    check(res["got"] == data, f"server got {len(res['got'])} of {len(data)} bytes")
    # the same from a pipe whose contents are all there before the start
    small = os.urandom(60000)
    peer = Peer(t, banner_then_read)
    r, w = os.pipe()
    os.write(w, small)
    os.close(w)
    try:
        rc, out, err = t.run("tcp-client", "127.0.0.1", str(peer.port), stdin=r)
    finally:
        os.close(r)
    check(rc == 0 and out == b"banner\n", (rc, err))
    check(peer.join()["got"] == small, "pipe input lost after half-close")


def test_send_after_full_close_is_an_error(t):
    def close_at_once(conn, res):
        conn.recv(1)
    peer = Peer(t, close_at_once)
    r, w = os.pipe()
    p = t.start("tcp-client", "127.0.0.1", str(peer.port), stdin=r)
    os.close(r)
    os.write(w, b"x")
    peer.join()
    # the server is gone; keep writing until the client notices
    try:
        for _ in range(200):
            os.write(w, b"y" * 4096)
    except BrokenPipeError:
        pass
    finally:
        os.close(w)
    rc = p.wait()
    # Either the reset arrived before more input (exit 1 with a message) or
    # the client ended at the close with nothing of ours unsent (0).
    err = p.stderr()
    check(rc == 1 and re.search(r"nettool: tcp-client: (send|receive): ", err)
          or rc == 0 and err == "", (rc, err))


def test_connection_refused_exit_4(t):
    u = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.socks.append(u)
    u.bind(("127.0.0.1", 0))  # bound, not listening: connects are refused
    rc, out, err = t.run("tcp-client", "127.0.0.1", str(u.getsockname()[1]))
    check(rc == 4 and out == b"", rc)
    check(re.match(r"nettool: tcp-client: connect to 127\.0\.0\.1:\d+: Connection refused", err), err)


def test_unresolvable_name_exit_3(t):
    rc, out, err = t.run("tcp-client", "-n", "no-such-host.invalid", "80")
    check(rc == 3 and out == b"", (rc, err))
    check(err.startswith("nettool: tcp-client: cannot resolve no-such-host.invalid"), err)
    rc, _, err = t.run("tcp-client", "-6", "-n", "127.0.0.1", "80")
    check(rc == 3, (rc, err))


def full_backlog(t):
    """A listening socket that never accepts, its queue already full:
    further connection attempts get no answer."""
    ls = t.listener(backlog=0)
    port = ls.getsockname()[1]
    for _ in range(3):
        c = t.sock()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
    return port


def test_connect_timeout_exit_5(t):
    port = full_backlog(t)
    start = time.monotonic()
    rc, out, err = t.run("tcp-client", "-w", "0.5", "127.0.0.1", str(port))
    took = time.monotonic() - start
    check(rc == 5 and "timed out" in err, (rc, err))
    check(0.4 <= took < 5 * harness.SLOW, took)


def test_idle_timeout_exit_5(t):
    def stay_silent(conn, res):
        res["got"] = recv_all(conn)
    peer = Peer(t, stay_silent)
    r, w = os.pipe()
    try:
        start = time.monotonic()
        rc, out, err = t.run("tcp-client", "-w", "0.4", "127.0.0.1", str(peer.port),
                             stdin=r)
        took = time.monotonic() - start
    finally:
        os.close(r)
        os.close(w)
    peer.join()
    check(rc == 5 and "timed out" in err, (rc, err))
    check(took >= 0.35, took)


def test_quit_after_stdin_eof(t):
    client_done = threading.Event()

    def silent_reader(conn, res):
        res["got"] = recv_all(conn)
        client_done.wait(30)  # stay open: only -q can end the client

    peer = Peer(t, silent_reader)
    start = time.monotonic()
    try:
        rc, out, err = t.run("tcp-client", "-q", "0.3", "127.0.0.1", str(peer.port),
                             input=b"data")
    finally:
        client_done.set()
    took = time.monotonic() - start
    check(rc == 0 and err == "", (rc, err))
    check(took >= 0.25, took)
    check(peer.join()["got"] == b"data")


def test_crlf(t):
    peer = Peer(t, read_then_reply)
    rc, out, err = t.run("tcp-client", "-C", "127.0.0.1", str(peer.port),
                         input=b"a\nb\r\nc\n\n")
    check(rc == 0, err)
    check(peer.join()["got"] == b"a\r\nb\r\nc\r\n\r\n")


def test_hex_dump(t):
    srv = t.server("tcp-echo-server")
    rc, out, err = t.run("tcp-client", "-x", "127.0.0.1", str(srv.port),
                         input=b"hello, world!\n")
    check(rc == 0 and out == b"hello, world!\n", (rc, out))
    check(re.search(r"^> 00000000  68 65 6c 6c 6f 2c 20 77 6f 72 6c 64 21 0a +\|hello, world!\.\|$",
                    err, re.M), err)
    check(re.search(r"^< 00000000  68 65 6c 6c", err, re.M), err)
    srv.stop()


def test_source_address_and_verbose(t):
    def who(conn, res):
        res["got"] = recv_all(conn)
    peer = Peer(t, who, host="0.0.0.0")
    rc, out, err = t.run("tcp-client", "-v", "-s", "127.0.0.2", "127.0.0.1",
                         str(peer.port), input=b"")
    res = peer.join()
    check(rc == 0, err)
    check(res["peer"][0] == "127.0.0.2", res["peer"])
    check(re.match(r"nettool: tcp-client: connected to 127\.0\.0\.1:\d+ from 127\.0\.0\.2:\d+$",
                   err), err)


def test_scan_ports(t):
    srv = t.server("tcp-echo-server", "-b", "127.0.0.1")
    p = srv.port
    rc, out, err = t.run("tcp-client", "-z", "127.0.0.1", str(p))
    check(rc == 0 and out == b"" and err == "", (rc, err))
    lo = max(1, p - 3)
    rc, out, err = t.run("tcp-client", "-z", "-v", "127.0.0.1", f"{lo}-{p}")
    lines = [x for x in err.splitlines() if x.endswith(" open")]
    check(rc == 0 and f"nettool: tcp-client: 127.0.0.1:{p} open" in lines, err)
    srv.stop()
    rc, out, err = t.run("tcp-client", "-z", "127.0.0.1", str(p))
    check(rc == 4, (rc, err))


def test_closed_stdout_ends_quietly(t):
    def flood(conn, res):
        try:
            for _ in range(400):
                conn.sendall(b"z" * 65536)
        except OSError:
            pass
    peer = Peer(t, flood)
    r, w = os.pipe()
    p = t.start("tcp-client", "127.0.0.1", str(peer.port), stdout=w,
                stdin=subprocess.PIPE)
    os.close(w)
    check(os.read(r, 10) == b"z" * 10)
    os.close(r)  # the reader of stdout leaves
    rc = p.wait()
    peer.join()
    check(rc == 0 and p.stderr() == "", (rc, p.stderr()))


def test_nonblocking_slow_stdout_loses_nothing(t):
    data = os.urandom(4 << 20)
    srv = t.server("tcp-echo-server")
    r, w = os.pipe()
    os.set_blocking(w, False)  # shared with the client: its stdout is O_NONBLOCK
    src = t.path("in")
    with open(src, "wb") as f:
        f.write(data)
    with open(src, "rb") as f:
        p = t.start("tcp-client", "127.0.0.1", str(srv.port), stdin=f, stdout=w)
    os.close(w)
    got = bytearray()
    time.sleep(0.3)  # let the pipe fill so the client meets EAGAIN
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        got += b
    os.close(r)
    rc = p.wait()
    check(rc == 0 and p.stderr() == "", (rc, p.stderr()))
    check(bytes(got) == data, f"{len(got)} of {len(data)} bytes")
    srv.stop()


@deadline(30)
def test_interactive_terminal(t):
    """In a terminal (tmux): type a line, see it echoed back."""
    srv = t.server("tcp-echo-server")
    term = harness.Tmux(t, f"{harness.NETTOOL} tcp-client 127.0.0.1 {srv.port}")
    term.wait(lambda s: True)
    term.keys("ping-from-tty", "Enter")
    term.wait(lambda s: s.count("ping-from-tty") >= 2)  # typed, then echoed
    term.keys("C-d")
    pane = term.wait(lambda s: "EXIT=" in s)
    check("EXIT=0" in pane, pane)
    srv.stop()


@deadline(90)
def test_file_on_stdin_by_sendfile_except_to_this_host(t):
    """A regular file on stdin goes by sendfile to a peer elsewhere (a
    network namespace of the test's own), and by read and write to one on
    this host, where sendfile would only move the copy to the receiver."""
    ns, addr = harness.far_host(t)
    src, out_far, out_near = t.path("src"), t.path("far"), t.path("near")
    data = os.urandom((3 << 20) + 7)
    with open(src, "wb") as f:
        f.write(data)
    for host, out in ((addr, out_far), ("127.0.0.1", out_near)):
        with open(out, "wb") as sink:
            argv = [harness.NETTOOL, "tcp-server", "-b", host, "-p", "0"]
            srv = harness.Proc(t, (["ip", "netns", "exec", ns] if host == addr else []) + argv,
                               stdout=sink)
        port = srv.wait_line(r"listening on \S+:(\d+)$").group(1)
        with open(src, "rb") as i:
            p, calls = harness.traced([harness.NETTOOL, "tcp-client", host, port],
                                      ["sendfile", "read"], stdin=i,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        check(p.returncode == 0, p.stderr)
        check(srv.wait(20) == 0)
        with open(out, "rb") as f:
            check(f.read() == data)
        reads = [n for n in re.findall(r"read\(0, .*\) = (\d+)", calls) if int(n) >= 4096]
        sends = calls.count("sendfile(")
        check((sends > 0 and not reads) if host == addr else (reads and not sends),
              (host, sends, len(reads)))
