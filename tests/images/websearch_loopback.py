"""Run INSIDE the websearch image: serve a page on 127.0.0.1 with Python's
http.server (a child process of this sandbox run), load it with chromium
through chromedriver (selenium), and extract its text with BeautifulSoup.
Prints "EXTRACTED: <text>" and exits 0 on success."""
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

from bs4 import BeautifulSoup
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

PAGE = """<!doctype html><html><head><title>Loopback test</title></head>
<body><nav>navigation</nav><main><h1>Agent sandbox</h1>
<p id="p">Served on loopback</p>
<script>document.getElementById("p").textContent += " and rendered by JavaScript";</script>
</main></body></html>"""


def main():
    root = tempfile.mkdtemp()
    with open(os.path.join(root, "index.html"), "w") as f:
        f.write(PAGE)
    srv = subprocess.Popen([sys.executable, "-m", "http.server", "8765", "--bind", "127.0.0.1",
                            "--directory", root], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:8765/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ("--headless", "--no-sandbox", "--no-zygote", "--disable-gpu", "--disable-dev-shm-usage"):
            opts.add_argument(a)
        drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        try:
            drv.set_page_load_timeout(60)
            drv.get("http://127.0.0.1:8765/index.html")
            html = drv.page_source
        finally:
            drv.quit()
        soup = BeautifulSoup(html, "lxml")
        text = soup.find("p", id="p").get_text(strip=True)
        print("TITLE: %s" % soup.title.get_text(strip=True))
        print("EXTRACTED: %s" % text)
        return 0 if text == "Served on loopback and rendered by JavaScript" else 1
    finally:
        srv.terminate()
        srv.wait()


if __name__ == "__main__":
    sys.exit(main())
