"""Takes the README's and the Apps page's screenshots from a real, headless Chromium on a
running demo server (bin/screenshots starts it): the link list, a link's form with its
chatter, a batch being sent, and the claim page on a phone (secret, account, status).

Chromium is driven over its DevTools protocol (websocket-client, a test requirement); the
back office is logged in as admin, the claim page as the employee, with no session.
"""

import argparse
import base64
import html
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket

OUT = Path(__file__).resolve().parent.parent / "static" / "description" / "screenshots"
DESKTOP = {"width": 1366, "height": 820, "deviceScaleFactor": 1, "mobile": False}
TALL = dict(DESKTOP, height=1180)  # a form and its chatter
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
CLAIM_RE = re.compile(r"(/payout/claim/[A-Za-z0-9_-]+)")
SECRET_RE = re.compile(r'class="o_payout_secret"[^>]*>\s*([A-Z0-9]{8})\s*<')


class Odoo:
    """JSON-RPC to the demo server as admin."""

    def __init__(self, url, db):
        self.url, self.session = url, requests.Session()
        self._call("/web/session/authenticate", db=db, login="admin", password="admin")

    def _call(self, route, **params):
        answer = self.session.post(self.url + route, json={
            "jsonrpc": "2.0", "method": "call", "params": params}, timeout=60).json()
        if "error" in answer:
            raise RuntimeError(answer["error"]["data"]["message"])
        return answer["result"]

    def call(self, model, method, *args, **kwargs):
        return self._call("/web/dataset/call_kw", model=model, method=method, args=list(args),
                          kwargs=kwargs)


class Browser:
    """One headless Chromium page over the DevTools protocol."""

    def __init__(self, port=9333):
        self.profile = tempfile.mkdtemp(prefix="payout-shots-")
        self.process = subprocess.Popen([
            shutil.which("chromium") or shutil.which("google-chrome"), "--headless=new",
            "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={self.profile}",
            f"--remote-debugging-port={port}", "about:blank",
        ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _attempt in range(100):
            try:
                pages = requests.get(f"http://127.0.0.1:{port}/json", timeout=1).json()
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        page = next(p for p in pages if p["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.ids = itertools.count(1)

    def send(self, method, **params):
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        return self.send("Runtime.evaluate", expression=expression,
                         returnByValue=True).get("result", {}).get("value")

    def open(self, url, ready_selector, device=DESKTOP):
        self.send("Emulation.setDeviceMetricsOverride", **device)
        self.send("Page.navigate", url=url)
        self.wait_for(ready_selector)

    def wait_for(self, selector, timeout=30):
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{selector} did not show")
            time.sleep(0.2)
        time.sleep(1.0)  # fonts, avatars and the chatter settle

    def shoot(self, name):
        # Odoo's toasts (e.g. "the page is out of date" after the install) are not the page.
        self.evaluate("document.querySelectorAll('.o_notification').forEach(n => n.remove())")
        data = self.send("Page.captureScreenshot", format="png")["data"]
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{name}.png").write_bytes(base64.b64decode(data))
        print(f"  static/description/screenshots/{name}.png")

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def back_office(browser, odoo, url):
    browser.send("Network.enable")
    browser.send("Network.setCookie", name="session_id",
                 value=odoo.session.cookies["session_id"], url=url)
    links = f"{url}/odoo/action-hr_payout_link.action_payout_link"
    browser.open(links, ".o_list_view .o_data_row")
    browser.shoot("link_list")

    [link] = odoo.call("payout.link", "search_read", [("description", "=", "Year-end bonus 2026")],
                       fields=["id"], limit=1)
    browser.open(f"{links}/{link['id']}", ".o_form_view .o-mail-Message", TALL)
    browser.shoot("link_form")

    employees = odoo.call("hr.employee", "search", [("work_email", "!=", False)], limit=12)
    batch = odoo.call("payout.batch", "create", {
        "name": "Q4 2026 sales commissions",
        "link_ids": [(0, 0, {"employee_id": employee, "amount": 750.0 + 25 * index,
                             "description": "Q4 commission"})
                     for index, employee in enumerate(employees)]})
    odoo.call("payout.batch", "action_send_all", [batch])
    # One run of the background sender, 5 lines at a time: the batch is caught halfway.
    [cron] = odoo.call("ir.model.data", "search_read", [
        ("module", "=", "hr_payout_link"), ("name", "=", "ir_cron_payout_batch_send")],
        fields=["res_id"])
    odoo.call("ir.cron", "write", [cron["res_id"]],
              {"code": "model._cron_send_batches(batch_size=5)"})
    odoo.call("ir.cron", "method_direct_trigger", [cron["res_id"]])
    browser.open(f"{url}/odoo/action-hr_payout_link.action_payout_batch/{batch}",
                 ".o_form_view .o_field_widget[name='send_progress']")
    browser.shoot("batch_sending")


def claim_on_a_phone(browser, odoo, url):
    # An employee without a user: one with a user claims signed in, with no secret to show.
    employee = odoo.call("hr.employee", "search",
                         [("work_email", "!=", False), ("user_id", "=", False)], limit=1)[0]
    link = odoo.call("payout.link", "create", {"employee_id": employee, "amount": 2500.0,
                                               "description": "Year-end bonus"})
    odoo.call("payout.link", "action_send", [link])
    [mail] = odoo.call("mail.mail", "search_read", [("body_html", "ilike", "/payout/claim/")],
                       fields=["body_html"], order="id desc", limit=1)
    body = html.unescape(mail["body_html"])
    path, secret = CLAIM_RE.search(body).group(1), SECRET_RE.search(body).group(1)

    browser.send("Network.clearBrowserCookies")
    browser.open(url + path, "#payout_secret", PHONE)
    browser.shoot("claim_secret")
    browser.evaluate(f"document.querySelector('#payout_secret').value = {json.dumps(secret)};"
                     "document.querySelector('.o_payout_secret_form').submit()")
    browser.wait_for("#payout_account_number")
    browser.evaluate("const bank = document.querySelector('#payout_bank');"
                     "bank.selectedIndex = 1;"
                     "document.querySelector('#payout_account_number').value = '1234567890';")
    browser.shoot("claim_account")
    browser.evaluate("document.querySelector('.o_payout_account_form').submit()")
    browser.wait_for(".o_payout_status")
    browser.shoot("claim_status")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    odoo = Odoo(args.url, args.db)
    browser = Browser()
    try:
        back_office(browser, odoo, args.url)
        claim_on_a_phone(browser, odoo, args.url)
    finally:
        browser.close()


if __name__ == "__main__":
    main()
