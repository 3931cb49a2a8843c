"""http-serve in a real browser: headless chromium driven by selenium (run
by Debian's python3, where python3-selenium lives): sign in, upload a
file with a Chinese name by the listing's form, see it listed, make a
folder, and download the folder as tar."""
import json
import os
import subprocess
import tarfile

import harness
from harness import check, deadline

DRIVER = r'''
import base64, json, os, sys, time
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

port, upload, downloads, auth = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
o = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
    o.add_argument(a)
o.binary_location = sys.argv[5]
o.add_experimental_option("prefs", {"download.default_directory": downloads})
d = webdriver.Chrome(service=Service(sys.argv[6]), options=o)
out = {}


def then(action):
    """action, then wait until its page has replaced this one (else an
    element may be found on the old page and go stale under us)"""
    old = d.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(d, 20).until(EC.staleness_of(old))


try:
    d.set_page_load_timeout(20)
    base = f"http://127.0.0.1:{port}/"
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow",
                                                       "downloadPath": downloads})
    # signing in as a person does at the prompt: the browser keeps the
    # credentials for the realm and sends them with every request after
    d.get(f"http://{auth}@127.0.0.1:{port}/")
    out["title"] = d.title
    d.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(upload)
    then(d.find_element(By.CSS_SELECTOR, "input[value=Upload]").click)
    out["after_upload"] = d.find_element(By.TAG_NAME, "h1").text
    then(d.find_element(By.LINK_TEXT, "Back to the listing").click)
    out["listed"] = [a.text for a in d.find_elements(By.CSS_SELECTOR, "td a")]
    box = d.find_element(By.NAME, "mkdir")
    box.send_keys("新文件夹")
    then(box.submit)
    out["after_mkdir"] = d.find_element(By.TAG_NAME, "h1").text
    d.get(base)
    out["listed2"] = [a.text for a in d.find_elements(By.CSS_SELECTOR, "td a")]
    d.find_element(By.PARTIAL_LINK_TEXT, "Download this folder").click()
    end = time.monotonic() + 20
    while time.monotonic() < end:  # the download's file, whole (no .crdownload)
        done = [n for n in os.listdir(downloads) if n.endswith(".tar")]
        if done:
            break
        time.sleep(0.1)
    out["downloads"] = os.listdir(downloads)
finally:
    d.quit()
print(json.dumps(out))
'''


@deadline(120)
def test_sign_in_upload_listing_and_tar_in_chromium(t):
    chromium = harness.need("chromium")
    driver = harness.need("chromedriver")
    py = "/usr/bin/python3"
    if subprocess.run([py, "-c", "import selenium"], capture_output=True).returncode:
        raise harness.Skip("peer 'python3-selenium' is not installed")
    root = t.path("share")
    os.mkdir(root)
    src = t.path("中文报告.txt")
    with open(src, "wb") as f:
        f.write("你好，世界\n".encode())
    downloads = t.path("downloads")
    os.mkdir(downloads)
    srv = t.server("http-serve", "-b", "127.0.0.1", "-d", root, "-q", "--upload",
                   "--auth", "me:pw")
    script = t.path("driver.py")
    with open(script, "w") as f:
        f.write(DRIVER)
    auth = "me:pw"
    p = subprocess.run([py, script, str(srv.port), src, downloads, auth, chromium, driver],
                       capture_output=True, text=True, timeout=90)
    check(p.returncode == 0, p.stderr[-2000:])
    out = json.loads(p.stdout.strip().splitlines()[-1])
    check(out["title"] == "Index of /" and out["after_upload"] == "Uploaded", out)
    check("中文报告.txt" in out["listed"], out)
    check(out["after_mkdir"] == "Folder made" and "新文件夹/" in out["listed2"], out)
    with open(os.path.join(root, "中文报告.txt"), "rb") as f:
        check(f.read() == "你好，世界\n".encode())
    tars = [n for n in out["downloads"] if n.endswith(".tar")]
    check(len(tars) == 1, out["downloads"])
    with tarfile.open(os.path.join(downloads, tars[0])) as tf:
        names = tf.getnames()
        check("share/中文报告.txt" in names and "share/新文件夹" in names, names)
        check(tf.extractfile("share/中文报告.txt").read() == "你好，世界\n".encode())
    check(srv.stop() == 0)
