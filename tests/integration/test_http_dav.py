"""http-serve --webdav: every litmus suite (basic, copymove, props, locks,
http), and PROPFIND,
COPY, MOVE and DELETE by hand with http.client: names that must
round-trip through hrefs, a folder listed in a streamed multistatus,
Destination's checks, links never followed, accounts on both ends."""
import http.client
import os
import re
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET

import harness
from harness import check, deadline

DAV = "{DAV:}"


def req(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def dav_server(t, root, *extra):
    return t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--webdav", *extra)


@deadline(120)
def test_litmus_every_suite(t):
    litmus = harness.need("litmus")
    root = t.path("root")
    os.mkdir(root)
    srv = dav_server(t, root)
    env = dict(os.environ, TESTS="basic copymove props locks http")
    p = subprocess.run([litmus, f"http://127.0.0.1:{srv.port}/"], capture_output=True, text=True,
                       timeout=100, env=env, cwd=t.path("."))
    sums = re.findall(r"summary for `(\w+)': of (\d+) tests run: (\d+) passed", p.stdout)
    check([(s, n == ok) for s, n, ok in sums] == [("basic", True), ("copymove", True),
                                                  ("props", True), ("locks", True),
                                                  ("http", True)], p.stdout[-3000:])
    check(sum(int(n) for _, n, _ in sums) >= 100, sums)  # every test ran
    check(srv.stop() == 0)


@deadline(60)
def test_propfind_names_and_a_large_folder(t):
    root = t.path("root")
    names = ["plain.txt", "with space.txt", "100%.txt", "hash#tag.txt", "中文.txt", "a&b<c>.txt"]
    os.makedirs(os.path.join(root, "big"))
    for n in names:
        with open(os.path.join(root, n), "w") as f:
            f.write(n)
    for i in range(3000):
        open(os.path.join(root, "big", f"f{i:04d}"), "w").close()
    srv = dav_server(t, root)
    st, h, body = req(srv.port, "PROPFIND", "/", headers={"Depth": "1"})
    check(st == 207 and h.get("Transfer-Encoding") == "chunked", (st, h))
    doc = ET.fromstring(body)
    hrefs = [urllib.parse.unquote(r.find(DAV + "href").text) for r in doc.findall(DAV + "response")]
    check(sorted(hrefs) == sorted(["/", "/big/"] + ["/" + n for n in names]), hrefs)
    for r in doc.findall(DAV + "response"):
        href = urllib.parse.unquote(r.find(DAV + "href").text)
        rt = r.find(f"{DAV}propstat/{DAV}prop/{DAV}resourcetype")
        check((rt.find(DAV + "collection") is not None) == href.endswith("/"), href)
        if not href.endswith("/"):
            size = r.find(f"{DAV}propstat/{DAV}prop/{DAV}getcontentlength").text
            check(int(size) == len(href[1:].encode()), (href, size))
    # each href, sent back, reaches its file
    for href in (r.find(DAV + "href").text for r in doc.findall(DAV + "response")):
        check(req(srv.port, "GET", href)[0] == 200, href)
    st, _, body = req(srv.port, "PROPFIND", "/big/", headers={"Depth": "1"})
    check(st == 207 and body.count(b"<D:response>") == 3001, body.count(b"<D:response>"))
    # named properties: found and not, propname, Depth infinity, bad bodies
    want = ('<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/>'
            '<Z:color xmlns:Z="urn:z"/></D:prop></D:propfind>')
    st, _, body = req(srv.port, "PROPFIND", "/plain.txt", want, {"Depth": "0"})
    r = ET.fromstring(body).find(DAV + "response")
    stats = {ps.find(DAV + "status").text: ps for ps in r.findall(DAV + "propstat")}
    check(stats["HTTP/1.1 200 OK"].find(f"{DAV}prop/{DAV}getetag") is not None, body)
    check(stats["HTTP/1.1 404 Not Found"].find(f"{DAV}prop/{{urn:z}}color") is not None, body)
    etag = req(srv.port, "HEAD", "/plain.txt")[1]["ETag"]
    check(stats["HTTP/1.1 200 OK"].find(f"{DAV}prop/{DAV}getetag").text == etag)
    st, _, body = req(srv.port, "PROPFIND", "/", headers={"Depth": "infinity"})
    check(st == 403 and b"propfind-finite-depth" in body, (st, body))
    check(req(srv.port, "PROPFIND", "/", headers={})[0] == 403)
    check(req(srv.port, "PROPFIND", "/nope", headers={"Depth": "0"})[0] == 404)
    for bad in ("<not xml", '<!DOCTYPE x [<!ENTITY e "y">]><D:propfind xmlns:D="DAV:"/>',
                '<D:other xmlns:D="DAV:"/>'):
        check(req(srv.port, "PROPFIND", "/", bad, {"Depth": "0"})[0] == 400, bad)
    for method in ("PROPFIND", "LOCK", "COPY"):
        check(req(srv.port, method, "/plain.txt", None, {"Depth": "2", "Destination": "/x"})[0]
              == 400, method)
    big = '<D:propfind xmlns:D="DAV:"><D:prop>' + "<D:getetag/>" * 7000 + "</D:prop></D:propfind>"
    check(req(srv.port, "PROPFIND", "/", big, {"Depth": "0"})[0] == 413)
    st, h, _ = req(srv.port, "OPTIONS", "/")
    check(h.get("DAV") == "1, 2" and "LOCK" in h.get("Allow", ""), h)
    check(srv.stop() == 0)


@deadline(60)
def test_copy_move_delete_rules(t):
    root = t.path("root")
    os.makedirs(os.path.join(root, "a", "in"))
    with open(os.path.join(root, "a", "in", "f.txt"), "w") as f:
        f.write("f")
    outside = t.path("outside")
    os.mkdir(outside)
    with open(os.path.join(outside, "keep.txt"), "w") as f:
        f.write("keep")
    os.symlink(outside, os.path.join(root, "a", "link"))
    srv = dav_server(t, root)
    host = f"127.0.0.1:{srv.port}"
    check(req(srv.port, "COPY", "/a/", None, {"Destination": f"http://{host}/b/"})[0] == 201)
    check(open(os.path.join(root, "b", "in", "f.txt")).read() == "f")
    check(not os.path.exists(os.path.join(root, "b", "link")))  # a link is not copied
    check(req(srv.port, "COPY", "/a/", None, {"Destination": f"http://{host}/b/",
                                              "Overwrite": "F"})[0] == 412)
    check(req(srv.port, "COPY", "/a/", None, {"Destination": "http://elsewhere/b/"})[0] == 502)
    check(req(srv.port, "COPY", "/a/", None, {"Destination": "/a/in/deeper/"})[0] == 403)
    check(req(srv.port, "COPY", "/a/", None, {"Destination": "/../escape/"})[0] == 400)
    check(req(srv.port, "MOVE", "/b/", None, {"Destination": "/c/"})[0] == 201)
    check(os.path.isdir(os.path.join(root, "c")) and not os.path.exists(os.path.join(root, "b")))
    check(req(srv.port, "MOVE", "/c/in/f.txt", None, {"Destination": "/c/g.txt"})[0] == 201)
    check(req(srv.port, "MOVE", "/", None, {"Destination": "/x/"})[0] == 403)
    # DELETE of a folder: the link goes, what it points at stays
    check(req(srv.port, "DELETE", "/a/")[0] == 204)
    check(not os.path.exists(os.path.join(root, "a")) and os.listdir(outside) == ["keep.txt"])
    check(req(srv.port, "DELETE", "/")[0] == 403)
    check(srv.stop() == 0)
    # an account of one subtree copies within it, not out of it
    acc = dav_server(t, root, "--auth", "sub:pw@/c")
    auth = {"Authorization": "Basic c3ViOnB3"}  # sub:pw
    check(req(acc.port, "COPY", "/c/g.txt", None, dict(auth, Destination="/c/h.txt"))[0] == 201)
    check(req(acc.port, "COPY", "/c/g.txt", None, dict(auth, Destination="/elsewhere.txt"))[0]
          == 403)
    check(not os.path.exists(os.path.join(root, "elsewhere.txt")))
    check(acc.stop() == 0)


@deadline(60)
def test_a_lock_keeps_writers_out_not_readers(t):
    root = t.path("root")
    os.mkdir(root)
    with open(os.path.join(root, "doc.txt"), "w") as f:
        f.write("v1")
    srv = dav_server(t, root)
    info = ('<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
            '</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>me</D:owner></D:lockinfo>')
    st, h, body = req(srv.port, "LOCK", "/doc.txt", info, {"Depth": "0", "Timeout": "Second-60"})
    token = h.get("Lock-Token", "")
    check(st == 200 and token.startswith("<opaquelocktoken:") and b"Second-6" in body, (st, h))
    # readers are not kept out; writers are, without the token
    check(req(srv.port, "HEAD", "/doc.txt")[0] == 200)
    check(req(srv.port, "GET", "/doc.txt")[2] == b"v1")
    check(req(srv.port, "PUT", "/doc.txt", b"v2")[0] == 423)
    check(req(srv.port, "DELETE", "/doc.txt")[0] == 423)
    check(req(srv.port, "PUT", "/doc.txt", b"v2", {"If": "(<opaquelocktoken:nope>)"})[0] == 412)
    # the token of another resource's lock, true for it, opens nothing here
    with open(os.path.join(root, "other.txt"), "w") as f:
        f.write("o")
    other = req(srv.port, "LOCK", "/other.txt", info, {"Depth": "0"})[1]["Lock-Token"]
    check(req(srv.port, "PUT", "/doc.txt", b"v2", {"If": f"</other.txt> ({other})"})[0] == 423)
    check(req(srv.port, "PUT", "/doc.txt", b"v2", {"If": f"({token})"})[0] == 204)
    check(open(os.path.join(root, "doc.txt")).read() == "v2")
    # a second exclusive lock conflicts; PROPFIND shows the one held
    check(req(srv.port, "LOCK", "/doc.txt", info, {"Depth": "0"})[0] == 423)
    st, _, body = req(srv.port, "PROPFIND", "/doc.txt",
                      '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>',
                      {"Depth": "0"})
    check(st == 207 and token[1:-1].encode() in body, body)
    check(req(srv.port, "UNLOCK", "/doc.txt", None, {"Lock-Token": "<opaquelocktoken:x>"})[0]
          == 409)
    check(req(srv.port, "UNLOCK", "/doc.txt", None, {"Lock-Token": token})[0] == 204)
    check(req(srv.port, "PUT", "/doc.txt", b"v3")[0] == 204)
    # a lock on an unmapped URL makes an empty resource
    st, h, _ = req(srv.port, "LOCK", "/new.txt", info, {"Depth": "0"})
    check(st == 201 and os.path.getsize(os.path.join(root, "new.txt")) == 0, st)
    check(srv.stop() == 0)


@deadline(60)
def test_cadaver_mounts_and_moves(t):
    cadaver = harness.need("cadaver")
    root = t.path("root")
    os.mkdir(root)
    with open(os.path.join(root, "a.txt"), "w") as f:
        f.write("hello\n")
    up = t.path("up.txt")
    with open(up, "wb") as f:
        f.write("本地文件\n".encode())
    got = t.path("got.txt")
    srv = dav_server(t, root)
    script = (f"ls\nput {up} up.txt\nmkcol dir\nmove up.txt dir/up2.txt\nls dir\n"
              f"get dir/up2.txt {got}\nlock dir/up2.txt\nunlock dir/up2.txt\n"
              f"delete a.txt\nquit\n")
    p = subprocess.run([cadaver, f"http://127.0.0.1:{srv.port}/"], input=script,
                       capture_output=True, text=True, timeout=30)
    check(p.stdout.count("succeeded") >= 9 and "failed" not in p.stdout, p.stdout)
    with open(got, "rb") as f:
        check(f.read() == "本地文件\n".encode())
    check(sorted(os.listdir(root)) == ["dir"] and os.listdir(os.path.join(root, "dir")) ==
          ["up2.txt"], os.listdir(root))
    check(srv.stop() == 0)


@deadline(240)
def test_rclone_copies_both_ways_with_an_account(t):
    rclone = harness.need("rclone")
    root, src, back = t.path("root"), t.path("src"), t.path("back")
    for d in (root, src, back, os.path.join(src, "sub")):
        os.mkdir(d)
    files = {"1.txt": b"one\n", "名 字.txt": "中\n".encode(), "sub/big.bin": os.urandom(300000),
             "a%b#c.txt": b"odd\n"}
    for i in range(1000):  # a tree of a thousand files
        files[f"sub/f{i:04d}.txt"] = os.urandom(i % 700)
    for name, data in files.items():
        with open(os.path.join(src, name), "wb") as f:
            f.write(data)
    srv = dav_server(t, root, "--auth", "u:pw")
    env = dict(os.environ, RCLONE_CONFIG=os.devnull)
    obscured = subprocess.run([rclone, "obscure", "pw"], capture_output=True, text=True,
                              env=env, timeout=20).stdout.strip()
    remote = [f"--webdav-url=http://127.0.0.1:{srv.port}/", "--webdav-user", "u",
              "--webdav-pass", obscured]
    for args in (["copy", src, ":webdav:"], ["copy", ":webdav:", back]):
        p = subprocess.run([rclone, *args, *remote], capture_output=True, text=True, env=env,
                           timeout=60)
        check(p.returncode == 0, p.stderr[-2000:])
    for name, data in files.items():
        with open(os.path.join(root, name), "rb") as f:
            check(f.read() == data, name)
        with open(os.path.join(back, name), "rb") as f:
            check(f.read() == data, name)
    p = subprocess.run([rclone, "lsf", "-R", ":webdav:", *remote], capture_output=True,
                       text=True, env=env, timeout=30)
    check(sorted(p.stdout.split("\n")[:-1]) == sorted(list(files) + ["sub/"]), p.stdout[:500])
    p = subprocess.run([rclone, "check", src, ":webdav:", *remote], capture_output=True,
                       text=True, env=env, timeout=60)
    check(p.returncode == 0 and "0 differences found" in p.stderr, p.stderr[-1000:])
    check(srv.stop() == 0)


@deadline(60)
def test_delete_that_fails_part_way_is_a_multistatus(t):
    chattr = harness.need("chattr")
    root = t.path("root")
    os.makedirs(os.path.join(root, "d", "in"))
    for name in ("d/a.txt", "d/in/stuck.txt", "d/in/b.txt", "d/z.txt"):
        with open(os.path.join(root, name), "w") as f:
            f.write(name)
    stuck = os.path.join(root, "d", "in", "stuck.txt")
    if subprocess.run([chattr, "+i", stuck], capture_output=True).returncode:
        raise harness.Skip("chattr +i does not work here (needs root and ext2/3/4)")
    t.cleanups.append(lambda: subprocess.run([chattr, "-i", stuck], capture_output=True))
    srv = dav_server(t, root)
    st, _, body = req(srv.port, "DELETE", "/d/")
    check(st == 207, (st, body))
    rs = ET.fromstring(body).findall(DAV + "response")
    check([(r.find(DAV + "href").text, r.find(DAV + "status").text) for r in rs] ==
          [("/d/in/stuck.txt", "HTTP/1.1 403 Forbidden")], body)
    # the rest went; the folders on the way to what stayed stay too
    left = sorted(os.path.relpath(os.path.join(p, n), root)
                  for p, ds, fs in os.walk(root) for n in ds + fs)
    check(left == ["d", "d/in", "d/in/stuck.txt"], left)
    check(srv.stop() == 0)


@deadline(90)
def test_davfs2_mount_reads_and_writes(t):
    mount = harness.need("mount.davfs")
    if os.geteuid() != 0 or not os.path.exists("/dev/fuse"):
        raise harness.Skip("davfs2 needs root and /dev/fuse to mount")
    root, mnt = t.path("root"), t.path("mnt")
    os.mkdir(root)
    os.mkdir(mnt)
    with open(os.path.join(root, "a.txt"), "w") as f:
        f.write("from the server\n")
    conf = t.path("davfs2.conf")
    with open(conf, "w") as f:
        f.write("use_locks 1\n")
    srv = dav_server(t, root)
    p = subprocess.run([mount, "-o", f"conf={conf}", f"http://127.0.0.1:{srv.port}/", mnt],
                       input="\n\n", capture_output=True, text=True, timeout=30)
    if p.returncode:
        raise harness.Skip(f"davfs2 could not mount here: {p.stderr.strip()[-200:]}")
    t.cleanups.append(lambda: subprocess.run(["umount", mnt], capture_output=True, timeout=30))
    # (listing a FUSE folder fails in some containers, for every server:
    # the files are reached by name)
    with open(os.path.join(mnt, "a.txt")) as f:
        check(f.read() == "from the server\n")
    with open(os.path.join(mnt, "b.txt"), "w") as f:
        f.write("written through the mount\n")
    u = subprocess.run(["umount", mnt], capture_output=True, text=True, timeout=60)
    check(u.returncode == 0, u.stderr)
    with open(os.path.join(root, "b.txt")) as f:
        check(f.read() == "written through the mount\n")
    check(srv.stop() == 0)
