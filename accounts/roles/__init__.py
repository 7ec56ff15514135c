"""Roles and the access helper.

- `sync`: each user's memberships read from GitHub (owner, billing manager, member), their
  own token's billing access, and the discovery of our App's installation;
- `access`: the one place that decides who may see an organization's billing
  (`get_org_for_billing`, `get_org_for_member`: a 404 for everyone else), and the reads of
  a user's organizations;
- `views`: `GET /api/orgs/`.

May import `installations`, `tokens`, `organizations`, `audit` and `models`; never
`signin`, `wizard`, `webhooks` or `admin`.
"""
