"""Who shows up in the per-user breakdowns: Copilot seat holders and Actions actors.

The usage numbers are generated per seat / actor *index* (ghsim.copilot, ghsim.breakdown);
names are given at render time from the org's current members, so adding a member
renames an index but never changes an amount.

- Roster: the org's active members (owners and members; billing managers are not
  members) in id order, then synthetic colleagues (`amara-okafor`, ...), as many as the
  org has Copilot seats (the demo orgs have few real members). Copilot seat i is roster[i].
- Actions actors: the first `HUMAN_ACTORS` of the roster, two outside collaborators
  (non-member committers), then bots: `dependabot[bot]`, `github-actions[bot]` and
  `Copilot` (the coding agent runs workflows as `Copilot`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ghsim.models import Org

if TYPE_CHECKING:
    from ghsim.state import State

SYNTHETIC = (
    "amara-okafor",
    "bjorn-lind",
    "chen-wei",
    "dana-kowalski",
    "emeka-obi",
    "farah-haddad",
    "goran-petrovic",
    "hana-sato",
    "ivan-moreau",
    "jun-park",
    "kofi-mensah",
    "lena-fischer",
    "mateo-rossi",
    "nadia-karimi",
    "omar-saleh",
    "priya-nair",
    "quinn-obrien",
    "rosa-alvarez",
    "sven-berg",
    "tariq-aziz",
    "uma-reddy",
    "viktor-novak",
    "wen-li",
    "yara-costa",
    "zane-miller",
)
HUMAN_ACTORS = 5
OUTSIDE = ("anya-contractor", "luis-freelance")
BOTS = ("dependabot[bot]", "github-actions[bot]", "Copilot")
#: Actor indices: 0..4 roster, 5..6 outside collaborators, 7.. bots.
DEPENDABOT, ACTIONS_BOT, COPILOT_AGENT = (HUMAN_ACTORS + len(OUTSIDE) + i for i in range(3))
ACTOR_COUNT = HUMAN_ACTORS + len(OUTSIDE) + len(BOTS)


#: User ids of synthetic people: 5590001 + their index (personas start at 5550001).
SYNTHETIC_FIRST_ID = 5590001


def synthetic(index: int) -> str:
    return SYNTHETIC[index] if index < len(SYNTHETIC) else f"dev-{index + 1:05d}"


def synthetic_id(login: str) -> int:
    """A stable id for a synthetic login (outside collaborators and bots included)."""
    names = [*SYNTHETIC, *OUTSIDE, *BOTS]
    if login in names:
        return SYNTHETIC_FIRST_ID + names.index(login)
    if login.startswith("dev-") and login[4:].isdigit():
        return SYNTHETIC_FIRST_ID + 100 + int(login[4:])
    return SYNTHETIC_FIRST_ID + 99999


def roster(member_logins: Sequence[str], size: int) -> list[str]:
    """`size` logins: the members first, then synthetic colleagues not clashing with them."""
    names = list(member_logins[:size])
    taken = {n.lower() for n in names}
    i = 0
    while len(names) < size:
        name = synthetic(i)
        i += 1
        if name.lower() not in taken:
            names.append(name)
    return names


def member_logins(st: State, org: Org) -> list[str]:
    """Active owners and members of `org` in user-id order (hold the state's lock)."""
    members = sorted((m for m in st.org_memberships(org) if m.is_member), key=lambda m: m.user_id)
    return [st.users[m.user_id].login for m in members]


def people_of(st: State, org: Org) -> People:
    """The org's People as of now (hold the state's lock)."""
    return People(member_logins(st, org), org.copilot_seats)


class People:
    """Names for seat and actor indices of one org, as of now."""

    def __init__(self, members: Sequence[str], seats: int) -> None:
        self.seats = roster(members, max(seats, HUMAN_ACTORS))
        self.actors = [*self.seats[:HUMAN_ACTORS], *OUTSIDE, *BOTS]
        self._by_login = {n.lower(): i for i, n in enumerate(self.seats[:seats])}

    def seat_index(self, login: str) -> int | None:
        return self._by_login.get(login.strip().lower())
