"""In-memory world objects (users, orgs, memberships, teams, installations)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime

ROLES = ("admin", "member", "billing_manager")


def node_id(kind: str, ident: int) -> str:
    """GitHub's legacy global node id, e.g. `MDQ6VXNlcjE=` == base64("04:User1")."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


@dataclass
class User:
    id: int
    login: str
    name: str
    email: str | None
    created_at: datetime

    @property
    def node_id(self) -> str:
        return node_id("User", self.id)


@dataclass
class Repo:
    id: int
    name: str
    private: bool = True


@dataclass
class Org:
    id: int
    login: str
    name: str
    description: str | None
    created_at: datetime
    repos: list[Repo]
    enhanced_billing: bool
    plan: str
    skus_per_repo: int
    density: float
    budgets: int
    copilot_seats: int
    copilot_plan: str
    #: "observed" | "documented" | None (the world's default); see ghsim/dialects.py
    dialect: str | None = None
    #: billing endpoints refuse installation tokens; None: the world's default
    refuses_installation_tokens: bool | None = None

    @property
    def node_id(self) -> str:
        return node_id("Organization", self.id)

    @property
    def created_date(self) -> date:
        return self.created_at.date()


@dataclass
class Membership:
    org_id: int
    user_id: int
    role: str  # admin | member | billing_manager
    state: str = "active"  # active | pending
    public: bool = False

    @property
    def is_member(self) -> bool:
        """Billing managers are not organization members (GitHub's docs)."""
        return self.role in ("admin", "member") and self.state == "active"


@dataclass
class Team:
    id: int
    org_id: int
    slug: str
    name: str
    members: set[int] = field(default_factory=set)

    @property
    def node_id(self) -> str:
        return node_id("Team", self.id)


@dataclass
class Installation:
    id: int
    org_id: int
    permissions: dict[str, str]
    events: list[str]
    created_at: datetime
    updated_at: datetime
    suspended_at: datetime | None = None
    suspended_by: int | None = None

    @property
    def node_id(self) -> str:
        return node_id("IntegrationInstallation", self.id)

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None

    def grants(self, permission: str, level: str = "read") -> bool:
        have = self.permissions.get(permission)
        if have is None:
            return False
        order = {"read": 1, "write": 2, "admin": 3}
        return order.get(have, 0) >= order.get(level, 1)


@dataclass
class InstallRequest:
    id: int
    org_id: int
    requester_id: int
    created_at: datetime
    status: str = "pending"  # pending | approved | denied
