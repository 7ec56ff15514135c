"""The per-org lease lock: compare-and-swap claims, expiry, renewal, fencing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import OrganizationFactory
from usage.collection.locks import (
    LeaseKeeper,
    LeaseLost,
    lease_acquire,
    lease_confirm,
    lease_is_live,
    lease_release,
    lease_renew,
)
from usage.models import OrgLock

pytestmark = pytest.mark.django_db


def test_one_holder_at_a_time_and_release():
    org = OrganizationFactory()
    assert lease_acquire(organization_id=org.pk, holder="a")
    assert not lease_acquire(organization_id=org.pk, holder="b")
    assert lease_is_live(organization_id=org.pk)
    lease_release(organization_id=org.pk, holder="b")  # not b's: no effect
    assert not lease_acquire(organization_id=org.pk, holder="b")
    lease_release(organization_id=org.pk, holder="a")
    assert not lease_is_live(organization_id=org.pk)
    assert lease_acquire(organization_id=org.pk, holder="b")


def test_an_expired_lease_can_be_taken_and_the_old_holder_is_fenced_off():
    org = OrganizationFactory()
    assert lease_acquire(organization_id=org.pk, holder="dead-worker")
    # The worker was killed: nobody renews, the lease runs out.
    OrgLock.objects.filter(pk=org.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not lease_is_live(organization_id=org.pk)
    assert lease_acquire(organization_id=org.pk, holder="new-worker")
    # The old holder, if it was only paused, can neither renew nor commit.
    assert not lease_renew(organization_id=org.pk, holder="dead-worker")
    with pytest.raises(LeaseLost):
        lease_confirm(organization_id=org.pk, holder="dead-worker")
    lease_confirm(organization_id=org.pk, holder="new-worker")


def test_locks_of_different_orgs_are_independent():
    a, b = OrganizationFactory(), OrganizationFactory()
    assert lease_acquire(organization_id=a.pk, holder="x")
    assert lease_acquire(organization_id=b.pk, holder="y")


@pytest.mark.django_db(transaction=True)
def test_the_keeper_renews_from_its_thread(settings):
    settings.COLLECTION_LEASE_SECONDS = 3
    org = OrganizationFactory()
    assert lease_acquire(organization_id=org.pk, holder="me")
    first = OrgLock.objects.get(pk=org.pk).expires_at
    with LeaseKeeper(organization_id=org.pk, holder="me") as keeper:
        # Wait for one renewal (every lease/3 s) by watching the row, not the clock.
        for _ in range(100):
            if OrgLock.objects.get(pk=org.pk).expires_at > first:
                break
            keeper._stop.wait(0.1)
        keeper.check()
    assert OrgLock.objects.get(pk=org.pk).expires_at > first


@pytest.mark.django_db(transaction=True)
def test_the_keeper_notices_a_stolen_lease(settings):
    settings.COLLECTION_LEASE_SECONDS = 3
    org = OrganizationFactory()
    assert lease_acquire(organization_id=org.pk, holder="me")
    with LeaseKeeper(organization_id=org.pk, holder="me") as keeper:
        OrgLock.objects.filter(pk=org.pk).update(holder="thief")
        assert keeper.lost.wait(10)
        with pytest.raises(LeaseLost):
            keeper.check()
