"""Building blocks of the staff admin (used by `accounts.admin` and `usage.admin`):
links between related objects, the audit of every staff change and action, read-only
admins, action buttons on change pages, and JSON shown without secrets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db import models
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from accounts.audit import audit_log
from accounts.models import AuditEvent, Organization

# Keys whose values are never shown, wherever they sit in a JSON document.
SECRET_KEYS = re.compile(
    r"token|secret|password|private_?key|signature|authorization|code_verifier", re.I
)
REDACTED = "[redacted]"


# --- links ------------------------------------------------------------------------------


def admin_url(obj: models.Model | type[models.Model], view: str = "change") -> str:
    opts = obj._meta
    args = [obj.pk] if view in ("change", "delete", "history") else []
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)
    except NoReverseMatch:
        return ""


def link(obj: models.Model | None, text: Any = None) -> str:
    """A link to `obj`'s admin page ("-" for None)."""
    if obj is None:
        return "-"
    url = admin_url(obj)
    label = obj if text is None else text
    return format_html('<a href="{}">{}</a>', url, label) if url else format_html("{}", label)


def changelist_link(model: type[models.Model], text: Any, **filters: Any) -> str:
    """A link to `model`'s admin list, filtered (``organization__id__exact=3``...)."""
    url = admin_url(model, "changelist")
    if filters:
        url += "?" + urlencode(filters)
    return format_html('<a href="{}">{}</a>', url, text)


def shorten(text: str, length: int = 120) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


# --- secrets never shown ----------------------------------------------------------------


def redact(value: Any) -> Any:
    """A copy of a JSON document with the values of secret-looking keys replaced."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if SECRET_KEYS.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def pretty_json(value: Any) -> str:
    return format_html('<pre class="json">{}</pre>', json.dumps(redact(value), indent=2))


# --- audit ------------------------------------------------------------------------------


def organization_of(obj: Any) -> Organization | None:
    if isinstance(obj, Organization):
        return obj
    org = getattr(obj, "organization", None)
    return org if isinstance(org, Organization) else None


def audit_staff(
    request: HttpRequest,
    action: str,
    *,
    organization: Organization | None = None,
    target: str = "",
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append the AuditEvent of a staff action (``staff.<what>``)."""
    return audit_log(
        actor=request.user,
        action=f"staff.{action}",
        organization=organization,
        target=target,
        request=request,
        details=details,
    )


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete made through this admin also goes to the audit log
    (Django's own LogEntry can be edited; AuditEvent cannot).

    Actions declared with ``permissions=["operate"]`` are offered to staff holding the
    model's *change* permission, even where the admin itself is read-only (rows written
    from GitHub's data are not edited by hand, but staff act on them)."""

    def has_operate_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def _audit(self, request: HttpRequest, verb: str, obj: Any, message: Any = "") -> None:
        audit_staff(
            request,
            verb,
            organization=organization_of(obj),
            target=f"{obj._meta.label} {obj.pk}: {obj}",
            details={"change": message} if message else {},
        )

    def log_addition(self, request, obj, message):
        self._audit(request, "add", obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, "change", obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, "delete", obj)
        return super().log_deletions(request, queryset)


class ReadOnlyAdmin(AuditedAdmin):
    """Viewable by staff with the view permission; nobody adds, changes or deletes."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Related rows shown on a change page: every field read-only, none added or
    deleted there."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


# --- filters ----------------------------------------------------------------------------


class AgeFilter(admin.SimpleListFilter):
    """Fresh or stale by the age of the datetime `field`: within `max_age()`, or
    older (or never set)."""

    field: str
    fresh_label = "Fresh"
    stale_label = "Stale"

    def max_age(self) -> timedelta:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return (("fresh", self.fresh_label), ("stale", self.stale_label))

    def queryset(self, request, queryset):
        limit = timezone.now() - self.max_age()
        if self.value() == "fresh":
            return queryset.filter(**{f"{self.field}__gte": limit})
        if self.value() == "stale":
            older = Q(**{f"{self.field}__lt": limit}) | Q(**{f"{self.field}__isnull": True})
            return queryset.filter(older)
        return queryset


# --- actions ----------------------------------------------------------------------------


def finish_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    lines: Iterable[str],
    level: int = messages.SUCCESS,
) -> HttpResponseRedirect | None:
    """Show what an action did, then go back to the page it was started from (a safe
    ``next``: the operations page or a change page) or to the list."""
    for line in lines:
        modeladmin.message_user(request, line, level)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return None


class ObjectActionsAdmin(AuditedAdmin):
    """Shows some of the admin's actions as buttons on each change page
    (`object_actions`: action name -> button label); a button posts that one object to
    the list's action handler, which comes back to the change page."""

    object_actions: dict[str, str] = {}

    def object_action_applies(self, name: str, obj: Any) -> bool:
        """Whether the button makes sense for this object (e.g. "Resume" when paused)."""
        return True

    def change_view(self, request, object_id, form_url="", extra_context=None):
        available = self.get_actions(request)
        obj = self.get_object(request, object_id)
        buttons = [
            {"action": name, "label": label}
            for name, label in self.object_actions.items()
            if name in available and obj is not None and self.object_action_applies(name, obj)
        ]
        context = {
            "object_actions": buttons,
            "object_actions_url": admin_url(self.model, "changelist"),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)
