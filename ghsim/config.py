"""Simulator configuration: the App's credentials, URLs, seed, clock offset and the world.

`SimConfig.generate()` makes a fresh RSA-2048 keypair and random secrets (tests call it at
run time; no key material is ever committed). `SimConfig.from_env()` reads the variables
billingdash itself reads, so both sides of `make demo` agree on the same App.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghsim.ratelimit import UNAUTHENTICATED_LIMIT, USER_LIMIT
from ghsim.world import WorldSpec, demo_world

#: What the simulated App requests when it is installed (GitHub's "app-permissions" keys).
DEFAULT_APP_PERMISSIONS: dict[str, str] = {
    "organization_administration": "read",
    "members": "read",
}
#: Webhook events the App subscribes to (`organization` and `membership` need Members read).
DEFAULT_APP_EVENTS: list[str] = ["membership", "organization"]

_ALNUM = string.ascii_letters + string.digits


class ConfigError(ValueError):
    """Raised when the environment does not describe a usable App."""


def _rand(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _dialect(value: str | None) -> str:
    value = (value or "observed").strip().lower()
    if value not in ("observed", "documented"):
        raise ConfigError(f"SIM_DIALECT must be 'observed' or 'documented', not {value!r}")
    return value


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def public_key_from_private(private_pem: str) -> str:
    """Derive the PEM public key (SubjectPublicKeyInfo) from a PEM private key."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )


@dataclass
class SimConfig:
    """Everything the simulator needs to impersonate GitHub for one GitHub App."""

    app_id: int
    app_slug: str
    app_client_id: str
    app_client_secret: str
    app_public_key_pem: str
    webhook_secret: str
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    #: Where webhook deliveries are POSTed; None records them without sending.
    webhook_url: str | None = None
    #: The App's "Setup URL" (after install/update/request).
    setup_url: str | None = None
    #: Allowed redirect_uri prefixes for /login/oauth/authorize; empty accepts any.
    callback_urls: list[str] = field(default_factory=list)
    seed: int = 1
    #: Seconds added to the real clock (the simulator's "now").
    clock_offset: float = 0.0
    #: SIM_USAGE_CACHE_MB: keep rendered usage reports in memory up to this many bytes
    #: (0: off), so benchmarks measure the client, not the generator.
    usage_cache_bytes: int = 0
    world: WorldSpec = field(default_factory=demo_world)
    #: GITHUB_APP_NAME: the App's name, as billingdash's pages say it (one name on both sides).
    app_name: str = "billingdash"
    app_owner_login: str = "billingdash-dev"
    app_permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_APP_PERMISSIONS))
    app_events: list[str] = field(default_factory=lambda: list(DEFAULT_APP_EVENTS))
    #: The classic OAuth App's name on its "Authorize" page: the same name (GITHUB_APP_NAME).
    oauth_app_name: str = "billingdash"
    #: Primary rate limits per hour (GitHub's values); lower them to exercise limits.
    user_rate_limit: int = USER_LIMIT
    unauthenticated_rate_limit: int = UNAUTHENTICATED_LIMIT
    #: None: GitHub's formula (5,000 + 50 per repo/user over 20, max 12,500)
    installation_rate_limit: int | None = None
    #: SIM_DIALECT: how the enhanced billing endpoints answer orgs that do not choose
    #: ("observed": like published real answers; "documented": like GitHub's description)
    dialect: str = "observed"
    #: SIM_BILLING_REFUSES_INSTALLATION_TOKENS: billing endpoints refuse ghs_ tokens (403)
    billing_refuses_installation_tokens: bool = False

    @classmethod
    def generate(cls, **overrides: object) -> tuple[SimConfig, str]:
        """A config with a fresh RSA-2048 keypair and random secrets.

        Returns `(config, private_key_pem)`; the simulator only keeps the public key.
        """
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        config = cls(
            app_id=424242,
            app_slug="billingdash-dev",
            # Current GitHub client ids: "Iv23li" (Apps) / "Ov23li" (OAuth apps) + 14 chars.
            app_client_id="Iv23li" + _rand(14),
            app_client_secret=secrets.token_hex(20),
            app_public_key_pem=public_key_from_private(private_pem),
            webhook_secret=secrets.token_hex(16),
            oauth_client_id="Ov23li" + _rand(14),
            oauth_client_secret=secrets.token_hex(20),
        )
        return replace(config, **overrides), private_pem  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SimConfig:
        """Read the same variables billingdash reads (plus SIM_*)."""
        env = os.environ if environ is None else environ
        missing = [
            name
            for name in (
                "GITHUB_APP_ID",
                "GITHUB_APP_CLIENT_ID",
                "GITHUB_APP_CLIENT_SECRET",
                "GITHUB_WEBHOOK_SECRET",
            )
            if not env.get(name)
        ]
        private_pem = env.get("GITHUB_APP_PRIVATE_KEY", "").replace("\\n", "\n").strip()
        key_path = env.get("GITHUB_APP_PRIVATE_KEY_PATH")
        if not private_pem and key_path:
            private_pem = Path(key_path).read_text()
        if not private_pem:
            missing.append("GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_PATH)")
        if missing:
            raise ConfigError("missing environment variables: " + ", ".join(missing))
        callbacks = [u.strip() for u in env.get("SIM_CALLBACK_URLS", "").split(",") if u.strip()]
        offset = float(env.get("SIM_CLOCK_OFFSET", "0") or 0)
        if env.get("SIM_NOW"):
            when = datetime.fromisoformat(env["SIM_NOW"].replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            offset = when.timestamp() - datetime.now(UTC).timestamp()
        return cls(
            app_id=int(env["GITHUB_APP_ID"]),
            app_slug=env.get("GITHUB_APP_SLUG") or "billingdash-dev",
            app_name=env.get("GITHUB_APP_NAME") or "billingdash",
            oauth_app_name=env.get("GITHUB_APP_NAME") or "billingdash",
            app_client_id=env["GITHUB_APP_CLIENT_ID"],
            app_client_secret=env["GITHUB_APP_CLIENT_SECRET"],
            app_public_key_pem=public_key_from_private(private_pem),
            webhook_secret=env["GITHUB_WEBHOOK_SECRET"],
            oauth_client_id=env.get("GITHUB_OAUTH_CLIENT_ID") or None,
            oauth_client_secret=env.get("GITHUB_OAUTH_CLIENT_SECRET") or None,
            webhook_url=env.get("SIM_WEBHOOK_URL") or None,
            setup_url=env.get("SIM_SETUP_URL") or None,
            callback_urls=callbacks,
            seed=int(env.get("SIM_SEED", "1") or 1),
            clock_offset=offset,
            usage_cache_bytes=int(float(env.get("SIM_USAGE_CACHE_MB") or 0) * 1_000_000),
            dialect=_dialect(env.get("SIM_DIALECT")),
            billing_refuses_installation_tokens=_flag(
                env.get("SIM_BILLING_REFUSES_INSTALLATION_TOKENS")
            ),
        )

    def client_kind(self, client_id: str | None) -> str | None:
        """'app' for the GitHub App's OAuth client, 'oauth' for the classic OAuth App."""
        if client_id and client_id == self.app_client_id:
            return "app"
        if client_id and self.oauth_client_id and client_id == self.oauth_client_id:
            return "oauth"
        return None

    def client_secret_ok(self, client_id: str | None, secret: str | None) -> bool:
        kind = self.client_kind(client_id)
        expected = {"app": self.app_client_secret, "oauth": self.oauth_client_secret}.get(
            kind or ""
        )
        return bool(expected and secret) and secrets.compare_digest(expected, secret or "")
