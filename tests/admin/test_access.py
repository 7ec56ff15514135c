"""Who gets the admin and the operations page: staff only. Anonymous visitors are sent
to the admin's sign-in page; people signed in with GitHub who are not staff get the
admin's sign-in page too (Django's rule) and a 404 for the operations page."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

OPS = "/staff/ops/"


def admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return urls


def test_the_ops_url_is_named_ops():
    assert reverse("ops") == OPS


def test_anonymous_visitors_are_sent_to_the_admin_sign_in(client):
    for url in [*admin_urls(), OPS]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/?next="), url


def test_a_github_user_who_is_not_staff_gets_no_admin_and_no_ops_page(client):
    # olivia owns an org: that does not make her staff.
    olivia = UserFactory(github_login="olivia")
    MembershipFactory(user=olivia, organization=OrganizationFactory(login="acme-corp"))
    client.force_login(olivia)
    for url in admin_urls():
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
    login_page = client.get("/admin/login/")
    assert b"not authorized to access this page" in login_page.content
    response = client.get(OPS)
    assert response.status_code == 404
    assert b"Operations" not in response.content


def test_an_inactive_staff_member_gets_nothing(client, staff_user):
    staff_user.is_active = False
    staff_user.save()
    client.force_login(staff_user)
    assert client.get(OPS).status_code in (302, 404)
    assert client.get("/admin/").status_code == 302


def test_staff_get_the_admin_and_the_ops_page_linked_from_it(staff_client):
    index = staff_client.get("/admin/")
    assert index.status_code == 200
    assert f'href="{OPS}"'.encode() in index.content  # index module and user links
    ops = staff_client.get(OPS)
    assert ops.status_code == 200
    assert b"<h1>Operations</h1>" in ops.content


def test_staff_without_model_permissions_see_ops_but_cannot_act(client):
    from accounts.models import Organization
    from tests.factories import StaffUserFactory

    from .conftest import run_action

    helper = StaffUserFactory(username="helper", is_superuser=False)
    org = OrganizationFactory(login="acme-corp")
    client.force_login(helper)
    assert client.get(OPS).status_code == 200
    # No permission on organizations: the admin refuses the list, so the action too.
    response = run_action(client, Organization, "pause_collection", [org])
    assert response.status_code == 403
    org.refresh_from_db()
    assert not org.collection_paused


def test_the_ops_page_only_answers_get(staff_client):
    assert staff_client.post(OPS).status_code == 405
