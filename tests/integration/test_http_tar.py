"""GET /folder/?tar: the folder as one POSIX tar made while it is sent,
read back by Python's tarfile and by tar -x, file for file; long and
UTF-8 names by pax headers; a 9 GiB sparse file's size; the listing's
rules for links; HTTP/1.0 and HEAD."""
import io
import os
import shutil
import socket
import subprocess
import tarfile

import harness
from harness import check, deadline


def tree(t):
    root = t.path("root")
    top = os.path.join(root, "share")
    os.makedirs(os.path.join(top, "deep", "er"))
    os.makedirs(os.path.join(top, "empty"))
    files = {"a.txt": b"a\n", "中文名.txt": "中文\n".encode(), "n" * 101: b"long\n",
             "deep/er/d.bin": os.urandom(300000), "deep/small": b"s" * 70000,
             ".hidden": b"dot\n", "zero": b""}
    for name, data in files.items():
        with open(os.path.join(top, name), "wb") as f:
            f.write(data)
    os.symlink("a.txt", os.path.join(top, "inside-link"))
    outside = t.path("secret")
    with open(outside, "w") as f:
        f.write("secret\n")
    os.symlink(outside, os.path.join(top, "outside-link"))
    os.symlink("deep", os.path.join(top, "dir-link"))
    with open(os.path.join(top, ".nettool-up-partial"), "wb") as f:
        f.write(b"half")
    files["inside-link"] = b"a\n"
    return root, top, files


def get(port, path, version="1.1", method="GET"):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        s.sendall(f"{method} {path} HTTP/{version}\r\nHost: a\r\nConnection: close\r\n\r\n".encode())
        return harness.recv_all(s)
    finally:
        s.close()


@deadline(60)
def test_tar_reproduces_the_tree(t):
    root, top, files = tree(t)
    srv = t.server("http-serve", "-d", root, "-q")
    out = t.path("got.tar")
    rc, _, err = t.run("http-get", "-o", out, f"http://127.0.0.1:{srv.port}/share/?tar")
    check(rc == 0, err)
    with tarfile.open(out) as tf:
        names = {m.name: m for m in tf.getmembers()}
        for name, data in files.items():
            m = names.get("share/" + name)
            check(m is not None and m.isfile() and tf.extractfile(m).read() == data, name)
        check(names["share/deep/er"].isdir() and names["share/empty"].isdir())
        check(not any("outside" in n or "dir-link" in n or ".nettool-up-" in n for n in names),
              sorted(names))
        check(len(names) == len(files) + 4, sorted(names))  # share, deep, deep/er, empty
    tar = shutil.which("tar")
    if tar:
        dest = t.path("x")
        os.mkdir(dest)
        subprocess.run([tar, "-xf", out, "-C", dest], check=True, timeout=20)
        for name, data in files.items():
            with open(os.path.join(dest, "share", name), "rb") as f:
                check(f.read() == data, name)
    else:
        print("SKIP tar -x: tar is not installed")
    # HTTP/1.0: no chunks, the end of the stream is the close
    resp = get(srv.port, "/share/?tar", "1.0")
    head, body = resp.split(b"\r\n\r\n", 1)
    check(b"Transfer-Encoding" not in head and b"filename*=UTF-8''share.tar" in head, head)
    with tarfile.open(fileobj=io.BytesIO(body)) as tf:
        check(tf.extractfile("share/a.txt").read() == b"a\n")
    # HEAD: the head alone; the listing links to it
    resp = get(srv.port, "/share/?tar", method="HEAD")
    check(resp.startswith(b"HTTP/1.1 200 OK") and resp.endswith(b"\r\n\r\n"), resp)
    check(b'href="?tar"' in get(srv.port, "/share/"))
    check(srv.stop() == 0)


@deadline(60)
def test_a_sparse_file_past_8_gib_and_no_list(t):
    root = t.path("root")
    os.makedirs(os.path.join(root, "big"))
    with open(os.path.join(root, "big", "disk.img"), "wb") as f:
        f.truncate(9 << 30)  # sparse: ustar's size field holds less than 8 GiB
    srv = t.server("http-serve", "-d", root, "-q")
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=20)
    s.sendall(b"GET /big/?tar HTTP/1.0\r\nHost: a\r\n\r\n")
    f = s.makefile("rb")
    while f.readline() not in (b"\r\n", b""):
        pass
    with tarfile.open(fileobj=f, mode="r|") as tf:
        first = tf.next()
        second = tf.next()  # its header, not its 9 GiB
        check(first.name == "big" and first.isdir(), first.name)
        check(second.name == "big/disk.img" and second.size == 9 << 30, (second.name, second.size))
    s.close()
    check(srv.stop() == 0)
    closed = t.server("http-serve", "-d", root, "-q", "--no-list")
    check(get(closed.port, "/big/?tar").startswith(b"HTTP/1.1 403"))
    check(closed.stop() == 0)
