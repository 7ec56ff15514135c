"""GitHub App JWT verification with GitHub's rules and error messages.

- RS256, signed with the App's private key (verified here with the public key only).
- `iss` is the App's client ID (recommended) or its numeric app ID as a string.
- `iat` may not be in the future beyond a little clock drift (GitHub suggests issuing it
  60 s in the past for exactly that reason).
- `exp` must be after now and at most 10 minutes after `iat`.
Failures are 401s; the messages below are the ones GitHub returns.
"""

from __future__ import annotations

import json

import jwt
from jwt.exceptions import PyJWTError

from ghsim.config import SimConfig

CLOCK_DRIFT = 60
MAX_LIFETIME = 600

MSG_UNDECODABLE = "A JSON web token could not be decoded"
MSG_EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
MSG_EXP_PAST = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time "
    "at which the assertion expires"
)
MSG_IAT = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
    "was issued"
)
MSG_ISS = "Integration not found"


class JwtError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def looks_like_jwt(token: str) -> bool:
    return token.startswith("eyJ") and token.count(".") == 2


def verify_app_jwt(token: str, config: SimConfig, now: float) -> dict:
    """Return the claims, or raise JwtError with GitHub's message."""
    try:
        header = jwt.get_unverified_header(token)
    except PyJWTError as exc:
        raise JwtError(MSG_UNDECODABLE) from exc
    if header.get("alg") != "RS256":
        raise JwtError(MSG_UNDECODABLE)
    try:
        # Verify the signature only: the claims are checked below with GitHub's rules and the
        # simulator's clock (PyJWT would also reject an integer `iss`, which GitHub accepts).
        raw = jwt.PyJWS().decode(token, config.app_public_key_pem, algorithms=["RS256"])
        claims = json.loads(raw)
    except (PyJWTError, ValueError) as exc:
        raise JwtError(MSG_UNDECODABLE) from exc
    if not isinstance(claims, dict):
        raise JwtError(MSG_UNDECODABLE)
    iat, exp, iss = claims.get("iat"), claims.get("exp"), claims.get("iss")
    if not isinstance(iat, int | float) or isinstance(iat, bool) or iat > now + CLOCK_DRIFT:
        raise JwtError(MSG_IAT)
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= now:
        raise JwtError(MSG_EXP_PAST)
    if exp - iat > MAX_LIFETIME or exp > now + MAX_LIFETIME + CLOCK_DRIFT:
        raise JwtError(MSG_EXP_TOO_FAR)
    if str(iss) not in (config.app_client_id, str(config.app_id)):
        raise JwtError(MSG_ISS)
    return claims
