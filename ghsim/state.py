"""The simulator's thread-safe in-memory state, rebuilt deterministically from the config."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime, time
from typing import Any

from ghsim.clock import SimClock, iso
from ghsim.config import SimConfig
from ghsim.faults import FaultRegistry
from ghsim.models import Installation, InstallRequest, Membership, Org, Repo, Team, User
from ghsim.ratelimit import RateLimiter
from ghsim.render import Urls
from ghsim.spikes import Spike, spiked_plan
from ghsim.tokens import TokenStore
from ghsim.usage import OrgPlan, add_months
from ghsim.world import OrgSpec, WorldSpec, repo_name

FIRST_INSTALLATION_ID = 8880001
FIRST_TEAM_ID = 6660001
MAX_LOG = 50000


class State:
    """All mutable simulator state. Hold `state.lock` while reading or changing the world."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock = SimClock(config.clock_offset)
        self.faults = FaultRegistry()
        self.base_url: str | None = None
        self.webhooks: Any = None  # ghsim.webhooks.Dispatcher, attached by create_app
        self.reset()

    # -- (re)building --------------------------------------------------------------
    def reset(
        self, seed: int | None = None, world: WorldSpec | None = None, now: datetime | None = None
    ) -> None:
        """Back to the seeded world. `now` sets the clock first, so the world (org creation
        dates, the 24-month window) is built around that day, as `SIM_NOW` does."""
        with self.lock:
            if seed is not None:
                self.config.seed = int(seed)
            self.clock.reset(self.config.clock_offset)
            if now is not None:
                self.clock.set(now)
            self.tokens = TokenStore(self.clock)
            self.ratelimits = RateLimiter(self.clock)
            self.faults.clear()
            self.requests: list[dict[str, Any]] = []
            self._seq = itertools.count(1)
            self.users: dict[int, User] = {}
            self.orgs: dict[int, Org] = {}
            self.memberships: dict[tuple[int, int], Membership] = {}
            self.teams: dict[int, Team] = {}
            self.installations: dict[int, Installation] = {}
            self.install_requests: dict[int, InstallRequest] = {}
            self._ids = {
                "installation": itertools.count(FIRST_INSTALLATION_ID),
                "team": itertools.count(FIRST_TEAM_ID),
                "request": itertools.count(1),
                "user": itertools.count(5560001),
                "org": itertools.count(7780001),
            }
            self._plans: dict[tuple, OrgPlan] = {}
            # World-level billing switches (control API) and spend spikes per org id.
            self.dialect = self.config.dialect
            self.refuses_installation_tokens = self.config.billing_refuses_installation_tokens
            self.spikes: dict[int, list[Spike]] = {}
            spec = world or self.config.world
            for u in spec.users:
                self.add_user(u.login, u.name, u.id, u.email)
            for o in spec.orgs:
                self.add_org(o)
            if self.webhooks is not None:
                self.webhooks.clear()

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    def add_user(
        self, login: str, name: str, ident: int | None = None, email: str | None = None
    ) -> User:
        user = User(
            id=ident or self.next_id("user"),
            login=login,
            name=name,
            email=email,
            created_at=datetime(2019, 3, 1, 9, 30, tzinfo=UTC),
        )
        self.users[user.id] = user
        return user

    def add_org(self, spec: OrgSpec) -> Org:
        today = self.clock.today()
        created = spec.created or add_months(
            date(today.year, today.month, 1), -spec.created_months_ago
        ).replace(day=15)
        names = [repo_name(i) for i in range(spec.repos)]
        for i, name in enumerate(spec.repo_names[: spec.repos]):
            names[i] = name
        org = Org(
            id=spec.id or self.next_id("org"),
            login=spec.login,
            name=spec.name,
            description=spec.description,
            created_at=datetime.combine(created, time(10, 0), UTC),
            repos=[Repo(id=spec.id * 1000 + i + 1, name=n) for i, n in enumerate(names)],
            enhanced_billing=spec.enhanced_billing,
            plan=spec.plan,
            skus_per_repo=spec.skus_per_repo,
            density=spec.density,
            budgets=spec.budgets,
            copilot_seats=spec.copilot_seats,
            copilot_plan=spec.copilot_plan,
            dialect=spec.dialect,
            refuses_installation_tokens=spec.refuses_installation_tokens,
        )
        self.orgs[org.id] = org
        for login, role in spec.members.items():
            user = self.user(login)
            if user is not None:
                self.memberships[(org.id, user.id)] = Membership(
                    org.id, user.id, role, public=login in spec.public_members
                )
        for slug, logins in spec.teams.items():
            team = Team(self.next_id("team"), org.id, slug, slug.replace("-", " ").title())
            team.members = {u.id for u in (self.user(x) for x in logins) if u is not None}
            self.teams[team.id] = team
        if spec.installed:
            stamp = datetime.combine(created, time(11, 0), UTC)
            inst = Installation(
                id=self.next_id("installation"),
                org_id=org.id,
                permissions=dict(spec.permissions or self.config.app_permissions),
                events=list(self.config.app_events),
                created_at=stamp,
                updated_at=stamp,
            )
            self.installations[inst.id] = inst
        return org

    # -- lookups (case-insensitive logins, as GitHub) ------------------------------
    def user(self, login: str | None) -> User | None:
        login = (login or "").lower()
        return next((u for u in self.users.values() if u.login.lower() == login), None)

    def org(self, login: str | None) -> Org | None:
        login = (login or "").lower()
        return next((o for o in self.orgs.values() if o.login.lower() == login), None)

    def membership(self, org: Org, user: User | None) -> Membership | None:
        return None if user is None else self.memberships.get((org.id, user.id))

    def org_memberships(self, org: Org) -> list[Membership]:
        return sorted(
            (m for (oid, _), m in self.memberships.items() if oid == org.id),
            key=lambda m: self.users[m.user_id].login.lower(),
        )

    def user_memberships(self, user: User) -> list[Membership]:
        return sorted(
            (m for (_, uid), m in self.memberships.items() if uid == user.id),
            key=lambda m: self.orgs[m.org_id].login.lower(),
        )

    def owners(self, org: Org) -> list[User]:
        return [
            self.users[m.user_id]
            for m in self.org_memberships(org)
            if m.role == "admin" and m.state == "active"
        ]

    def org_dialect(self, org: Org) -> str:
        """How the org's enhanced billing endpoints answer (ghsim/dialects.py)."""
        return org.dialect or self.dialect

    def org_refuses_installation_tokens(self, org: Org) -> bool:
        if org.refuses_installation_tokens is not None:
            return org.refuses_installation_tokens
        return self.refuses_installation_tokens

    def installation_for(self, org: Org) -> Installation | None:
        return next((i for i in self.installations.values() if i.org_id == org.id), None)

    def org_teams(self, org: Org) -> list[Team]:
        return [t for t in self.teams.values() if t.org_id == org.id]

    def urls(self) -> Urls:
        return Urls(self.base_url or "http://127.0.0.1")

    def plan(self, org: Org) -> OrgPlan:
        key = (
            org.id,
            org.login,
            len(org.repos),
            org.skus_per_repo,
            org.density,
            org.plan,
            org.copilot_seats,
            org.copilot_plan,
            org.created_at,
            self.config.seed,
            tuple(self.spikes.get(org.id, ())),
        )
        plan = self._plans.get(key)
        if plan is None:
            plan = spiked_plan(org, self.config.seed, self.spikes.get(org.id, ()))
            if len(self._plans) > 32:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    # -- request log ------------------------------------------------------------------
    def next_seq(self) -> int:
        with self.lock:
            return next(self._seq)

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)
            if len(self.requests) > MAX_LOG:
                del self.requests[: MAX_LOG // 10]

    # -- debugging -----------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "now": iso(self.clock.now()),
                "clock_offset": self.clock.offset,
                "seed": self.config.seed,
                "app": {
                    "id": self.config.app_id,
                    "slug": self.config.app_slug,
                    "client_id": self.config.app_client_id,
                    "oauth_client_id": self.config.oauth_client_id,
                    "webhook_url": self.config.webhook_url,
                    "setup_url": self.config.setup_url,
                    "callback_urls": self.config.callback_urls,
                },
                "users": [
                    {"id": u.id, "login": u.login, "name": u.name} for u in self.users.values()
                ],
                "orgs": [self.org_info(o) for o in self.orgs.values()],
                "installations": [self.installation_info(i) for i in self.installations.values()],
                "install_requests": [
                    {
                        "id": r.id,
                        "org": self.orgs[r.org_id].login,
                        "requester": self.users[r.requester_id].login,
                        "status": r.status,
                        "created_at": iso(r.created_at),
                    }
                    for r in self.install_requests.values()
                ],
                "tokens": self.tokens.snapshot(),
                "faults": self.faults.list(),
                "requests_logged": len(self.requests),
            }

    def org_info(self, org: Org) -> dict[str, Any]:
        inst = self.installation_for(org)
        return {
            "id": org.id,
            "login": org.login,
            "name": org.name,
            "created": org.created_date.isoformat(),
            "enhanced_billing": org.enhanced_billing,
            "plan": org.plan,
            "repos": len(org.repos),
            "repo_names": [r.name for r in org.repos[:50]],
            "skus_per_repo": org.skus_per_repo,
            "density": org.density,
            "copilot_seats": org.copilot_seats,
            "copilot_plan": org.copilot_plan,
            "budgets": org.budgets,
            "dialect": org.dialect or self.dialect,
            "refuses_installation_tokens": self.org_refuses_installation_tokens(org),
            "installation_id": inst.id if inst else None,
            "members": [
                {
                    "login": self.users[m.user_id].login,
                    "role": m.role,
                    "state": m.state,
                    "public": m.public,
                }
                for m in self.org_memberships(org)
            ],
            "teams": [
                {"slug": t.slug, "members": sorted(self.users[u].login for u in t.members)}
                for t in self.org_teams(org)
            ],
        }

    def installation_info(self, inst: Installation) -> dict[str, Any]:
        return {
            "id": inst.id,
            "org": self.orgs[inst.org_id].login,
            "org_id": inst.org_id,
            "permissions": dict(inst.permissions),
            "suspended": inst.suspended,
            "created_at": iso(inst.created_at),
        }
