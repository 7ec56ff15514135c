"""Run the simulator in-process for tests: `SimulatorServer` and its `.control` helper.

    config, private_key = SimConfig.generate(webhook_url=..., callback_urls=[...])
    with SimulatorServer(config) as sim:
        sim.control.issue_token("olivia")["access_token"]
        requests.get(sim.api_url + "/user", headers={"Authorization": "Bearer ..."})

Also usable as a long-lived object (`sim = SimulatorServer(config).start()` in a
session-scoped fixture, `sim.stop()` at the end).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, make_server

from ghsim.app import create_app
from ghsim.config import SimConfig
from ghsim.server import QuietSimRequestHandler


class ControlClient:
    """A requests session bound to `/_sim/...` with convenience methods."""

    def __init__(self, web_url: str) -> None:
        self.base = web_url + "/_sim"
        self.session = requests.Session()

    def _call(self, method: str, path: str, json: Any = None, **kw: Any) -> Any:
        resp = self.session.request(method, self.base + path, json=json, timeout=60, **kw)
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} /_sim{path} -> {resp.status_code}: {resp.text}")
        return resp.json() if resp.content else None

    # faults
    def fault(self, kind: str, path: str = ".*", **options: Any) -> int:
        return self._call("POST", "/faults", {"kind": kind, "path": path, **options})["id"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")

    # tokens
    def issue_token(self, user: str, client: str = "app", **options: Any) -> dict[str, Any]:
        return self._call("POST", "/tokens", {"user": user, "client": client, **options})

    def installation_token(self, org: str) -> str:
        return self._call("POST", "/tokens", {"org": org})["token"]

    # requests log, clock, reset
    def requests_log(self, since: int = 0) -> list[dict[str, Any]]:
        return self._call("GET", "/requests", params={"since": since})

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/clock", {"advance": seconds})

    def set_clock(self, when: str) -> dict[str, Any]:
        return self._call("POST", "/clock", {"set": when})

    def reset(self, seed: int | None = None, now: str | None = None) -> None:
        """Back to the seeded world; `now` (ISO time) builds it around that moment."""
        data: dict[str, Any] = {} if seed is None else {"seed": seed}
        if now is not None:
            data["now"] = now
        self._call("POST", "/reset", data)

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    # world changes
    def install(self, org: str, **options: Any) -> dict[str, Any]:
        return self._call("POST", "/installations", {"org": org, **options})

    def uninstall(self, installation_id: int) -> None:
        self._call("DELETE", f"/installations/{installation_id}")

    def suspend(self, installation_id: int) -> dict[str, Any]:
        return self._call("POST", f"/installations/{installation_id}/suspend")

    def unsuspend(self, installation_id: int) -> dict[str, Any]:
        return self._call("POST", f"/installations/{installation_id}/unsuspend")

    def accept_permissions(self, installation_id: int, permissions: dict[str, str]) -> Any:
        return self._call("POST", f"/installations/{installation_id}/permissions", permissions)

    def approve_request(self, request_id: int, approver: str | None = None) -> dict[str, Any]:
        data = {"approver": approver} if approver else {}
        return self._call("POST", f"/install-requests/{request_id}/approve", data)

    def create_org(self, login: str, **options: Any) -> dict[str, Any]:
        return self._call("POST", "/orgs", {"login": login, **options})

    def rename_org(self, login: str, new_login: str) -> dict[str, Any]:
        return self._call("POST", f"/orgs/{login}/rename", {"login": new_login})

    def set_membership(self, org: str, user: str, role: str, **options: Any) -> Any:
        return self._call("PUT", f"/memberships/{org}/{user}", {"role": role, **options})

    def remove_membership(self, org: str, user: str) -> None:
        self._call("DELETE", f"/memberships/{org}/{user}")

    def create_user(self, login: str, name: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/users", {"login": login, "name": name or login})

    def revoke(self, user: str) -> dict[str, Any]:
        return self._call("POST", f"/users/{user}/revoke")

    def totals(self, org: str, start: str, end: str, group_by: str = "day") -> dict[str, Any]:
        params = {"start": start, "end": end, "group_by": group_by}
        return self._call("GET", f"/orgs/{org}/totals", params=params)

    def report(self, org: str, kind: str, start: str, end: str, format: str | None = None) -> bytes:
        """A usage report CSV (summarized, detailed or copilot) as GitHub's bytes."""
        params = {"start": start, "end": end, **({"format": format} if format else {})}
        url = f"{self.base}/orgs/{org}/reports/{kind}.csv"
        resp = self.session.get(url, params=params, timeout=300)
        if resp.status_code >= 400:
            raise RuntimeError(f"GET reports/{kind}.csv -> {resp.status_code}: {resp.text}")
        return resp.content

    # billing switches (routes_control_billing.py)
    def set_dialect(self, org: str, dialect: str | None) -> dict[str, Any]:
        """ "observed" | "documented" for one org; None: back to the world's default."""
        return self._call("POST", f"/orgs/{org}/dialect", {"dialect": dialect})

    def set_billing_defaults(self, **defaults: Any) -> dict[str, Any]:
        """The world's `dialect` and/or `refuses_installation_tokens`."""
        return self._call("POST", "/billing", defaults)

    def refuse_installation_tokens(self, org: str, refused: bool | None = True) -> Any:
        return self._call("POST", f"/orgs/{org}/installation-tokens", {"refused": refused})

    def add_spike(self, org: str, day: str, sku: str, factor: float = 10, **kw: Any) -> Any:
        """Multiply a day's quantity of a SKU (`repository="owner/name"` to narrow)."""
        data = {"day": day, "sku": sku, "factor": factor, **kw}
        return self._call("POST", f"/orgs/{org}/spikes", data)

    def spikes(self, org: str) -> list[dict[str, Any]]:
        return self._call("GET", f"/orgs/{org}/spikes")

    def clear_spikes(self, org: str, **match: str) -> None:
        self._call("DELETE", f"/orgs/{org}/spikes", params=match)

    def issue_pat(self, user: str, kind: str = "classic_pat", **options: Any) -> dict[str, Any]:
        """A personal access token: `kind` "classic_pat" (`scope=`) or "fine_grained_pat"
        (`resource_owner=`, `permissions=`); `expires_in=` seconds or `expires_at=`."""
        return self._call("POST", "/tokens", {"user": user, "client": kind, **options})

    def revoke_token(self, token: str) -> None:
        self._call("POST", "/tokens/revoke", {"token": token})

    # webhooks
    def deliveries(self) -> list[dict[str, Any]]:
        return self._call("GET", "/deliveries")

    def redeliver(self, guid: str) -> None:
        self._call("POST", f"/deliveries/{guid}/redeliver")

    def wait_for_deliveries(self, timeout: float = 10) -> None:
        self._call("POST", "/deliveries/wait", {"timeout": timeout})

    def set_webhook_url(self, url: str | None) -> None:
        self._call("PUT", "/webhook", {"url": url})


class SimulatorServer:
    """A threaded werkzeug server running the simulator on a free local port."""

    def __init__(self, config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0):
        self.private_key_pem: str | None = None
        if config is None:
            config, self.private_key_pem = SimConfig.generate()
        self.config = config
        self.app = create_app(config)
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.web_url = ""
        self.api_url = ""
        self.control: ControlClient

    @property
    def state(self) -> Any:
        """Direct access to the simulator's State (same process; hold `.lock`)."""
        return self.app.extensions["ghsim"]

    def start(self) -> SimulatorServer:
        if self._server is not None:
            return self
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=QuietSimRequestHandler
        )
        self.port = self._server.server_port
        self.web_url = f"http://{self.host}:{self.port}"
        self.api_url = self.web_url + "/api/v3"
        self.state.base_url = self.web_url
        self.control = ControlClient(self.web_url)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ghsim-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.state.webhooks.stop()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
