"""Tiny HTML helpers for the simulated github.com pages (everything escaped)."""

from __future__ import annotations

import hashlib
import hmac
from html import escape

from flask import Request, Response

COOKIE = "ghsim_user"

_STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;background:#f6f8fa;
color:#1f2328;margin:0}
header{background:#24292f;color:#fff;padding:12px 24px;font-weight:600}
header small{font-weight:400;opacity:.7;margin-left:8px}
main{max-width:760px;margin:32px auto;background:#fff;border:1px solid #d0d7de;
border-radius:6px;padding:24px}
button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #d0d7de;
background:#f6f8fa;cursor:pointer;margin:4px 4px 4px 0}
button.primary{background:#1f883d;color:#fff;border-color:#1a7f37}
button.danger{color:#cf222e}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;
padding:6px;text-align:left;vertical-align:top}
code{background:#eff1f3;padding:1px 4px;border-radius:4px}
.muted{color:#59636e}.flash{background:#ddf4ff;border:1px solid #54aeff;padding:8px;
border-radius:6px}
"""


def e(value: object) -> str:
    return escape(str(value), quote=True)


def page(title: str, body: str, status: int = 200, signed_in: str | None = None) -> Response:
    who = f"<small>signed in as {e(signed_in)}</small>" if signed_in else ""
    html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        # No favicon to fetch: a browser asking for /favicon.ico logs a 404 otherwise.
        "<link rel='icon' href='data:,'>"
        f"<title>{e(title)} · GitHub (ghsim)</title><style>{_STYLE}</style></head>"
        f"<body><header>GitHub <small>simulator</small>{who}</header>"
        f"<main>{body}</main></body></html>"
    )
    return Response(html, status=status, mimetype="text/html")


def hidden(**fields: object) -> str:
    return "".join(
        f"<input type='hidden' name='{e(k)}' value='{e(v)}'>"
        for k, v in fields.items()
        if v is not None
    )


def sign_cookie(secret: bytes, login: str) -> str:
    mac = hmac.new(secret, login.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{login}:{mac}"


def cookie_login(secret: bytes, req: Request) -> str | None:
    raw = req.cookies.get(COOKIE, "")
    login, _, _mac = raw.rpartition(":")
    if login and hmac.compare_digest(sign_cookie(secret, login), raw):
        return login
    return None
