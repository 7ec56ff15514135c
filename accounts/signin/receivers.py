"""Receivers of Django's auth signals: remember when a session signed in, and audit it."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.module_loading import import_string

from accounts.audit import audit_log
from accounts.signin.middleware import mark_session_signed_in


@receiver(user_logged_in, dispatch_uid="accounts.signin")
def on_signin(sender, request, user, **kwargs) -> None:
    """Remember when this session signed in (for "signed out everywhere") and log it."""
    if request is None:
        return
    mark_session_signed_in(request)
    backend_path = str(getattr(user, "backend", ""))
    try:
        method = getattr(import_string(backend_path), "name", "") or "password"
    except ImportError:
        method = "unknown"
    audit_log(actor=user, action="signin", request=request, details={"method": method})
