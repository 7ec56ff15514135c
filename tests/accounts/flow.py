"""Drive the real "Sign in with GitHub" flow: Django's test client for billingdash (with
CSRF checks on, like a browser) and `requests` for the simulator's authorize page.

    POST /login/github-oauth/  →  simulator /login/oauth/authorize  →  pick a persona
    →  /complete/github-oauth/?code=...&state=...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, parse_qsl, urlsplit

import requests
from django.test import Client


class _Forms(HTMLParser):
    """Collect each form's action and its hidden inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and attrs.get("type") == "hidden":
            self.forms[-1]["fields"][attrs.get("name")] = attrs.get("value", "")


def forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class GitHubBrowser:
    """One browser: a Django client (billingdash) and a requests session (GitHub)."""

    sim_url: str
    client: Client = field(default_factory=lambda: Client(enforce_csrf_checks=True))
    github: requests.Session = field(default_factory=requests.Session)

    def start(self, backend: str, *, next_url: str | None = None) -> requests.PreparedRequest:
        """Open /login/ and press "Sign in with GitHub"; returns the authorize URL."""
        query = {"next": next_url} if next_url is not None else {}
        page = self.client.get("/login/", query)
        assert page.status_code == 200, page.status_code
        form = next(f for f in forms(page.content.decode()) if f["action"].startswith("/login/"))
        data = dict(form["fields"])
        if next_url is not None and "next" not in data:
            data["next"] = next_url  # an attacker posting it directly
        response = self.client.post(f"/login/{backend}/", data)
        assert response.status_code == 302, (response.status_code, response.content[:500])
        return response["Location"]

    def authorize(self, authorize_url: str, persona: str | None, *, cancel: bool = False) -> str:
        """On the simulator's authorize page, pick `persona` (or Cancel); returns the
        callback URL GitHub redirects the browser to."""
        assert authorize_url.startswith(self.sim_url), authorize_url
        page = self.github.get(authorize_url, timeout=10)
        assert page.status_code == 200, page.text[:500]
        form = forms(page.text)[0]
        data = dict(form["fields"])
        if cancel:
            data["cancel"] = "1"
        else:
            data["login"] = persona
        answer = self.github.post(
            self.sim_url + form["action"], data=data, allow_redirects=False, timeout=10
        )
        assert answer.status_code in (302, 303), answer.text[:500]
        return answer.headers["Location"]

    def complete(self, callback_url: str):
        parts = urlsplit(callback_url)
        assert parts.netloc == "testserver", callback_url
        return self.client.get(parts.path, dict(parse_qsl(parts.query)))

    def sign_in(self, persona: str, backend: str = "github-oauth", *, next_url=None):
        """The whole flow; returns billingdash's answer to the callback."""
        return self.complete(self.authorize(self.start(backend, next_url=next_url), persona))


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
