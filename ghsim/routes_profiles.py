"""github.com's profile pages, so that the links the API hands out resolve: a user's or
an organization's ``html_url`` (``/<login>``) and a repository's (``/<owner>/<repo>``).
Simple pages: name, login, avatar, and what the simulator knows (an org's repositories
and members, a user's organizations). Unknown logins answer 404, as GitHub does."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

from ghsim.apiutil import state
from ghsim.html import e, page
from ghsim.routes_web import signed_in

bp = Blueprint("profiles", __name__)

# First path segments that are GitHub's own pages, never a login.
RESERVED = {"api", "_sim", "login", "logout", "session", "apps", "organizations", "orgs"}


def _avatar(ident: int) -> str:
    return f"<img src='/avatars/u/{ident}?v=4' width='64' height='64' alt=''>"


@bp.get("/<login>")
def profile(login: str) -> ResponseReturnValue:
    if login.lower() in RESERVED:
        abort(404)
    st = state()
    with st.lock:
        org = st.org(login)
        user = None if org else st.user(login)
        if org is not None:
            repos = "".join(
                f"<li><a href='/{e(org.login)}/{e(r.name)}'>{e(r.name)}</a></li>"
                for r in org.repos[:100]
            )
            members = "".join(
                f"<li><a href='/{e(st.users[m.user_id].login)}'>"
                f"{e(st.users[m.user_id].login)}</a></li>"
                for m in st.org_memberships(org)
                if m.state == "active"
            )
            body = (
                f"{_avatar(org.id)}<h1>{e(org.name)}</h1><p><code>{e(org.login)}</code> · "
                f"organization</p><h2>Repositories</h2><ul>{repos or '<li>none</li>'}</ul>"
                f"<h2>People</h2><ul>{members or '<li>none</li>'}</ul>"
            )
            return page(org.name, body, signed_in=signed_in())
        if user is None:
            abort(404)
        orgs = "".join(
            f"<li><a href='/{e(st.orgs[m.org_id].login)}'>{e(st.orgs[m.org_id].login)}</a></li>"
            for m in st.user_memberships(user)
            if m.state == "active"
        )
        body = (
            f"{_avatar(user.id)}<h1>{e(user.name)}</h1><p><code>{e(user.login)}</code></p>"
            f"<h2>Organizations</h2><ul>{orgs or '<li>none</li>'}</ul>"
        )
        return page(f"{user.login} ({user.name})", body, signed_in=signed_in())


@bp.get("/<owner>/<repo>")
def repository(owner: str, repo: str) -> ResponseReturnValue:
    if owner.lower() in RESERVED:
        abort(404)
    st = state()
    with st.lock:
        org = st.org(owner)
        found = org and next((r for r in org.repos if r.name.lower() == repo.lower()), None)
        if not org or not found:
            abort(404)
        body = (
            f"<h1><a href='/{e(org.login)}'>{e(org.login)}</a> / {e(found.name)}</h1>"
            f"<p>{'Private' if found.private else 'Public'} repository.</p>"
        )
        return page(f"{org.login}/{found.name}", body, signed_in=signed_in())
