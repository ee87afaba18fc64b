#!/usr/bin/python3
"""xlbd's dashboard in headless Chromium, for tests/e2e/test_dashboard.sh.

    dashboard_check.py URL PROFILE_DIR

Opens URL once, then reads one command a line on stdin and answers one
line on stdout, "ok ..." or "fail ...", so that the shell test can kill a
backend or stop xlbd between two looks at the same page (no reload):

    backends VIP N SECONDS       the VIP and N backends shown, all "up",
                                 each with a weight and effective weight
    health VIP ADDR STATE SECONDS  ADDR's health shown as STATE
    traffic VIP SECONDS          the VIP's pps above 0, its pps plot with
                                 at least 2 points
    status STATE SECONDS         the banner in state "ok" or "away"
    same                         the page never reloaded since it opened
    errors                       JavaScript errors in the browser's log
                                 (failed fetches are the network's, not
                                 errors of the page)
    shot FILE                    a screenshot (PNG), to look at
    quit

Every wait polls the page (WebDriverWait, every 0.1 s) up to SECONDS; the
"ok" of a wait says how long it took in ms. What the page shows is read
in one script run, so no element goes stale between two reads.
"""
import signal
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

# One VIP as the page shows it: its pps, its pps plot's points, and per
# backend row the cells by column.
READ_VIP = """
const sec = [...document.querySelectorAll("section.vip")]
    .find(s => s.dataset.vip === arguments[0]);
if (!sec || !sec.offsetParent) return null;
const pps = sec.querySelector(".pps").dataset.value;
return {
    pps: pps === undefined || pps === "" ? null : Number(pps),
    points: Number(sec.querySelector("canvas.big").dataset.points || 0),
    rows: [...sec.querySelectorAll("tbody tr")].map(tr => ({
        addr: tr.dataset.backend,
        health: tr.querySelector(".health").dataset.health,
        cells: [...tr.children].map(td => td.textContent)
    }))
};
"""


def browser(profile):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    # Root in a network namespace: no sandbox; no GPU; /dev/shm may be
    # small; a profile of our own under the lab's directory.
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--no-first-run",
              "--user-data-dir=" + profile, "--window-size=1400,1000"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    svc = Service(executable_path="/usr/bin/chromedriver",
                  log_path=profile + ".chromedriver.log")
    return webdriver.Chrome(service=svc, options=o)


class Page:
    def __init__(self, driver, url):
        self.d = driver
        self.log = []
        self.d.set_page_load_timeout(30)
        self.d.get(url)
        # Gone if the page ever reloads.
        self.d.execute_script("window.xlbTestMark = 1;")

    def vip(self, vip):
        return self.d.execute_script(READ_VIP, vip)

    def wait(self, seconds, cond, what):
        """ms until cond(page) is true; TimeoutError naming what."""
        t0 = time.monotonic()
        try:
            WebDriverWait(self.d, seconds, poll_frequency=0.1).until(
                lambda _: cond())
        except TimeoutException:
            raise TimeoutError(what) from None
        return int((time.monotonic() - t0) * 1000)

    def rows_text(self, vip):
        v = self.vip(vip)
        if not v:
            return "VIP %s not shown" % vip
        return "; ".join(" ".join(r["cells"][:5]) for r in v["rows"])

    def backends(self, vip, n, seconds):
        def ok():
            v = self.vip(vip)
            return (v and len(v["rows"]) == n and
                    all(r["health"] == "up" and r["cells"][2].strip() and
                        r["cells"][3].strip() for r in v["rows"]))
        try:
            ms = self.wait(seconds, ok, "")
        except TimeoutError:
            return "fail not %d backends up: %s" % (n, self.rows_text(vip))
        return "ok %d %s" % (ms, self.rows_text(vip).replace(" ", "_"))

    def health(self, vip, addr, state, seconds):
        def shown():
            v = self.vip(vip) or {"rows": []}
            return any(r["addr"] == addr and r["health"] == state
                       for r in v["rows"])
        try:
            return "ok %d" % self.wait(seconds, shown, "")
        except TimeoutError:
            return "fail %s not %s: %s" % (addr, state, self.rows_text(vip))

    def traffic(self, vip, seconds):
        def moving():
            v = self.vip(vip)
            return v and (v["pps"] or 0) > 0 and v["points"] >= 2
        try:
            ms = self.wait(seconds, moving, "")
        except TimeoutError:
            return "fail no traffic shown: %s" % self.vip(vip)
        v = self.vip(vip)
        return "ok %d pps=%.1f points=%d" % (ms, v["pps"], v["points"])

    def status(self, state, seconds):
        js = "return document.getElementById('status').dataset.state;"
        try:
            ms = self.wait(seconds, lambda: self.d.execute_script(js) ==
                           state, "")
        except TimeoutError:
            return "fail status %s" % self.d.execute_script(js)
        text = self.d.execute_script(
            "return document.getElementById('status').textContent;")
        return "ok %d %s" % (ms, text.replace(" ", "_"))

    def same(self):
        if self.d.execute_script("return window.xlbTestMark;") == 1:
            return "ok"
        return "fail the page reloaded"

    def errors(self):
        self.log += self.d.get_log("browser")
        bad = [e["message"] for e in self.log if e["level"] == "SEVERE" and
               e.get("source") != "network"]
        return "fail " + " | ".join(bad) if bad else \
            "ok %d log entries" % len(self.log)


def serve(page):
    cmds = {
        "backends": lambda a: page.backends(a[0], int(a[1]), float(a[2])),
        "health": lambda a: page.health(a[0], a[1], a[2], float(a[3])),
        "traffic": lambda a: page.traffic(a[0], float(a[1])),
        "status": lambda a: page.status(a[0], float(a[1])),
        "same": lambda a: page.same(),
        "errors": lambda a: page.errors(),
        "shot": lambda a: "ok" if page.d.save_screenshot(a[0]) else "fail",
    }
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        try:
            out = cmds[words[0]](words[1:])
        except (KeyError, IndexError, ValueError):
            out = "fail bad command: " + line.strip()
        except WebDriverException as e:
            out = "fail browser: " + str(e).splitlines()[0]
        print(out.replace("\n", " "), flush=True)


def main():
    url, profile = sys.argv[1], sys.argv[2]
    # SIGTERM from the test's trap: quit the browser on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        driver = browser(profile)
    except WebDriverException as e:
        print("fail no browser: " + str(e).splitlines()[0], flush=True)
        return 1
    try:
        page = Page(driver, url)
        print("ok opened", flush=True)
        serve(page)
    except WebDriverException as e:
        print("fail " + str(e).splitlines()[0], flush=True)
        return 1
    finally:
        driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
