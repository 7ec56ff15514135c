"""Clients for the import page and API: signed in, with the CSRF header."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

API = "/api/orgs/globex/imports"
PAGE = "/orgs/globex/imports/"


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf(client: Client) -> str:
    client.get("/orgs/")  # any page sets the CSRF cookie
    return client.cookies["csrftoken"].value


def upload(client: Client, content: bytes, name: str = "r.csv", url: str = API):
    return client.post(
        url,
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
        HTTP_X_CSRFTOKEN=csrf(client),
    )
