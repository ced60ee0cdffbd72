"""Drive the image's chromium through chromedriver with selenium; print what
the page says. Used by probe.sh (browser) and the websearch smoke test.

usage: python3 selenium_probe.py URL [CSS_SELECTOR]
"""
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def main():
    url = sys.argv[1]
    selector = sys.argv[2] if len(sys.argv) > 2 else "body"
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--no-zygote", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    # An explicit driver path: selenium never tries to download one.
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        drv.set_page_load_timeout(60)
        drv.get(url)
        text = drv.find_element(By.CSS_SELECTOR, selector).text
        print("%s | %s" % (drv.capabilities.get("browserVersion", "?"), text.strip()))
    finally:
        drv.quit()


if __name__ == "__main__":
    main()
