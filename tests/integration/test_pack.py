"""pack and unpack against Python's struct: the conformance vectors in
tests/data/struct.jsonl, a randomized differential test, and the CLI."""
import json
import os
import random
import struct
import subprocess

import harness
from harness import check, deadline

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "data", "struct.jsonl")


def vectors():
    with open(DATA) as f:
        return [json.loads(line) for line in f if line.strip()]


def pack_hex(t, fmt, args):
    rc, out, err = t.run("pack", "-x", fmt, *args)
    return rc, out.decode().strip(), err


def unpack_hex(t, fmt, hexdata, *opts):
    rc, out, err = t.run("unpack", "-x", *opts, fmt, input=hexdata.encode())
    return rc, out.decode(), err


@deadline(180)
def test_conformance_vectors_pack(t):
    bad = []
    for v in vectors():
        rc, out, err = pack_hex(t, v["fmt"], v["args"])
        if "error" in v:
            ok = rc == 1 and out == "" and err.startswith("nettool: pack: ")
        else:
            ok = rc == 0 and out == v["hex"] and err == ""
        if not ok:
            bad.append(f"{v} -> status {rc}, {out!r}, {err!r}")
    check(not bad, f"{len(bad)} vectors differ:\n" + "\n".join(bad[:10]))


@deadline(180)
def test_conformance_vectors_unpack_repr(t):
    bad = []
    for v in vectors():
        if "error" in v or struct.calcsize(v["fmt"]) == 0 or "0p" in v["fmt"]:
            continue
        rc, out, err = unpack_hex(t, v["fmt"], v["hex"], "--repr")
        if rc != 0 or out != v["repr"] + "\n":
            bad.append(f"{v['fmt']} {v['hex']}: want {v['repr']}, got {out!r} {err!r}")
    check(not bad, f"{len(bad)} vectors differ:\n" + "\n".join(bad[:10]))


@deadline(180)
def test_unpacked_lines_pack_back(t):
    """The plain output of unpack reads back through pack to the same bytes."""
    bad = []
    for v in vectors():
        if "error" in v or struct.calcsize(v["fmt"]) == 0:
            continue
        if any(isinstance(x, bytes) and len(x) == 255 for x in
               struct.unpack(v["fmt"], bytes.fromhex(v["hex"]))):
            continue  # p fields past 255 bytes keep more than they can say
        rc, out, err = unpack_hex(t, v["fmt"], v["hex"])
        check(rc == 0, (v, err))
        fields = out.rstrip("\n").split("\t") if struct.unpack(v["fmt"], bytes.fromhex(v["hex"])) else []
        rc, again, err = pack_hex(t, v["fmt"], fields)
        if rc != 0 or again != v["hex"]:
            bad.append(f"{v['fmt']}: {out!r} packs to {again!r} ({err})")
    check(not bad, f"{len(bad)} differ:\n" + "\n".join(bad[:10]))


# ---- randomized differential test against struct ----

INT_RANGES = {"b": 8, "h": 16, "i": 32, "l": 32, "q": 64}


def rand_value(rng, code, prefix):
    native = prefix in ("@", "")
    if code in "bhilqn":
        bits = 64 if code == "n" or (code == "l" and native) else INT_RANGES[code]
        if native and code in "il":
            bits = struct.calcsize("@" + code) * 8
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return str(rng.choice([lo, hi, 0, -1, rng.randint(lo, hi)]))
    if code in "BHILQNP":
        bits = struct.calcsize(("@" if native else "<") + code) * 8
        return str(rng.choice([0, (1 << bits) - 1, rng.randint(0, (1 << bits) - 1)]))
    if code == "?":
        return rng.choice(["true", "false"])
    if code in "efd":
        x = rng.choice([0.0, -0.0, 1.0, 0.1, float("inf"), float("-inf"),
                        rng.uniform(-1e5, 1e5), rng.uniform(-1, 1),
                        rng.uniform(-1e30, 1e30) if code != "e" else rng.uniform(-6e4, 6e4),
                        rng.random() * 10 ** rng.randint(-300, 300) if code == "d" else 1.5])
        return repr(x)
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))
    if code == "c":
        raw = raw[:1] or b"\x00"
    return "".join(f"\\x{b:02x}" if rng.random() < 0.5 or b < 32 or b >= 127 or b == 92
                   else chr(b) for b in raw)


def to_py(code, text):
    if code in "cspf" and code != "f" or code in "sp" or code == "c":
        return text.encode("latin-1").decode("unicode_escape").encode("latin-1")
    if code == "?":
        return text == "true"
    if code in "efd":
        return float(text)
    return int(text)


def rand_format(rng):
    prefix = rng.choice(["", "@", "=", "<", ">", "!"])
    native = prefix in ("", "@")
    codes = "xcbB?hHiIlLqQefdsp" + ("nNP" if native else "")
    items, vals = [], []
    for _ in range(rng.randint(1, 6)):
        c = rng.choice(codes)
        n = rng.choice([None, 0, 1, 2, 3, 5])
        items.append(("" if n is None else str(n)) + c)
        n = 1 if n is None else n
        if c in "sp":
            vals.append((c, rand_value(rng, c, prefix)))
        elif c != "x":
            vals += [(c, rand_value(rng, c, prefix)) for _ in range(n)]
    return prefix + "".join(items), vals


@deadline(240)
def test_random_differential_against_struct(t):
    seed = int(os.environ.get("NETTOOL_TEST_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    bad = []
    for _ in range(250):
        fmt, vals = rand_format(rng)
        args = [v for _, v in vals]
        try:
            want = struct.pack(fmt, *[to_py(c, v) for c, v in vals]).hex()
        except (struct.error, OverflowError):
            want = None
        rc, got, err = pack_hex(t, fmt, args)
        if (want is None and rc != 1) or (want is not None and (rc != 0 or got != want)):
            bad.append(f"pack {fmt} {args}: python {want}, nettool {rc} {got} {err}")
            continue
        if want is None or struct.calcsize(fmt) == 0 or "0p" in fmt:
            continue
        # and back: random bytes of the record's size, both ways
        data = bytes(rng.randrange(256) for _ in range(struct.calcsize(fmt)))
        py = repr(struct.unpack(fmt, data))
        rc, out, err = unpack_hex(t, fmt, data.hex(), "--repr")
        if rc != 0 or out != py + "\n":
            bad.append(f"unpack {fmt} {data.hex()}: python {py}, nettool {out!r} {err}")
    check(not bad, f"seed {seed}: {len(bad)} differ:\n" + "\n".join(bad[:10]))


# ---- the command line ----

def test_pack_unpack_pipeline(t):
    p1 = subprocess.Popen([harness.NETTOOL, "pack", "<i16sif", "1", "alice", "20", "1.75"],
                          stdout=subprocess.PIPE)
    p2 = subprocess.run([harness.NETTOOL, "unpack", "--repr", "<i16sif"], stdin=p1.stdout,
                        capture_output=True, timeout=10)
    p1.stdout.close()
    check(p1.wait(10) == 0 and p2.returncode == 0)
    check(p2.stdout == b"(1, b'alice\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00', 20, 1.75)\n",
          p2.stdout)


def records(n):
    return b"".join(struct.pack("<i16sif", i, b"name%d" % i, 20 + i, 1.5 + i / 4)
                    for i in range(n))


def test_unpack_plain_and_printf(t):
    data = records(3)
    rc, out, err = t.run("unpack", "<i16sif", input=data)
    check(rc == 0 and out == b"0\tname0\t20\t1.5\n1\tname1\t21\t1.75\n2\tname2\t22\t2.0\n", out)
    rc, out, err = t.run("unpack", "--printf", "%d %-10s %d %.2f\\n", "<i16sif", input=data)
    check(rc == 0 and out == b"0 name0      20 1.50\n1 name1      21 1.75\n2 name2      22 2.00\n",
          out)


def test_printf_nan_and_inf_as_python(t):
    """Python's % operator is the oracle: a NaN prints without its sign."""
    nan = struct.unpack("<d", bytes.fromhex("000000000000f8ff"))[0]  # sign bit set
    values = [nan, -nan, float("inf"), float("-inf")]
    for fmt in ("d", "f", "e"):
        data = b"".join(struct.pack("<" + fmt, v) for v in values)
        for tmpl in ("%.2f", "%+f", "%10.1f|", "%-6e|", "% g", "%F", "%E", "%G"):
            rc, out, err = t.run("unpack", "--printf", tmpl + "\\n", "<" + fmt, input=data)
            want = b"".join((tmpl % v).encode() + b"\n" for v in struct.unpack(
                "<" + fmt * len(values), data))
            check(rc == 0 and out == want, (fmt, tmpl, out, want))


def test_unpack_escapes_and_bools(t):
    data = struct.pack("<4s?c", b"a\tb\n", True, b"\\") + struct.pack("<4s?c", b"\x00\xff", False, b"\x00")
    rc, out, err = t.run("unpack", "<4s?c", input=data)
    check(rc == 0 and out == b"a\\tb\\n\ttrue\t\\\\\n\\0\\xff\tfalse\t\\0\n", out)


def test_truncated_record_exit_6_after_complete_ones(t):
    data = records(2) + b"\x01\x02\x03"
    rc, out, err = t.run("unpack", "<i16sif", input=data)
    check(rc == 6, rc)
    check(out.count(b"\n") == 2, out)
    check("truncated record: 3 trailing bytes after 2 records" in err, err)


def test_printf_template_mismatch_is_usage_error(t):
    for tmpl in ["%d %s\\n", "%d %s %d %f %d", "%d %s %d %c", "%d %d %d %f", "%*d %s %d %f",
                 "%d %s %d %k"]:
        rc, out, err = t.run("unpack", "--printf", tmpl, "<i16sif", input=records(1))
        check(rc == 2 and out == b"" and "--printf" in err, (tmpl, rc, err))


def test_pack_errors(t):
    cases = [("<h", ["32768"]), ("<i", ["1", "2"]), ("<i", ["1.5"]), ("<i", ["12x"]),
             ("c", ["ab"]), ("Z", ["1"]), ("<e", ["65520"]), ("<f", ["1e39"]),
             ("3", []), ("<s", ["\\q"]), ("<s", ["\\x4"])]
    for fmt, args in cases:
        rc, out, err = t.run("pack", "-x", fmt, *args)
        check(rc == 1 and out == b"" and err.startswith("nettool: pack: "), (fmt, args, rc, err))


def test_pack_value_syntax(t):
    rc, out, _ = pack_hex(t, ">bhiq?", ["-0x80", "0o777", "0b101", "-9223372036854775808", "true"])
    check(rc == 0 and out == "8001ff00000005800000000000000001", out)
    rc, out, _ = pack_hex(t, "<3d", ["inf", "-inf", "nan"])
    check(rc == 0 and out == "000000000000f07f000000000000f0ff000000000000f87f", out)


def test_pack_refuses_terminal_and_sizes(t):
    rc, out, _ = t.run("pack", "--size", "@ci")
    check(rc == 0 and out == b"8\n", out)
    rc, out, _ = t.run("pack", "--size", "<i16sif")
    check(rc == 0 and out == b"28\n", out)
    term = harness.Tmux(t, f"{harness.NETTOOL} pack '<i' 1")
    pane = term.wait(lambda s: "EXIT=" in s)
    check("EXIT=2" in pane and "--hex" in pane, pane)


def test_unpack_hex_input_errors(t):
    rc, out, err = t.run("unpack", "-x", "<h", input=b"0100 02zz")
    check(rc == 6 and out == b"1\n" and "bad hex digit" in err, (rc, out, err))
    rc, out, err = t.run("unpack", "-x", "<h", input=b"010002")
    check(rc == 6 and out == b"1\n", (rc, out, err))


def test_pack_lines(t):
    rc, out, err = t.run("pack", "--lines", "<i16sif",
                         input=b'1 alice 20 1.75\n2 "bob smith" 31 1.5\n')
    check(rc == 0 and err == "", (rc, err))
    check(out == struct.pack("<i16sif", 1, b"alice", 20, 1.75)
          + struct.pack("<i16sif", 2, b"bob smith", 31, 1.5), out)
    rc, out, err = t.run("pack", "--lines", "-x", "<h", input=b"1\n2\n99999\n4\n")
    check(rc == 1 and out == b"0100\n0200\n" and "line 3" in err, (rc, out, err))
