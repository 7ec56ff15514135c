"""The world the simulator starts from: personas, organizations, memberships, teams.

The default is the deterministic demo world described in README.md. Numeric ids are
stable on purpose: tests and the demo may hard-code them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

#: A deliberately hostile repository name (GitHub would never allow it) so that the
#: dashboard's escaping is exercised with untrusted text: never trust names from an API.
XSS_REPO_NAME = "</script><script>alert(1)</script>"

#: Repository names used for generated orgs; beyond the list: `service-00026`...
REPO_NAMES: tuple[str, ...] = (
    "api",
    "web",
    "mobile-app",
    "infra",
    "billing-service",
    "docs",
    "design-system",
    "data-pipeline",
    "auth-service",
    "search",
    "notifications",
    "analytics",
    "cli",
    "sdk-python",
    "sdk-js",
    "terraform-modules",
    "ml-models",
    "website",
    "status-page",
    "load-tests",
    "payments",
    "inventory",
    "handbook",
    "dotfiles",
    "chaos-tests",
)


@dataclass
class UserSpec:
    login: str
    name: str
    id: int
    email: str | None = None


@dataclass
class OrgSpec:
    """One organization and its size knobs for the usage generator."""

    login: str
    name: str
    id: int
    #: login -> "admin" | "member" | "billing_manager"
    members: dict[str, str] = field(default_factory=dict)
    #: members whose membership is public (others are concealed)
    public_members: tuple[str, ...] = ()
    #: team slug -> member logins (for `membership` webhooks)
    teams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    repos: int = 10
    skus_per_repo: int = 5
    enhanced_billing: bool = True
    #: "free" | "team" | "enterprise": decides the included (discounted) quotas
    plan: str = "team"
    created: date | None = None
    #: used when `created` is None: months before the simulator's today
    created_months_ago: int = 24
    installed: bool = False
    #: installation permissions; None means the App's requested permissions
    permissions: dict[str, str] | None = None
    budgets: int = 0
    copilot_seats: int = 0
    copilot_plan: str = "business"
    #: probability that a (repository, SKU) pair has usage on a given day
    density: float = 1.0
    #: repository names replacing the generated ones at the same positions
    repo_names: tuple[str, ...] = ()
    description: str | None = None
    #: how the enhanced billing endpoints answer: "observed" | "documented" | None (the
    #: world's default, SIM_DIALECT); see ghsim/dialects.py
    dialect: str | None = None
    #: billing endpoints refuse installation tokens; None: the world's default
    #: (SIM_BILLING_REFUSES_INSTALLATION_TOKENS)
    refuses_installation_tokens: bool | None = None


@dataclass
class WorldSpec:
    users: list[UserSpec] = field(default_factory=list)
    orgs: list[OrgSpec] = field(default_factory=list)


def repo_name(index: int) -> str:
    if index < len(REPO_NAMES):
        return REPO_NAMES[index]
    return f"service-{index + 1:05d}"


def demo_world() -> WorldSpec:
    """olivia (owner), bill (billing manager), mia (member), nora/charlie (strangers),
    oscar (owner of initech); acme-corp (App installed), globex (not installed),
    initech (not on the enhanced billing platform).

    Dialects: globex always answers like GitHub's description ("documented"); acme-corp
    and initech follow the world's default (SIM_DIALECT, "observed" unless set), so the
    default world has both, and `SIM_DIALECT=documented` turns the whole world documented."""
    users = [
        UserSpec("olivia", "Olivia Owner", 5550001, "olivia@example.com"),
        UserSpec("bill", "Bill Billing", 5550002, "bill@example.com"),
        UserSpec("mia", "Mia Member", 5550003, "mia@example.com"),
        UserSpec("nora", "Nora Nobody", 5550004, "nora@example.com"),
        UserSpec("oscar", "Oscar", 5550005, "oscar@example.com"),
        # architecture.md's stranger persona ("charlie gets 404"); in no org, like nora.
        UserSpec("charlie", "Charlie Stranger", 5550006, "charlie@example.com"),
    ]
    people = {"olivia": "admin", "bill": "billing_manager", "mia": "member"}
    orgs = [
        OrgSpec(
            login="acme-corp",
            name="Acme Corp",
            id=7770001,
            members=dict(people),
            public_members=("olivia",),
            teams={"platform": ("olivia", "mia")},
            repos=25,
            skus_per_repo=6,
            plan="enterprise",
            created_months_ago=30,
            installed=True,
            budgets=5,
            copilot_seats=12,
            copilot_plan="business",
            density=0.9,
            description="Makers of fine anvils",
        ),
        OrgSpec(
            login="globex",
            name="Globex Corporation",
            id=7770002,
            members=dict(people),
            public_members=("olivia", "mia"),
            teams={"engineering": ("olivia", "mia")},
            repos=12,
            skus_per_repo=5,
            plan="team",
            created_months_ago=18,
            installed=False,
            budgets=2,
            copilot_seats=5,
            copilot_plan="enterprise",
            density=0.85,
            # Deliberate XSS test fixture (see XSS_REPO_NAME).
            repo_names=("api", "web", XSS_REPO_NAME),
            description=None,
            dialect="documented",
        ),
        OrgSpec(
            login="initech",
            name="Initech",
            id=7770003,
            members={"oscar": "admin"},
            public_members=("oscar",),
            repos=5,
            skus_per_repo=3,
            enhanced_billing=False,
            plan="team",
            created_months_ago=60,
        ),
    ]
    return WorldSpec(users=users, orgs=orgs)
