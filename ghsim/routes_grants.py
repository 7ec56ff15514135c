"""Deleting an app authorization (a user's grant), as GitHub documents it.

- `DELETE /applications/{client_id}/grant` with HTTP Basic auth (the client id and
  secret) and a JSON body ``{"access_token": ...}``: 204, and every token of the user's
  grant for that client is revoked (refresh tokens too). A token GitHub does not know
  (or already revoked) answers 422 "Validation Failed"; wrong client credentials 404
  (GitHub answers 404 rather than 401 on these endpoints).
- `DELETE /applications/{client_id}/token`: the same, for that one token only.
https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from ghsim.apiutil import ApiError, not_found, state, validation_failed

bp = Blueprint("grants_api", __name__, url_prefix="/api/v3")

D_GRANT = "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization"
D_TOKEN = "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-token"


def _client_authenticated(client_id: str, doc: str) -> None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise ApiError(401, "Requires authentication", doc)
    try:
        user, _, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401, "Bad credentials", doc) from None
    if user != client_id or not state().config.client_secret_ok(client_id, secret):
        raise not_found(doc)


def _token(client_id: str, doc: str):
    body = request.get_json(silent=True)
    value = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise validation_failed("access_token", "Application", doc)
    token = state().tokens.lookup(value)
    if token is None or token.client_id != client_id or token.user_id is None:
        raise validation_failed("access_token", "Application", doc)
    return token


@bp.delete("/applications/<client_id>/grant")
def delete_grant(client_id: str) -> ResponseReturnValue:
    _client_authenticated(client_id, D_GRANT)
    st = state()
    with st.lock:
        token = _token(client_id, D_GRANT)
        st.tokens.revoke_user_client(int(token.user_id), client_id)
    return Response(status=204)


@bp.delete("/applications/<client_id>/token")
def delete_token(client_id: str) -> ResponseReturnValue:
    _client_authenticated(client_id, D_TOKEN)
    st = state()
    with st.lock:
        token = _token(client_id, D_TOKEN)
        st.tokens.revoke(token.value)
    return Response(status=204)
