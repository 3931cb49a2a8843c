#!/usr/bin/env python3
"""pack --lines and unpack through the CLI against python3 one-liners doing
the same with struct (Struct.pack per line, struct.iter_unpack), in one
run on the same 1,000,000 records of <i16sif; median of N runs.

usage: bench/pack_throughput.py [--records 1000000] [--runs 5] [--nettool ./nettool]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PY_PACK = ("import sys,struct\n"
           "S=struct.Struct('<i16sif'); w=sys.stdout.buffer.write\n"
           "for l in sys.stdin:\n"
           "    a,b,c,d=l.split(); w(S.pack(int(a),b.encode(),int(c),float(d)))\n")
PY_UNPACK = ("import sys,struct\n"
             "d=sys.stdin.buffer.read(); w=sys.stdout.write\n"
             "for a,b,c,e in struct.iter_unpack('<i16sif', d):\n"
             "    w('%d\\t%s\\t%d\\t%r\\n' % (a, b.rstrip(b'\\0').decode(), c, e))\n")
PY_REPR = ("import sys,struct\n"
           "d=sys.stdin.buffer.read(); w=sys.stdout.write\n"
           "for t in struct.iter_unpack('<i16sif', d):\n"
           "    w(repr(t)+'\\n')\n")


def timed(argv, src, dst):
    with open(src, "rb") as i, open(dst, "wb") as o:
        t0 = time.monotonic()
        subprocess.run(argv, stdin=i, stdout=o, check=True, timeout=600)
        return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1000000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--nettool", default="./nettool")
    a = ap.parse_args()
    nt = os.path.abspath(a.nettool)
    d = tempfile.mkdtemp(prefix="nettool-bench-")
    txt, binf, out = (os.path.join(d, n) for n in ("in.txt", "in.bin", "out"))
    with open(txt, "w") as f:
        for i in range(a.records):
            f.write(f"{i} name{i % 1000} {20 + i % 50} {1.5 + (i % 100) / 64}\n")
    subprocess.run([nt, "pack", "--lines", "<i16sif"], stdin=open(txt, "rb"),
                   stdout=open(binf, "wb"), check=True)
    cases = [
        ("pack --lines", [nt, "pack", "--lines", "<i16sif"], ["python3", "-c", PY_PACK], txt),
        ("unpack (tab-separated)", [nt, "unpack", "<i16sif"], ["python3", "-c", PY_UNPACK], binf),
        ("unpack --repr", [nt, "unpack", "--repr", "<i16sif"], ["python3", "-c", PY_REPR], binf),
    ]
    print(f"{a.records} records of <i16sif, {a.runs} runs, median")
    for name, ours, theirs, src in cases:
        t_ours, t_py = [], []
        for _ in range(a.runs):
            t_ours.append(timed(ours, src, out))
            t_py.append(timed(theirs, src, out))
        mo, mp = statistics.median(t_ours), statistics.median(t_py)
        print(f"  {name:24s} nettool {a.records / mo / 1e6:5.2f} M rec/s   "
              f"python3 {a.records / mp / 1e6:5.2f} M rec/s   x{mp / mo:.1f}")
    for p in (txt, binf, out):
        os.unlink(p)
    os.rmdir(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
