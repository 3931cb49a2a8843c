"""http-serve's pages for a person: folders made from the listing's form
and by MKCOL, the listing's forms, error pages that say why and link back,
415 for a POST that is no form, and /favicon.ico."""
import http.client
import os

from harness import check, deadline


def req(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@deadline(60)
def test_folders_from_the_form_and_mkcol(t):
    root = t.path("root")
    os.makedirs(os.path.join(root, "sub"))
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload")
    st, page = req(srv.port, "GET", "/sub/")
    check(st == 200 and b'name="mkdir"' in page and b'name="file"' in page, page)
    st, page = req(srv.port, "POST", "/sub/", "mkdir=new+%E6%96%87%E4%BB%B6", FORM)
    check(st == 201 and os.path.isdir(os.path.join(root, "sub", "new 文件")), (st, page))
    check(b'href="new%20%E6%96%87%E4%BB%B6/"' in page and b'href="/sub/"' in page, page)
    for body, want in (("mkdir=new+%E6%96%87%E4%BB%B6", 409), ("mkdir=..", 403),
                       ("mkdir=.hidden", 403), ("mkdir=a%2Fb", 403), ("mkdir=", 400),
                       ("other=x", 400), ("mkdir=" + "x" * 5000, 413)):
        st, page = req(srv.port, "POST", "/sub/", body, FORM)
        check(st == want, (body[:20], st))
    check(sorted(os.listdir(os.path.join(root, "sub"))) == ["new 文件"])
    # MKCOL (RFC 4918 9.3)
    check(req(srv.port, "MKCOL", "/sub/made/")[0] == 201)
    check(os.path.isdir(os.path.join(root, "sub", "made")))
    check(req(srv.port, "MKCOL", "/sub/made/")[0] == 405)
    check(req(srv.port, "MKCOL", "/nope/deeper/")[0] == 409)
    check(req(srv.port, "MKCOL", "/sub/withbody", b"<x/>", {"Content-Type": "text/xml"})[0] == 415)
    check(srv.stop() == 0)
    ro = t.server("http-serve", "-d", root, "-q")
    check(req(ro.port, "MKCOL", "/sub/x/")[0] == 405)
    check(ro.stop() == 0)


@deadline(60)
def test_error_pages_say_why_and_link_back(t):
    root = t.path("root")
    os.makedirs(os.path.join(root, "sub"))
    with open(os.path.join(root, "sub", "f.txt"), "w") as f:
        f.write("f")
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload")
    cases = (("GET", "/sub/missing.txt", None, {}, 404, b"Nothing here has that name",
              b'href="/sub/"'),
             ("PUT", "/sub/f.txt", b"again", {}, 409, b"conflicts", b'href="/sub/"'),
             ("POST", "/sub/", b"plain", {"Content-Type": "text/plain"}, 415,
              b"multipart/form-data", b'href="/sub/"'),
             ("GET", "/deep/er/x", None, {}, 404, b"Nothing here", b'href="/deep/er/"'))
    for method, path, body, headers, want, why, back in cases:
        st, page = req(srv.port, method, path, body, headers)
        check(st == want and why in page and back in page, (method, path, st, page))
    st, page = req(srv.port, "GET", "/favicon.ico")
    check(st == 204 and page == b"", st)
    small = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload",
                     "--max-body", "10")
    st, page = req(small.port, "PUT", "/sub/big.txt", b"x" * 100)
    check(st == 413 and b"larger than this server takes" in page and b'href="/sub/"' in page,
          (st, page))
    check(small.stop() == 0)
    with open(os.path.join(root, "favicon.ico"), "wb") as f:
        f.write(b"\x00\x00\x01\x00")
    st, page = req(srv.port, "GET", "/favicon.ico")
    check(st == 200 and page == b"\x00\x00\x01\x00")
    check(srv.stop() == 0)
