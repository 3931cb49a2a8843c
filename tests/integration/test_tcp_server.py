"""tcp-server, the listening end: one connection like nc -l, -k, the
person at the terminal, allow/deny and Unix sockets, against nettool
tcp-client, Python sockets and, where installed, OpenBSD nc."""
import errno
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import harness
from harness import check, deadline, free_port, recv_all, sha256


def listening(t, *args, **kw):
    srv = t.server("tcp-server", *args, **kw)
    return srv


def wait_count(proc, text, n):
    """Wait until proc's stderr holds text n times (wait_line finds the
    first match only)."""
    end = time.monotonic() + 10 * harness.SLOW
    while proc.stderr().count(text) < n:
        check(time.monotonic() < end, f"{text!r} not {n} times:\n{proc.stderr()}")
        time.sleep(0.01)


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
def test_receive_into_append_offset_and_pipe(t):
    """The received bytes land where stdout points: after what an appending
    file holds, at a seeked offset, and through a pipe read in small bites."""
    src, data = file_of(t, "in.bin", 16 << 20)

    def receive(stdout):
        srv = listening(t, stdout=stdout)
        with open(src, "rb") as i:
            rc, _, err = t.run("tcp-client", "127.0.0.1", str(srv.port), stdin=i, timeout=60)
        check(rc == 0 and err == "", (rc, err))
        return srv

    out = t.path("append.bin")
    with open(out, "wb") as o:
        o.write(b"head")
    with open(out, "ab") as o:
        check(receive(o).wait(60) == 0)
    with open(out, "rb") as f:
        check(f.read() == b"head" + data, "appending: the file came out different")

    out = t.path("offset.bin")
    with open(out, "wb") as o:
        o.write(b"x" * 1000)
        o.seek(10)
        check(receive(o).wait(60) == 0)
    with open(out, "rb") as f:
        check(f.read() == b"x" * 10 + data, "at an offset: the file came out different")

    r, w = os.pipe()
    srv = listening(t, stdout=w)
    os.close(w)
    got = []
    done = threading.Event()

    def reader():
        while chunk := os.read(r, 1000):
            got.append(chunk)
        done.set()
    threading.Thread(target=reader, daemon=True).start()
    with open(src, "rb") as i:
        rc, _, err = t.run("tcp-client", "127.0.0.1", str(srv.port), stdin=i, timeout=60)
    check(rc == 0 and srv.wait(60) == 0, (rc, err, srv.stderr()))
    check(done.wait(30), "the pipe was not closed")
    os.close(r)
    check(b"".join(got) == data, "through a pipe: the bytes came out different")


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
    wait_count(srv, "connection ended (status", 5)  # each over before the stop
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


def zombies_of(pid):
    """The children of pid that are zombies."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] == "Z":
            found.append(int(d))
    return found


def half_close_exchange(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=10 * harness.SLOW)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s)
    finally:
        s.close()


@deadline(60)
def test_exec_many_clients_no_zombies(t):
    import concurrent.futures
    srv = listening(t, "--exec", "tr a-z A-Z", "-v")
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        outs = list(pool.map(lambda i: half_close_exchange(srv.port, b"client %d\n" % i),
                             range(20)))
    check(outs == [b"CLIENT %d\n" % i for i in range(20)], outs)
    wait_count(srv, "exited 0", 20)
    check(zombies_of(srv.pid) == [], "zombies left")
    check(srv.stop() == 0)
    srv.wait_line(r"stopped: 20 connections")


@deadline(30)
def test_exec_environment_and_descriptors(t):
    srv = listening(t, "--exec",
                    'echo "$PROTO $TCPREMOTEIP $TCPREMOTEPORT $TCPLOCALIP $TCPLOCALPORT"; '
                    'ls /proc/$$/fd')  # no pipe: the shell's own descriptors would race ls
    s = t.connect(srv.port)
    out = recv_all(s).decode().split("\n")
    local = s.getsockname()
    check(out[0] == f"TCP 127.0.0.1 {local[1]} 127.0.0.1 {srv.port}", out)
    fds = [x for x in out[1:] if x]
    check(fds == ["0", "1", "2"], f"the program holds descriptors {fds}, not 0 1 2")
    check(srv.stop() == 0)
    path = t.path("x.sock")
    p = t.start("tcp-server", "-U", path, "--exec", 'echo "$PROTO"')
    p.wait_line("listening on")
    rc, out, _ = t.run("tcp-client", "-U", path)
    check(rc == 0 and out == b"UNIX\n", (rc, out))
    p.signal(signal.SIGTERM)
    check(p.wait() == 0)
    # a command of plain words runs without the shell: the same environment,
    # the server's own names kept and its stale ucspi names replaced
    srv = listening(t, "--exec", "env", env=dict(os.environ, PROTO="stale", KEEP_ME="1"))
    s = t.connect(srv.port)
    env = dict(line.split("=", 1) for line in recv_all(s).decode().splitlines())
    local = s.getsockname()
    want = {"PROTO": "TCP", "TCPREMOTEIP": "127.0.0.1", "TCPREMOTEPORT": str(local[1]),
            "TCPLOCALIP": "127.0.0.1", "TCPLOCALPORT": str(srv.port), "KEEP_ME": "1"}
    check(all(env.get(k) == v for k, v in want.items()), {k: env.get(k) for k in want})
    check(srv.stop() == 0)


@deadline(30)
def test_exec_that_cannot_run_and_the_limit(t):
    # run directly (plain words), then through the shell (a redirection)
    for cmd, says in (("/nonexistent/program", r"cannot start the program: No such file"),
                      ("/nonexistent/program 2>/dev/null", r"exited 127")):
        srv = listening(t, "--exec", cmd, "-v")
        for _ in range(2):  # and the server goes on
            start = time.monotonic()
            try:  # unread input makes the close a reset: closed either way,
                got = half_close_exchange(srv.port, b"x")
            except OSError as e:  # and one that comes first fails the shutdown
                check(e.errno in (errno.ECONNRESET, errno.ENOTCONN, errno.EPIPE), e)
                got = b""
            check(got == b"", got)
            check(time.monotonic() - start < 2 * harness.SLOW,
                  "the connection was not closed promptly")
        srv.wait_line(says)
        check(srv.stop() == 0)
    srv = listening(t, "--exec", "cat", "--max-clients", "2")
    held = [t.connect(srv.port) for _ in range(2)]
    for s in held:
        s.sendall(b"held\n")
        check(s.recv(16) == b"held\n")
    third = t.connect(srv.port)  # the kernel completes it; it waits in the queue
    third.sendall(b"third\n")
    third.settimeout(0.5)
    try:
        early = third.recv(16)
    except socket.timeout:
        early = None
    check(early is None, f"a third program ran past --max-clients 2: {early!r}")
    held[0].close()
    third.settimeout(10 * harness.SLOW)
    check(third.recv(16) == b"third\n", "the waiting client was never served")
    # the stop: programs get their drain, then are ended, and all are reaped
    start = time.monotonic()
    srv.signal(signal.SIGTERM)
    check(srv.wait(15) == 0)
    check(time.monotonic() - start < 6 * harness.SLOW)
    check(recv_all(third) == b"", "the program outlived the server")


@deadline(30)
def test_stop_during_a_transfer(t):
    for args, want in ((["-k"], 0), ([], 1)):
        srv = listening(t, *args, stdin=subprocess.PIPE)
        c = t.connect(srv.port)
        c.sendall(b"in flight\n")
        time.sleep(0.2 * harness.SLOW)  # the transfer is under way, stdin still open
        start = time.monotonic()
        srv.signal(signal.SIGTERM)
        check(srv.wait(10) == want, (args, srv.stderr()))
        check(time.monotonic() - start < 2 * harness.SLOW, "the stop waited for the transfer")
        srv.wait_line(r"stopped: 1 connections")
        check(srv.p.stdout.read() == b"in flight\n")
        check(recv_all(c) == b"", "the connection stayed open")


class Lines:
    """A client socket read line by line."""

    def __init__(self, t, port):
        self.s = t.connect(port)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise AssertionError(f"closed; had {self.buf!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def until(self, want):
        """The next line that starts with want (lines before it skipped)."""
        while True:
            line = self.line()
            if line.startswith(want):
                return line


@deadline(60)
def test_chat_three_clients_and_a_person(t):
    srv = listening(t, "--chat", stdin=subprocess.PIPE)
    a = Lines(t, srv.port)
    srv.wait_line(r"\[1 127\.0\.0\.1:\d+\] joined")
    b = Lines(t, srv.port)
    srv.wait_line(r"\[2 127\.0\.0\.1:\d+\] joined")
    c = Lines(t, srv.port)
    srv.wait_line(r"\[3 127\.0\.0\.1:\d+\] joined")
    check(a.until(b"* 3 ").endswith(b" joined"))
    pa = a.s.getsockname()[1]
    a.s.sendall(b"hello from a\r\n")
    want = b"[1 127.0.0.1:%d] hello from a" % pa
    check(b.until(b"[1 ") == want and c.until(b"[1 ") == want)
    srv.p.stdin.write(b"to everyone\n@2 just for b\n@9 nobody\nmarker\n")
    srv.p.stdin.flush()
    check(a.until(b"to everyone") == b"to everyone" and a.line() == b"marker",
          "@2 reached a client other than 2")
    check(b.until(b"to everyone") and b.line() == b"just for b" and b.line() == b"marker")
    check(c.until(b"to everyone") and c.line() == b"marker")
    srv.wait_line(r"no client 9")
    c.s.close()
    check(a.until(b"* 3 ").endswith(b" left"))
    a.s.sendall(b"x" * 10000 + b"\n")  # split at 4096 bytes
    got = [b.until(b"[1 ") for _ in range(3)]
    check([len(g) - len(b"[1 127.0.0.1:%d] " % pa) for g in got] == [4096, 4096, 1808], got)
    srv.p.stdin.close()
    srv.signal(signal.SIGTERM)
    check(srv.wait(10) == 0)
    out = srv.p.stdout.read()
    check(out.startswith(want + b"\n"), out[:200])


@deadline(90)
def test_chat_client_that_never_reads_is_dropped(t):
    import threading
    srv = listening(t, "--chat", stdin=subprocess.PIPE)
    reader = Lines(t, srv.port)
    srv.wait_line(r"\[1 .*joined")
    stuck = t.sock()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", srv.port))
    srv.wait_line(r"\[2 .*joined")
    n, line = 8000, b"y" * 1000 + b"\n"
    got = []
    cond = threading.Condition()

    def read_all():
        for _ in range(n):
            got_one = reader.until(b"yyy")
            with cond:
                got.append(got_one)
                cond.notify_all()
    th = threading.Thread(target=read_all, daemon=True)
    th.start()
    for k in range(n // 100):
        srv.p.stdin.write(line * 100)
        srv.p.stdin.flush()
        # the reader keeps up, however slowly it runs: at most two batches
        # (200 KB) behind, less than the server lets pile up for a client
        with cond:
            cond.wait_for(lambda: len(got) >= k * 100, 30 * harness.SLOW)
    th.join(60 * harness.SLOW)
    check(len(got) == n, f"the reading client got {len(got)} of {n} lines")
    srv.wait_line(r"\[2 127\.0\.0\.1:\d+\] dropped: it does not read")
    srv.wait_line(r"\[2 127\.0\.0\.1:\d+\] left")
    check(srv.stop() == 0)




def wait_listening(port):
    end = time.monotonic() + 10 * harness.SLOW
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            check(time.monotonic() < end, f"nothing listens on {port}")
            time.sleep(0.02)


@deadline(60)
def test_tcp_client_into_nc_listening(t):
    nc = harness.need("nc")
    src, data = file_of(t, "in.bin", 8 << 20)
    port = free_port()
    out = t.path("out.bin")
    with open(out, "wb") as o:
        p = subprocess.Popen([nc, "-l", "127.0.0.1", str(port)], stdout=o,
                             stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t.cleanups.append(lambda: p.poll() is None and p.kill())
        end = time.monotonic() + 10 * harness.SLOW
        while True:  # nc -l takes one connection: probing would use it up
            with open(f"/proc/net/tcp") as f:
                if f":{port:04X} 00000000:0000 0A" in f.read():
                    break
            check(time.monotonic() < end, "nc -l never listened")
            time.sleep(0.02)
        with open(src, "rb") as i:
            rc, _, err = t.run("tcp-client", "127.0.0.1", str(port), stdin=i, timeout=60)
        check(rc == 0, (rc, err))
        check(p.wait(timeout=30 * harness.SLOW) == 0)
    with open(out, "rb") as f:
        check(sha256(f.read()) == sha256(data), "nc -l received something else")


def env_seen(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10 * harness.SLOW)
    try:
        lines = recv_all(s).decode().split("\n")
        return dict(x.split("=", 1) for x in lines if "=" in x), s.getsockname()[1]
    finally:
        s.close()


@deadline(60)
def test_exec_environment_as_tcpserver_gives_it(t):
    tcpserver = harness.need("tcpserver")
    show = "env | grep -E '^(PROTO|TCPREMOTEIP|TCPREMOTEPORT|TCPLOCALIP|TCPLOCALPORT)='"
    port = free_port()
    p = subprocess.Popen([tcpserver, "-H", "-R", "127.0.0.1", str(port), "sh", "-c", show],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    t.cleanups.append(lambda: p.poll() is None and (p.terminate(), p.wait()))
    wait_listening(port)
    theirs, their_client = env_seen(port)
    srv = listening(t, "-b", "127.0.0.1", "--exec", show)
    ours, our_client = env_seen(srv.port)
    check(set(ours) == set(theirs) == {"PROTO", "TCPREMOTEIP", "TCPREMOTEPORT", "TCPLOCALIP",
                                       "TCPLOCALPORT"}, (ours, theirs))
    for k in ("PROTO", "TCPREMOTEIP", "TCPLOCALIP"):
        check(ours[k] == theirs[k], (k, ours[k], theirs[k]))
    check(ours["TCPREMOTEPORT"] == str(our_client) and theirs["TCPREMOTEPORT"] == str(their_client))
    check(ours["TCPLOCALPORT"] == str(srv.port) and theirs["TCPLOCALPORT"] == str(port))
    check(srv.stop() == 0)


def line_dialogue(port, lines):
    """Send each line and read its reply line, several clients at once."""
    import concurrent.futures

    def one(i):
        s = socket.create_connection(("127.0.0.1", port), timeout=10 * harness.SLOW)
        f = s.makefile("rb")
        try:
            out = []
            for line in lines:
                s.sendall(b"%d %s\n" % (i, line))
                out.append(f.readline())
            return out
        finally:
            f.close()
            s.close()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(8)))


@deadline(60)
def test_exec_answers_as_ncat_does(t):
    """The same per-connection programs under ncat (--sh-exec through the
    shell, --exec without it) and under nettool --exec: the same replies."""
    ncat = harness.need("ncat")
    lines = [b"alpha", b"\xc3\xa9t\xc3\xa9", b"", b"x" * 3000]
    for ncat_opt, cmd in (("--sh-exec", "while read -r l; do echo \"got $l\"; done"),
                          ("--exec", shutil.which("sed") + " -u s/^/got:/")):
        port = free_port()
        p = subprocess.Popen([ncat, "-lk", "127.0.0.1", str(port), ncat_opt, cmd],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        t.cleanups.append(lambda p=p: p.poll() is None and (p.terminate(), p.wait()))
        wait_listening(port)
        theirs = line_dialogue(port, lines)
        p.terminate()
        p.wait()
        srv = listening(t, "-b", "127.0.0.1", "--exec", cmd)
        ours = line_dialogue(srv.port, lines)
        check(ours == theirs, (ours[0], theirs[0]))
        check(ours[3][1].startswith(b"got") and ours[3][3].endswith(b"x" * 3000 + b"\n"),
              ours[3])
        check(srv.stop() == 0)
