"""Regenerate docs/screenshots/*.png: the agent desktop with an offer, the supervisor
wallboard, the admin queues page (and the agent desktop in Traditional Chinese).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts `ipcc serve` with the demo configuration on a free loopback port and a scratch
data directory, makes some traffic through the REST API (contacts answered, abandoned,
waiting; agents in several states), drives Debian's Chromium with Playwright and stops
the server (by its pid) at the end. Needs `apt-get install chromium` and the `playwright`
Python package; never runs `playwright install`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
VIEWPORT = {"width": 1440, "height": 900}
MEI = {"name": "Mei Lin 林美", "phone": "+886212345678", "email": "mei@example.com",
       "id": "cust-1024"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.clients: dict[str, httpx.Client] = {}

    def as_(self, user: str) -> httpx.Client:
        if user not in self.clients:
            password = {"admin": "admin", "supervisor": "supervisor"}.get(user, "agent")
            r = httpx.post(self.base + "/api/v1/auth/token",
                           json={"username": user, "password": password}, timeout=10)
            r.raise_for_status()
            self.clients[user] = httpx.Client(
                base_url=self.base + "/api/v1", timeout=10,
                headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        return self.clients[user]

    def ok(self, user: str, method: str, path: str, **kw: Any) -> Any:
        r = self.as_(user).request(method, path, **kw)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json() if r.content else None

    def contact(self, **body: Any) -> str:
        return str(self.ok("admin", "POST", "/contacts", json={"channel": "chat",
                                                             "queue": "sales", **body})["id"])

    def shift(self, agent: str, site: str, seat: str, ready: bool = True) -> None:
        self.ok(agent, "POST", f"/agents/{agent}/login",
                json={"device": f"sip:{agent}@pbx.example.com", "site": site, "seat": seat})
        if ready:
            self.ok(agent, "PUT", f"/agents/{agent}/state", json={"state": "ready"})

    def handle(self, agent: str, cid: str, disposition: str | None = None,
               notes: str | None = None) -> None:
        self.ok(agent, "POST", f"/contacts/{cid}/accept", json={})
        self.ok(agent, "POST", f"/contacts/{cid}/complete", json={})
        self.ok(agent, "POST", f"/contacts/{cid}/wrapup",
                json={"disposition": disposition, "notes": notes})


def traffic(api: Api) -> None:
    """History for the screen pop, figures for the wallboard and the chart."""
    api.shift("agent2", "taipei", "A-03")
    for channel, disposition, notes in [
            ("email", "quote-sent", "Sent the 5G family plan quote."),
            ("sms", "follow-up", "Asked to call back after payday.")]:
        cid = api.contact(channel=channel, customer=MEI, preferred_agent="agent2")
        api.handle("agent2", cid, disposition, notes)
    for i in range(5):
        cid = api.contact(customer={"name": f"Customer {i + 1}", "phone": f"+88627000{i:03d}"})
        api.handle("agent2", cid, "sold" if i % 2 else "not-interested")
    # two callers gave up
    for i in range(2):
        api.ok("agent2", "PUT", "/agents/agent2/state", json={"state": "not_ready",
                                                            "reason": "break"})
        cid = api.contact(channel="voice", queue="support",
                          customer={"name": f"Caller {i + 1}"})
        api.ok("admin", "POST", f"/contacts/{cid}/abandon")
    api.ok("agent2", "PUT", "/agents/agent2/state", json={"state": "ready"})
    for agent, site, seat in [("agent4", "taipei", "A-07"), ("agent6", "kaohsiung", "K-02")]:
        api.shift(agent, site, seat)
        cid = api.contact(channel="chat", queue="support", customer={"name": "Chen Wei"},
                          preferred_agent=agent)
        api.ok(agent, "POST", f"/contacts/{cid}/accept", json={})
    api.shift("agent3", "taipei", "A-05", ready=False)
    api.ok("agent3", "PUT", "/agents/agent3/state", json={"state": "not_ready",
                                                        "reason": "lunch"})
    api.shift("agent7", "kaohsiung", "K-09", ready=False)
    api.ok("agent7", "PUT", "/agents/agent7/state", json={"state": "not_ready",
                                                        "reason": "training"})


def waiting(api: Api) -> None:
    """Callers waiting in support (made after the agent desktop is set up, so that they
    queue instead of ringing there)."""
    for name in ("Wang Hao", "Lee Ting", "Huang Yu"):
        api.contact(channel="voice", queue="support", customer={"name": name})


def shoot(base: str, out: Path, api: Api) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def page_for(user: str, password: str, locale: str = "en-US") -> Any:
            ctx = browser.new_context(viewport=VIEWPORT, locale=locale,
                                      permissions=["microphone"])
            page = ctx.new_page()
            page.goto(base + "/ui/login")
            page.fill("#username", user)
            page.fill("#password", password)
            page.click("#login-btn")
            page.wait_for_load_state("networkidle")
            return page

        # agent desktop: one chat in progress, a new offer ringing with its screen pop
        agent = page_for("agent1", "agent")
        agent.wait_for_selector("#shift:not([hidden])")
        agent.select_option("#shift-site", "taipei")
        agent.fill("#shift-seat", "A-12")
        agent.check("input[name=device][value=webrtc]")
        agent.click("#shift-start")
        agent.wait_for_selector("#desk:not([hidden])")
        agent.click("#btn-ready")
        agent.wait_for_selector("#state-label[data-state=ready]")
        first = api.contact(customer={"name": "Chang Yi-Ting", "phone": "+886955123456"},
                            value_tier="silver", preferred_agent="agent1",
                            data={"segment": "Consumer", "topic": "roaming"})
        agent.wait_for_selector(f".offer[data-contact='{first}'] .accept")
        agent.click(f".offer[data-contact='{first}'] .accept")
        agent.wait_for_selector(f".pane[data-contact='{first}'][data-state=connected]")
        api.contact(customer=MEI, value_tier="gold", preferred_agent="agent1",
                    data={"segment": "Family plan", "account": "8823-1102",
                          "ivr_choice": "upgrade", "language": "zh-TW"})
        agent.wait_for_selector(".offer .pop table")
        agent.fill("#consult-text", "")
        agent.wait_for_timeout(1200)
        path = out / "agent-desktop.png"
        agent.screenshot(path=str(path))
        written.append(path)

        # supervisor wallboard and agent grid
        waiting(api)
        sup = page_for("supervisor", "supervisor")
        sup.wait_for_selector(".qcard[data-queue=support]")
        sup.wait_for_selector("#chart svg")
        sup.wait_for_timeout(1500)
        path = out / "supervisor-wallboard.png"
        sup.screenshot(path=str(path), full_page=True)
        written.append(path)

        # administration: queues
        adm = page_for("admin", "admin")
        adm.goto(base + "/ui/admin#queues")
        adm.wait_for_selector("#queues-table tbody tr")
        adm.click("#queues-table tbody tr[data-id=support] button")
        adm.wait_for_timeout(600)
        adm.evaluate("window.scrollTo(0, 0)")
        path = out / "admin-queues.png"
        adm.screenshot(path=str(path), full_page=True)
        written.append(path)

        # the agent desktop in Traditional Chinese
        zh = page_for("agent5", "agent", locale="zh-TW")
        zh.select_option("#lang-select", "zh_TW")
        zh.wait_for_function("document.documentElement.lang === 'zh-TW'")
        zh.wait_for_selector("#shift:not([hidden])")
        zh.select_option("#shift-site", "taipei")
        zh.fill("#shift-seat", "A-20")
        zh.click("#shift-start")
        zh.wait_for_selector("#desk:not([hidden])")
        zh.click("#btn-ready")
        zh.wait_for_selector("#state-label[data-state=ready]")
        api.contact(customer={"name": "陳志明", "phone": "+886937000111"}, value_tier="gold",
                    preferred_agent="agent5", data={"segment": "企業客戶", "account": "5521"})
        zh.wait_for_selector(".offer .pop dl")
        zh.wait_for_timeout(800)
        path = out / "agent-desktop-zh-TW.png"
        zh.screenshot(path=str(path))
        written.append(path)
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="ipcc-shots-") as tmp, \
            open(Path(tmp) / "serve.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "acd.cli", "serve", "--config", "config/demo.yaml",
             "--data-dir", str(Path(tmp) / "data"), "--http-port", str(port),
             "--bus-url", "none"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("ipcc did not start: "
                                       + (Path(tmp) / "serve.log").read_text()[-2000:])
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            api = Api(base)
            traffic(api)
            for path in shoot(base, out, api):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
