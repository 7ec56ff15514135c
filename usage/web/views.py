"""The usage dashboard (`/orgs/<login>/`), "refresh now", and the overview of the
user's organizations (`/orgs/`). Function views; org-scoped ones start with the access
helper (`accounts.roles.access.get_org_for_billing`) after `login_required`, so anonymous
visitors are sent to sign in and everyone who may not see the billing gets a 404."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import audit_log
from accounts.models import Organization
from accounts.org_tokens import expiry_warning
from accounts.roles.access import (
    get_org_for_billing,
    memberships_refresh_if_stale,
    user_org_rows,
)
from accounts.wizard.views import render_start
from usage import periods
from usage.collection.services import QueueUnavailable, RefreshCoolingDown, org_refresh_request
from usage.reporting.annotations import day_markers, mark_daily_chart, org_links
from usage.reporting.budget_chart import budget_chart
from usage.reporting.budget_lines import budget_lines, budgets_for_filters, sku_products_of
from usage.reporting.cache import cached, filter_key, snapshot
from usage.reporting.charts import daily_chart, products_by_spend, quantity_chart
from usage.reporting.dimensions import dimensions_context, parse_dimensions
from usage.reporting.filter_words import filter_words
from usage.reporting.filters import BUCKETS, Filters, parse, range_options
from usage.reporting.lineitems import TABLE_HEADERS, items_page, parse_sort
from usage.reporting.ranked_charts import repository_chart, sku_chart
from usage.reporting.reports import (
    NET,
    bucketed,
    choices_of,
    filter_choices,
    grouped,
    headline,
    org_has_data,
    orgs_spend,
    range_totals,
    repository_options,
    top_repositories,
)
from usage.reporting.status import at, org_status, org_statuses


def _dashboard_url(organization: Organization, filters: Filters | None = None) -> str:
    url = reverse("org_dashboard", args=[organization.login])
    params = filters.params() if filters else {}
    return f"{url}?{urlencode(params)}" if params else url


def _charts(organization: Organization, filters: Filters, request: HttpRequest, head):
    totals = range_totals(organization, filters, head)
    if not totals.items:
        return totals, [], {}
    daily = bucketed(organization, filters, ("product",), NET)
    skus = grouped(organization, filters, ("product", "sku"), NET)
    repos = grouped(organization, filters, ("repository", "product"), NET)
    products = [p for p, _ in products_by_spend(daily)]
    wanted = request.GET.get("qp", "")
    chosen = wanted if wanted in products else (filters.product or products[0])
    by_unit = replace(filters, product=chosen)
    quantity = bucketed(organization, by_unit, ("unit_type",), ("quantity",))
    result = [
        daily_chart(daily, filters, head.today),  # day markers: drawn per request
        sku_chart(skus),
        repository_chart(repos),
        quantity_chart(quantity, chosen, filters),
    ]
    extra: dict[str, Any] = {"products_in_range": products, "quantity_product": chosen}
    if filters.repository is None:
        extra["repository_options"] = repository_options(repos)
    if not filters.is_filtered:
        # Unfiltered, the SKU chart's rows are exactly the choices: no query for them.
        extra["choices"] = choices_of(skus, filters)
    return totals, result, extra


def _dashboard_data(
    organization: Organization,
    filters: Filters,
    request: HttpRequest,
    today: date,
    sort: str,
    context: dict[str, Any],
) -> dict[str, Any]:
    """The dashboard's parts read from the usage data, and their HTML (the headline,
    the filters, each chart and the line items): a pure function of the org's data
    version and the inputs its cache key names, built once per version."""
    head = headline(organization, filters, today)
    totals, chart_list, extra = _charts(organization, filters, request, head)
    data: dict[str, Any] = {**extra, "headline": head, "totals": totals, "charts": chart_list}
    data["page"] = (
        items_page(
            organization,
            filters,
            sort=sort,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
        )
        if totals.items
        else None
    )
    if "repository_options" not in data:
        data["repository_options"] = top_repositories(organization, filters)
    if "choices" not in data:
        data["choices"] = filter_choices(organization, filters)
    # Budgets and the usage summary come with the data version too (extras_collect).
    lines = budget_lines(organization, head) if totals.items else []
    if lines:
        # Budgets are monthly: the ones covering the page's product/SKU/repository.
        shown = lines
        if filters.is_filtered:
            pairs = sku_products_of(organization, head)
            shown = budgets_for_filters(organization, lines, filters, pairs)
        chart_list.append(
            budget_chart(shown, head.month, shown_of=len(lines), filtered=filter_words(filters))
        )
    if totals.items:
        parts = {**context, **data, "item_columns": TABLE_HEADERS, "sort": sort}
        for chart in chart_list:
            chart.html = render_to_string("usage/_chart.html", {**parts, "chart": chart}, request)
        data["items_html"] = render_to_string("usage/_items.html", parts, request)
    for name in ("headline", "filters"):
        data[f"{name}_html"] = render_to_string(f"usage/_{name}.html", {**context, **data}, request)
    return data


@never_cache
@login_required
@require_GET
def org_dashboard(request: HttpRequest, login: str) -> HttpResponse:
    organization = get_org_for_billing(user=request.user, login=login)
    filters, errors = parse(request.GET)
    today = periods.today()
    snap = snapshot(organization)  # the data version, before any of the data is read
    has_data = cached(snap, "has-data", "", lambda: org_has_data(organization))
    status = org_status(organization, role=organization.membership.role, has_data=has_data)
    query = urlencode(filters.params())
    context: dict[str, Any] = {
        "organization": organization,
        "status": status,
        "filters": filters,
        "filter_errors": errors,
        "ranges": range_options(today),
        "buckets": BUCKETS,
        "today": today,
        "progress_url": reverse("org_progress", args=[organization.login]),
        "install_url": reverse("org_install", args=[organization.login]),
        "return_query": query,
        "csv_url": reverse("org_usage_csv", args=[organization.login])
        + (f"?{query}" if query else ""),
        "charts": [],
        "org_links": org_links([organization.pk]).get(organization.pk, []),
        # A token an owner added that expires within 7 days (the source ladder).
        "token_warning": expiry_warning(status.org_token),
    }
    if status.has_data:
        # Everything derived from the usage data and budgets, built once per data version
        # (usage.reporting.cache); the alerts' day markers are read on every request.
        sort = parse_sort(request.GET.get("sort"))
        paged = {k: request.GET.get(k, "")[:200] for k in ("qp", "after", "before")}
        # The fragments' links repeat the query string as given: it is part of the key.
        raw_query = request.META.get("QUERY_STRING", "")
        data = cached(
            snap,
            "dashboard",
            filter_key(filters, today=today, sort=sort, query=raw_query, login=organization.login),
            lambda: _dashboard_data(organization, filters, request, today, sort, context),
            shared=not any(paged.values()),
        )
        chart_list = data["charts"]
        if chart_list and day_markers(organization, filters):
            chart_list[0] = mark_daily_chart(chart_list[0], organization, filters)
            chart_list[0].html = ""  # drawn again, with its markers
        context.update(data, item_columns=TABLE_HEADERS, sort=sort)
        # Users and workflows, from imported detailed reports (issue 15), and each month's
        # source: imports and collections bump the data version with the reports and
        # runs these read, so they are cached like the rest.
        dims = parse_dimensions(request.GET, [])  # a bad value: ignored, said on the page
        context.update(
            cached(
                snap,
                "dimensions",
                filter_key(filters, today=today, user=repr(dims.user), flow=repr(dims.workflow)),
                lambda: dimensions_context(organization, filters, request.GET),
                shared=not dims.active,
            )
        )
    context["imports_url"] = reverse("org_imports", args=[organization.login])
    return render(request, "usage/dashboard.html", context)


@login_required
@require_POST
def org_refresh(request: HttpRequest, login: str) -> HttpResponse:
    """ "Refresh now": queue the current month (CSRF-protected POST, with a cool-down)."""
    organization = get_org_for_billing(user=request.user, login=login)
    filters, _ = parse(QueryDict(request.POST.get("return_query", "")[:2000]))
    try:
        run = org_refresh_request(organization=organization, user=request.user)
    except RefreshCoolingDown as exc:
        messages.warning(
            request,
            f"This organization was refreshed moments ago: try again in {exc.seconds_left} "
            f"second{'s' if exc.seconds_left != 1 else ''}.",
        )
    except QueueUnavailable:
        messages.error(
            request,
            "The task queue is unavailable right now, so nothing was queued. The data below "
            "is as last collected; try again in a few minutes.",
        )
    else:
        if run is None:
            problems = org_status(organization).problems
            messages.warning(
                request,
                "This organization cannot be collected right now"
                + (f": {problems[0]}" if problems else "."),
            )
        elif run.not_before is not None and run.not_before > timezone.now():
            # The month is already queued, waiting out GitHub's failure or rate limit: a
            # refresh cannot hurry it, so say when it runs instead of "queued".
            messages.info(
                request,
                f"This month is already queued: billingdash asks GitHub again at "
                f"{at(run.not_before)}, on its own.",
            )
        else:
            audit_log(
                actor=request.user,
                action="refresh",
                organization=organization,
                target=organization.login,
                request=request,
                details={"run": run.pk, "period": run.period.isoformat()},
            )
            messages.success(
                request,
                "Refresh queued: this month's usage is being collected from GitHub. "
                "Reload the page in a minute to see it.",
            )
    return redirect(_dashboard_url(organization, filters))


@never_cache
@login_required
@require_GET
def org_list(request: HttpRequest) -> HttpResponse:
    """The user's organizations: role, access state and next step (as the accounts
    list), plus month-to-date spend, projection and the last 30 days where the user may
    see the billing, and their sum."""
    warning = memberships_refresh_if_stale(user=request.user)
    rows = user_org_rows(user=request.user)
    if not rows:
        return render_start(request, warning=warning)  # the install wizard's first step
    today = periods.today()
    visible = [r.organization.pk for r in rows if r.billing_verified]
    spend = orgs_spend(visible, today)
    links = org_links(visible)
    # The one source of truth for each org's badge and next step (usage.reporting.status).
    statuses = org_statuses(
        (r.organization, r.membership.role) for r in rows if r.organization.pk in visible
    )
    entries = [
        (row, spend.get(pk), links.get(pk, []), statuses.get(pk))
        for row in rows
        for pk in [row.organization.pk]
    ]
    # Orgs the App can no longer read keep old figures: left out of the totals, by name.
    left_out = sorted(
        row.login
        for row in rows
        if (st := statuses.get(row.organization.pk)) is not None
        and st.blocked
        and (s := spend.get(row.organization.pk)) is not None
        and s.has_data
    )
    counted = {
        pk: s
        for pk, s in spend.items()
        if s.has_data and not (pk in statuses and statuses[pk].blocked)
    }
    with_data = list(counted.values())
    total_projection = sum(
        (s.projection for s in with_data if s.projection is not None), Decimal(0)
    )
    return render(
        request,
        "usage/overview.html",
        {
            "entries": entries,
            "warning": warning,
            "signin_client": settings.GITHUB_SIGNIN_CLIENT,
            "synced_at": request.user.memberships_synced_at,
            "show_spend": bool(with_data) or bool(left_out),
            "total_mtd": sum((s.mtd_net for s in with_data), Decimal(0)),
            "total_projection": total_projection,
            "total_orgs": len(with_data),
            "counted_logins": sorted(r.login for r in rows if r.organization.pk in counted),
            "left_out_logins": left_out,
            "today": today,
        },
    )
