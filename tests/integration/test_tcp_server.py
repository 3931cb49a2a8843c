"""tcp-server, the listening end: one connection like nc -l, -k, the
person at the terminal, allow/deny and Unix sockets, against nettool
tcp-client, Python sockets and, where installed, OpenBSD nc."""
import os
import shutil
import signal
import socket
import subprocess
import time

import harness
from harness import check, deadline, recv_all, sha256


def listening(t, *args, **kw):
    srv = t.server("tcp-server", *args, **kw)
    return srv


def file_of(t, name, size):
    data = os.urandom(size)
    path = t.path(name)
    with open(path, "wb") as f:
        f.write(data)
    return path, data


@deadline(120)
def test_receive_a_file_from_tcp_client(t):
    for size in (0, 1, 100 << 20):
        src, data = file_of(t, "in.bin", size)
        out = t.path("out.bin")
        with open(out, "wb") as o:
            srv = listening(t, stdout=o)
            with open(src, "rb") as i:
                rc, _, err = t.run("tcp-client", "127.0.0.1", str(srv.port), stdin=i, timeout=120)
            check(rc == 0 and err == "", (rc, err))
            check(srv.wait(60) == 0, srv.stderr())
        with open(out, "rb") as f:
            got = f.read()
        check(len(got) == size and sha256(got) == sha256(data), f"{len(got)} of {size} bytes")


@deadline(120)
def test_send_a_file_to_tcp_client(t):
    src, data = file_of(t, "in.bin", 64 << 20)
    with open(src, "rb") as i:
        srv = listening(t, stdin=i)
        out = t.path("out.bin")
        with open(out, "wb") as o:
            rc, _, err = t.run("tcp-client", "127.0.0.1", str(srv.port), stdout=o, timeout=120)
        check(rc == 0, (rc, err))
        check(srv.wait(60) == 0, srv.stderr())
    with open(out, "rb") as f:
        check(sha256(f.read()) == sha256(data), "the file came out different")


@deadline(60)
def test_nc_as_the_client(t):
    nc = harness.need("nc")
    src, data = file_of(t, "in.bin", 8 << 20)
    out = t.path("out.bin")
    with open(out, "wb") as o:
        srv = listening(t, stdout=o)
        with open(src, "rb") as i:
            p = subprocess.run([nc, "-N", "127.0.0.1", str(srv.port)], stdin=i,
                               stdout=subprocess.DEVNULL, timeout=60 * harness.SLOW)
        check(p.returncode == 0)
        check(srv.wait(30) == 0, srv.stderr())
    with open(out, "rb") as f:
        check(sha256(f.read()) == sha256(data), "nc's file came out different")


@deadline(60)
def test_one_connection_then_no_other(t):
    srv = listening(t, "-v", stdin=subprocess.PIPE)
    a = t.connect(srv.port)
    srv.wait_line(r"connection from 127\.0\.0\.1:\d+")
    try:  # the listener is closed once a client is in, as with nc -l
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        check(False, "a second client got in")
    except ConnectionRefusedError:
        pass
    srv.p.stdin.write(b"hello from the server\n")
    srv.p.stdin.close()
    a.sendall(b"hello from the client\n")
    a.shutdown(socket.SHUT_WR)
    check(recv_all(a) == b"hello from the server\n")
    check(srv.wait(10) == 0)
    check(srv.p.stdout.read() == b"hello from the client\n")


@deadline(60)
def test_keep_open_serves_one_after_another(t):
    srv = listening(t, "-k", "-v")
    for i in range(3):
        s = t.connect(srv.port)
        s.sendall(b"client %d\n" % i)
        s.shutdown(socket.SHUT_WR)
        check(recv_all(s) == b"", "the server sent something it had not been given")
        s.close()
        srv.wait_line(r"connection from")
    r = t.connect(srv.port)  # a reset does not end the server
    r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    r.sendall(b"reset\n")
    r.close()
    s = t.connect(srv.port)
    s.sendall(b"after the reset\n")
    s.shutdown(socket.SHUT_WR)
    recv_all(s)
    s.close()
    srv.signal(signal.SIGTERM)
    check(srv.wait(10) == 0)
    srv.wait_line(r"stopped: 5 connections \(0 refused\)")
    out = srv.p.stdout.read()
    check(out.startswith(b"client 0\nclient 1\nclient 2\n") and out.endswith(b"after the reset\n"),
          out)


def test_port_in_use_and_bad_input(t):
    first = listening(t, "-k")
    rc, _, err = t.run("tcp-server", "-p", str(first.port))
    check(rc == 1 and "address already in use" in err.lower(), (rc, err))
    for args in (["-p", "70000"], ["-p", "12x"], ["--allow", "1.2.3.4/40"],
                 ["-U", t.path("s"), "-p", "1"], ["extra"]):
        rc, _, err = t.run("tcp-server", *args)
        check(rc == 2 and "tcp-server" in err, (args, rc, err))
    check(first.stop() == 0)


@deadline(30)
def test_allow_deny_and_unix_socket(t):
    srv = listening(t, "-k", "-v", "--deny", "127.0.0.3")
    bad = t.sock()
    bad.settimeout(10)
    bad.bind(("127.0.0.3", 0))
    bad.connect(("127.0.0.1", srv.port))
    check(recv_all(bad) == b"", "a denied peer was served")
    srv.wait_line(r"127\.0\.0\.3:\d+: refused")
    check(srv.stop() == 0)
    path = t.path("srv.sock")
    p = t.start("tcp-server", "-U", path, stdin=subprocess.DEVNULL)
    p.wait_line(r"listening on " + path)
    rc, out, err = t.run("tcp-client", "-U", path, input=b"through the socket file\n")
    check(rc == 0, (rc, err))
    check(p.wait(10) == 0)
    check(p.p.stdout.read() == b"through the socket file\n")
    check(not os.path.exists(path), "the socket file stayed")


@deadline(60)
def test_a_person_at_the_terminal(t):
    harness.need("tmux")
    tm = harness.Tmux(t, f"{harness.NETTOOL} tcp-server -p 0 -v")
    screen = tm.wait(lambda s: "listening on" in s)
    port = int(screen.split("listening on")[1].split()[0].rsplit(":", 1)[1])
    c = t.connect(port)
    tm.wait(lambda s: "connection from" in s)
    c.sendall("hello, server ünïcode\n".encode())
    tm.wait(lambda s: "hello, server ünïcode" in s)
    tm.keys("hi there, clïent", "Enter")
    got = b""
    end = time.monotonic() + 10 * harness.SLOW
    while b"hi there" not in got and time.monotonic() < end:
        got += c.recv(4096)
    check(got == "hi there, clïent\n".encode(), got)
    c.close()
    tm.wait(lambda s: "EXIT=0" in s)
