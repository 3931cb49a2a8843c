#!/usr/bin/env python3
"""Run nettool's unit-test binaries and integration tests; print one
summary line "N passed, N failed" at the end. Exit status 1 on any failure.

usage: run.py --nettool PATH [-k SUBSTRING[,SUBSTRING...]] [UNIT_BINARY...]
"""
import argparse
import importlib.util
import os
import pathlib
import resource
import signal
import subprocess
import sys
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "integration"))

import harness  # noqa: E402


def run_unit(binary, counts):
    name = os.path.basename(binary)
    try:
        p = subprocess.run([binary], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") + "\nnot ok - timed out\n"
        p = None
    seen = 0
    for line in out.splitlines():
        if line.startswith("ok - "):
            counts["passed"] += 1
            seen += 1
            print(f"PASS unit/{name}: {line[5:]}")
        elif line.startswith("not ok - "):
            counts["failed"] += 1
            seen += 1
            print(f"FAIL unit/{name}: {line[9:]}")
        elif line.startswith("#"):
            print(line)
    if p is not None and (p.returncode != 0 and p.returncode != 1 or not seen):
        counts["failed"] += 1
        print(f"FAIL unit/{name}: exited with status {p.returncode}\n{out}")


class Deadline(Exception):
    pass


def on_alarm(signum, frame):
    raise Deadline("test deadline passed")


def load_tests(pattern):
    tests = []
    for path in sorted((HERE / "integration").glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in sorted(dir(mod)):
            fn = getattr(mod, name)
            if name.startswith("test_") and callable(fn):
                full = f"{path.stem[5:]}/{name[5:]}"
                if not pattern or any(p in full for p in pattern.split(",")):
                    tests.append((full, fn))
    return tests


def run_integration(pattern, counts):
    signal.signal(signal.SIGALRM, on_alarm)
    for full, fn in load_tests(pattern):
        t = harness.Test(full)
        deadline = getattr(fn, "deadline", 30) * harness.SLOW
        start = time.monotonic()
        signal.alarm(int(deadline))
        try:
            fn(t)
            status = "PASS"
        except harness.Skip as e:
            status = "SKIP"
            counts["skipped"].append(f"{full}: {e}")
            print(f"SKIP {full}: {e}")
        except Deadline:
            status = "FAIL"
            print(f"FAIL {full}: no result within its {deadline:.0f} s deadline")
            traceback.print_exc(limit=-3)
        except Exception:
            status = "FAIL"
            traceback.print_exc()
        finally:
            signal.alarm(0)
            problems = t.cleanup()
        if status == "PASS" and problems:
            status = "FAIL"
            print("\n".join(problems))
        if status == "PASS":
            counts["passed"] += 1
            print(f"PASS {full} ({time.monotonic() - start:.2f} s)")
        elif status == "FAIL":
            counts["failed"] += 1
            print(f"FAIL {full}")
        sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nettool", required=True)
    ap.add_argument("-k", dest="pattern", default="")
    ap.add_argument("units", nargs="*")
    args = ap.parse_args()
    harness.NETTOOL = os.path.abspath(args.nettool)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    counts = {"passed": 0, "failed": 0, "skipped": []}
    if not args.pattern:
        for u in args.units:
            run_unit(u, counts)
    run_integration(args.pattern, counts)
    if counts["skipped"]:
        print(f"SKIPPED {len(counts['skipped'])} (peer or feature absent on this machine):")
        for s in counts["skipped"]:
            print(f"  SKIP {s}")
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
