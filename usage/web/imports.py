"""Usage report imports: the page (`/orgs/<login>/imports/`, upload form, history,
per-import result with progress) and the JSON API (`/api/orgs/<login>/imports`).

Both start with the imports' access helper (`usage.imports.access.import_scope`, which
starts with `get_org_for_billing`): verified owners and billing managers import into
the org's data; with the GitHub App sign-in on an org without the App, the upload goes
to a workspace only the uploader sees. Everyone else gets a 404.

Uploads are streamed to a temporary file, never held in memory: the views set
`TemporaryFileUploadHandler` as the only upload handler before anything reads the body,
which is why they are CSRF-exempt outside and CSRF-protected inside (Django's documented
pattern: the CSRF check reads the POST body).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET

from usage.imports.access import ImportScope, import_scope
from usage.imports.kinds import kind_named
from usage.imports.selectors import import_summary, imports_visible
from usage.imports.services import ImportRefused, report_import_create, workspace_merge
from usage.models import ReportImport
from usage.web.json_api import json_error

HISTORY = 50


def import_json(report_import: ReportImport) -> dict[str, Any]:
    def day(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": report_import.pk,
        "status": report_import.status,
        "kind": report_import.kind,
        "rows": report_import.rows,
        "months": list(report_import.months),
        "errors": list(report_import.errors),
        "months_kept": list(report_import.months_kept),
        "error_count": report_import.error_count,
        "rows_read": report_import.rows_read,
        "progress": report_import.progress,
        "message": report_import.message,
        "file_name": report_import.file_name,
        "size": report_import.size,
        "sha256": report_import.sha256,
        "workspace": report_import.workspace_id is not None,
        "uploaded_by": str(report_import.uploaded_by) if report_import.uploaded_by else None,
        "first_day": day(report_import.first_day),
        "last_day": day(report_import.last_day),
        "created_at": day(report_import.created_at),
        "finished_at": day(report_import.finished_at),
    }


def _scope(request: HttpRequest, login: str) -> ImportScope:
    scope = import_scope(user=request.user, login=login)
    if scope.verified:
        workspace_merge(organization=scope.organization, user=request.user)
    return scope


def _create(request: HttpRequest, scope: ImportScope) -> ReportImport:
    upload = request.FILES.get("file")
    if upload is None:
        raise ImportRefused("Choose a file: the form field (multipart) is named “file”.")
    return report_import_create(
        organization=scope.organization,
        user=request.user,
        upload=upload,
        verified=scope.verified,
        request=request,
    )


def _one(scope: ImportScope, user: Any, pk: int) -> ReportImport:
    found = imports_visible(scope.organization, user, verified=scope.verified).filter(pk=pk).first()
    if found is None:
        raise Http404("No such import.")
    return found


# --- the page -----------------------------------------------------------------------------


@never_cache
@login_required
@csrf_protect
def _imports_page(request: HttpRequest, login: str) -> HttpResponse:
    scope = _scope(request, login)
    organization = scope.organization
    error, status = "", 200
    if request.method == "POST":
        try:
            created = _create(request, scope)
        except ImportRefused as exc:
            error, status = str(exc), 400
        else:
            return redirect(reverse("org_import", args=[organization.login, created.pk]))
    elif request.method != "GET":
        return HttpResponse(status=405)
    history = list(imports_visible(organization, request.user, verified=scope.verified)[:HISTORY])
    return render(
        request,
        "usage/imports.html",
        {
            "organization": organization,
            "verified": scope.verified,
            "history": history,
            "error": error,
            "web_url": _github_web(),
        },
        status=status,
    )


@csrf_exempt
def org_imports(request: HttpRequest, login: str) -> HttpResponse:
    request.upload_handlers = [TemporaryFileUploadHandler(request)]
    return _imports_page(request, login)


@never_cache
@login_required
@require_GET
def org_import(request: HttpRequest, login: str, pk: int) -> HttpResponse:
    scope = _scope(request, login)
    report_import = _one(scope, request.user, pk)
    kind = kind_named(report_import.kind)
    return render(
        request,
        "usage/import.html",
        {
            "organization": scope.organization,
            "verified": scope.verified,
            "imp": report_import,
            "kind_label": kind.label if kind else report_import.kind,
            "summary": None if report_import.in_progress else import_summary(report_import),
            "running": report_import.in_progress,
        },
    )


def _github_web() -> str:
    return settings.GITHUB_WEB_URL.rstrip("/")


# --- the JSON API ---------------------------------------------------------------------------


@never_cache
@csrf_protect
def _api_imports(request: HttpRequest, login: str) -> JsonResponse:
    if not request.user.is_authenticated:
        return json_error("authentication required", 401)
    try:
        scope = _scope(request, login)
    except Http404:
        return json_error("no such organization", 404)
    if request.method == "POST":
        try:
            created = _create(request, scope)
        except ImportRefused as exc:
            return json_error(str(exc))
        return JsonResponse(import_json(created), status=201)
    if request.method != "GET":
        return json_error("use GET or POST", 405)
    history = imports_visible(scope.organization, request.user, verified=scope.verified)
    return JsonResponse(
        {
            "organization": scope.organization.login,
            "workspace": not scope.verified,
            "imports": [import_json(i) for i in history[:HISTORY]],
        }
    )


@csrf_exempt
def api_org_imports(request: HttpRequest, login: str) -> JsonResponse:
    request.upload_handlers = [TemporaryFileUploadHandler(request)]
    return _api_imports(request, login)


@never_cache
def api_org_import(request: HttpRequest, login: str, pk: int) -> JsonResponse:
    if request.method != "GET":
        return json_error("use GET", 405)
    if not request.user.is_authenticated:
        return json_error("authentication required", 401)
    try:
        scope = _scope(request, login)
        return JsonResponse(import_json(_one(scope, request.user, pk)))
    except Http404:
        return json_error("no such organization or import", 404)
