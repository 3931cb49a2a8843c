#!/usr/bin/env python3
"""Run nettool's unit-test binaries and integration tests, several at a
time; print one summary line "N passed, N failed" at the end. Exit status
1 on any failure.

usage: run.py --nettool PATH [-j N] [-k SUBSTRING[,SUBSTRING...]]
              [--slowest N] [UNIT_BINARY...]

Each integration test runs in one of N worker processes (-j, by default
the CPU count), so a test has its own deadline alarm and its own output:
whatever it and the programs it starts print is kept and shown together
with its result. Tests marked @harness.alone (they measure a deadline or
load the machine) run after the others, one at a time.
"""
import argparse
import importlib.util
import json
import os
import pathlib
import queue
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "integration"))

import harness  # noqa: E402

# A worker that gives no answer this long after a test's own deadline is
# stuck past what the alarm can reach: it is killed and the test failed.
GRACE = 30


class Deadline(Exception):
    pass


def on_alarm(signum, frame):
    raise Deadline("test deadline passed")


def load_tests(pattern):
    """[(full name, function)] of the integration tests that match."""
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


def deadline_of(fn):
    return getattr(fn, "deadline", 30) * harness.SLOW


def run_one(full, fn):
    """Run one test in this process: (status, seconds, skip reason)."""
    t = harness.Test(full)
    deadline = deadline_of(fn)
    start = time.monotonic()
    reason = ""
    signal.alarm(max(1, int(deadline)))
    try:
        fn(t)
        status = "PASS"
    except harness.Skip as e:
        status, reason = "SKIP", str(e)
    except Deadline:
        status = "FAIL"
        print(f"no result within its {deadline:.0f} s deadline")
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
    return status, time.monotonic() - start, reason


def worker(rfd, wfd):
    """Serve test names read from rfd, one JSON result a line on wfd. The
    test's stdout and stderr (and its programs', where they inherit them)
    go to a file of its own, sent back with the result."""
    signal.signal(signal.SIGALRM, on_alarm)
    tests = dict(load_tests(""))
    cmds = os.fdopen(rfd, "r")
    results = os.fdopen(wfd, "w")
    for line in cmds:
        full = line.strip()
        with tempfile.TemporaryFile() as out:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = os.dup(1), os.dup(2)
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            try:
                status, took, reason = run_one(full, tests[full])
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
            out.seek(0)
            text = out.read().decode(errors="replace")
        results.write(json.dumps({"name": full, "status": status, "time": took,
                                  "reason": reason, "output": text}) + "\n")
        results.flush()
    return 0


class Worker:
    """A worker process and the pipes to it."""

    def __init__(self, args, index):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        env = dict(os.environ, NETTOOL_TEST_WORKER=str(index))
        self.p = subprocess.Popen(
            [sys.executable, __file__, "--nettool", args.nettool,
             "--worker", f"{to_r},{from_w}"],
            pass_fds=(to_r, from_w), stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)  # a group of its own: see kill
        os.close(to_r)
        os.close(from_w)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        with os.fdopen(self.from_r, "r") as f:
            for line in f:
                self.lines.put(line)
        self.lines.put(None)

    def run(self, full, deadline):
        """The test's result, or None when the worker died or hung."""
        try:
            os.write(self.to_w, (full + "\n").encode())
            line = self.lines.get(timeout=deadline + GRACE)
        except (OSError, queue.Empty):
            line = None
        return json.loads(line) if line else None

    def close(self):
        try:
            os.close(self.to_w)
        except OSError:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        """End the worker and what its test started (its process group)."""
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait()


def run_unit(binary):
    """Run one unit-test binary: a list of result dicts, one a check."""
    name = os.path.basename(binary)
    start = time.monotonic()
    try:
        p = subprocess.run([binary], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120 * harness.SLOW)
        out, rc = p.stdout.decode(errors="replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode(errors="replace") + "\nnot ok - timed out\n", None
    took = time.monotonic() - start
    results, notes = [], []
    for line in out.splitlines():
        if line.startswith("ok - "):
            results.append({"name": f"unit/{name}: {line[5:]}", "status": "PASS"})
        elif line.startswith("not ok - "):
            results.append({"name": f"unit/{name}: {line[9:]}", "status": "FAIL"})
        elif line.startswith("#"):
            notes.append(line)
    if rc is not None and (rc not in (0, 1) or not results):
        results.append({"name": f"unit/{name}", "status": "FAIL",
                        "output": f"exited with status {rc}\n{out}"})
    for r in results:
        r.setdefault("output", "")
        r["time"] = None
    results.append({"name": f"unit/{name}", "status": "TIME", "time": took,
                    "output": "\n".join(notes)})
    return results


class Report:
    """Results as they come, each printed whole; the summary at the end."""

    def __init__(self):
        self.lock = threading.Lock()
        self.passed = 0
        self.failed = []
        self.skipped = []
        self.times = []

    def add(self, r):
        with self.lock:
            out = r.get("output", "").rstrip("\n")
            if out:
                print(out)
            name, status, took = r["name"], r["status"], r.get("time")
            if took is not None:
                self.times.append((took, name))
            if status == "PASS":
                self.passed += 1
                print(f"PASS {name}" + (f" ({took:.2f} s)" if took is not None else ""))
            elif status == "SKIP":
                self.skipped.append(f"{name}: {r['reason']}")
                print(f"SKIP {name}: {r['reason']}")
            elif status == "FAIL":
                self.failed.append(name)
                print(f"FAIL {name}")
            sys.stdout.flush()

    def summary(self, slowest, wall):
        if slowest and self.times:
            print(f"SLOWEST {min(slowest, len(self.times))} (of {len(self.times)}, "
                  f"{wall:.1f} s wall in all):")
            for took, name in sorted(self.times, reverse=True)[:slowest]:
                print(f"  {took:7.2f} s  {name}")
        if self.skipped:
            print(f"SKIPPED {len(self.skipped)} (peer or feature absent on this machine):")
            for s in self.skipped:
                print(f"  SKIP {s}")
        if self.failed:
            print(f"FAILED {len(self.failed)}:")
            for name in self.failed:
                print(f"  FAIL {name}")
        print(f"{self.passed} passed, {len(self.failed)} failed")


def drain(jobs, workers, slots, args, report):
    """Run jobs (unit binaries and test names) on the first slots workers
    until none is left. A worker that dies or hangs is replaced."""
    def loop(slot):
        while True:
            try:
                kind, item = jobs.get_nowait()
            except queue.Empty:
                return
            if kind == "unit":
                for r in run_unit(item):
                    report.add(r)
                continue
            full, fn = item
            r = workers[slot].run(full, deadline_of(fn))
            if r is None:
                workers[slot].kill()
                r = {"name": full, "status": "FAIL", "time": None,
                     "output": f"{full}: the worker running it died or hung past "
                               f"its {deadline_of(fn):.0f} s deadline"}
                workers[slot] = Worker(args, slot)
            report.add(r)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(slots)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nettool", required=True)
    ap.add_argument("-k", dest="pattern", default="")
    ap.add_argument("-j", dest="jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--slowest", type=int, default=0)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("units", nargs="*")
    args = ap.parse_args()
    args.nettool = os.path.abspath(args.nettool)
    harness.NETTOOL = args.nettool
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if args.worker:
        rfd, wfd = (int(x) for x in args.worker.split(","))
        return worker(rfd, wfd)

    # a stopped run stops its workers (and so their tests' programs) too
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    start = time.monotonic()
    tests = load_tests(args.pattern)
    # the longest deadlines first, so that no long test starts last
    together = sorted((x for x in tests if not getattr(x[1], "alone", False)),
                      key=lambda x: -deadline_of(x[1]))
    alone = [x for x in tests if getattr(x[1], "alone", False)]
    report = Report()
    jobs = queue.Queue()
    for u in ([] if args.pattern else args.units):
        jobs.put(("unit", u))
    for x in together:
        jobs.put(("test", x))
    n = max(1, min(args.jobs, len(together) or 1))
    workers = [Worker(args, i) for i in range(n)]
    try:
        drain(jobs, workers, n, args, report)
        for x in alone:
            jobs.put(("test", x))
        drain(jobs, workers, 1, args, report)
    except BaseException:
        for w in workers:
            w.kill()
        raise
    for w in workers:
        w.close()
    report.summary(args.slowest, time.monotonic() - start)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
