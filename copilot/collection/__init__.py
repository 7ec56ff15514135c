"""Collection of Copilot usage: GitHub's premium-request / AI-credit endpoints month by
month, the per-user calls within a daily budget, the seat list, the report import."""
