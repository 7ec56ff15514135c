"""github.com's web side: OAuth authorize (persona picker), token endpoint, sign-in cookie.

Quirks reproduced:
- The token endpoint answers errors with HTTP 200 and an `error` field; it answers
  form-encoded unless the client sends `Accept: application/json`.
- A redirect_uri that does not match the registered callback URLs sends the browser to
  the first callback URL with `error=redirect_uri_mismatch`; "Cancel" redirects with
  `error=access_denied`.
- PKCE: only S256; when the authorize call had a challenge, the exchange must send the
  matching `code_verifier`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, redirect, request
from flask.typing import ResponseReturnValue

from ghsim.apiutil import state
from ghsim.html import COOKIE, cookie_login, e, hidden, page, sign_cookie
from ghsim.tokens import user_token_response

bp = Blueprint("web", __name__)

TROUBLE = "/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"
ERRORS = {
    "incorrect_client_credentials": (
        "The client_id and/or client_secret passed are incorrect.",
        TROUBLE + "/#incorrect-client-credentials",
    ),
    "redirect_uri_mismatch": (
        "The redirect_uri MUST match the registered callback URL for this application.",
        "/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/"
        "#redirect-uri-mismatch2",
    ),
    "bad_verification_code": (
        "The code passed is incorrect or expired.",
        TROUBLE + "/#bad-verification-code",
    ),
    "bad_refresh_token": ("The refresh token passed is incorrect or expired.", TROUBLE),
    "unsupported_grant_type": ("The grant type is not supported.", TROUBLE),
}
PKCE_METHOD_ERROR = "Only the S256 code_challenge_method is supported."
AUTHZ_DOCS = (
    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors"
)


def add_query(url: str, **params: str | int | None) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def cookie_secret() -> bytes:
    return state().config.app_client_secret.encode()


def signed_in() -> str | None:
    login = cookie_login(cookie_secret(), request)
    with state().lock:
        return login if login and state().user(login) else None


def set_signed_in(resp: Response, login: str) -> Response:
    resp.set_cookie(COOKIE, sign_cookie(cookie_secret(), login), httponly=True, samesite="Lax")
    return resp


def persona_buttons() -> str:
    with state().lock:
        users = sorted(state().users.values(), key=lambda u: u.id)
        return "".join(
            f"<p><button type='submit' name='login' value='{e(u.login)}'>"
            f"{e(u.name)} (<code>{e(u.login)}</code>)</button></p>"
            for u in users
        )


# -- OAuth authorize ------------------------------------------------------------------
def _authorize_params() -> dict[str, str | None]:
    src = request.form if request.method == "POST" else request.args
    keys = (
        "client_id",
        "redirect_uri",
        "state",
        "scope",
        "code_challenge",
        "code_challenge_method",
    )
    return {k: src.get(k) or None for k in keys}


@bp.route("/login/oauth/authorize", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    cfg = state().config
    p = _authorize_params()
    kind = cfg.client_kind(p["client_id"])
    if kind is None:
        return page(
            "Not Found",
            "<h1>404</h1><p>This is not the web page you are looking for."
            " (unknown <code>client_id</code>)</p>",
            404,
        )
    redirect_uri = p["redirect_uri"] or (cfg.callback_urls[0] if cfg.callback_urls else None)
    if redirect_uri is None:
        return page("Bad request", "<p>Missing <code>redirect_uri</code>.</p>", 400)
    if cfg.callback_urls and not any(redirect_uri.startswith(c) for c in cfg.callback_urls):
        desc, _uri = ERRORS["redirect_uri_mismatch"]
        target = add_query(
            cfg.callback_urls[0],
            error="redirect_uri_mismatch",
            error_description=desc,
            error_uri=AUTHZ_DOCS + "/#redirect-uri-mismatch",
            state=p["state"],
        )
        return redirect(target)
    if p["code_challenge"] and (p["code_challenge_method"] or "S256") != "S256":
        return redirect(
            add_query(
                redirect_uri,
                error="invalid_request",
                error_description=PKCE_METHOD_ERROR,
                state=p["state"],
            )
        )
    if request.method == "POST":
        return _authorize_decision(kind, redirect_uri, p)
    app_name = cfg.app_name if kind == "app" else cfg.oauth_app_name
    scopes = "" if kind == "app" else (p["scope"] or "(no scope)")
    body = (
        f"<h1>Authorize {e(app_name)}</h1>"
        + (f"<p class='muted'>Requested scopes: <code>{e(scopes)}</code></p>" if scopes else "")
        + "<p>Choose who you are on this simulated GitHub:</p>"
        + "<form method='post' action='/login/oauth/authorize'>"
        + hidden(**p)
        + persona_buttons()
        + "<p><button type='submit' name='cancel' value='1' class='danger'>Cancel</button></p>"
        + "</form>"
    )
    return page(f"Authorize {app_name}", body, signed_in=signed_in())


def _authorize_decision(kind: str, redirect_uri: str, p: dict[str, str | None]) -> Response:
    if request.form.get("cancel"):
        return redirect(
            add_query(
                redirect_uri,
                error="access_denied",
                error_description="The user has denied your application access.",
                error_uri=AUTHZ_DOCS + "/#access-denied",
                state=p["state"],
            )
        )
    st = state()
    with st.lock:
        user = st.user(request.form.get("login"))
        if user is None:
            return page("Bad request", "<p>Unknown persona.</p>", 400)
        code = st.tokens.new_code(
            client_id=p["client_id"],
            user_id=user.id,
            redirect_uri=p["redirect_uri"],
            scope=p["scope"] or "",
            code_challenge=p["code_challenge"],
            code_challenge_method=(p["code_challenge_method"] or "S256")
            if p["code_challenge"]
            else None,
        )
        login = user.login
    resp = redirect(add_query(redirect_uri, code=code.value, state=p["state"]))
    return set_signed_in(resp, login)


# -- token endpoint ---------------------------------------------------------------------
def _token_params() -> dict[str, str]:
    params: dict[str, str] = {}
    if request.is_json:
        body = request.get_json(silent=True) or {}
        if isinstance(body, dict):
            params.update({k: str(v) for k, v in body.items() if v is not None})
    params.update({k: v for k, v in request.form.items()})
    params.update({k: v for k, v in request.args.items() if k not in params})
    auth = request.authorization
    if auth and auth.type == "basic" and auth.username:
        params.setdefault("client_id", auth.username)
        params.setdefault("client_secret", auth.password or "")
    return params


def _token_reply(data: dict[str, object]) -> Response:
    if "application/json" in request.headers.get("Accept", ""):
        return Response(json.dumps(data), 200, mimetype="application/json")
    flat = {k: "" if v is None else str(v) for k, v in data.items()}
    return Response(urlencode(flat), 200, mimetype="application/x-www-form-urlencoded")


def _token_error(name: str, description: str | None = None) -> Response:
    desc, uri = ERRORS[name]
    docs = "https://docs.github.com" + uri
    return _token_reply(
        {"error": name, "error_description": description or desc, "error_uri": docs}
    )


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@bp.post("/login/oauth/access_token")
def access_token() -> ResponseReturnValue:
    st = state()
    cfg = st.config
    p = _token_params()
    client_id = p.get("client_id")
    if not cfg.client_secret_ok(client_id, p.get("client_secret")):
        return _token_error("incorrect_client_credentials")
    kind = cfg.client_kind(client_id)
    grant = p.get("grant_type") or "authorization_code"
    with st.lock:
        if grant == "refresh_token":
            refresh = st.tokens.use_refresh_token(p.get("refresh_token"), client_id or "")
            if kind != "app" or refresh is None:
                return _token_error("bad_refresh_token")
            token = st.tokens.issue_user_token(
                user_id=refresh.user_id, client_id=refresh.client_id, kind="ghu"
            )
            return _token_reply(user_token_response(token, "app"))
        if grant != "authorization_code":
            return _token_error("unsupported_grant_type")
        code = st.tokens.peek_code(p.get("code"))
        if code is None or code.client_id != client_id:
            return _token_error("bad_verification_code")
        if p.get("redirect_uri") and code.redirect_uri and p["redirect_uri"] != code.redirect_uri:
            return _token_error("redirect_uri_mismatch")
        if code.code_challenge:
            verifier = p.get("code_verifier") or ""
            if not verifier or not secrets.compare_digest(_s256(verifier), code.code_challenge):
                return _token_error(
                    "bad_verification_code",
                    "The code_verifier does not match the code_challenge of the authorization.",
                )
        code.used = True
        if kind == "app":
            token = st.tokens.issue_user_token(
                user_id=code.user_id, client_id=code.client_id, kind="ghu"
            )
        else:
            scopes = tuple(s for s in code.scope.replace(" ", ",").split(",") if s)
            token = st.tokens.issue_user_token(
                user_id=code.user_id,
                client_id=code.client_id,
                kind="gho",
                scopes=scopes,
                expires_in=None,
            )
        return _token_reply(user_token_response(token, kind or "oauth"))


# -- sign-in, home, avatars ------------------------------------------------------------------
@bp.get("/login")
def login_page() -> ResponseReturnValue:
    return_to = request.args.get("return_to") or "/"
    body = (
        "<h1>Sign in to GitHub</h1><p>Pick a persona:</p>"
        "<form method='post' action='/session'>"
        + hidden(return_to=return_to)
        + persona_buttons()
        + "</form>"
    )
    return page("Sign in", body, signed_in=signed_in())


@bp.post("/session")
def create_session() -> ResponseReturnValue:
    login = request.form.get("login", "")
    return_to = request.form.get("return_to") or "/"
    if not return_to.startswith("/") or return_to.startswith("//"):
        return_to = "/"
    with state().lock:
        user = state().user(login)
    if user is None:
        return page("Bad request", "<p>Unknown persona.</p>", 400)
    return set_signed_in(redirect(return_to), user.login)


@bp.get("/logout")
def logout() -> ResponseReturnValue:
    resp = redirect("/")
    resp.delete_cookie(COOKIE)
    return resp


@bp.get("/")
def home() -> ResponseReturnValue:
    who = signed_in()
    body = (
        "<h1>ghsim</h1><p>A local GitHub simulator: github.com's web side here, the REST API "
        "under <code>/api/v3</code>.</p>"
        "<p><a href='/_sim/'>Simulator control page</a> · <a href='/login'>Sign in</a>"
        " · <a href='/logout'>Sign out</a></p>"
    )
    return page("ghsim", body, signed_in=who)


@bp.get("/avatars/u/<int:ident>")
def avatar(ident: int) -> ResponseReturnValue:
    hue = (ident * 47) % 360
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64'>"
        f"<rect width='64' height='64' fill='hsl({hue},55%,55%)'/></svg>"
    )
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "max-age=3600"})
