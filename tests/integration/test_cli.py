"""The command line: help, version, usage errors and their exit status."""
import os
import re
import subprocess

from harness import check, deadline, NETTOOL  # noqa: F401
import harness

SUBCOMMANDS = ["tcp-client", "tcp-echo-server", "udp-server", "udp-client", "http-get", "http-serve", "pack", "unpack"]


def test_help_lists_subcommands(t):
    rc, out, err = t.run("--help")
    check(rc == 0 and err == "", (rc, err))
    for sub in SUBCOMMANDS:
        check(re.search(rf"^  {sub} +\S", out.decode(), re.M), f"{sub} missing")


def test_version(t):
    rc, out, err = t.run("--version")
    check(rc == 0 and re.fullmatch(rb"nettool \d+\.\d+\.\d+\n", out), out)


def test_help_per_subcommand(t):
    for sub in SUBCOMMANDS:
        rc1, out1, _ = t.run("help", sub)
        rc2, out2, _ = t.run(sub, "--help")
        check(rc1 == 0 and rc2 == 0 and out1 == out2, sub)
        check(out1.startswith(f"usage: nettool {sub}".encode()), out1)


def test_no_arguments_is_usage_error(t):
    rc, out, err = t.run()
    check(rc == 2 and out == b"" and "usage:" in err, (rc, err))


def test_unknown_subcommand(t):
    rc, out, err = t.run("tcp-frobnicate")
    check(rc == 2 and out == b"", rc)
    check(err.splitlines()[0] == "nettool: unknown subcommand 'tcp-frobnicate'", err)
    check("--help" in err, err)
    rc, _, err = t.run("help", "nope")
    check(rc == 2, rc)


def test_unknown_option(t):
    for sub in SUBCOMMANDS:
        rc, out, err = t.run(sub, "--bogus", "127.0.0.1", "1")
        check(rc == 2 and out == b"", (sub, rc))
        check(err.startswith(f"nettool: {sub}: unknown option '--bogus'"), err)
        check(f"Try 'nettool {sub} --help'" in err, err)


def test_missing_option_value(t):
    rc, _, err = t.run("tcp-echo-server", "-p")
    check(rc == 2 and "needs a value" in err, (rc, err))


def test_strict_numbers(t):
    bad = [
        ["tcp-client", "127.0.0.1", "12x"],
        ["tcp-client", "127.0.0.1", "70000"],
        ["tcp-client", "127.0.0.1", "0"],
        ["tcp-client", "127.0.0.1", "-1"],
        ["tcp-client", "127.0.0.1", ""],
        ["tcp-client", "-w", "1x", "127.0.0.1", "80"],
        ["tcp-client", "-q", "-2", "127.0.0.1", "80"],
        ["tcp-client", "-z", "127.0.0.1", "90-80"],
        ["tcp-client", "-z", "127.0.0.1", "80-7x"],
        ["tcp-client", "127.0.0.1"],
        ["tcp-client", "127.0.0.1", "80", "extra"],
        ["tcp-echo-server", "-p", "12x"],
        ["tcp-echo-server", "-p", "65536"],
        ["tcp-echo-server", "--max-clients", "0"],
        ["tcp-echo-server", "--idle-timeout", "soon"],
        ["tcp-echo-server", "--backlog", "1e3"],
        ["tcp-echo-server", "stray"],
        ["udp-server", "-p", "1x"],
        ["udp-server", "--count", "-3"],
        ["udp-server", "--reliable", "--echo"],
        ["udp-server", "--printf", "%d"],
        ["udp-client", "127.0.0.1", "99999"],
        ["udp-client", "--size", "65508", "127.0.0.1", "9"],
        ["udp-client", "--window", "0", "127.0.0.1", "9"],
        ["udp-client", "--raw", "--pack", "<i", "127.0.0.1", "9"],
    ]
    for argv in bad:
        rc, out, err = t.run(*argv)
        check(rc == 2, f"{argv}: status {rc}, stderr {err!r}")
        check(out == b"" and err.startswith(f"nettool: {argv[0]}: "), (argv, err))


def test_bind_failure_is_runtime_error(t):
    s = t.listener()
    port = s.getsockname()[1]
    rc, out, err = t.run("tcp-echo-server", "-b", "127.0.0.1", "-p", str(port))
    check(rc == 1 and "Address already in use" in err, (rc, err))


def test_stdout_write_error_reported(t):
    if not os.path.exists("/dev/full"):
        raise harness.Skip("no /dev/full")
    with open("/dev/full", "wb") as full:
        rc, _, err = t.run("--help", stdout=full)
    check(rc == 1 and "write error" in err, (rc, err))


@deadline(60)
def test_make_install_uninstall(t):
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    dest = t.path("dest")
    base = ["make", "-s", "-C", top, f"DESTDIR={dest}", "PREFIX=/opt/nt"]
    subprocess.run(base + ["install"], check=True, timeout=60,
                   stdout=subprocess.DEVNULL)
    binary = os.path.join(dest, "opt/nt/bin/nettool")
    man = os.path.join(dest, "opt/nt/share/man/man1/nettool.1")
    check(os.access(binary, os.X_OK) and os.path.isfile(man))
    out = subprocess.run([binary, "--version"], capture_output=True, timeout=10)
    check(out.returncode == 0 and out.stdout.startswith(b"nettool "), out)
    subprocess.run(base + ["uninstall"], check=True, timeout=60)
    check(not os.path.exists(binary) and not os.path.exists(man))
