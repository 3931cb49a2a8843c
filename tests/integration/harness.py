"""Helpers for nettool's integration tests: start the real binary, find the
port a server bound, stop everything a test started, and fail a test whose
processes printed a sanitizer report."""
import hashlib
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

NETTOOL = "./nettool"
# Deadlines stretch under sanitizers (make asan sets NETTOOL_TEST_SLOW).
SLOW = float(os.environ.get("NETTOOL_TEST_SLOW", "1"))
SANITIZER = re.compile(r"ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:")


class Skip(Exception):
    pass


def deadline(seconds):
    """Decorator: the test fails if it has no result within seconds."""
    def wrap(fn):
        fn.deadline = seconds
        return fn
    return wrap


def alone(fn):
    """Decorator: the test runs by itself, after the others, because it
    measures a deadline or a rate, or loads the machine."""
    fn.alone = True
    return fn


def need(program):
    """Skip the test, loudly, when a peer program is not installed."""
    path = shutil.which(program)
    if not path:
        raise Skip(f"peer '{program}' is not installed")
    return path


def free_port():
    """A loopback port free a moment ago, for a peer that cannot report the
    port it bound (nc -l, tcpserver, proxies), or one meant to refuse."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Proc:
    """A started process whose stderr is collected line by line."""

    def __init__(self, test, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        self.argv = argv
        self.p = subprocess.Popen(argv, stderr=subprocess.PIPE, **kw)
        self.pid = self.p.pid
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        test.procs.append(self)

    def _read(self):
        for raw in self.p.stderr:
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of stderr
            self.cond.notify_all()

    def wait_line(self, pattern, timeout=10):
        """Wait for a stderr line matching pattern; return the match."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout * SLOW
        i = 0
        with self.cond:
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    i += 1
                    if line is None:
                        raise AssertionError(
                            f"{self.argv[1]} ended before printing /{pattern}/:\n"
                            + self.stderr())
                    m = rx.search(line)
                    if m:
                        return m
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no stderr line /{pattern}/ within "
                                         f"{timeout} s:\n{self.stderr()}")
                self.cond.wait(left)

    def stderr(self):
        with self.cond:
            return "\n".join(x for x in self.lines if x is not None)

    def wait(self, timeout=10):
        rc = self.p.wait(timeout=timeout * SLOW)
        self.reader.join(timeout=5)
        return rc

    def signal(self, sig):
        if self.p.poll() is None:
            os.kill(self.pid, sig)

    def check_idle(self, seconds=1.0):
        """Fail if the process burns more than 30 % of a CPU over a
        measuring interval in which it has nothing to do."""
        cpu = self.cpu_seconds()
        t0 = time.monotonic()
        time.sleep(seconds)  # the measuring interval itself
        used = self.cpu_seconds() - cpu
        check(used < 0.3 * (time.monotonic() - t0),
              f"{self.argv[1]} busy: {used:.2f} s CPU in {seconds} s")

    def rss_kib(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server(Proc):
    """A nettool server started with -p 0; .port is the port it bound."""

    def __init__(self, test, args, **kw):
        super().__init__(test, [NETTOOL] + args + ["-p", "0"], **kw)
        m = self.wait_line(r"listening on (\S+):(\d+)$")
        self.port = int(m.group(2))

    def stop(self, timeout=10):
        """SIGTERM, then the exit status; fails if the server hangs."""
        self.signal(signal.SIGTERM)
        return self.wait(timeout)


class Test:
    def __init__(self, name):
        self.name = name
        self.procs = []
        self.socks = []
        self.cleanups = []
        self._tmp = None

    @property
    def tmp(self):
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="nettool-test-")
        return self._tmp

    def path(self, name):
        return os.path.join(self.tmp, name)

    def server(self, *args, **kw):
        return Server(self, list(args), **kw)

    def start(self, *args, **kw):
        return Proc(self, [NETTOOL] + list(args), **kw)

    def run(self, *args, input=None, timeout=20, **kw):
        """Run nettool to completion; returns (status, stdout, stderr).
        stderr is read by the Proc's own thread, stdout and stdin here."""
        if input is not None:
            kw["stdin"] = subprocess.PIPE
        p = Proc(self, [NETTOOL] + list(args), **kw)
        out = bytearray()
        threads = []
        if input is not None:
            def feed():
                try:
                    p.p.stdin.write(input)
                    p.p.stdin.close()
                except (BrokenPipeError, ValueError):
                    pass
            threads.append(threading.Thread(target=feed, daemon=True))
        if p.p.stdout:
            threads.append(threading.Thread(
                target=lambda: out.extend(p.p.stdout.read()), daemon=True))
        for th in threads:
            th.start()
        try:
            p.p.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            p.p.kill()
            p.wait()
            raise AssertionError(f"{args} still running after {timeout} s:\n"
                                 + p.stderr())
        for th in threads:
            th.join(timeout=10)
        p.reader.join(timeout=5)
        return p.p.returncode, bytes(out), p.stderr()

    def sock(self, family=socket.AF_INET):
        s = socket.socket(family, socket.SOCK_STREAM)
        self.socks.append(s)
        return s

    def connect(self, port, host="127.0.0.1", timeout=10):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = self.sock(fam)
        s.settimeout(timeout * SLOW)
        s.connect((host, port))
        return s

    def listener(self, backlog=16, host="127.0.0.1"):
        s = self.sock()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, 0))
        s.listen(backlog)
        return s

    def cleanup(self):
        problems = []
        for fn in self.cleanups:
            fn()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        for p in self.procs:
            if p.p.poll() is None:
                p.p.kill()
                try:
                    p.p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    problems.append(f"process {p.pid} did not die")
            p.reader.join(timeout=5)
            if p.p.stdout:
                p.p.stdout.close()
            if SANITIZER.search(p.stderr()):
                problems.append(f"sanitizer report from {p.argv}:\n{p.stderr()}")
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
        return problems


def fd_limit(n):
    """A preexec_fn that starts a process with a descriptor limit of n."""
    def pre():
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
    return pre


_far_hosts = itertools.count()
# the runner's worker number, so that tests running at once name their
# namespaces and pick their subnets apart
WORKER = int(os.environ.get("NETTOOL_TEST_WORKER", "0"))


def own_ns(t, prefix, setup):
    """A network namespace of the test's own, named from prefix, with the
    commands of setup run inside it; the test's cleanups remove it.
    Returns its name. Skips without root or ip."""
    need("ip")
    ns = f"{prefix}{os.getpid() % 100000}w{WORKER}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        raise Skip("cannot make a network namespace here (needs root)")
    t.cleanups.append(lambda: subprocess.run(["ip", "netns", "del", ns], capture_output=True))
    for c in setup:
        p = subprocess.run(["ip", "netns", "exec", ns] + c, capture_output=True, text=True)
        check(p.returncode == 0, (c, p.stderr))
    return ns


def far_host(t):
    """A network namespace of the test's own, joined to this one by a veth
    pair: a host elsewhere. Returns (namespace, its address); the test's
    cleanups remove it. Skips without root or ip."""
    need("ip")
    n = next(_far_hosts)
    ns = f"ntf{os.getpid() % 100000}x{n}"
    base = f"10.{200 + WORKER % 50}.{(os.getpid() + n) % 250}"
    run_in = ["ip", "netns", "exec", ns]
    setup = [["ip", "netns", "add", ns],
             ["ip", "link", "add", ns + "a", "type", "veth", "peer", "name", ns + "b"],
             ["ip", "link", "set", ns + "b", "netns", ns],
             ["ip", "addr", "add", base + ".1/30", "dev", ns + "a"],
             ["ip", "link", "set", ns + "a", "up"],
             run_in + ["ip", "addr", "add", base + ".2/30", "dev", ns + "b"],
             run_in + ["ip", "link", "set", ns + "b", "up"]]
    for i, c in enumerate(setup):
        if subprocess.run(c, capture_output=True).returncode != 0:
            if i == 0:
                raise Skip("cannot make a network namespace here (needs root)")
            raise AssertionError(f"{c} failed")
        if i == 0:
            t.cleanups.append(lambda: subprocess.run(["ip", "netns", "del", ns]))
            t.cleanups.append(lambda: subprocess.run(["ip", "link", "del", ns + "a"],
                                                     capture_output=True))
    return ns, base + ".2"


def traced(argv, calls, **kw):
    """Run argv under strace -f, tracing calls: (the CompletedProcess, the
    trace's text). Skips without strace."""
    need("strace")
    fd, log = tempfile.mkstemp(prefix="nettool-trace-")
    os.close(fd)
    env = dict(kw.pop("env", os.environ))  # LeakSanitizer cannot run under ptrace
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    try:
        p = subprocess.run(["strace", "-f", "-o", log, "-e", "trace=" + ",".join(calls)] + argv,
                           env=env, timeout=60, **kw)
        with open(log, errors="replace") as f:
            return p, f.read()
    finally:
        if os.path.exists(log):
            os.unlink(log)


def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def accept_loop(ls, handle):
    """On a thread of its own, handle(conn) for each connection the
    listener ls accepts, until it is closed."""
    def run():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            handle(c)
    threading.Thread(target=run, daemon=True).start()


def recv_all(s):
    buf = bytearray()
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            return bytes(buf)
        buf += chunk


def recv_head(s):
    """Bytes up to and with the first blank line (and what came with
    them), or what came before the peer closed."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(65536)
        if not chunk:
            break
        head += chunk
    return head


def wait_pane(base, sess, cond, timeout=10):
    """Poll a tmux pane until cond(text) holds; returns the text."""
    end = time.monotonic() + timeout * SLOW
    while True:
        out = subprocess.run(base + ["capture-pane", "-p", "-t", sess],
                             capture_output=True, text=True, timeout=10).stdout
        if cond(out):
            return out
        check(time.monotonic() < end, f"terminal never showed it:\n{out}")
        time.sleep(0.05)


class Tmux:
    """A private tmux server running one command in a terminal."""

    def __init__(self, test, command):
        self.tmux = need("tmux")
        self.sess = f"nt{os.getpid()}x{int(time.monotonic() * 1000) % 1000000}"
        self.base = [self.tmux, "-L", self.sess]
        env = dict(os.environ, TMUX="")
        subprocess.run(self.base + ["new-session", "-d", "-s", self.sess, "-x", "120",
                                    "-y", "20", command + "; echo EXIT=$?; sleep 60"],
                       check=True, env=env, timeout=10)
        test.cleanups.append(self.close)

    def keys(self, *keys):
        subprocess.run(self.base + ["send-keys", "-t", self.sess] + list(keys),
                       check=True, timeout=10)

    def wait(self, cond, timeout=10):
        return wait_pane(self.base, self.sess, cond, timeout)

    def close(self):
        subprocess.run(self.base + ["kill-server"], timeout=10,
                       stderr=subprocess.DEVNULL)
