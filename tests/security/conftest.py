"""Shared pieces of the hostile-input and security suites.

- `fuzz(n)`: hypothesis settings for this suite: ``n`` examples, derandomized (the same
  examples on every machine and in CI), no example database, no deadline.
- `snapshot()`: a digest of every row of every model of ours (and social-auth's and the
  sessions'), to prove a request changed nothing it should not.
- `rolled_back()`: each hypothesis example runs inside a savepoint that is rolled back,
  so examples never see each other's rows (hypothesis replays examples while shrinking).
- `routes()`: every URL pattern (`get_resolver()`), with a URL built from sample values.
- `world`: ``sec-corp`` created in the simulator, installed, its current month collected
  over real HTTP, and the personas: olivia (owner), bill (billing manager), mia (member),
  charlie (stranger, owner of another org) and a staff superuser.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, settings

from accounts.models import Organization, User
from tests.dashboard.conftest import collect, join, mirror, persona
from tests.factories import StaffUserFactory
from usage import periods

ORG = "sec-corp"
PERSONAS = ("olivia", "bill", "mia", "charlie")
SNAPSHOT_APPS = ("accounts", "usage", "social_django", "sessions", "axes")


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def snapshot(*, exclude: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """model label -> (rows, md5 of every row's values in primary-key order), computed
    by PostgreSQL (one query per table)."""
    digests: dict[str, tuple[int, str]] = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            label = model._meta.label
            if model._meta.app_label not in SNAPSHOT_APPS or label in exclude:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.{pk}), '')) "
                f"FROM {table} t"
            )
            digests[label] = tuple(cursor.fetchone())
    return digests


def changed(before: dict, after: dict) -> dict[str, tuple[int, int]]:
    """label -> (rows before, rows after) of every model whose rows changed."""
    return {k: (before[k][0], after[k][0]) for k in before if before[k] != after.get(k)}


@contextlib.contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- every URL pattern --------------------------------------------------------------------

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str  # "orgs/<str:login>/"
    name: str  # "org_dashboard", "social:complete", "admin:accounts_user_change"
    callback: Any

    @property
    def view_name(self) -> str:
        return getattr(self.callback, "__name__", repr(self.callback))

    def url(self, **values: str) -> str:
        """The route with `values` for its parameters ("1" or "x" for the others)."""

        def value(match: re.Match) -> str:
            if match["name"] in values:
                return values[match["name"]]
            return "1" if match["converter"] in ("int", "path") else "x"

        return "/" + _PARAM.sub(value, self.route)


def routes() -> list[Route]:
    """Every URL pattern of the project (regex patterns such as the admin's ``^...$``
    are turned into a plain route: anchors dropped, groups given sample values)."""

    def walk(patterns, prefix: str, namespace: str) -> Iterator[Route]:
        for entry in patterns:
            text = str(entry.pattern).lstrip("^").rstrip("$").replace("\\", "")
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, prefix + text, ns)
            elif isinstance(entry, URLPattern):
                route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", prefix + text)
                yield Route(route, namespace + (entry.name or ""), entry.callback)

    return list(walk(get_resolver().url_patterns, "", ""))


# --- the world ------------------------------------------------------------------------


@dataclass
class World:
    org: Organization
    people: dict[str, User]
    staff: User
    clients: dict[str, Client]  # persona (and "staff", "anonymous") -> a signed-in client


@pytest.fixture
def world(github_settings, settings, db) -> World:
    cache.clear()  # installation tokens of another test's simulator world
    settings.COLLECTION_LEASE_SECONDS = 600
    github_settings.control.create_org(
        ORG,
        repos=3,
        skus_per_repo=2,
        budgets=1,
        copilot_seats=2,
        created_months_ago=6,
        members={"olivia": "admin", "bill": "billing_manager", "mia": "member"},
    )
    org = mirror(github_settings, ORG)
    people = {login: persona(login) for login in PERSONAS}
    join(org, people)
    collect(org, [periods.current_month()])
    staff = StaffUserFactory(username="sec-staff")
    clients = {"anonymous": Client()}
    for who, user in [*people.items(), ("staff", staff)]:
        clients[who] = Client()
        clients[who].force_login(user)
    return World(org=org, people=people, staff=staff, clients=clients)
