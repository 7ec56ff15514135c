"""The Flask app: github.com's web side at `/`, the REST API under `/api/v3` (the GitHub
Enterprise Server layout), the control API under `/_sim/`.

Every API response carries GitHub's headers: `x-github-request-id`,
`x-github-api-version-selected`, `x-ratelimit-limit/-remaining/-used/-reset/-resource`,
`x-oauth-scopes` (classic OAuth tokens), `x-accepted-oauth-scopes` and
`x-accepted-github-permissions` where relevant. Faults are applied before the endpoint.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterable, Iterator

from flask import Flask, Response, g, request

from ghsim import (
    control_page,
    pats,
    routes_api,
    routes_app,
    routes_billing,
    routes_control,
    routes_control_billing,
    routes_control_world,
    routes_copilot,
    routes_grants,
    routes_hooks,
    routes_install,
    routes_legacy,
    routes_profiles,
    routes_reports,
    routes_web,
)
from ghsim.apiutil import (
    DEFAULT_API_VERSION,
    SUPPORTED_API_VERSIONS,
    ApiError,
    Caller,
    error_response,
    resolve_caller,
    state,
)
from ghsim.clock import iso
from ghsim.config import SimConfig
from ghsim.faults import Fault
from ghsim.state import State
from ghsim.webhooks import Dispatcher

API = "/api/v3"
RATE_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
SECONDARY_MSG = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID {rid}."
)
STATUS_MESSAGES = {
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    404: "Not Found",
    422: "Validation Failed",
}


class TruncatedFault(Exception):
    """Raised mid-body by the `truncated` fault: the server drops the connection."""


class _QuietTruncation(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "TruncatedFault" not in record.getMessage()


def create_app(config: SimConfig) -> Flask:
    """Build the simulator app (one State, one webhook Dispatcher per app)."""
    app = Flask("ghsim")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    st = State(config)
    st.webhooks = Dispatcher(config, st.clock)
    app.extensions["ghsim"] = st
    for module in (
        routes_billing,
        routes_copilot,
        routes_reports,
        routes_legacy,
        routes_hooks,
        routes_app,
        routes_grants,
        routes_api,
        routes_web,
        routes_install,
        routes_control,
        routes_control_world,
        routes_control_billing,
        control_page,
        routes_profiles,  # last: /<login> and /<owner>/<repo> match what nothing else does
    ):
        app.register_blueprint(module.bp)
    app.before_request(_before)
    pats.register(app)
    app.after_request(_after)
    app.register_error_handler(ApiError, error_response)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(405, _not_found)
    logging.getLogger("werkzeug").addFilter(_QuietTruncation())
    return app


def _not_found(exc: Exception) -> Response:
    if request.path.startswith(API):
        return error_response(ApiError(404, "Not Found"))
    return Response("Not Found", 404, mimetype="text/plain")


def _primary_message(c: Caller) -> str:
    if c.installation is not None:
        who = f"installation ID {c.installation.id}"
    elif c.user is not None:
        who = f"user ID {c.user.id}"
    else:
        return (
            f"API rate limit exceeded for {request.remote_addr}. (But here's the good news: "
            "Authenticated requests get a higher rate limit. Check out the documentation for "
            "more details.)"
        )
    return f"API rate limit exceeded for {who}."


def _before() -> Response | None:
    st = state()
    g.seq = st.next_seq()
    g.request_id = "%04X:%04X:%06X:%06X:%08X" % tuple(  # noqa: UP031 - GitHub's id format
        secrets.randbits(bits) for bits in (16, 16, 24, 24, 32)
    )
    if st.base_url is None:
        st.base_url = request.host_url.rstrip("/")
    g.api = request.path == API or request.path.startswith(API + "/")
    if not g.api:
        return None
    g.api_path = request.path[len(API) :] or "/"
    g.accepted_permissions = None
    g.accepted_scopes = None
    g.body_fault = None
    with st.lock:
        c = g.caller = resolve_caller(st, request)
        g.bucket = st.ratelimits.peek(c.rl_key, c.rl_limit)
    version = request.headers.get("X-GitHub-Api-Version")
    g.api_version = version or DEFAULT_API_VERSION
    for fault in st.faults.match(request.method, g.api_path):
        if fault.kind == "latency":
            time.sleep(fault.latency_ms / 1000)
            continue
        resp = _fault_response(st, fault, c)
        if resp is not None:
            return resp
    if version and version not in SUPPORTED_API_VERSIONS:
        g.api_version = DEFAULT_API_VERSION
        return error_response(ApiError(400, f"API version '{version}' is not supported."))
    if g.api_path == "/rate_limit" and not c.error:
        return None  # does not count against the primary rate limit
    with st.lock:
        g.bucket, exceeded = st.ratelimits.hit(c.rl_key, c.rl_limit)
    if c.error:
        return error_response(ApiError(401, c.error))
    if exceeded:
        return error_response(ApiError(403, _primary_message(c), RATE_DOCS))
    return None


def _fault_response(st: State, fault: Fault, c: Caller) -> Response | None:
    if fault.kind == "status":
        status = fault.status or 500
        msg = fault.message or STATUS_MESSAGES.get(status, "Server Error")
        return error_response(ApiError(status, msg))
    if fault.kind == "secondary_rate_limit":
        msg = fault.message or SECONDARY_MSG.format(rid=g.request_id)
        resp = error_response(
            ApiError(fault.status or 403, msg, RATE_DOCS + "#about-secondary-rate-limits")
        )
        resp.headers["retry-after"] = str(fault.retry_after)
        return resp
    if fault.kind == "primary_rate_limit":
        with st.lock:
            g.bucket = st.ratelimits.exhaust(c.rl_key, c.rl_limit, fault.reset_in)
        msg = fault.message or _primary_message(c)
        return error_response(ApiError(fault.status or 403, msg, RATE_DOCS))
    g.body_fault = fault  # malformed_json / truncated: mangle the real answer afterwards
    return None


def _after(resp: Response) -> Response:
    st = state()
    if getattr(g, "api", False):
        _api_headers(st, resp)
        fault = getattr(g, "body_fault", None)
        if fault is not None:
            _mangle(resp, fault)
    if not request.path.startswith("/_sim"):
        c: Caller | None = getattr(g, "caller", None)
        st.log_request(
            {
                "seq": getattr(g, "seq", 0),
                "at": iso(st.clock.now()),
                "method": request.method,
                "path": request.path,
                "api_path": getattr(g, "api_path", None),
                "kind": "api" if getattr(g, "api", False) else "web",
                "query": request.args.to_dict(flat=True),
                "status": resp.status_code,
                "token_kind": c.kind if c else None,
                "subject": c.subject if c else None,
            }
        )
    return resp


def _api_headers(st: State, resp: Response) -> None:
    h = resp.headers
    c: Caller = g.caller
    bucket = g.bucket
    h["x-github-request-id"] = g.request_id
    h["x-github-api-version-selected"] = g.api_version
    h["x-github-media-type"] = "github.v3; format=json"
    h["x-ratelimit-limit"] = str(bucket.limit)
    h["x-ratelimit-remaining"] = str(bucket.remaining)
    h["x-ratelimit-used"] = str(min(bucket.used, bucket.limit))
    h["x-ratelimit-reset"] = str(bucket.reset)
    h["x-ratelimit-resource"] = "core"
    if c.kind in ("gho", pats.CLASSIC) and not c.error:
        h["x-oauth-scopes"] = ", ".join(c.scopes)
        if g.accepted_scopes is not None:
            h["x-accepted-oauth-scopes"] = g.accepted_scopes
    if c.kind in ("ghu", "ghs", pats.FINE_GRAINED) and g.accepted_permissions:
        h["x-accepted-github-permissions"] = g.accepted_permissions
    expires = pats.expiration_header(c.token) if c.kind in pats.PAT_KINDS else None
    if expires and not c.error:
        h["github-authentication-token-expiration"] = expires


def _mangle(resp: Response, fault: Fault) -> None:
    """malformed_json: a 200-ish body that is not JSON (usage: breaks inside usageItems);
    truncated: the body stops half-way and the connection is dropped."""
    if resp.is_streamed:
        source: Iterable[bytes] = resp.response  # type: ignore[assignment]
    else:
        source = [resp.get_data()]
    resp.headers.pop("Content-Length", None)
    if fault.kind == "malformed_json":
        resp.response = _broken_json(source)
    else:
        resp.response = _truncated(source)


def _chunks(source: Iterable[bytes | str]) -> Iterator[bytes]:
    for chunk in source:
        yield chunk.encode() if isinstance(chunk, str) else chunk


def _broken_json(source: Iterable[bytes | str]) -> Iterator[bytes]:
    chunks = _chunks(source)
    first = next(chunks, b"")
    if first == b'{"usageItems":[':
        yield first
        nxt = next(chunks, b"]}")
        if nxt == b"]}":
            yield b'{"date":"'
        else:
            yield nxt[: max(1, len(nxt) // 2)]
        yield b"\n<html><body>upstream connect error</body></html>"
        return
    yield first[: max(1, len(first) // 2)] + b"\n<!-- truncated upstream response"


def _truncated(source: Iterable[bytes | str]) -> Iterator[bytes]:
    chunks = _chunks(source)
    first = next(chunks, b"")
    if len(first) > 64:
        yield first[: len(first) // 2]
    else:
        yield first
        nxt = next(chunks, b"")
        yield nxt[: len(nxt) // 2]
    raise TruncatedFault("connection dropped by the truncated fault")
