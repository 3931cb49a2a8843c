"""What every server shares (server.c): a port in use, one policy when
full or out of descriptors, one shutdown rule, deadlines that measure
progress, and ordinary clients served while thousands of connections
stall in their head."""
import os
import resource
import signal
import socket
import threading
import time

import harness
from harness import alone, check, deadline, fd_limit, recv_all, recv_exact

ROOT_FILE = b"served by the first\n"


def make_root(t, name="root", body=ROOT_FILE):
    root = t.path(name)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "who.txt"), "wb") as f:
        f.write(body)
    return root


def get(port, path="/who.txt", timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout * harness.SLOW)
    try:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        return recv_all(s)
    finally:
        s.close()


def second_refused(t, args, port):
    rc, _, err = t.run(*args, "-p", str(port), timeout=10)
    check(rc == 1 and "address already in use" in err.lower(), (args, rc, err))


HTTP_VARIANTS = [["-t", "1"], ["-t", "2"], ["-t", "2", "--no-affinity"]]


@deadline(60)
def test_port_in_use_tcp_servers(t):
    for extra in HTTP_VARIANTS:
        first = t.server("http-serve", "-d", make_root(t), "-q", *extra)
        other = make_root(t, "other", b"served by the second\n")
        for second in (["http-serve", "-d", other, "-q"] + x for x in HTTP_VARIANTS):
            second_refused(t, second, first.port)
        second_refused(t, ["tcp-echo-server"], first.port)
        for _ in range(20):  # every request still reaches the first
            check(get(first.port).endswith(ROOT_FILE), "a request went elsewhere")
        check(first.stop() == 0)
    echo = t.server("tcp-echo-server")
    for args in (["http-serve", "-d", make_root(t), "-t", "2"], ["tcp-echo-server"]):
        second_refused(t, args, echo.port)
    s = t.connect(echo.port)
    s.sendall(b"still mine")
    check(recv_exact(s, 10) == b"still mine")
    check(echo.stop() == 0)


@deadline(30)
def test_port_held_by_a_foreign_reuseport_socket(t):
    # a socket that allows sharing does not make the port free to join
    held = t.sock()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    held.bind(("0.0.0.0", 0))
    held.listen(8)
    port = held.getsockname()[1]
    for args in (["http-serve", "-d", make_root(t), "-t", "2"],
                 ["http-serve", "-d", make_root(t), "-t", "1"], ["tcp-echo-server"]):
        second_refused(t, args, port)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.socks.append(u)
    u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    u.bind(("0.0.0.0", 0))
    second_refused(t, ["udp-server"], u.getsockname()[1])


@deadline(30)
def test_port_in_use_udp_server(t):
    first = t.server("udp-server", "--count", "20")
    second_refused(t, ["udp-server"], first.port)
    second_refused(t, ["udp-server", "--reliable"], first.port)
    lines = b"".join(b"d%d\n" % i for i in range(20))
    rc, _, err = t.run("udp-client", "-N", "127.0.0.1", str(first.port), input=lines)
    check(rc == 0, err)
    check(first.wait(10) == 0)
    got = first.p.stdout.read()
    check(got == lines, f"the first server missed datagrams: {got!r}")


def echo_exchange(s, data):
    s.sendall(data)
    return recv_exact(s, len(data)) == data


HTTP_REQ = b"GET /who.txt HTTP/1.1\r\nHost: a\r\n\r\n"


def http_exchange(s, _data=None):
    s.sendall(HTTP_REQ)
    buf = b""
    while not buf.endswith(ROOT_FILE):
        chunk = s.recv(4096)
        if not chunk:
            return False
        buf += chunk
    return True


def closed(s):
    try:
        return s.recv(4096) == b""
    except ConnectionResetError:
        return True


def servers(t):
    """The same checks run against each connection-oriented server."""
    return [(["tcp-echo-server"], echo_exchange),
            (["http-serve", "-d", make_root(t), "-q", "-t", "1"], http_exchange)]


@deadline(60)
def test_full_server_closes_the_quietest_in_both_servers(t):
    for args, exchange in servers(t):
        srv = t.server(*args, "--max-clients", "3")
        conns = [t.connect(srv.port) for _ in range(3)]
        for s in conns:  # least recent progress first: conns[0]
            check(exchange(s, b"hello"), args)
        check(exchange(conns[0], b"again"), args)  # now conns[1] is the quietest
        new = t.connect(srv.port)
        check(exchange(new, b"newcomer"), f"{args}: the new client was not served")
        check(closed(conns[1]), f"{args}: the quietest connection stayed open")
        for s in (conns[0], conns[2]):
            check(exchange(s, b"still"), f"{args}: a busier connection was closed")
        check(srv.stop() == 0)


@alone
@deadline(90)
def test_out_of_descriptors_same_policy_in_both_servers(t):
    for args, exchange in servers(t):
        # the descriptor limit, not --max-clients, is what runs out
        srv = t.server(*args, "--max-clients", "1000", preexec_fn=fd_limit(40))
        conns = []
        for i in range(80):
            s = t.connect(srv.port)
            check(exchange(s, b"n%d" % i), f"{args}: connection {i} not served")
            conns.append(s)
        check(closed(conns[0]), f"{args}: the oldest, quietest connection is still open")
        check(exchange(conns[-1], b"last"), f"{args}: the newest was closed")
        srv.check_idle()
        for s in conns:
            s.close()
        s = t.connect(srv.port)
        check(exchange(s, b"after"), f"{args}: not serving afterwards")
        check(srv.stop() == 0)


@deadline(60)
def test_shutdown_rule_echo_in_flight(t):
    srv = t.server("tcp-echo-server")
    idle = t.connect(srv.port)
    check(echo_exchange(idle, b"x"))
    busy = t.connect(srv.port)
    busy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    data = os.urandom(16 << 20)  # more than the buffers on the way hold
    threading.Thread(target=lambda: _send_quietly(busy, data), daemon=True).start()
    time.sleep(0.5 * harness.SLOW)  # nothing read: echoes wait in the server
    start = time.monotonic()
    srv.signal(signal.SIGTERM)
    check(closed(idle), "an idle client stayed open")
    got = recv_all(busy)
    check(len(got) > 0 and got == data[:len(got)], "the echo in flight was corrupted")
    try:
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        check(False, "still accepting after SIGTERM")
    except ConnectionRefusedError:
        pass
    check(srv.wait(10) == 0)
    check(time.monotonic() - start < 6 * harness.SLOW, "the drain outlasted its bound")
    m = srv.wait_line(r"stopped: 2 connections \(0 refused\), (\d+) bytes in, (\d+) bytes out")
    bytes_in, bytes_out = int(m.group(1)), int(m.group(2))
    check(bytes_out == bytes_in, f"echo owed at the stop was dropped: {bytes_in} in, {bytes_out} out")
    check(len(got) + 1 == bytes_out, f"{len(got)} bytes came back of {bytes_out - 1} sent")


def _send_quietly(s, data):
    try:
        s.sendall(data)
    except OSError:
        pass


@deadline(30)
def test_shutdown_rule_echo_stalled_client_bounded(t):
    srv = t.server("tcp-echo-server")
    s = t.connect(srv.port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    threading.Thread(target=lambda: _send_quietly(s, os.urandom(16 << 20)), daemon=True).start()
    time.sleep(0.5 * harness.SLOW)
    start = time.monotonic()
    srv.signal(signal.SIGTERM)
    check(srv.wait(10) == 0)
    took = time.monotonic() - start
    check(1.5 <= took < 6 * harness.SLOW, f"stopped after {took:.2f} s with a stalled client")


@deadline(30)
def test_shutdown_rule_udp_server(t):
    srv = t.server("udp-server")
    start = time.monotonic()
    srv.signal(signal.SIGTERM)
    check(srv.wait(10) == 0)
    check(time.monotonic() - start < 2 * harness.SLOW)
    check("stopped:" in srv.stderr())


@alone
@deadline(90)
def test_slow_reader_is_never_cut_off(t):
    root = make_root(t)
    size = 16 << 20
    data = os.urandom(size)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(data)
    srv = t.server("http-serve", "-d", root, "-q", "--send-timeout", "1")
    s = t.connect(srv.port, timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    rate = size / 4.5  # bytes per second: about 4.5 s in all, past four deadlines
    got = bytearray()
    start = time.monotonic()
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        got += chunk
        ahead = len(got) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    took = time.monotonic() - start
    head, _, body = bytes(got).partition(b"\r\n\r\n")
    check(len(body) == size and body == data, f"{len(body)} of {size} bytes after {took:.1f} s")
    check(took > 4, f"the reader was not slow: {took:.1f} s")
    s.close()
    check(srv.stop() == 0)


@alone
@deadline(60)
def test_stalled_reader_is_closed_after_send_deadline(t):
    root = make_root(t)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(64 << 20))
    srv = t.server("http-serve", "-d", root, "--send-timeout", "1")
    s = t.connect(srv.port, timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
    check(s.recv(4096).startswith(b"HTTP/1.1 200"))
    start = time.monotonic()
    m = srv.wait_line(r'"GET /big.bin HTTP/1.1" 200 (\d+) 0$', timeout=20)
    took = time.monotonic() - start
    check(int(m.group(1)) < 64 << 20, "the whole file went to a reader that stalled")
    check(0.8 <= took < 5 * harness.SLOW, f"closed after {took:.2f} s")
    s.close()
    check(srv.stop() == 0)


def stall_heads(port, n):
    """n connections that each send half a request head, then nothing."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET /who.txt HTTP/1.1\r\nHost: a\r\n")
        socks.append(s)
    return socks


def raise_own_fd_limit(t, n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < n:
        raise harness.Skip(f"the hard descriptor limit {hard} is below {n}")
    if soft != resource.RLIM_INFINITY and soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))
        t.cleanups.append(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))


@alone
@deadline(180)
def test_stalled_heads_do_not_lock_others_out(t):
    n = 5000
    raise_own_fd_limit(t, n + 200)
    root = make_root(t)
    for extra in ([], ["--max-clients", "1000"]):  # room to spare; full, making room
        srv = t.server("http-serve", "-d", root, "-q", *extra, preexec_fn=fd_limit(12000))
        socks = []
        t.socks.extend(socks)
        worst = 0.0
        for batch in range(10):
            more = stall_heads(srv.port, n // 10)
            socks += more
            t.socks.extend(more)
            start = time.monotonic()
            resp = get(srv.port, timeout=5)
            worst = max(worst, time.monotonic() - start)
            check(resp.endswith(ROOT_FILE), f"{extra}: batch {batch}: {resp[:80]!r}")
        for _ in range(10):
            start = time.monotonic()
            check(get(srv.port, timeout=5).endswith(ROOT_FILE))
            worst = max(worst, time.monotonic() - start)
        check(worst < 1.0, f"{extra}: an ordinary GET took {worst:.2f} s")
        for s in socks:
            s.close()
        check(srv.stop() == 0)


def connect_from(t, source, port):
    s = t.sock()
    s.settimeout(10 * harness.SLOW)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


@deadline(60)
def test_allow_and_deny_in_both_servers(t):
    for args, exchange in servers(t):
        srv = t.server(*args, "--allow", "127.0.0.0/8", "--deny", "127.0.0.3",
                       *(["-v"] if args[0] == "tcp-echo-server" else []))
        ok = connect_from(t, "127.0.0.2", srv.port)
        check(exchange(ok, b"allowed"), f"{args}: an allowed peer was not served")
        bad = connect_from(t, "127.0.0.3", srv.port)
        try:
            bad.sendall(HTTP_REQ)
        except OSError:
            pass
        check(closed(bad), f"{args}: a denied peer was answered")
        if args[0] == "tcp-echo-server":
            srv.wait_line(r"127\.0\.0\.3:\d+: refused \(--allow/--deny\)")
        check(exchange(ok, b"again"), f"{args}: the allowed peer was disturbed")
        check(srv.stop() == 0)
        only = t.server(*args, "--allow", "127.0.0.2")
        check(closed(connect_from(t, "127.0.0.1", only.port)), f"{args}: not in --allow, admitted")
        check(exchange(connect_from(t, "127.0.0.2", only.port), b"x"), f"{args}: --allow refused")
        check(only.stop() == 0)


def test_bad_cidr_is_a_usage_error(t):
    for bad in ("10.0.0.0/33", "localhost", "::1/129", "1.2.3.4/", "1.2.3"):
        for args in (["tcp-echo-server"], ["http-serve", "-d", t.tmp]):
            rc, _, err = t.run(*args, "--allow", bad, "-p", "0")
            check(rc == 2 and "bad address or prefix" in err, (args, bad, rc, err))


def unix_server(t, *args):
    p = t.start(*args)
    m = p.wait_line(r"listening on (\S+)$")
    return p, m.group(1)


def unix_connect(t, path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    t.socks.append(s)
    s.settimeout(10 * harness.SLOW)
    s.connect(path)
    return s


@deadline(60)
def test_unix_sockets(t):
    path = t.path("echo.sock")
    srv, shown = unix_server(t, "tcp-echo-server", "-U", path, "-v")
    check(shown == path, shown)
    rc, out, err = t.run("tcp-client", "-U", path, input=b"over a unix socket\n")
    check(rc == 0 and out == b"over a unix socket\n", (rc, out, err))
    s = unix_connect(t, path)
    check(echo_exchange(s, b"from python"))
    srv.wait_line(r"connect unix$")
    rc, _, err = t.run("tcp-echo-server", "-U", path)  # a live socket is in use
    check(rc == 1 and "address already in use" in err.lower(), (rc, err))
    check(echo_exchange(s, b"still"), "the live server was disturbed")
    srv.signal(signal.SIGTERM)
    check(srv.wait() == 0)
    check(not os.path.exists(path), "the socket file stayed after exit")
    # a stale socket file (nothing listens) is replaced
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()
    check(os.path.exists(path))
    srv, _ = unix_server(t, "http-serve", "-U", path, "-d", make_root(t), "-q", "-t", "2")
    for _ in range(4):
        s = unix_connect(t, path)
        check(http_exchange(s), "http-serve over a unix socket")
    srv.signal(signal.SIGTERM)
    check(srv.wait() == 0 and not os.path.exists(path))
    rc, _, err = t.run("tcp-client", "-U", path, input=b"x")
    check(rc == 4, (rc, err))


def test_unix_socket_path_that_is_no_socket(t):
    path = t.path("precious.txt")
    with open(path, "wb") as f:
        f.write(b"keep me\n")
    for args in (["tcp-echo-server"], ["http-serve", "-d", t.tmp]):
        rc, _, err = t.run(*args, "-U", path)
        check(rc == 1 and "not a socket" in err, (args, rc, err))
        with open(path, "rb") as f:
            check(f.read() == b"keep me\n", "the file was touched")
        rc, _, err = t.run(*args, "-U", t.path("x.sock"), "-p", "1234")
        check(rc == 2 and "neither -p nor -b" in err, (args, rc, err))
