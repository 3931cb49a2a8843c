"""tcp-client and tcp-server: half-close control (--no-shutdown, -q,
--send-only, --recv-only, -d) through real proxies that drop a
half-closed connection, and --eol against a peer that compares exact
strings."""
import http.server
import re
import signal
import socket
import subprocess
import threading
import time

import harness
from harness import check, deadline, recv_all
from test_proxy import microsocks, tinyproxy
from test_tcp_client import Peer


def http_server(t):
    """Python's http.server on a free port, answering GET / with a page."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"the page\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    t.cleanups.append(lambda: (srv.shutdown(), srv.server_close()))
    return srv.server_address[1]


def reply_through(t, web, proxy_args, times):
    """A one-line HTTP/1.0 request through the proxy with --no-shutdown,
    times over; how many replies arrived whole."""
    whole = 0
    for _ in range(times):
        rc, out, err = t.run("tcp-client", "--no-shutdown", *proxy_args, "127.0.0.1", str(web),
                             input=b"GET / HTTP/1.0\r\n\r\n")
        check(rc == 0, (rc, err))
        whole += out.startswith(b"HTTP/1.0 200") and out.endswith(b"\r\n\r\nthe page\n")
    return whole


@deadline(120)
def test_no_shutdown_keeps_the_reply_through_socks5(t):
    web = http_server(t)
    port = microsocks(t)
    check(reply_through(t, web, ["--proxy", f"127.0.0.1:{port}"], 20) == 20)


@deadline(120)
def test_no_shutdown_keeps_the_reply_through_http_connect(t):
    web = http_server(t)
    port = tinyproxy(t)
    check(reply_through(t, web, ["--proxy", f"127.0.0.1:{port}", "--proxy-type", "http"],
                        20) == 20)


@deadline(30)
def test_no_shutdown_holds_the_write_side_until_q(t):
    seen = {}

    def reader(conn, res):
        conn.settimeout(10)
        data = b""
        while not data.endswith(b"all of it"):
            data += conn.recv(100)
        t0 = time.monotonic()
        rest = conn.recv(100)  # the client's close, not a half-close at stdin's end
        res["got"], res["after"], res["rest"] = data, time.monotonic() - t0, rest
    peer = Peer(t, reader)
    rc, out, err = t.run("tcp-client", "--no-shutdown", "-q", "0.5", "127.0.0.1",
                         str(peer.port), input=b"all of it")
    seen = peer.join()
    check(rc == 0 and err == "", (rc, err))
    check(seen["got"] == b"all of it" and seen["rest"] == b"", seen)
    check(seen["after"] >= 0.4, seen)


@deadline(30)
def test_recv_only_reads_no_stdin_and_never_half_closes(t):
    for flag in ("-d", "--recv-only"):
        def talker(conn, res):
            conn.settimeout(0.5 * harness.SLOW)
            try:
                res["early"] = conn.recv(100)  # EOF here would be a half-close
            except socket.timeout:
                res["early"] = None
            conn.sendall(b"from the server\n")
        peer = Peer(t, talker)
        p = harness.Proc(t, [harness.NETTOOL, "tcp-client", flag, "127.0.0.1", str(peer.port)],
                         stdin=subprocess.PIPE)
        p.p.stdin.write(b"never read\n")
        p.p.stdin.flush()
        out = p.p.stdout.read()
        rc = p.wait()
        p.p.stdin.close()
        res = peer.join()
        check(rc == 0 and out == b"from the server\n", (rc, out, p.stderr()))
        check(res["early"] is None, res)


@deadline(30)
def test_send_only_discards_what_arrives(t):
    data = bytes(range(256)) * 4096

    def chatty(conn, res):
        conn.sendall(b"x" * (1 << 20))  # more than the buffers: it must be read
        res["got"] = recv_all(conn)
    peer = Peer(t, chatty)
    rc, out, err = t.run("tcp-client", "--send-only", "127.0.0.1", str(peer.port), input=data)
    check(rc == 0 and out == b"" and err == "", (rc, len(out), err))
    check(peer.join()["got"] == data)


@deadline(30)
def test_eol_none_sends_each_line_bare(t):
    """As the tutorials' servers do: recv() a command, compare it
    exactly, answer; the next line is typed after the answer."""
    def exact(conn, res):
        words = []
        while True:
            w = conn.recv(1024)
            if not w or w == b"exit":
                break
            words.append(w)
            conn.sendall(b"ok " + w + b"\n")
        res["words"] = words
        res["last"] = w
        conn.sendall(b"bye\n")
    for eol in (["--eol", "none"],):
        peer = Peer(t, exact)
        p = harness.Proc(t, [harness.NETTOOL, "tcp-client", *eol, "127.0.0.1", str(peer.port)],
                         stdin=subprocess.PIPE)
        got = []
        for line in (b"hello\n", b"two words\r\n", b"exit\n"):
            p.p.stdin.write(line)
            p.p.stdin.flush()
            got.append(p.p.stdout.readline())
        p.p.stdin.close()
        rc = p.wait()
        res = peer.join()
        check(rc == 0, p.stderr())
        check(got == [b"ok hello\n", b"ok two words\n", b"bye\n"], got)
        check(res["words"] == [b"hello", b"two words"] and res["last"] == b"exit", res)


@deadline(30)
def test_eol_crlf_is_c(t):
    peer = Peer(t, lambda conn, res: res.update(got=recv_all(conn)))
    rc, _, err = t.run("tcp-client", "--eol", "crlf", "127.0.0.1", str(peer.port),
                       input=b"a\nb\r\n")
    check(rc == 0, err)
    check(peer.join()["got"] == b"a\r\nb\r\n")


@deadline(30)
def test_tcp_server_no_shutdown_and_eol_none(t):
    srv = t.server("tcp-server", "--no-shutdown", "--eol", "none", "-q", "0.3",
                   stdin=subprocess.PIPE)
    s = t.connect(srv.port)
    srv.p.stdin.write(b"serverexitok\n")
    srv.p.stdin.flush()
    check(s.recv(100) == b"serverexitok")
    srv.p.stdin.close()
    s.settimeout(5 * harness.SLOW)
    check(s.recv(100) == b"")  # the server ends after -q, with no half-close first
    check(srv.wait() == 0, srv.stderr())


@deadline(30)
def test_half_close_options_are_checked(t):
    for args, what in ((["--eol", "cr"], "--eol"),
                       (["--send-only", "--recv-only"], "exclude each other"),
                       (["--eol", "none", "--frame", "line"], "--frame")):
        rc, _, err = t.run("tcp-client", *args, "127.0.0.1", "9", input=b"")
        check(rc == 2 and what in err, (args, rc, err))


@deadline(30)
def test_chat_delivers_a_message_without_newline(t):
    """As the tutorials' clients send: send() of the typed text, no
    newline; once after a pause, once at the close."""
    from test_tcp_server import Lines
    srv = t.server("tcp-server", "--chat", "--quiet-notices", stdin=subprocess.PIPE)
    a = Lines(t, srv.port)
    srv.wait_line(r"\[1 127\.0\.0\.1:\d+\] joined")
    b = Lines(t, srv.port)
    srv.wait_line(r"\[2 127\.0\.0\.1:\d+\] joined")
    pb = b.s.getsockname()[1]
    b.s.sendall(b"no newline")
    t0 = time.monotonic()
    check(a.line() == b"[2 127.0.0.1:%d] no newline" % pb)  # no join notice before it
    check(time.monotonic() - t0 >= 0.15, "delivered before the pause")
    b.s.sendall(b"last words")
    b.s.close()
    check(a.line() == b"[2 127.0.0.1:%d] last words" % pb)
    m = srv.wait_line(r"\[2 127\.0\.0\.1:\d+\] left(.*)$")
    check(m.group(1) == "", m.group(0))
    srv.p.stdin.write(b"marker\n")
    srv.p.stdin.flush()
    check(a.line() == b"marker", "a leave notice reached the client")
    srv.p.stdin.close()
    check(srv.stop() == 0)
    out = srv.p.stdout.read()
    check(out == b"[2 127.0.0.1:%d] no newline\n[2 127.0.0.1:%d] last words\n" % (pb, pb), out)


@deadline(30)
def test_chat_notices_reach_clients_by_default(t):
    from test_tcp_server import Lines
    srv = t.server("tcp-server", "--chat")
    a = Lines(t, srv.port)
    srv.wait_line(r"\[1 .*joined")
    b = Lines(t, srv.port)
    check(a.line().startswith(b"* 2 127.0.0.1:") and a.buf == b"")
    b.s.close()
    check(a.line().endswith(b" left"))
    check(srv.stop() == 0)
    rc, _, err = t.run("tcp-server", "--quiet-notices", "-p", "0")
    check(rc == 2 and "--chat" in err, (rc, err))


def port_run(t, n):
    """n consecutive loopback ports held by this test: sockets bound to
    each (bound but not listening, so they refuse). Returns them."""
    for _ in range(50):
        first = t.sock()
        first.bind(("127.0.0.1", 0))
        base, held = first.getsockname()[1], [first]
        try:
            for k in range(1, n):
                s = t.sock()
                s.bind(("127.0.0.1", base + k))
                held.append(s)
            return held
        except OSError:
            continue
    raise AssertionError(f"no run of {n} free ports")


@deadline(30)
def test_scan_verbose_reports_every_port(t):
    held = port_run(t, 4)
    held[3].listen(4)  # the one open port, at the top of the range
    lo, hi = held[0].getsockname()[1], held[3].getsockname()[1]
    rc, out, err = t.run("tcp-client", "-z", "-v", "127.0.0.1", f"{lo}-{hi}")
    check(rc == 0 and out == b"", (rc, err))
    want = [f"nettool: tcp-client: 127.0.0.1 {p}: refused" for p in range(lo, hi)]
    want += [f"nettool: tcp-client: 127.0.0.1:{hi} open", "nettool: tcp-client: 1 open, 3 closed"]
    check(err.splitlines() == want, err)
    rc, out, err = t.run("tcp-client", "-z", "-v", "127.0.0.1", f"{lo}-{hi - 1}")
    check(rc == 4 and err.splitlines()[-1] == "nettool: tcp-client: 0 open, 3 closed", (rc, err))
    rc, out, err = t.run("tcp-client", "-z", "127.0.0.1", f"{lo}-{hi - 1}")
    check(rc == 4 and err == "", (rc, err))


@deadline(30)
def test_sockopt_read_back_by_the_peer(t):
    # TCP_MAXSEG: the peer's accepted socket sees the segment size we asked for
    def mss(conn, res):
        res["mss"] = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
        res["got"] = recv_all(conn)
    peer = Peer(t, mss)
    rc, out, err = t.run("tcp-client", "-v", "--sockopt", "tcp_maxseg=600", "--sockopt",
                         "so_rcvbuf=100000", "--sockopt", "so_keepalive", "-I", "lo",
                         "127.0.0.1", str(peer.port), input=b"x")
    res = peer.join()
    check(rc == 0 and res["got"] == b"x", (rc, err))
    check(res["mss"] <= 600, res)
    m = re.search(r"socket options: tcp_maxseg=(\d+) so_rcvbuf=(\d+) so_keepalive=1 "
                  r"so_bindtodevice=lo$", err, re.M)
    check(m and int(m.group(1)) <= 600 and int(m.group(2)) >= 100000, err)
    # IP_TTL: the TTL the datagram arrived with, by IP_RECVTTL
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(u)
    u.bind(("127.0.0.1", 0))
    u.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVTTL", 12), 1)  # Linux: 12
    u.settimeout(10)
    rc, out, err = t.run("udp-client", "-N", "--sockopt", "ip_ttl=7", "--sockopt", "ip_tos=32",
                         "127.0.0.1", str(u.getsockname()[1]), input=b"ttl\n")
    check(rc == 0, err)
    data, anc, _, _ = u.recvmsg(100, 64)
    ttl = [int.from_bytes(d[:4], "little") for lvl, typ, d in anc
           if lvl == socket.IPPROTO_IP and typ == socket.IP_TTL]
    check(data == b"ttl" and ttl == [7], (data, anc))


@deadline(30)
def test_source_port_as_nc(t):
    held = port_run(t, 2)
    ports = [s.getsockname()[1] for s in held]
    for s in held:
        s.close()  # free again, for the clients to bind
    peer = Peer(t, lambda conn, res: res.update(got=recv_all(conn)))
    rc, _, err = t.run("tcp-client", "-p", str(ports[0]), "127.0.0.1", str(peer.port), input=b"")
    check(rc == 0, err)
    check(peer.join()["peer"][1] == ports[0])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(u)
    u.bind(("127.0.0.1", 0))
    u.settimeout(10)
    rc, _, err = t.run("udp-client", "-N", "-s", "127.0.0.1", "-p", str(ports[1]), "127.0.0.1",
                       str(u.getsockname()[1]), input=b"from\n")
    check(rc == 0, err)
    check(u.recvfrom(100) == (b"from", ("127.0.0.1", ports[1])))


@deadline(30)
def test_urgent_data_with_and_without_oobinline(t):
    """The tutorials' note on urgent data: with SO_OOBINLINE the urgent
    byte arrives in line; without it, it is left out of the stream."""
    for args, want in (([], b"abcd"), (["--sockopt", "so_oobinline=1"], b"ab!cd")):
        def urgent(conn, res):
            conn.sendall(b"ab")
            conn.send(b"!", socket.MSG_OOB)
            conn.sendall(b"cd")
        peer = Peer(t, urgent)
        rc, out, err = t.run("tcp-client", *args, "127.0.0.1", str(peer.port), input=b"")
        peer.join()
        check(rc == 0 and out == want, (args, rc, out, err))


@deadline(30)
def test_sockopt_bad_names_and_values(t):
    for args, rc_want, what in ((["--sockopt", "so_nosuch"], 2, "known: so_{reuseaddr"),
                                (["--sockopt", "ip_ttl=300"], 2, "ip_ttl: '300' is out of range"),
                                (["--sockopt", "ip_ttl"], 2, "ip_ttl needs a value"),
                                (["--sockopt", "so_keepalive=maybe"], 2, "so_keepalive"),
                                (["-I", "nosuch0"], 1, "so_bindtodevice: No such device"),
                                (["--sockopt", "tcp_congestion=nosuch"], 1, "tcp_congestion")):
        srv = t.server("tcp-echo-server", "-b", "127.0.0.1")
        rc, _, err = t.run("tcp-client", *args, "127.0.0.1", str(srv.port), input=b"")
        check(rc == rc_want and what in err, (args, rc, err))
        srv.stop()
    rc, _, err = t.run("udp-client", "--sockopt", "tcp_nodelay", "127.0.0.1", "9", input=b"x\n")
    check(rc == 1 and "tcp_nodelay: not for a datagram socket" in err, (rc, err))


@deadline(30)
def test_servers_take_sockopts_and_report_them(t):
    srv = t.server("tcp-server", "-v", "-b", "127.0.0.1", "--sockopt", "so_rcvbuf=65536",
                   "--sockopt", "so_reuseport")
    m = srv.wait_line(r"socket options: so_rcvbuf=(\d+) so_reuseport=1$")
    check(int(m.group(1)) >= 65536)
    srv.stop()
    for cmd in ("tcp-echo-server", "udp-server", "http-serve", "relay"):
        extra = ["127.0.0.1", "9"] if cmd == "relay" else []
        srv = t.server(cmd, "-b", "127.0.0.1", "-I", "lo", "--sockopt", "ip_ttl=9", *extra)
        check(srv.stop() == 0, (cmd, srv.stderr()))
        rc, _, err = t.run(cmd, "-b", "127.0.0.1", "-p", "0", "--sockopt", "ip_ttl=0", *extra)
        check(rc == 2 and "ip_ttl" in err, (cmd, rc, err))


@deadline(30)
def test_client_exec_against_the_echo_server(t):
    srv = t.server("tcp-echo-server", "-b", "127.0.0.1")
    script = ('printf "ping\\n"; read -r line; '
              'echo "$line $PROTO $TCPREMOTEIP:$TCPREMOTEPORT $TCPLOCALIP" >&2; '
              '[ "$line" = ping ] && exit 5')
    rc, out, err = t.run("tcp-client", "--exec", script, "127.0.0.1", str(srv.port))
    check(rc == 5 and out == b"", (rc, out, err))
    check(f"ping TCP 127.0.0.1:{srv.port} 127.0.0.1" in err, err)
    # plain words are run straight; the program's end is the connection's
    rc, out, err = t.run("tcp-client", "-e", "true", "127.0.0.1", str(srv.port))
    check(rc == 0 and out == b"" and err == "", (rc, err))
    rc, out, err = t.run("tcp-client", "-e", "no-such-program-here", "127.0.0.1", str(srv.port))
    check(rc == 1 and "cannot start the program" in err, (rc, err))
    rc, out, err = t.run("tcp-client", "-e", "kill -TERM $$", "127.0.0.1", str(srv.port))
    check(rc == 128 + 15, (rc, err))
    rc, out, err = t.run("tcp-client", "-e", "true", "-z", "127.0.0.1", str(srv.port))
    check(rc == 2 and "--exec" in err, (rc, err))
    check(srv.stop() == 0)


def multicast_ns(t):
    """A namespace of the test's own: its loopback up with multicast on and
    the IPv4 multicast route on it, and a veth pair (IPv6 multicast does
    not pass lo) with duplicate address detection off. Skips without
    root or ip."""
    return harness.own_ns(t, "ntm", (
        ["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"],
        ["ip", "link", "set", "lo", "multicast", "on"], ["ip", "link", "set", "lo", "up"],
        ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"],
        ["ip", "link", "add", "mc0", "type", "veth", "peer", "name", "mc1"],
        ["ip", "link", "set", "mc1", "up"], ["ip", "link", "set", "mc0", "up"]))


@deadline(60)
def test_multicast_two_receivers_get_every_datagram(t):
    ns = multicast_ns(t)
    run = ["ip", "netns", "exec", ns, harness.NETTOOL]
    for group, client_args in (("239.1.2.3", ["--multicast-ttl", "1", "--multicast-loop", "1"]),
                               ("ff15::7%mc0", ["--multicast-if", "mc0"])):
        a = harness.Proc(t, run + ["udp-server", "-p", "0", "--join", group])
        port = a.wait_line(r"listening on \S+:(\d+)$").group(1)
        b = harness.Proc(t, run + ["udp-server", "-p", port, "--join", group])
        b.wait_line(r"listening on")
        lines = b"".join(b"datagram %d\n" % i for i in range(50))
        c = harness.Proc(t, run + ["udp-client", "-N", *client_args, group.split("%")[0], port],
                         stdin=subprocess.PIPE)
        c.p.stdin.write(lines)
        c.p.stdin.close()
        check(c.wait() == 0, c.stderr())
        for srv in (a, b):
            got = b""
            while got.count(b"\n") < 50:
                chunk = srv.p.stdout.read1(65536)
                check(chunk, (group, got, srv.stderr()))
                got += chunk
            srv.signal(signal.SIGTERM)
            check(srv.wait() == 0, srv.stderr())
            check(got == lines, (group, got))


@deadline(30)
def test_multicast_options_are_checked(t):
    for args, what in ((["udp-server", "--join", "10.1.2.3"], "not a multicast group"),
                       (["udp-server", "--join", "239.1.1.1%nosuch0"], "no network interface"),
                       (["udp-server", "--join", "nonsense"], "not an IP address"),
                       (["udp-client", "--multicast-ttl", "300", "239.1.1.1", "9"], "out of range"),
                       (["udp-client", "--multicast-loop", "2", "239.1.1.1", "9"], "multicast_loop"),
                       (["udp-client", "--multicast-if", "nosuch0", "239.1.1.1", "9"],
                        "no network interface")):
        rc, _, err = t.run(*args, "-p", "0" if args[0] == "udp-server" else "1", input=b"")
        check(rc == 2 and what in err, (args, rc, err))


@deadline(30)
def test_sockopt_rcvbuf_seen_by_ss(t):
    """SO_RCVBUF as the kernel reports the client's socket to ss (its
    skmem rb), while the connection is up."""
    harness.need("ss")
    done = threading.Event()

    def hold(conn, res):
        done.wait(20)
    peer = Peer(t, hold)
    p = harness.Proc(t, [harness.NETTOOL, "tcp-client", "--sockopt", "so_rcvbuf=100000",
                         "127.0.0.1", str(peer.port)], stdin=subprocess.PIPE)
    try:
        rb = None
        end = time.monotonic() + 10 * harness.SLOW
        while rb is None and time.monotonic() < end:
            out = subprocess.run(["ss", "-tmnH", "state", "established", "dport", "=",
                                  f":{peer.port}"], capture_output=True, text=True).stdout
            m = re.search(r"\brb(\d+)", out)
            rb = int(m.group(1)) if m else None
        check(rb is not None and 100000 <= rb <= 200000, out)
    finally:
        done.set()
        p.p.stdin.close()
    check(p.wait() == 0, p.stderr())
    peer.join()
