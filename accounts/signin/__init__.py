"""Sign in with GitHub: social-auth backends (`github-app`, `github-oauth`), our pipeline
steps, the strategy that cleans `next`, the sign-in page and sign-out, friendly error
pages, and "signed out everywhere" (middleware).

May import `roles` (the pipeline syncs roles; the middleware answers a role check GitHub
could not make), `tokens`, `audit` and `models`. Nothing in `accounts` below it imports it.
"""
