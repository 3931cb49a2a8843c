"""Framing on the wire: tcp-echo-server --frame and tcp-client --frame
against Python peers that split and coalesce writes on purpose."""
import os
import socket
import struct
import threading

import harness
from harness import check, deadline, recv_all

MODES = ["line", "len16", "len32", "netstring"]


def enc(mode, payload):
    if mode == "line":
        return payload + b"\n"
    if mode == "len16":
        return struct.pack(">H", len(payload)) + payload
    if mode == "len32":
        return struct.pack(">I", len(payload)) + payload
    return b"%d:%s," % (len(payload), payload)


def payloads(mode, n=50):
    out = [b"", b"x", b"hello world"]
    rng = __import__("random").Random(7)
    while len(out) < n:
        size = rng.choice([1, 10, 300, 5000])
        p = bytes(rng.randrange(256) for _ in range(size))
        if mode == "line":
            p = p.replace(b"\n", b"n").replace(b"\r", b"r")
        out.append(p)
    return out


@deadline(60)
def test_echo_whole_frames_any_split(t):
    for mode in MODES:
        srv = t.server("tcp-echo-server", "--frame", mode)
        msgs = payloads(mode)
        stream = b"".join(enc(mode, p) for p in msgs)
        # one byte per write
        s = t.connect(srv.port)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        got = []
        th = threading.Thread(target=lambda: got.append(recv_all(s)))
        th.start()
        for i in range(0, 2000):
            s.send(stream[i:i + 1])
        s.sendall(stream[2000:])
        s.shutdown(socket.SHUT_WR)
        th.join(30)
        check(got and got[0] == stream, f"{mode}: echo differs")
        # everything in one write
        s = t.connect(srv.port)
        s.sendall(stream * 3)
        s.shutdown(socket.SHUT_WR)
        check(recv_all(s) == stream * 3, f"{mode}: coalesced echo differs")
        check(srv.stop() == 0)


def test_partial_frame_is_never_echoed(t):
    srv = t.server("tcp-echo-server", "--frame", "len32", "-v")
    s = t.connect(srv.port)
    s.sendall(struct.pack(">I", 10) + b"12345")
    s.sendall(enc("len32", b"") [:0])
    s.shutdown(socket.SHUT_WR)  # EOF inside the frame
    check(recv_all(s) == b"", "a partial frame was echoed")
    srv.wait_line(r"stream ended inside a frame at byte 0 \(9 bytes of it\); closing")
    check(srv.stop() == 0)


def test_bad_frames_close_only_that_client(t):
    cases = [
        ("netstring", b"5:hello,", b"05:hello,", r"leading zero"),
        ("netstring", b"", b"5:helloX", r"missing ','"),
        ("netstring", b"", b"abc", r"expected a length digit"),
        ("netstring", b"1:a,", b"1x", r"missing ':'"),
        ("len32", b"", struct.pack(">I", 1 << 30), r"length 1073741824 exceeds the maximum of 1000"),
        ("line", b"ok\n", b"y" * 5000, r"exceeds the maximum of 1000"),
    ]
    for mode, good, bad, why in cases:
        srv = t.server("tcp-echo-server", "--frame", mode, "--max-frame", "1000", "-v")
        other = t.connect(srv.port)
        other.sendall(enc(mode, b"steady"))
        check(recv_all_n(other, len(enc(mode, b"steady"))) == enc(mode, b"steady"))
        s = t.connect(srv.port)
        s.sendall(good + bad)
        check(recv_all(s) == good, (mode, bad))  # the good frame, then the close
        s.close()  # so the server's lingering close ends now, not at its stop
        srv.wait_line(why)
        other.sendall(enc(mode, b"still"))
        check(recv_all_n(other, len(enc(mode, b"still"))) == enc(mode, b"still"),
              "other client disturbed")
        check(srv.stop() == 0)
        check("1 bad" in srv.stderr(), srv.stderr())


def recv_all_n(s, n):
    return harness.recv_exact(s, n)


@deadline(60)
def test_tcp_client_frames_roundtrip(t):
    lines = [b"alpha", b"", b"with spaces and\ttabs", b"x" * 70000]
    for mode in MODES:
        srv = t.server("tcp-echo-server", "--frame", mode)
        data = b"\n".join(lines) + b"\n"
        want = data
        if mode == "len16":
            data = b"\n".join(lines[:3]) + b"\n"
            want = data
        rc, out, err = t.run("tcp-client", "--frame", mode, "127.0.0.1", str(srv.port),
                             input=data)
        check(rc == 0 and out == want and err == "", (mode, rc, err, out[:100]))
        check(srv.stop() == 0)


def test_tcp_client_len16_refuses_long_line(t):
    srv = t.server("tcp-echo-server", "--frame", "len16")
    rc, out, err = t.run("tcp-client", "--frame", "len16", "127.0.0.1", str(srv.port),
                         input=b"ok\n" + b"x" * 70000 + b"\n")
    check(rc == 1 and "stdin line 2" in err and "65535" in err, (rc, err))
    srv.stop()


def test_tcp_client_pack_in_len16_frames(t):
    """--frame len16 --pack FMT: a Python server decodes and unpacks."""
    ls = t.listener()
    got = []

    def serve():
        c, _ = ls.accept()
        data = recv_all(c)
        i = 0
        while i < len(data):
            (n,) = struct.unpack(">H", data[i:i + 2])
            got.append(struct.unpack("<i16sif", data[i + 2:i + 2 + n]))
            i += 2 + n
        c.close()

    th = threading.Thread(target=serve)
    th.start()
    rc, out, err = t.run("tcp-client", "--frame", "len16", "--pack", "<i16sif", "127.0.0.1",
                         str(ls.getsockname()[1]),
                         input=b'1 alice 20 1.75\n2 "bob smith" 31 1.5\n')
    th.join(20)
    check(rc == 0 and err == "", (rc, err))
    check(got == [(1, b"alice" + b"\0" * 11, 20, 1.75), (2, b"bob smith" + b"\0" * 7, 31, 1.5)],
          got)


def peer_sending(t, data):
    ls = t.listener()

    def serve():
        c, _ = ls.accept()
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        recv_all(c)
        c.close()

    threading.Thread(target=serve, daemon=True).start()
    return ls.getsockname()[1]


def test_tcp_client_bad_or_truncated_frame_exit_6(t):
    port = peer_sending(t, b"2:ok,3:abc;")
    rc, out, err = t.run("tcp-client", "--frame", "netstring", "127.0.0.1", str(port), input=b"")
    check(rc == 6 and out == b"ok\n" and "missing ','" in err and "byte 10" in err, (rc, out, err))
    port = peer_sending(t, struct.pack(">I", 3) + b"abc" + struct.pack(">I", 100) + b"abc")
    rc, out, err = t.run("tcp-client", "--frame", "len32", "127.0.0.1", str(port), input=b"")
    check(rc == 6 and out == b"abc\n" and "ended inside a frame at byte 7" in err, (rc, out, err))
    port = peer_sending(t, b"\x00\x03\x01\x02\x03")
    rc, out, err = t.run("tcp-client", "--frame", "len16", "-x", "127.0.0.1", str(port), input=b"")
    check(rc == 0 and out == b"010203\n", (rc, out, err))
