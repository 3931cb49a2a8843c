"""relay: a TCP forwarder between real clients and Python targets:
many streams at once, half-closes both ways, resets, dead targets, a
Unix socket target, a client that never reads, bad arguments."""
import hashlib
import os
import socket
import threading
import time

import harness
from harness import check, deadline, recv_all


def listener(t, backlog=64):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(backlog)
    t.socks.append(s)
    return s, s.getsockname()[1]


def rss_of(pid):
    """Resident KiB of pid."""
    with open(f"/proc/{pid}/status") as f:
        return int([line for line in f if line.startswith("VmRSS")][0].split()[1])


def relay(t, *args):
    return t.server("relay", "-b", "127.0.0.1", *args)


def connect(t, port):
    s = socket.create_connection(("127.0.0.1", port), timeout=20 * harness.SLOW)
    t.socks.append(s)
    return s


@deadline(120)
def test_fifty_streams_of_a_mebibyte(t):
    echo = t.server("tcp-echo-server", "-b", "127.0.0.1")
    r = relay(t, "-t", "2", "127.0.0.1", str(echo.port))  # two event loops
    results = {}

    def one(k):
        data = os.urandom(1 << 20)
        s = connect(t, r.port)
        got = bytearray()

        def send():
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        th = threading.Thread(target=send, daemon=True)
        th.start()
        got = recv_all(s)
        th.join(30)
        results[k] = hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    threads = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(100)
    check(len(results) == 50 and all(results.values()), results)
    check(r.stop() == 0)
    check("stopped: 50 connections, 0 could not reach the target, 52428800 bytes to it, "
          "52428800 back" in r.stderr(), r.stderr())
    echo.stop()


@deadline(30)
def test_half_close_each_way(t):
    ls, port = listener(t)
    r = relay(t, "127.0.0.1", str(port))
    # the client half-closes first: the target reads to the end, then answers
    c = connect(t, r.port)
    tgt, _ = ls.accept()
    t.socks.append(tgt)
    c.sendall(b"question")
    c.shutdown(socket.SHUT_WR)
    check(recv_all(tgt) == b"question")
    tgt.sendall(b"answer after your end")
    tgt.close()
    check(recv_all(c) == b"answer after your end")
    # the target half-closes first: the client still sends, the target reads it
    c = connect(t, r.port)
    tgt, _ = ls.accept()
    t.socks.append(tgt)
    tgt.sendall(b"banner")
    tgt.shutdown(socket.SHUT_WR)
    check(recv_all(c) == b"banner")
    c.sendall(b"still talking")
    c.shutdown(socket.SHUT_WR)
    check(recv_all(tgt) == b"still talking")
    r.stop()


@deadline(30)
def test_a_reset_is_passed_on(t):
    import struct
    ls, port = listener(t)
    r = relay(t, "127.0.0.1", str(port))
    c = connect(t, r.port)
    tgt, _ = ls.accept()
    tgt.sendall(b"x")
    check(c.recv(10) == b"x")
    tgt.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    tgt.close()
    try:
        while c.recv(100):
            pass
        reset = False
    except ConnectionResetError:
        reset = True
    check(reset, "the client saw a clean close, not the reset")
    # and the relay goes on
    c2 = connect(t, r.port)
    tgt2, _ = ls.accept()
    t.socks.append(tgt2)
    c2.sendall(b"fine")
    check(tgt2.recv(10) == b"fine")
    r.stop()


@deadline(30)
def test_dead_targets(t):
    r = relay(t, "127.0.0.1", str(harness.free_port()))
    c = connect(t, r.port)
    start = time.monotonic()
    try:
        got = recv_all(c)
    except ConnectionResetError:
        got = b""
    check(got == b"" and time.monotonic() - start < 2 * harness.SLOW)
    r.wait_line(r"cannot reach 127\.0\.0\.1 port \d+: Connection refused")
    r.stop()
    # a target that never answers: its accept queue is full, SYNs are dropped
    ls, port = listener(t, backlog=0)
    fill = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fill.append(f)
        t.socks.append(f)
    time.sleep(0.2)  # let the handshakes of the fillers settle
    r = relay(t, "--connect-timeout", "1", "127.0.0.1", str(port))
    c = connect(t, r.port)
    start = time.monotonic()
    try:
        recv_all(c)
    except ConnectionResetError:
        pass
    took = time.monotonic() - start
    check(0.8 < took < 3 * harness.SLOW, took)
    r.wait_line(r"did not answer within 1000 ms")
    r.stop()


@deadline(30)
def test_to_unix_socket(t):
    root = t.path("www")
    os.mkdir(root)
    with open(os.path.join(root, "x.txt"), "wb") as f:
        f.write(b"over unix\n")
    sock = t.path("s.sock")
    hs = t.start("http-serve", "-d", root, "-U", sock, "-q")
    hs.wait_line(r"listening on (\S+)$")
    r = relay(t, "--to-unix", sock)
    rc, out, err = t.run("http-get", f"http://127.0.0.1:{r.port}/x.txt")
    check(rc == 0 and out == b"over unix\n", (rc, err))
    r.stop()
    hs.signal(15)
    hs.wait(10)


def socket_buffers_max():
    """The most one receive and two send buffers can hold here."""
    with open("/proc/sys/net/ipv4/tcp_rmem") as f:
        rmem = int(f.read().split()[2])
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        wmem = int(f.read().split()[2])
    return rmem + 2 * wmem


@deadline(60)
def test_a_client_that_never_reads_is_throttled(t):
    ls, port = listener(t)
    r = relay(t, "127.0.0.1", str(port))
    base = rss_of(r.pid)
    c = connect(t, r.port)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    tgt, _ = ls.accept()
    t.socks.append(tgt)
    tgt.setblocking(False)
    sent, chunk = 0, b"z" * 65536
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            sent += tgt.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
    # what the target got rid of is what the sockets and one buffer hold:
    # at most a receive buffer and two send buffers as large as TCP lets
    # them grow (tcp_rmem, tcp_wmem), and a pipe
    check(sent < socket_buffers_max() + (2 << 20), sent)
    # and the relay's memory grew by a buffer or two, not by what was sent
    # (measured as growth: a sanitizer's shadow memory makes the base large)
    grown = rss_of(r.pid) - base
    check(grown < 8 * 1024, (grown, sent))
    # the client reads at last: everything arrives
    c.settimeout(10)
    got = 0
    tgt.setblocking(True)
    tgt.shutdown(socket.SHUT_WR)
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        got += len(b)
    check(got == sent, (got, sent))
    r.stop()


def test_bad_arguments(t):
    for args in ([], ["host"], ["host", "0"], ["host", "65536"], ["host", "12x"],
                 ["--to-unix", "/tmp/x", "host", "80"], ["-U", "/tmp/x.sock", "-p", "1", "h", "1"]):
        rc, out, err = t.run("relay", *args)
        check(rc == 2 and err.count("\n") <= 2, (args, rc, err))
    rc, out, err = t.run("relay", "-p", "0", "no.such.host.invalid", "80")
    check(rc == 3, (rc, err))


@deadline(30)
def test_through_a_socks5_proxy(t):
    from test_proxy import microsocks
    ms_port = microsocks(t)
    ls, port = listener(t)
    r = relay(t, "--proxy", f"127.0.0.1:{ms_port}", "localhost", str(port))
    c = connect(t, r.port)
    tgt, _ = ls.accept()
    t.socks.append(tgt)
    c.sendall(b"through relay and proxy")
    check(tgt.recv(100) == b"through relay and proxy")
    tgt.sendall(b"and back")
    check(c.recv(100) == b"and back")
    c.close()
    # the proxy cannot reach the target: the client is closed, the relay goes on
    r2 = relay(t, "--proxy", f"127.0.0.1:{ms_port}", "127.0.0.1", "1")
    c2 = connect(t, r2.port)
    try:
        check(recv_all(c2) == b"")
    except ConnectionResetError:
        pass
    r2.wait_line(r"could not connect to 127\.0\.0\.1 port 1: connection refused")
    r.stop()
    r2.stop()
    rc, _, err = t.run("relay", "--proxy", "127.0.0.1:1", "--to-unix", "/tmp/x")
    check(rc == 2, err)


@deadline(30)
def test_idle_timeout_and_verbose_log(t):
    ls, port = listener(t)
    r = relay(t, "-v", "--idle-timeout", "0.5", "127.0.0.1", str(port))
    c = connect(t, r.port)
    tgt, _ = ls.accept()
    t.socks.append(tgt)
    c.sendall(b"12345")
    check(tgt.recv(10) == b"12345")
    start = time.monotonic()
    check(recv_all(c) == b"")  # closed by the relay once idle
    took = time.monotonic() - start
    check(0.4 < took < 3 * harness.SLOW, took)
    r.wait_line(r"closed, 5 bytes to the target, 0 back; idle timeout")
    r.stop()
