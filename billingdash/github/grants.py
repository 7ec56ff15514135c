"""Withdraw billingdash's authorization of a user at GitHub (account deletion).

Authenticated with the client's id and secret (HTTP Basic), not with a token: GitHub's
``/applications/{client_id}/...`` endpoints. Deleting the *grant* revokes every token
the user's authorization of that client issued, and removes billingdash from the user's
authorized applications on GitHub.
"""

from __future__ import annotations

import base64

from billingdash.github import http
from billingdash.github.api_urls import quote_segment
from billingdash.github.oauth import Client, _credentials

__all__ = ["delete_app_authorization"]


def delete_app_authorization(*, client: Client, access_token: str) -> None:
    """Revoke the user's grant for our `client` (``app`` or ``oauth``), given one of the
    user's access tokens; 204. `NotFound`/`Unprocessable` when GitHub no longer knows
    the token (already revoked).
    https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization
    """
    client_id, secret = _credentials(client)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    http.send(
        "DELETE",
        http.api_url(f"/applications/{quote_segment(client_id)}/grant"),
        json={"access_token": access_token},
        headers={"Authorization": f"Basic {basic}"},
    ).close()
