"""OAuth codes, user tokens (ghu_/gho_), refresh tokens (ghr_) and installation tokens (ghs_).

GitHub quirks reproduced here:
- GitHub App user tokens expire after 8 hours (`expires_in` 28800) and come with a
  refresh token valid 6 months (15811200 s); using a refresh token invalidates it AND the
  access token it was issued with.
- Classic OAuth App tokens (`gho_`) carry the requested scopes and never expire.
- Authorization codes are single-use and expire after 10 minutes.
- Installation tokens (`ghs_`) expire after one hour.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

from ghsim.clock import SimClock, iso

_ALNUM = string.ascii_letters + string.digits
USER_TOKEN_TTL = 28800
REFRESH_TOKEN_TTL = 15811200
INSTALLATION_TOKEN_TTL = 3600
CODE_TTL = 600


def random_token(prefix: str, length: int = 36) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


@dataclass
class Token:
    value: str
    kind: str  # "ghu" | "gho" | "ghs" | "ghp" | "github_pat" (PATs: ghsim/pats.py)
    created_at: float
    expires_at: float | None
    user_id: int | None = None
    client_id: str | None = None
    installation_id: int | None = None
    scopes: tuple[str, ...] = ()
    permissions: dict[str, str] = field(default_factory=dict)
    repository_ids: tuple[int, ...] | None = None
    refresh_token: str | None = None
    revoked: bool = False
    #: the org a fine-grained PAT is bound to
    resource_owner_id: int | None = None


@dataclass
class RefreshToken:
    value: str
    user_id: int
    client_id: str
    access_token: str
    expires_at: float
    used: bool = False


@dataclass
class AuthCode:
    value: str
    client_id: str
    user_id: int
    redirect_uri: str | None
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    created_at: float
    used: bool = False


class TokenStore:
    """Not thread-safe by itself: callers hold the State lock."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.codes: dict[str, AuthCode] = {}

    # -- authorization codes --------------------------------------------------------
    def new_code(self, **fields: object) -> AuthCode:
        code = AuthCode(value=secrets.token_hex(10), created_at=self.clock.now(), **fields)  # type: ignore[arg-type]
        self.codes[code.value] = code
        return code

    def peek_code(self, value: str | None) -> AuthCode | None:
        code = self.codes.get(value or "")
        if code is None or code.used or self.clock.now() - code.created_at > CODE_TTL:
            return None
        return code

    # -- user tokens ----------------------------------------------------------------
    def issue_user_token(
        self,
        *,
        user_id: int,
        client_id: str,
        kind: str,
        scopes: tuple[str, ...] = (),
        expires_in: int | None = USER_TOKEN_TTL,
        with_refresh: bool = True,
    ) -> Token:
        now = self.clock.now()
        token = Token(
            value=random_token(kind + "_"),
            kind=kind,
            created_at=now,
            expires_at=None if expires_in is None else now + expires_in,
            user_id=user_id,
            client_id=client_id,
            scopes=scopes,
        )
        if kind == "ghu" and with_refresh:
            refresh = RefreshToken(
                value=random_token("ghr_", 76),
                user_id=user_id,
                client_id=client_id,
                access_token=token.value,
                expires_at=now + REFRESH_TOKEN_TTL,
            )
            self.refresh_tokens[refresh.value] = refresh
            token.refresh_token = refresh.value
        self.tokens[token.value] = token
        return token

    def use_refresh_token(self, value: str | None, client_id: str) -> RefreshToken | None:
        """Consume a refresh token; the old access token dies with it."""
        refresh = self.refresh_tokens.get(value or "")
        if (
            refresh is None
            or refresh.used
            or refresh.client_id != client_id
            or self.clock.now() >= refresh.expires_at
        ):
            return None
        refresh.used = True
        old = self.tokens.get(refresh.access_token)
        if old is not None:
            old.revoked = True
        return refresh

    # -- installation tokens --------------------------------------------------------
    def issue_installation_token(
        self,
        installation_id: int,
        permissions: dict[str, str],
        repository_ids: tuple[int, ...] | None = None,
    ) -> Token:
        now = self.clock.now()
        token = Token(
            value=random_token("ghs_"),
            kind="ghs",
            created_at=now,
            expires_at=now + INSTALLATION_TOKEN_TTL,
            installation_id=installation_id,
            permissions=dict(permissions),
            repository_ids=repository_ids,
        )
        self.tokens[token.value] = token
        return token

    # -- lookup / revocation --------------------------------------------------------
    def lookup(self, value: str) -> Token | None:
        token = self.tokens.get(value)
        if token is None or token.revoked:
            return None
        if token.expires_at is not None and self.clock.now() >= token.expires_at:
            return None
        return token

    def revoke(self, value: str) -> None:
        token = self.tokens.get(value)
        if token is not None:
            token.revoked = True

    def revoke_user_client(self, user_id: int, client_id: str) -> int:
        """The user revoked the App's authorization: every token of that grant dies."""
        count = 0
        for token in self.tokens.values():
            if token.user_id == user_id and token.client_id == client_id and not token.revoked:
                token.revoked = True
                count += 1
        for refresh in self.refresh_tokens.values():
            if refresh.user_id == user_id and refresh.client_id == client_id:
                refresh.used = True
        return count

    def revoke_installation(self, installation_id: int) -> None:
        for token in self.tokens.values():
            if token.installation_id == installation_id:
                token.revoked = True

    def snapshot(self) -> list[dict[str, object]]:
        now = self.clock.now()
        return [
            {
                "token": t.value,
                "kind": t.kind,
                "user_id": t.user_id,
                "installation_id": t.installation_id,
                "client_id": t.client_id,
                "scopes": list(t.scopes),
                "expires_at": iso(t.expires_at),
                "valid": not t.revoked and (t.expires_at is None or now < t.expires_at),
            }
            for t in self.tokens.values()
        ]


def user_token_response(token: Token, config_client_kind: str) -> dict[str, object]:
    """The token endpoint's JSON for a freshly issued user token."""
    if config_client_kind == "app":
        expires_in = (
            None if token.expires_at is None else round(token.expires_at - token.created_at)
        )
        body: dict[str, object] = {"access_token": token.value}
        if expires_in is not None:
            body["expires_in"] = expires_in
        if token.refresh_token:
            body["refresh_token"] = token.refresh_token
            body["refresh_token_expires_in"] = REFRESH_TOKEN_TTL
        body["scope"] = ""
        body["token_type"] = "bearer"
        return body
    return {"access_token": token.value, "scope": ",".join(token.scopes), "token_type": "bearer"}
