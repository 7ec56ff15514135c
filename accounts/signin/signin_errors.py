"""Plain-language explanations of sign-in failures (social-auth's error codes)."""

from __future__ import annotations

from dataclasses import dataclass

from social_core.exceptions import SocialAuthBaseException


@dataclass(frozen=True)
class SignInError:
    title: str
    message: str
    retry: bool = True
    provider_code: str = ""


_RESTART = (
    "This sign-in attempt has expired or was already used",
    "For your safety each attempt works once, only in the browser that started it, "
    "and for ten minutes. Start again and it will work.",
)
_UNREACHABLE = (
    "GitHub could not be reached",
    "billingdash could not talk to GitHub to finish signing you in. This is usually "
    "brief: try again in a moment.",
)
_UNAVAILABLE = (
    "GitHub is having trouble right now",
    "GitHub answered with an error while signing you in. Try again in a moment; if it "
    "keeps happening, check githubstatus.com.",
)
_MISCONFIGURED = (
    "Sign-in with GitHub is not set up correctly",
    "GitHub refused billingdash's sign-in settings (client id, secret or callback URL). "
    "Please tell whoever runs billingdash; the details are in the server log.",
)

_BY_CODE: dict[str, tuple[str, str]] = {
    "authorization_declined": (
        "You cancelled signing in on GitHub",
        "No problem. billingdash only asks GitHub who you are and which organizations "
        "you belong to. You can try again whenever you like.",
    ),
    "state_mismatch": _RESTART,
    "session_context_missing": _RESTART,
    "missing_parameter": _RESTART,
    "invalid_parameter": _RESTART,
    "authorization_code_rejected": (
        "GitHub did not accept the sign-in code",
        "The code GitHub gave your browser was already used or has expired. Start again "
        "to get a fresh one.",
    ),
    "connection_failed": _UNREACHABLE,
    "timeout": _UNREACHABLE,
    "unavailable": _UNAVAILABLE,
    "rate_limited": (
        "GitHub is limiting requests right now",
        "GitHub asked billingdash to slow down. Wait a minute and try again.",
    ),
    "credential_rejected": (
        "GitHub refused the new sign-in",
        "GitHub did not accept the token it had just issued. Try again.",
    ),
    "malformed_response": (
        "GitHub sent an answer billingdash did not understand",
        "Try again in a moment. If it keeps happening, please tell whoever runs billingdash.",
    ),
    "missing_claim": (
        "GitHub sent an incomplete answer",
        "Try again in a moment. If it keeps happening, please tell whoever runs billingdash.",
    ),
    "missing_setting": (
        "This way of signing in is not enabled",
        "Use the sign-in button on the sign-in page.",
    ),
    "invalid_setting": _MISCONFIGURED,
    "identity_in_use": (
        "This GitHub account is linked to another billingdash account",
        "Sign out and sign in again with GitHub.",
    ),
}

# Errors GitHub reports with HTTP 200 that mean our configuration is wrong.
_CONFIG_PROVIDER_CODES = {
    "incorrect_client_credentials",
    "redirect_uri_mismatch",
    "unverified_user_email",
    "invalid_client",
    "unauthorized_client",
}


def describe(exception: SocialAuthBaseException) -> SignInError:
    """Title and explanation of a sign-in failure, for `accounts/signin_error.html`."""
    provider_code = str(exception.provider_code or "")
    if provider_code in _CONFIG_PROVIDER_CODES:
        title, message = _MISCONFIGURED
    else:
        title, message = _BY_CODE.get(
            exception.code,
            (
                "Signing in with GitHub did not work",
                "Something went wrong while GitHub and billingdash were talking. Try again.",
            ),
        )
    return SignInError(title=title, message=message, provider_code=provider_code[:100])
