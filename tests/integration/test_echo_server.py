"""tcp-echo-server against Python socket clients and nettool tcp-client."""
import os
import selectors
import signal
import socket
import struct
import threading
import time

from harness import alone, check, deadline, fd_limit, recv_all, recv_exact, sha256


def roundtrip_file(t, port, data, via_pipe=False):
    src = t.path("in.bin")
    with open(src, "wb") as f:
        f.write(data)
    out = t.path("out.bin")
    with open(out, "wb") as o:
        if via_pipe:
            rc, _, err = t.run("tcp-client", "127.0.0.1", str(port),
                               input=data, stdout=o, timeout=120)
        else:
            with open(src, "rb") as i:
                rc, _, err = t.run("tcp-client", "127.0.0.1", str(port),
                                   stdin=i, stdout=o, timeout=120)
    check(rc == 0 and err == "", (rc, err))
    with open(out, "rb") as f:
        got = f.read()
    check(len(got) == len(data) and sha256(got) == sha256(data),
          f"{len(data)} bytes sent, {len(got)} came back or differ")


def test_text_roundtrip(t):
    srv = t.server("tcp-echo-server")
    rc, out, err = t.run("tcp-client", "127.0.0.1", str(srv.port),
                         input=b"hello\nworld\n")
    check(rc == 0 and out == b"hello\nworld\n" and err == "", (rc, out, err))
    check(srv.stop() == 0)


@deadline(240)
def test_binary_roundtrip_sizes(t):
    srv = t.server("tcp-echo-server")
    for size in (0, 1, 1000, 65536 + 7, 1 << 20, 100 << 20):
        data = os.urandom(size)
        roundtrip_file(t, srv.port, data)
        if size <= 1 << 20:
            roundtrip_file(t, srv.port, data, via_pipe=True)
    check(srv.stop() == 0)


def test_ipv6_and_ipv4_on_default_listener(t):
    srv = t.server("tcp-echo-server")
    for host in ("127.0.0.1", "::1"):
        rc, out, _ = t.run("tcp-client", host, str(srv.port), input=b"x" * 10)
        check(rc == 0 and out == b"x" * 10, (host, rc))
    check(srv.stop() == 0)


def test_half_close_echoes_pending_then_closes(t):
    srv = t.server("tcp-echo-server")
    s = t.connect(srv.port)
    data = os.urandom(3 << 20)
    got = []
    reader = threading.Thread(target=lambda: got.append(recv_all(s)))
    reader.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reader.join(60)
    check(not reader.is_alive() and got and got[0] == data, "echo incomplete")
    check(srv.stop() == 0)


@alone
@deadline(120)
def test_thousand_clients_at_once(t):
    n, size = 1000, 64 * 1024
    srv = t.server("tcp-echo-server", "--backlog", "1024")
    sel = selectors.DefaultSelector()
    state = {}
    for i in range(n):
        s = t.connect(srv.port)
        s.setblocking(False)
        payload = os.urandom(size)
        state[s] = {"out": memoryview(payload), "want": payload, "got": bytearray()}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    done = 0
    while done < n:
        for key, ev in sel.select(timeout=30):
            s, st = key.fileobj, state[key.fileobj]
            if ev & selectors.EVENT_WRITE and st["out"]:
                k = s.send(st["out"])
                st["out"] = st["out"][k:]
                if not st["out"]:
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                chunk = s.recv(65536)
                check(chunk, "server closed a client early")
                st["got"] += chunk
                if len(st["got"]) >= size:
                    check(bytes(st["got"]) == st["want"], "echo corrupted")
                    sel.unregister(s)
                    done += 1
    sel.close()
    check(srv.stop() == 0)
    check(f"stopped: {n} connections" in srv.stderr(), srv.stderr())


@deadline(180)
def test_sender_that_never_reads_meets_backpressure(t):
    """A client writes 100 MiB without reading: the server stops reading
    from it, its memory stays flat, and afterwards every byte comes back."""
    total = 100 << 20
    srv = t.server("tcp-echo-server")
    s = t.connect(srv.port)
    base = srv.rss_kib()
    chunk = os.urandom(1 << 20)
    s.setblocking(False)
    sent = 0
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_WRITE)
    peak = base
    while sent < total:
        if not sel.select(timeout=1.0):
            break  # no room for a whole second: the server is not reading
        try:
            sent += s.send(chunk[: min(len(chunk), total - sent)])
        except BlockingIOError:
            pass
        peak = max(peak, srv.rss_kib())
    check(sent < total, "the server read 100 MiB from a client that never read")
    peak = max(peak, srv.rss_kib())
    check(peak - base < 8 * 1024, f"server RSS grew by {peak - base} KiB")
    # now read everything back while sending the rest
    s.setblocking(True)
    got = bytearray()

    def reader():
        while len(got) < total:
            b = s.recv(1 << 20)
            if not b:
                break
            got.extend(b)

    th = threading.Thread(target=reader)
    th.start()
    while sent < total:
        sent += s.send(chunk[: min(len(chunk), total - sent)])
        peak = max(peak, srv.rss_kib())
    th.join(120)
    check(len(got) == total, f"{len(got)} of {total} bytes came back")
    check(all(got[i:i + len(chunk)] == chunk[: min(len(chunk), total - i)]
              for i in range(0, total, len(chunk))), "echo corrupted")
    check(peak - base < 8 * 1024, f"server RSS grew by {peak - base} KiB")
    check(srv.stop() == 0)


def test_reset_mid_transfer_leaves_others_alone(t):
    srv = t.server("tcp-echo-server")
    good = t.connect(srv.port)
    good.sendall(b"before")
    check(recv_exact(good, 6) == b"before")
    for _ in range(5):
        bad = t.connect(srv.port)
        bad.sendall(os.urandom(2 << 20)[: 1 << 20])
        bad.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        bad.close()  # RST with unread echo pending on the server
    quick = t.connect(srv.port)
    quick.close()  # connect and leave at once
    good.sendall(b"after")
    check(recv_exact(good, 5) == b"after", "other client disturbed")
    good.close()
    check(srv.stop() == 0)


def test_max_clients_makes_room(t):
    srv = t.server("tcp-echo-server", "--max-clients", "2", "-v")
    a, b = t.connect(srv.port), t.connect(srv.port)
    for s in (a, b):  # a is then the client quiet longest
        s.sendall(b"ping")
        check(recv_exact(s, 4) == b"ping")
    c = t.connect(srv.port)
    c.sendall(b"new!")
    check(recv_exact(c, 4) == b"new!", "third client was not served")
    check(recv_all(a) == b"", "the quietest client was not closed")
    srv.wait_line(r"127\.0\.0\.1:\d+: closed to make room")
    b.sendall(b"pong")
    check(recv_exact(b, 4) == b"pong", "a busier client was closed")
    check(srv.stop() == 0)
    check("(0 refused)" in srv.stderr(), srv.stderr())
    srv.wait_line(r"1 connections closed to make room")


def test_idle_timeout_closes_quiet_clients(t):
    srv = t.server("tcp-echo-server", "--idle-timeout", "0.3", "-v")
    s = t.connect(srv.port)
    s.sendall(b"hi")
    start = time.monotonic()
    check(recv_all(s) == b"hi")
    check(time.monotonic() - start >= 0.25, "closed before the idle timeout")
    srv.wait_line(r"disconnect .* idle timeout")
    check(srv.stop() == 0)


def test_verbose_logs_and_summary(t):
    srv = t.server("tcp-echo-server", "-v")
    rc, _, _ = t.run("tcp-client", "127.0.0.1", str(srv.port), input=b"abc")
    check(rc == 0)
    srv.wait_line(r"^nettool: tcp-echo-server: connect 127\.0\.0\.1:\d+$")
    srv.wait_line(r"disconnect 127\.0\.0\.1:\d+ \(3 bytes in, 3 out\)")
    check(srv.stop() == 0)
    m = srv.wait_line(r"stopped: 1 connections \(0 refused\), 3 bytes in, 3 bytes out")
    check(m)


def test_sigint_stops_with_clients_connected(t):
    srv = t.server("tcp-echo-server")
    s = t.connect(srv.port)
    s.sendall(b"x")
    check(recv_exact(s, 1) == b"x")
    srv.signal(signal.SIGINT)
    check(srv.wait() == 0)
    check(recv_all(s) == b"", "client not closed at shutdown")


@alone
@deadline(60)
def test_out_of_descriptors_survived_without_spinning(t):
    srv = t.server("tcp-echo-server", preexec_fn=fd_limit(24))
    held = []
    for _ in range(40):
        held.append(t.connect(srv.port))
    served = shed = 0
    for s in held:
        try:
            s.sendall(b"?")
            got = s.recv(1)
        except ConnectionResetError:
            got = b""  # closed by the server before or after our byte
        if got == b"?":
            served += 1
        else:
            shed += 1
    check(served > 0 and shed > 0, (served, shed))
    srv.check_idle()
    for s in held:
        s.close()
    s = t.connect(srv.port)
    s.sendall(b"again")
    check(recv_exact(s, 5) == b"again", "not serving after EMFILE")
    check(srv.stop() == 0)
