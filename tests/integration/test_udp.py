"""udp-server and udp-client against Python socket peers, and through a
lossy relay that drops, duplicates and reorders datagrams."""
import os
import random
import re
import selectors
import signal
import socket
import struct
import threading
import time

import harness
from harness import check, deadline

STUDENT_TMPL = "%d %-10s %d %.2f\\n"


def udp_sock(t, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_DGRAM)
    t.socks.append(s)
    s.settimeout(10 * harness.SLOW)
    return s


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def test_student_records_end_to_end(t):
    out = t.path("students.txt")
    srv = t.server("udp-server", "--unpack", "i16sif", "--printf", STUDENT_TMPL, "-o", out,
                   "--reply", "Thanks")
    rc, stdout, err = t.run("udp-client", "--pack", "i16sif", "127.0.0.1", str(srv.port),
                            input=b'1 alice 20 1.75\n2 "bob smith" 31 1.5\n')
    check(rc == 0 and stdout == b"Thanks\nThanks\n", (rc, stdout, err))
    # a record from Python's socket and struct reaches the same file
    s = udp_sock(t)
    s.sendto(struct.pack("i16sif", 3, b"carol", 22, 1.625), ("127.0.0.1", srv.port))
    check(s.recv(100) == b"Thanks")
    # a record of the wrong size is rejected, the next good one accepted
    s.sendto(b"not a record", ("127.0.0.1", srv.port))
    s.sendto(struct.pack("i16sif", 4, b"dave", 23, 2.0), ("127.0.0.1", srv.port))
    check(s.recv(100) == b"Thanks")
    srv.wait_line(r"record of 12 bytes, expected 28; rejected")
    check(srv.stop() == 0)
    check(read_file(out) == b"1 alice      20 1.75\n2 bob smith  31 1.50\n"
          b"3 carol      22 1.62\n4 dave       23 2.00\n", read_file(out))
    check("stopped: 5 received, 4 accepted, 1 rejected, 4 replied" in srv.stderr(), srv.stderr())


def test_printf_widths_count_characters_and_reply_escapes(t):
    """The tutorial's server: '%-10s' pads a UTF-8 name by characters, as
    Python's % does; --reply takes the same escapes as --printf."""
    out = t.path("students.txt")
    srv = t.server("udp-server", "--unpack", "i16sif", "--printf", STUDENT_TMPL, "-o", out,
                   "--reply", "Thanks\\n\\x41\\101\\t")
    s = udp_sock(t)
    names = ["学生", "Zoë", "plain", "\u00e9t\u00e9 \u20ac"]
    for i, name in enumerate(names):
        s.sendto(struct.pack("i16sif", i, name.encode(), 20, 1.5), ("127.0.0.1", srv.port))
        check(s.recv(100) == b"Thanks\nAA\t")
    s.sendto(struct.pack("i16sif", 9, b"\xff\xfeab", 20, 1.5), ("127.0.0.1", srv.port))
    check(s.recv(100) == b"Thanks\nAA\t")
    check(srv.stop() == 0)
    want = "".join("%d %-10s %d %.2f\n" % (i, n, 20, 1.5) for i, n in enumerate(names))
    # invalid UTF-8 is padded by bytes, as C's printf does
    want = want.encode() + b"9 \xff\xfeab       20 1.50\n"
    check(read_file(out) == want, (read_file(out), want))
    # precision counts characters too
    rc, got, err = t.run("unpack", "--printf", "[%.1s][%5s][%-4.2s]\\n", "16s16s16s",
                         input=b"".join(n.encode().ljust(16, b"\0") for n in ("学生", "Zoë", "a学b")))
    check(rc == 0 and got.decode() == "[%.1s][%5s][%-4.2s]\n" % ("学生", "Zoë", "a学b"), (got, err))


def test_sizes_zero_one_and_maximum(t):
    out = t.path("out.txt")
    srv = t.server("udp-server", "-x", "--echo", "-o", out)
    s = udp_sock(t)
    sent = []
    for size in (0, 1, 65507):
        data = os.urandom(size)
        sent.append(data.hex().encode())
        s.sendto(data, ("127.0.0.1", srv.port))
        check(s.recv(70000) == data, size)
    check(srv.stop() == 0)
    check(read_file(out) == b"\n".join(sent) + b"\n", "hex lines differ")


def test_text_lines_and_peer_prefix(t):
    srv = t.server("udp-server", "--peer", "--count", "2")
    s = udp_sock(t)
    s.bind(("127.0.0.1", 0))
    s.sendto(b"no newline", ("127.0.0.1", srv.port))
    s.sendto(b"with newline\n", ("127.0.0.1", srv.port))
    check(srv.wait(10) == 0)
    me = "127.0.0.1:%d" % s.getsockname()[1]
    check(srv.p.stdout.read() == f"{me}\tno newline\n{me}\twith newline\n".encode())


@deadline(60)
def test_many_senders_at_once(t):
    srv = t.server("udp-server", "--echo")
    errors = []

    def sender(k):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(10)
        try:
            for j in range(50):
                msg = b"s%d-%d" % (k, j)
                s.sendto(msg, ("127.0.0.1", srv.port))
                if s.recv(100) != msg:
                    errors.append(k)
        except OSError as e:
            errors.append(repr(e))
        finally:
            s.close()

    ths = [threading.Thread(target=sender, args=(k,)) for k in range(20)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    check(not errors, errors)
    check(srv.stop() == 0)
    lines = srv.p.stdout.read().split(b"\n")[:-1]
    check(sorted(lines) == sorted(b"s%d-%d" % (k, j) for k in range(20) for j in range(50)))


def test_client_replies_unpack_hex_raw(t):
    peer = udp_sock(t)
    peer.bind(("127.0.0.1", 0))
    port = peer.getsockname()[1]
    got = []

    def serve():
        for _ in range(3):
            data, a = peer.recvfrom(70000)
            got.append(data)
            peer.sendto(struct.pack("<hf", len(data), 0.5), a)

    th = threading.Thread(target=serve)
    th.start()
    rc, out, err = t.run("udp-client", "--raw", "--size", "4", "--unpack", "<hf", "127.0.0.1",
                         str(port), input=b"abcdefghij")
    th.join(10)
    check(rc == 0 and got == [b"abcd", b"efgh", b"ij"], (rc, got, err))
    check(out == b"4\t0.5\n4\t0.5\n2\t0.5\n", out)
    th = threading.Thread(target=lambda: peer.sendto(b"\x01\xff", peer.recvfrom(100)[1]))
    th.start()
    rc, out, err = t.run("udp-client", "-x", "127.0.0.1", str(port), input=b"q\n")
    th.join(10)
    check(rc == 0 and out == b"01ff\n", (rc, out))


def test_refused_port_exit_4(t):
    s = udp_sock(t)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: ICMP port unreachable
    rc, out, err = t.run("udp-client", "-w", "2", "127.0.0.1", str(port), input=b"hello\n")
    check(rc == 4 and "connection refused" in err, (rc, err))
    rc, out, err = t.run("udp-client", "--reliable", "127.0.0.1", str(port), input=b"hello\n")
    check(rc == 4 and "connection refused" in err, (rc, err))


def test_reliable_without_server_answer_exit_5(t):
    s = udp_sock(t)
    s.bind(("127.0.0.1", 0))  # takes datagrams, never acknowledges
    rc, out, err = t.run("udp-client", "--reliable", "--retries", "3", "127.0.0.1",
                         str(s.getsockname()[1]), input=b"one\ntwo\n")
    check(rc == 5 and "record 0 (stdin line 1) not acknowledged after 3 timeouts in a row" in err,
          (rc, err))


def test_garbage_to_reliable_server_is_logged_and_dropped(t):
    out = t.path("out.txt")
    srv = t.server("udp-server", "--reliable", "-o", out)
    s = udp_sock(t)
    hdr = lambda typ, ver=1: b"NT" + bytes([ver, typ]) + struct.pack(">III", 7, 0, 0)  # noqa: E731
    garbage = [b"", b"N", b"XX" + b"\0" * 14, hdr(1, ver=4) + b"x", hdr(9) + b"x",
               hdr(2) + b"payload", hdr(2), os.urandom(100)]
    for g in garbage:
        s.sendto(g, ("127.0.0.1", srv.port))
    rc, _, err = t.run("udp-client", "--reliable", "127.0.0.1", str(srv.port), input=b"fine\n")
    check(rc == 0, err)
    check(srv.stop() == 0)
    check(read_file(out) == b"fine\n", read_file(out))
    text = srv.stderr()
    for why in ["shorter than the 16-byte header", "bad magic", "unknown version 4",
                "unknown type 9", "acknowledgement with 7 bytes", "acknowledgement sent to"]:
        check(why in text, (why, text))


def test_reliable_rejected_record_exit_6(t):
    srv = t.server("udp-server", "--reliable", "--unpack", "<i")
    rc, out, err = t.run("udp-client", "--reliable", "127.0.0.1", str(srv.port),
                         input=b"toolong\n")
    check(rc == 6 and "record 0 (stdin line 1) rejected by the server" in err, (rc, err))
    srv.stop()


class LossyRelay:
    """Forwards datagrams both ways between clients and a server, dropping,
    duplicating and reordering them at the given rates."""

    def __init__(self, t, server_port, drop, dup, reorder, seed=1):
        self.rng = random.Random(seed)
        self.drop, self.dup, self.reorder = drop, dup, reorder
        self.front = udp_sock(t)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.server = ("127.0.0.1", server_port)
        self.backs = {}      # client address -> socket towards the server
        self.clients = {}    # back socket -> client address
        self.held = {}       # direction -> a datagram held back
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.front, selectors.EVENT_READ)
        self.stats = {"dropped": 0, "duplicated": 0, "reordered": 0}
        self.t = t
        self.stop = threading.Event()
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()
        t.cleanups.append(self.close)

    def close(self):
        self.stop.set()
        self.th.join(10)

    def emit(self, key, send, data):
        r = self.rng.random()
        if r < self.drop:
            self.stats["dropped"] += 1
            return
        if r < self.drop + self.reorder and key not in self.held:
            self.held[key] = (send, data, time.monotonic())
            self.stats["reordered"] += 1
            return
        self.send(send, data)
        if self.rng.random() < self.dup:
            self.stats["duplicated"] += 1
            self.send(send, data)
        if key in self.held:  # the held one goes after this one
            hsend, hdata, _ = self.held.pop(key)
            self.send(hsend, hdata)

    @staticmethod
    def send(fn, data):
        try:
            fn(data)
        except OSError:
            pass  # a peer gone (ICMP refusal): the datagram is lost, as UDP may

    def run(self):
        while not self.stop.is_set():
            for key, _ in self.sel.select(timeout=0.01):
                s = key.fileobj
                try:
                    data, addr = s.recvfrom(70000)
                except OSError:
                    continue
                if s is self.front:
                    back = self.backs.get(addr)
                    if back is None:
                        back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        back.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
                        back.connect(self.server)
                        self.backs[addr] = back
                        self.clients[back] = addr
                        self.t.socks.append(back)
                        self.sel.register(back, selectors.EVENT_READ)
                    self.emit(("up", addr), back.send, data)
                else:
                    caddr = self.clients[s]
                    self.emit(("down", caddr), lambda d, a=caddr: self.front.sendto(d, a), data)
            now = time.monotonic()
            for key in [k for k, v in self.held.items() if now - v[2] > 0.02]:
                send, data, _ = self.held.pop(key)
                self.send(send, data)


def per_client_lines(path, clients):
    seen = {k: [] for k in range(clients)}
    for line in read_file(path).decode().splitlines():
        k, i = line.split()
        seen[int(k[1:])].append(int(i))
    return seen


@deadline(300)
def test_reliable_through_loss_duplication_and_reordering(t):
    clients, records = 4, 25000
    out = t.path("out.txt")
    srv = t.server("udp-server", "--reliable", "-o", out)
    relay = LossyRelay(t, srv.port, drop=0.10, dup=0.05, reorder=0.05)
    procs = []
    for k in range(clients):
        data = "".join(f"c{k} {i}\n" for i in range(records)).encode()
        p = harness.Proc(t, [harness.NETTOOL, "udp-client", "--reliable", "127.0.0.1",
                             str(relay.port)], stdin=harness.subprocess.PIPE)
        threading.Thread(target=lambda p=p, d=data: (p.p.stdin.write(d), p.p.stdin.close()),
                         daemon=True).start()
        procs.append(p)
    for p in procs:
        check(p.wait(240) == 0, p.stderr())
    check(srv.stop() == 0)
    seen = per_client_lines(out, clients)
    for k in range(clients):
        check(seen[k] == list(range(records)),
              f"client {k}: {len(seen[k])} lines, in order: {seen[k] == sorted(seen[k])}")
    check(relay.stats["dropped"] > 1000 and relay.stats["duplicated"] > 500
          and relay.stats["reordered"] > 500, relay.stats)


@deadline(60)
def test_without_reliable_the_relay_bites(t):
    records = 5000
    out = t.path("out.txt")
    srv = t.server("udp-server", "-o", out)
    relay = LossyRelay(t, srv.port, drop=0.10, dup=0.05, reorder=0.05)
    data = "".join(f"c0 {i}\n" for i in range(records)).encode()
    rc, _, err = t.run("udp-client", "-N", "127.0.0.1", str(relay.port), input=data, timeout=60)
    check(rc == 0, err)
    # wait until the relay has passed on all it will (its held one included)
    end = time.monotonic() + 10
    while time.monotonic() < end and relay.held:
        time.sleep(0.02)
    srv.signal(signal.SIGTERM)
    check(srv.wait() == 0)
    got = per_client_lines(out, 1)[0]
    check(len(set(got)) < records, "no loss seen")
    check(len(got) != len(set(got)) or got != sorted(got), "no duplicate or reordering seen")


def test_sync_output_and_count(t):
    out = t.path("synced.txt")
    srv = t.server("udp-server", "-o", out, "--sync", "--count", "3", "--reliable")
    rc, _, err = t.run("udp-client", "--reliable", "127.0.0.1", str(srv.port),
                       input=b"one\ntwo\nthree\n")
    check(rc == 0, err)
    check(srv.wait(10) == 0, srv.stderr())  # --count ends it
    check(read_file(out) == b"one\ntwo\nthree\n", read_file(out))


class DropOne:
    """Forwards datagrams between one client and a server, dropping the
    first data datagram of a chosen sequence number; records when each
    datagram passed."""

    def __init__(self, t, server_port, seq):
        self.front = udp_sock(t)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.back = udp_sock(t)
        self.back.connect(("127.0.0.1", server_port))
        self.seq, self.dropped, self.client = seq, 0, None
        self.passed = []  # (time, direction, type, seq)
        self.stop = threading.Event()
        self.th = threading.Thread(target=self.run, daemon=True)
        self.th.start()
        t.cleanups.append(lambda: (self.stop.set(), self.th.join(10)))

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.front, selectors.EVENT_READ)
        sel.register(self.back, selectors.EVENT_READ)
        while not self.stop.is_set():
            for key, _ in sel.select(timeout=0.01):
                try:
                    if key.fileobj is self.front:
                        data, self.client = self.front.recvfrom(70000)
                        typ, seq = data[3], struct.unpack(">I", data[8:12])[0]
                        self.passed.append((time.monotonic(), "up", typ, seq))
                        if typ == 1 and seq == self.seq and not self.dropped:
                            self.dropped = 1
                            continue
                        self.back.send(data)
                    else:
                        data = self.back.recv(70000)
                        self.passed.append((time.monotonic(), "down", data[3],
                                            struct.unpack(">I", data[8:12])[0]))
                        self.front.sendto(data, self.client)
                except OSError:
                    pass


@deadline(30)
def test_fast_retransmit_before_any_timer(t):
    """One data datagram lost: the acknowledgements of later ones (their
    ranges) get it sent again, not the retransmission timer."""
    out = t.path("out.txt")
    srv = t.server("udp-server", "--reliable", "-o", out)
    relay = DropOne(t, srv.port, 5)
    rc, _, err = t.run("udp-client", "-v", "--reliable", "127.0.0.1", str(relay.port),
                       input=b"".join(b"r%d\n" % i for i in range(40)))
    check(rc == 0 and relay.dropped == 1, (rc, err))
    check("1 retransmitted (1 found lost by later acknowledgements, 0 by a timeout's probe, 0 timeouts, 0 sent twice)" in err, err)
    ups = [(when, seq) for when, d, typ, seq in relay.passed if d == "up" and seq == 5]
    check(len(ups) == 2, ups)
    # acknowledgements of later records carried ranges beyond the gap
    ranged = [p for p in relay.passed if p[1] == "down" and p[2] == 2]
    check(ranged, relay.passed)
    check(srv.stop() == 0)
    check(read_file(out) == b"".join(b"r%d\n" % i for i in range(40)))


@deadline(30)
def test_a_version_1_peer_is_still_understood(t):
    out = t.path("out.txt")
    srv = t.server("udp-server", "--reliable", "-o", out)
    s = udp_sock(t)
    hdr = lambda typ, seq, base: b"NT\x01" + bytes([typ]) + struct.pack(">III", 77, seq, base)  # noqa: E731
    s.sendto(hdr(1, 1, 0) + b"second", ("127.0.0.1", srv.port))  # ahead of a gap: held
    s.sendto(hdr(1, 0, 0) + b"first", ("127.0.0.1", srv.port))
    # acknowledgements (one for both, or one each) until base says both
    # are written: version 1's, 16 bytes, no ranges
    acks = [s.recv(100)]
    while struct.unpack(">I", acks[-1][12:16])[0] < 2:
        acks.append(s.recv(100))
    check(all(len(a) == 16 and a[:4] == b"NT\x01\x02" for a in acks), acks)
    # the ack names the datagram that caused it: the one that filled the gap
    check(struct.unpack(">III", acks[-1][4:16]) == (77, 0, 2), acks)
    check(srv.stop() == 0)
    check(read_file(out) == b"first\nsecond\n", read_file(out))


@deadline(120)
def test_file_through_loss_checked_by_sha256(t):
    import hashlib
    data = os.urandom(3 << 20)
    src = t.path("src.bin")
    with open(src, "wb") as f:
        f.write(data)
    out = t.path("got.bin")
    srv = t.server("udp-server", "--reliable", "-o", out)
    relay = LossyRelay(t, srv.port, drop=0.20, dup=0.05, reorder=0.25, seed=7)
    rc, _, err = t.run("udp-client", "-v", "--reliable", "--file", src, "127.0.0.1",
                       str(relay.port), timeout=100)
    digest = hashlib.sha256(data).hexdigest()
    check(rc == 0 and f"sent {len(data)} bytes, sha256 {digest}" in err, (rc, err))
    check(re.search(r"records sent, \d+ acknowledged; [1-9]\d* retransmitted", err), err)
    srv.wait_line(f"received {len(data)} bytes into {re.escape(out)}, sha256 {digest}$")
    with open(out, "rb") as f:
        check(f.read() == data)
    check(relay.stats["dropped"] > 100, relay.stats)
    # stdin as a byte stream, into stdout of another server
    srv2 = t.server("udp-server", "--reliable", "-o", t.path("two.bin"))
    rc, _, err = t.run("udp-client", "--reliable", "--file", "-", "--mtu", "9000", "127.0.0.1",
                       str(srv2.port), input=data[:100000])
    check(rc == 0 and hashlib.sha256(data[:100000]).hexdigest() in err, err)
    srv2.wait_line("received 100000 bytes")
    with open(t.path("two.bin"), "rb") as f:
        check(f.read() == data[:100000])
    check(srv.stop() == 0 and srv2.stop() == 0)
    check([n for n in os.listdir(t.tmp) if ".nettool-" in n] == [], os.listdir(t.tmp))


@deadline(120)
def test_file_without_a_digest(t):
    """--no-digest on either side or both: the bytes still arrive whole
    through loss, the size is still checked, and each side says what it
    did not compute."""
    import hashlib
    data = os.urandom(1 << 20)
    src = t.path("src.bin")
    with open(src, "wb") as f:
        f.write(data)
    digest = hashlib.sha256(data).hexdigest()
    for i, (cli_args, srv_args) in enumerate(((["--no-digest"], []), ([], ["--no-digest"]),
                                              (["--no-digest"], ["--no-digest"]))):
        out = t.path(f"got{i}.bin")
        srv = t.server("udp-server", "--reliable", "-o", out, *srv_args)
        relay = LossyRelay(t, srv.port, drop=0.10, dup=0.05, reorder=0.25, seed=i)
        rc, _, err = t.run("udp-client", "--reliable", "--file", src, *cli_args, "127.0.0.1",
                           str(relay.port), timeout=100)
        check(rc == 0, (rc, err))
        said = re.search(r"sent (\d+) bytes(, sha256 \w+)?$", err, re.M)
        check(said and said.group(1) == str(len(data)) and
              said.group(2) == (None if cli_args else f", sha256 {digest}"), err)
        if srv_args:
            srv.wait_line(f"received {len(data)} bytes into {re.escape(out)}$")
        else:  # the server still hashes, with nothing to check against
            srv.wait_line(f"received {len(data)} bytes into {re.escape(out)}, sha256 {digest} "
                          r"\(not checked: the sender sent none\)$")
        check(read_file(out) == data)
        check(srv.stop() == 0)
        relay.close()
    # without a digest the size still counts: a file end that claims more
    # bytes than came is rejected, and nothing is kept
    out = t.path("lie.bin")
    srv = t.server("udp-server", "--reliable", "--no-digest", "-o", out)
    s = udp_sock(t)
    hdr = lambda typ, seq: b"NT\x03" + bytes([typ]) + struct.pack(">III", 91, seq, 0)  # noqa: E731
    s.sendto(hdr(4, 0) + b"hello", ("127.0.0.1", srv.port))
    s.sendto(hdr(5, 1) + struct.pack(">Q", 6) + bytes(32), ("127.0.0.1", srv.port))
    got = s.recv(2000)
    while got[3] == 2 and struct.unpack(">I", got[12:16])[0] < 1:
        got = s.recv(2000)  # the data's acknowledgement came first
    if got[3] == 2:
        got = s.recv(2000)
    check(got[3] == 3 and struct.unpack(">I", got[8:12])[0] == 1, got)
    srv.wait_line(r"file of 5 bytes: the sender's size or SHA-256 differs; nothing kept$")
    check(not os.path.exists(out) and srv.stop() == 0)
    rc, _, err = t.run("udp-client", "--reliable", "--no-digest", "127.0.0.1", "9")
    check(rc == 2 and "--no-digest needs --file" in err, err)
    rc, _, err = t.run("udp-server", "--no-digest")
    check(rc == 2 and "--no-digest needs --reliable" in err, err)


class CutAfter(DropOne):
    """Passes the first n datagrams from the client, then nothing."""

    def __init__(self, t, server_port, n):
        self.limit = n
        super().__init__(t, server_port, -1)

    def run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.front, selectors.EVENT_READ)
        sel.register(self.back, selectors.EVENT_READ)
        up = 0
        while not self.stop.is_set():
            for key, _ in sel.select(timeout=0.01):
                try:
                    if key.fileobj is self.front:
                        data, self.client = self.front.recvfrom(70000)
                        up += 1
                        if up <= self.limit:
                            self.back.send(data)
                    elif up <= self.limit:
                        self.front.sendto(self.back.recv(70000), self.client)
                    else:
                        self.back.recv(70000)
                except OSError:
                    pass


@deadline(60)
def test_file_path_dies_halfway(t):
    src = t.path("src.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(1 << 20))
    out = t.path("never.bin")
    srv = t.server("udp-server", "--reliable", "-o", out, "--forget", "1")
    relay = CutAfter(t, srv.port, 300)
    rc, _, err = t.run("udp-client", "--reliable", "--retries", "4", "--file", src, "127.0.0.1",
                       str(relay.port))
    m = re.search(r"transfer stopped at byte (\d+): nothing acknowledged after 4 timeouts", err)
    check(rc == 5 and m and 0 < int(m.group(1)) < 1 << 20, (rc, err))
    check(not os.path.exists(out))
    # the server forgets the session and removes what it had
    srv.wait_line(r"file transfer cut short after \d+ bytes; nothing kept", timeout=10)
    check([n for n in os.listdir(t.tmp) if ".nettool-" in n] == [], os.listdir(t.tmp))
    check(srv.stop() == 0)
    rc, _, err = t.run("udp-client", "--file", src, "127.0.0.1", "9")
    check(rc == 2 and "--file needs --reliable" in err, err)
    rc, _, err = t.run("udp-client", "--reliable", "--file", t.path("missing"), "127.0.0.1", "9")
    check(rc == 1 and "No such file" in err, err)


@deadline(30)
def test_file_into_a_fifo_is_written_in_place(t):
    """-o naming a FIFO (or a device, like /dev/null) is written to, never
    replaced by a rename."""
    import stat
    fifo = t.path("pipe")
    os.mkfifo(fifo)
    got = bytearray()

    def reader():
        with open(fifo, "rb") as f:
            got.extend(f.read())
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    data = os.urandom(200000)
    srv = t.server("udp-server", "--reliable", "-o", fifo)
    rc, _, err = t.run("udp-client", "--reliable", "--file", "-", "127.0.0.1", str(srv.port),
                       input=data)
    check(rc == 0, err)
    srv.wait_line("received 200000 bytes")
    th.join(10)
    check(bytes(got) == data and stat.S_ISFIFO(os.stat(fifo).st_mode))
    check(srv.stop() == 0)
