"""nettool against peers nobody here wrote: OpenBSD nc, socat, telnet.
Each test is skipped, loudly, when its peer is not installed."""
import os
import re
import shutil

import harness
from harness import check, deadline, sha256


def openbsd_nc():
    for name in ("nc.openbsd", "nc"):
        path = shutil.which(name)
        if path:
            return path
    raise harness.Skip("peer 'nc' (netcat-openbsd) is not installed")


def write_random(t, name, size):
    data = os.urandom(size)
    with open(t.path(name), "wb") as f:
        f.write(data)
    return data


@deadline(60)
def test_nc_client_through_echo_server(t):
    nc = openbsd_nc()
    data = write_random(t, "in", 4 << 20)
    srv = t.server("tcp-echo-server")
    with open(t.path("in"), "rb") as f:
        p = harness.Proc(t, [nc, "-N", "127.0.0.1", str(srv.port)], stdin=f)
        out = p.p.stdout.read()
    check(p.wait(30) == 0, p.stderr())
    check(sha256(out) == sha256(data), f"{len(out)} of {len(data)} bytes")
    check(srv.stop() == 0)


@deadline(60)
def test_socat_client_through_echo_server(t):
    socat = harness.need("socat")
    data = write_random(t, "in", 4 << 20)
    srv = t.server("tcp-echo-server")
    with open(t.path("in"), "rb") as f:
        p = harness.Proc(t, [socat, "-t", "5", "-", f"TCP:127.0.0.1:{srv.port}"], stdin=f)
        out = p.p.stdout.read()
    check(p.wait(30) == 0, p.stderr())
    check(sha256(out) == sha256(data), f"{len(out)} of {len(data)} bytes")
    check(srv.stop() == 0)


def socat_server(t, *addr2, opts=()):
    socat = harness.need("socat")
    p = harness.Proc(t, [socat, "-d", "-d"] + list(opts)
                     + ["TCP-LISTEN:0,bind=127.0.0.1,reuseaddr"] + list(addr2))
    m = p.wait_line(r"listening on AF=2 127\.0\.0\.1:(\d+)")
    return p, int(m.group(1))


@deadline(60)
def test_tcp_client_into_socat_file_sink(t):
    data = write_random(t, "in", 6 << 20)
    sink, port = socat_server(t, f"CREATE:{t.path('out')}", opts=["-u"])
    with open(t.path("in"), "rb") as f:
        rc, out, err = t.run("tcp-client", "127.0.0.1", str(port), stdin=f)
    check(rc == 0 and out == b"" and err == "", (rc, err))
    check(sink.wait(10) == 0)
    with open(t.path("out"), "rb") as f:
        check(sha256(f.read()) == sha256(data), "socat got different bytes")


@deadline(60)
def test_tcp_client_through_socat_exec_cat(t):
    data = write_random(t, "in", 2 << 20)
    peer, port = socat_server(t, "EXEC:cat")
    rc, out, err = t.run("tcp-client", "127.0.0.1", str(port), input=data)
    check(rc == 0 and err == "", (rc, err))
    check(sha256(out) == sha256(data), f"{len(out)} of {len(data)} bytes")
    check(peer.wait(10) == 0)


@deadline(30)
def test_telnet_session(t):
    telnet = harness.need("telnet")
    srv = t.server("tcp-echo-server")
    term = harness.Tmux(t, f"{telnet} 127.0.0.1 {srv.port}")
    term.wait(lambda s: "Escape character" in s)
    term.keys("hello over telnet", "Enter")
    pane = term.wait(lambda s: s.count("hello over telnet") >= 2)
    check(re.search(r"hello over telnet\s*\n\s*hello over telnet", pane), pane)
    term.keys("C-]")
    term.wait(lambda s: "telnet>" in s)
    term.keys("quit", "Enter")
    term.wait(lambda s: "EXIT=" in s)
    check(srv.stop() == 0)
    check("stopped: 1 connections" in srv.stderr(), srv.stderr())
