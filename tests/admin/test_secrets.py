"""No secret appears in any admin page: every list, add form, change form, history and
delete page of every registered model is rendered as a superuser, with real rows that
hold tokens, and searched for the tokens, their Fernet ciphertext, the installation
token in the cache, and the App's keys and secrets from settings."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from social_django.models import UserSocialAuth

from accounts.models import AuditEvent, InstallRequest, OrgAccessToken
from alerts.models import Delivery, Digest, FiredAlert, Rule
from billingdash import github
from billingdash.heartbeat import heartbeat_record
from copilot.models import CopilotMonth, CopilotOrgState
from tests.factories import (
    ChannelFactory,
    CollectionRunFactory,
    GitHubTokenFactory,
    MembershipFactory,
    UserFactory,
    WebhookDeliveryFactory,
)
from usage import periods
from usage.models import (
    Budget,
    DailyUsage,
    EndpointAvailability,
    MonthlyRepositoryUsage,
    OrgCollectionState,
    OrgLock,
    UsageItem,
    UsageSummary,
)

from .conftest import STAFF_PASSWORD

pytestmark = [pytest.mark.django_db]

WRONG_PASSWORD = "wrong-Password-that-must-not-show-7781"
# Any GitHub token or Fernet ciphertext, whatever its value.
TOKEN_SHAPE = re.compile(rb"gh[pousr]_[A-Za-z0-9_]{16,}|gAAAAA[A-Za-z0-9_\-=]{20,}")


def _world(installed_org, staff_user, client, gh):
    """Rows in every registered model, holding every kind of secret we keep."""
    org = installed_org("secret-corp")
    inst = org.installations.get()
    olivia = UserFactory(github_login="olivia")
    MembershipFactory(user=olivia, organization=org)
    app_token = GitHubTokenFactory(user=olivia, client="app")
    oauth_token = GitHubTokenFactory(
        user=olivia, client="oauth", refresh_token="", expires_at=None, scopes="read:org"
    )
    # As if the pipeline had left a token in social-auth's plain extra_data.
    UserSocialAuth.objects.create(
        user=olivia,
        provider="github-app",
        uid=str(olivia.github_id),
        extra_data={"login": "olivia", "access_token": str(app_token.access_token)},
    )
    InstallRequest.objects.create(user=olivia, organization=org, account_login=org.login)
    # A token an owner added for the org (the source ladder).
    owner_pat = OrgAccessToken.objects.create(
        organization=org,
        token="ghp_OwnerAddedSecret" + "x" * 17,
        last4="xxxx",
        kind=OrgAccessToken.Kind.CLASSIC,
        github_id=olivia.github_id,
        github_login="olivia",
        added_by=olivia,
    )
    WebhookDeliveryFactory(
        event="ping",
        action="",
        installation_id=inst.installation_id,
        state="failed",
        error="RuntimeError: boom",
        # A ping's hook object carries the hook's config (GitHub masks its secret; we
        # would not rely on that).
        payload={
            "zen": "Keep it simple.",
            "hook": {"config": {"secret": gh.config.webhook_secret}},
        },
    )
    AuditEvent.objects.create(actor=olivia, actor_label="olivia", action="signin", details={})
    CollectionRunFactory(organization=org, state="failed", error="gave up: 502")
    today = timezone.now().date()
    money = {"gross_amount": Decimal(1), "discount_amount": Decimal(0), "net_amount": Decimal(1)}
    UsageItem.objects.create(
        organization=org,
        date=today,
        product="actions",
        sku="Actions Linux",
        unit_type="Minutes",
        quantity=Decimal(10),
        price_per_unit=Decimal("0.006"),
        repository="secret-corp/api",
        **money,
    )
    DailyUsage.objects.create(
        organization=org,
        date=today,
        product="actions",
        sku="Actions Linux",
        unit_type="Minutes",
        quantity=Decimal(10),
        items=1,
        **money,
    )
    MonthlyRepositoryUsage.objects.create(
        organization=org,
        month=periods.current_month(),
        repository="secret-corp/api",
        product="actions",
        sku="Actions Linux",
        quantity=Decimal(10),
        items=1,
        **money,
    )
    UsageSummary.objects.create(
        organization=org,
        month=periods.current_month(),
        items=[],
        fetched_at=timezone.now(),
        **money,
    )
    Budget.objects.create(
        organization=org, github_id="b1", budget_amount=Decimal(100), fetched_at=timezone.now()
    )
    OrgLock.objects.create(
        organization=org, holder="w1", expires_at=timezone.now() + timedelta(minutes=1)
    )
    OrgCollectionState.objects.create(organization=org, backfill_months=3)
    EndpointAvailability.objects.create(
        organization=org, endpoint="budgets", available=False, checked_at=timezone.now()
    )
    heartbeat_record(sent_at=timezone.now(), hostname="worker@host")
    Group.objects.create(name="operators")
    # alerts: a signed webhook channel (URL and signing secret) and a failed delivery.
    hook_url = "https://hooks.example.com/services/T1/B2/AlertHookPathSecret42"
    hook_secret = "bdwhsec_AdminPagesMustNotShowThis0123456789"
    channel = ChannelFactory(
        organization=org,
        kind="webhook",
        destination=hook_url,
        destination_hint="hooks.example.com/…/et42",
        secret=hook_secret,
    )
    Delivery.objects.create(
        channel=channel,
        event="test",
        summary="Test message",
        message={"event": "test", "organization": org.login, "title": "T", "text": "x"},
        max_attempts=1,
        status="failed",
        attempts=1,
        error="hooks.example.com answered 404",
    )
    # alerts: a rule naming that channel, an alert it fired, a digest sent to it.
    rule = Rule.objects.create(organization=org, kind="data_stopped", params={"hours": 24})
    rule.channels.set([channel])
    FiredAlert.objects.create(
        organization=org, rule=rule, kind="data_stopped", period="2026-01-01", key="k"
    )
    Digest.objects.create(
        organization=org,
        channel=channel,
        kind="weekly",
        period_start="2026-01-05",
        period_end="2026-01-11",
    )
    # copilot: its collection state (with the staff-set call budget) and a month.
    CopilotOrgState.objects.create(organization=org, user_calls_per_day=50)
    CopilotMonth.objects.create(
        organization=org, period=periods.current_month(), endpoint="ai_credit"
    )
    # django-axes: a successful and a failed staff sign-in (its access log, attempt and
    # failure log), through the real login form.
    # The staff member signs in with `client`; someone else guesses a password.
    client.post("/admin/login/", {"username": staff_user.username, "password": STAFF_PASSWORD})
    Client().post("/admin/login/", {"username": staff_user.username, "password": WRONG_PASSWORD})
    # The installation token, fetched from the simulator and cached (encrypted).
    installation_token = github.installation_token(inst.installation_id)
    cached = cache.get(f"github:installation-token:{inst.installation_id}", version=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM accounts_githubtoken")
        ciphertexts = [value for row in cursor.fetchall() for value in row if value]
        cursor.execute("SELECT token FROM accounts_orgaccesstoken")
        ciphertexts += [row[0] for row in cursor.fetchall()]
    secrets = {
        "app access token": str(app_token.access_token),
        "app refresh token": str(app_token.refresh_token),
        "oauth access token": str(oauth_token.access_token),
        "owner-added token": str(owner_pat.token),
        "installation token": installation_token,
        "cached installation token ciphertext": cached["token"],
        "webhook secret": django_settings.GITHUB_WEBHOOK_SECRET,
        "App client secret": django_settings.GITHUB_APP_CLIENT_SECRET,
        "OAuth client secret": django_settings.GITHUB_OAUTH_CLIENT_SECRET,
        "Django SECRET_KEY": django_settings.SECRET_KEY,
        "wrong password": WRONG_PASSWORD,
        "staff password": STAFF_PASSWORD,
        "alert webhook URL": hook_url,
        "alert webhook path": "AlertHookPathSecret42",
        "alert webhook secret": hook_secret,
        **{f"token encryption key {i}": k for i, k in enumerate(settings_keys())},
        **{f"token ciphertext {i}": c for i, c in enumerate(ciphertexts)},
        **{f"private key line {i}": line for i, line in enumerate(pem_lines())},
    }
    assert all(secrets.values()), [k for k, v in secrets.items() if not v]
    return org, secrets


def settings_keys() -> list[str]:
    return list(django_settings.TOKEN_ENCRYPTION_KEYS)


def pem_lines() -> list[str]:
    body = django_settings.GITHUB_APP_PRIVATE_KEY.strip().splitlines()
    return [line for line in body if len(line) >= 40]


def pages_of_every_model(client) -> dict[str, bytes]:
    """url -> HTML of every page the admin has for every registered model (each row's
    change, history and delete pages included) and the staff pages around them."""
    pages: dict[str, bytes] = {}
    empty = []

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        pages[url] = response.content

    get(reverse("admin:index"))
    get(reverse("ops"))
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        get(reverse(f"{name}_changelist"))
        get(reverse(f"{name}_changelist") + "?q=secret")
        request = client.get(reverse(f"{name}_changelist")).wsgi_request
        if model_admin.has_add_permission(request):
            get(reverse(f"{name}_add"))
        objects = list(model._default_manager.all()[:5])
        if not objects:
            empty.append(model._meta.label)
        for obj in objects:
            get(reverse(f"{name}_change", args=[obj.pk]))
            get(reverse(f"{name}_history", args=[obj.pk]))
            if model_admin.has_delete_permission(request, obj):
                get(reverse(f"{name}_delete", args=[obj.pk]))
    # Every registered model must have had a row: a model added later gets one here.
    assert not empty, f"give these models a row in _world(): {empty}"
    return pages


def test_no_secret_appears_in_any_admin_page(
    client, staff_user, installed_org, gh, settings, celery_queue
):
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True
    org, secrets = _world(installed_org, staff_user, client, gh)  # signs `client` in
    pages = pages_of_every_model(client)
    # The user's password page and the backfill form (an intermediate action page).
    user = UserFactory._meta.model.objects.get(github_login="olivia")
    password_page = client.get(reverse("admin:auth_user_password_change", args=[user.pk]))
    pages["password"] = password_page.content
    backfill = client.post(
        reverse("admin:accounts_organization_changelist"),
        {"action": "backfill", "index": 0, "_selected_action": [org.pk]},
    )
    assert b"Queue the backfill" in backfill.content
    pages["backfill"] = backfill.content
    assert len(pages) > 60
    for url, html in pages.items():
        for what, secret in secrets.items():
            assert secret.encode() not in html, f"{what} shown on {url}"
        assert not TOKEN_SHAPE.search(html), (url, TOKEN_SHAPE.search(html).group())
    # The pages did show the rows (the check above is not vacuous).
    token_page = pages[reverse("admin:accounts_githubtoken_changelist")]
    assert b"olivia" in token_page and b"GitHub App" in token_page
    delivery = next(u for u in pages if "/webhookdelivery/" in u and u.endswith("/change/"))
    assert b"Keep it simple." in pages[delivery] and b"[redacted]" in pages[delivery]


def test_tokens_are_neither_shown_nor_editable(client, staff_user):
    token = GitHubTokenFactory()
    client.force_login(staff_user)
    url = reverse("admin:accounts_githubtoken_change", args=[token.pk])
    page = client.get(url)
    assert b'name="access_token"' not in page.content
    assert b'name="refresh_token"' not in page.content
    # Posting a new token value changes nothing (the admin is view-only for tokens).
    response = client.post(url, {"access_token": "ghu_replaced", "client": "app"})
    assert response.status_code == 403
    token.refresh_from_db()
    assert str(token.access_token) != "ghu_replaced"
    assert client.get(reverse("admin:accounts_githubtoken_add")).status_code == 403
