"""JSON shapes of GitHub objects (simple-user, organization-*, org-membership, installation,
integration, repository), built from the simulator's world with its real ids and URLs."""

from __future__ import annotations

from dataclasses import dataclass

from ghsim.clock import iso
from ghsim.config import SimConfig
from ghsim.models import Installation, Membership, Org, Repo, Team, User, node_id


@dataclass(frozen=True)
class Urls:
    web: str  # e.g. http://127.0.0.1:8001

    @property
    def api(self) -> str:
        return self.web + "/api/v3"


def _account(urls: Urls, login: str, ident: int, kind: str) -> dict:
    api, web = urls.api, urls.web
    base = f"{api}/users/{login}"
    return {
        "login": login,
        "id": ident,
        "node_id": node_id(kind, ident),
        "avatar_url": f"{web}/avatars/u/{ident}?v=4",
        "gravatar_id": "",
        "url": f"{api}/orgs/{login}" if kind == "Organization" else base,
        "html_url": f"{web}/{login}",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{api}/orgs/{login}/repos" if kind == "Organization" else f"{base}/repos",
        "events_url": f"{api}/orgs/{login}/events"
        if kind == "Organization"
        else f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": kind,
        "user_view_type": "public",
        "site_admin": False,
    }


def user_simple(urls: Urls, user: User) -> dict:
    return _account(urls, user.login, user.id, "User")


def org_account(urls: Urls, org: Org) -> dict:
    """An organization in the simple-user shape (installation `account`)."""
    return _account(urls, org.login, org.id, "Organization")


def app_owner(urls: Urls, config: SimConfig) -> dict:
    return _account(urls, config.app_owner_login, 7770000, "Organization")


def user_full(urls: Urls, user: User, private: bool, public_repos: int = 0) -> dict:
    """GET /user: private-user (with `user` scope / App user token) or public-user."""
    body = user_simple(urls, user)
    body["user_view_type"] = "private" if private else "public"
    body.update(
        {
            "name": user.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": user.email,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "notification_email": user.email if private else None,
            "public_repos": public_repos,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": iso(user.created_at),
            "updated_at": iso(user.created_at),
        }
    )
    if private:
        body.update(
            {
                "private_gists": 0,
                "total_private_repos": 0,
                "owned_private_repos": 0,
                "disk_usage": 0,
                "collaborators": 0,
                "two_factor_authentication": True,
                "plan": {
                    "name": "free",
                    "space": 976562499,
                    "collaborators": 0,
                    "private_repos": 10000,
                },
            }
        )
    return body


def org_simple(urls: Urls, org: Org) -> dict:
    api = f"{urls.api}/orgs/{org.login}"
    return {
        "login": org.login,
        "id": org.id,
        "node_id": org.node_id,
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{urls.web}/avatars/u/{org.id}?v=4",
        "description": org.description,
    }


def org_full(
    urls: Urls,
    org: Org,
    *,
    full: bool,
    plan: bool,
    api_version: str,
    public_members: int,
    seats: int,
) -> dict:
    """GET /orgs/{org}. Owners see the private details; `plan` needs organization_plan."""
    body = org_simple(urls, org)
    body.update(
        {
            "name": org.name,
            # organization-full declares these as non-nullable strings.
            "company": org.name,
            "blog": f"https://{org.login}.example.com",
            "location": "Internet",
            "email": f"hello@{org.login}.example.com",
            "twitter_username": None,
            "is_verified": False,
            "has_organization_projects": True,
            "has_repository_projects": True,
            "public_repos": sum(1 for r in org.repos if not r.private),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "html_url": f"{urls.web}/{org.login}",
            "created_at": iso(org.created_at),
            "updated_at": iso(org.created_at),
            "archived_at": None,
            "type": "Organization",
        }
    )
    if full:
        private = sum(1 for r in org.repos if r.private)
        body.update(
            {
                "total_private_repos": private,
                "owned_private_repos": private,
                "private_gists": 0,
                "disk_usage": 1024 * len(org.repos),
                "collaborators": 0,
                "billing_email": f"billing@{org.login}.example.com",
                "default_repository_permission": "read",
                "members_can_create_repositories": True,
                "two_factor_requirement_enabled": True,
                "members_allowed_repository_creation_type": "all",
                "members_can_create_public_repositories": False,
                "members_can_create_private_repositories": True,
                "members_can_create_internal_repositories": False,
                "members_can_create_pages": True,
                "members_can_create_public_pages": False,
                "members_can_create_private_pages": True,
                "members_can_fork_private_repositories": False,
                "web_commit_signoff_required": False,
                "deploy_keys_enabled_for_repositories": False,
            }
        )
        # Removed in API version 2026-03-10 (x-github-breaking-changes in the description).
        if api_version < "2026-03-10":
            body["secret_scanning_push_protection_custom_link_enabled"] = False
        if plan:
            name = {"enterprise": "enterprise", "team": "team"}.get(org.plan, "free")
            body["plan"] = {
                "name": name,
                "space": 976562499,
                "private_repos": 999999,
                "filled_seats": seats,
                "seats": max(seats, 5),
            }
    return body


def membership(urls: Urls, m: Membership, org: Org, user: User) -> dict:
    return {
        "url": f"{urls.api}/orgs/{org.login}/memberships/{user.login}",
        "state": m.state,
        "role": m.role,
        "organization_url": f"{urls.api}/orgs/{org.login}",
        "direct_membership": True,
        "enterprise_teams_providing_indirect_membership": [],
        "organization": org_simple(urls, org),
        "user": user_simple(urls, user),
    }


def installation(
    urls: Urls, config: SimConfig, inst: Installation, org: Org, suspender: User | None
) -> dict:
    return {
        "id": inst.id,
        "client_id": config.app_client_id,
        "account": org_account(urls, org),
        "repository_selection": "all",
        "access_tokens_url": f"{urls.api}/app/installations/{inst.id}/access_tokens",
        "repositories_url": f"{urls.api}/installation/repositories",
        "html_url": f"{urls.web}/organizations/{org.login}/settings/installations/{inst.id}",
        "app_id": config.app_id,
        "app_slug": config.app_slug,
        "target_id": org.id,
        "target_type": "Organization",
        "permissions": dict(inst.permissions),
        "events": list(inst.events),
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.updated_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": user_simple(urls, suspender) if suspender else None,
        "suspended_at": iso(inst.suspended_at),
    }


def integration(urls: Urls, config: SimConfig, installations_count: int) -> dict:
    return {
        "id": config.app_id,
        "slug": config.app_slug,
        "client_id": config.app_client_id,
        "node_id": node_id("Integration", config.app_id),
        "owner": app_owner(urls, config),
        "name": config.app_name,
        "description": "Shows GitHub billing usage to org owners and billing managers.",
        "external_url": urls.web,
        "html_url": f"{urls.web}/apps/{config.app_slug}",
        "created_at": "2024-01-15T09:00:00Z",
        "updated_at": "2024-01-15T09:00:00Z",
        "permissions": dict(config.app_permissions),
        "events": list(config.app_events),
        "installations_count": installations_count,
    }


def webhook_repo(org: Org, repo: Repo) -> dict:
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": f"{org.login}/{repo.name}",
        "private": repo.private,
    }


def team(urls: Urls, t: Team, org: Org) -> dict:
    return {
        "name": t.name,
        "id": t.id,
        "node_id": t.node_id,
        "slug": t.slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "url": f"{urls.api}/teams/{t.id}",
        "html_url": f"{urls.web}/orgs/{org.login}/teams/{t.slug}",
        "members_url": f"{urls.api}/teams/{t.id}/members{{/member}}",
        "repositories_url": f"{urls.api}/teams/{t.id}/repos",
        "permission": "pull",
        "type": "organization",
        "organization_id": org.id,
    }


def repository(urls: Urls, org: Org, repo: Repo) -> dict:
    """The full `repository` object (access-token responses listing repositories)."""
    full = f"{org.login}/{repo.name}"
    api = f"{urls.api}/repos/{full}"
    templated = {
        "archive_url": "/{archive_format}{/ref}",
        "assignees_url": "/assignees{/user}",
        "blobs_url": "/git/blobs{/sha}",
        "branches_url": "/branches{/branch}",
        "collaborators_url": "/collaborators{/collaborator}",
        "comments_url": "/comments{/number}",
        "commits_url": "/commits{/sha}",
        "compare_url": "/compare/{base}...{head}",
        "contents_url": "/contents/{+path}",
        "contributors_url": "/contributors",
        "deployments_url": "/deployments",
        "downloads_url": "/downloads",
        "events_url": "/events",
        "forks_url": "/forks",
        "git_commits_url": "/git/commits{/sha}",
        "git_refs_url": "/git/refs{/sha}",
        "git_tags_url": "/git/tags{/sha}",
        "hooks_url": "/hooks",
        "issue_comment_url": "/issues/comments{/number}",
        "issue_events_url": "/issues/events{/number}",
        "issues_url": "/issues{/number}",
        "keys_url": "/keys{/key_id}",
        "labels_url": "/labels{/name}",
        "languages_url": "/languages",
        "merges_url": "/merges",
        "milestones_url": "/milestones{/number}",
        "notifications_url": "/notifications{?since,all,participating}",
        "pulls_url": "/pulls{/number}",
        "releases_url": "/releases{/id}",
        "stargazers_url": "/stargazers",
        "statuses_url": "/statuses/{sha}",
        "subscribers_url": "/subscribers",
        "subscription_url": "/subscription",
        "tags_url": "/tags",
        "teams_url": "/teams",
        "trees_url": "/git/trees{/sha}",
    }
    body: dict = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": full,
        "owner": org_account(urls, org),
        "private": repo.private,
        "html_url": f"{urls.web}/{full}",
        "description": None,
        "fork": False,
        "url": api,
    }
    body.update({k: api + suffix for k, suffix in templated.items()})
    host = urls.web.split("://", 1)[-1]
    stamp = iso(org.created_at)
    body.update(
        {
            "git_url": f"git://{host}/{full}.git",
            "ssh_url": f"git@{host}:{full}.git",
            "clone_url": f"{urls.web}/{full}.git",
            "svn_url": f"{urls.web}/{full}",
            "mirror_url": None,
            "homepage": None,
            "language": None,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "size": 1024,
            "default_branch": "main",
            "open_issues_count": 0,
            "has_issues": True,
            "has_projects": True,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": True,
            "archived": False,
            "disabled": False,
            "visibility": "private" if repo.private else "public",
            "pushed_at": stamp,
            "created_at": stamp,
            "updated_at": stamp,
            "license": None,
            "forks": 0,
            "open_issues": 0,
            "watchers": 0,
            "permissions": {"admin": False, "push": False, "pull": True},
        }
    )
    return body
