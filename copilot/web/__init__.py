"""The Copilot page, its CSV and its JSON API."""
