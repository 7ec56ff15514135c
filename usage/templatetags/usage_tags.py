"""Display helpers of the usage pages: money and quantities (display only, rounded),
product colours, sparklines (inline SVG, numbers only), sort links, and the names of
products, SKUs and units for people (`usage.vocabulary`: ``{{ row.sku|sku_label }}``
shows "Actions Linux" for the stored ``actions_linux``)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Membership
from usage import vocabulary
from usage.reporting import chart_base, formatting

register = template.Library()


@register.filter
def money(value: Decimal | None) -> str:
    return formatting.money(value)


@register.filter
def number(value: Decimal | None) -> str:
    return formatting.number(value)


@register.filter
def unit_price(value: Decimal | None) -> str:
    """A price per unit as money with its significant digits ($0.00009409)."""
    return formatting.unit_price(value)


@register.filter
def quantity(value: Decimal | None, unit: str = "") -> str:
    """``{{ row.quantity|quantity:row.unit_type }}``: 6,000 minutes."""
    return formatting.quantity(value, str(unit or ""))


@register.filter
def exact(value: Decimal | None) -> str:
    """A stored decimal in full, without trailing zeros (prices per unit)."""
    return "—" if value is None else formatting.plain_decimal(value)


@register.filter
def product_label(value: str) -> str:
    return vocabulary.product_label(str(value or ""))


@register.filter
def sku_label(value: str) -> str:
    return vocabulary.sku_label(str(value or ""))


@register.filter
def unit_label(value: str) -> str:
    return vocabulary.unit_label(str(value or ""))


@register.filter
def percent(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{'+' if value > 0 else '−' if value < 0 else ''}{abs(value):.1f}%"


@register.filter
def signed_money(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + money(value)


@register.filter
def colour(product: str) -> str:
    return chart_base.product_colour(product)


@register.simple_tag
def swatch(product: str) -> SafeString:
    """A small square in the product's colour (SVG presentation attribute: no inline
    style, which the Content-Security-Policy forbids)."""
    return format_html(
        '<svg class="swatch" width="10" height="10" aria-hidden="true" focusable="false">'
        '<rect width="10" height="10" rx="2" fill="{}"/></svg>',
        chart_base.product_colour(product),
    )


@register.simple_tag
def sparkline(values: Sequence[Decimal], label: str = "") -> SafeString:
    """The last days' spend as a small polyline."""
    width, height = 120, 28
    if not values:
        return SafeString("")
    numbers = [float(v) for v in values]
    low, high = min(0.0, *numbers), max(numbers)
    span = (high - low) or 1.0
    step = width / max(1, len(numbers) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (n - low) / span * (height - 4):.1f}"
        for i, n in enumerate(numbers)
    )
    return format_html(
        '<svg class="spark" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}"><polyline points="{}" fill="none" stroke="currentColor" '
        'stroke-width="1.5" stroke-linejoin="round"/></svg>',
        width,
        height,
        width,
        height,
        label,
        points,
    )


@register.simple_tag(takes_context=True)
def sort_query(context, column: str) -> str:
    """The query string that sorts the table by `column` (toggling the direction when
    it is the current sort), keeping the filters and starting at the first page."""
    request = context["request"]
    current = context.get("sort", "")
    params = request.GET.copy()
    for key in ("after", "before"):
        params.pop(key, None)
    if current == f"-{column}":
        params["sort"] = column
    elif current == column:
        params["sort"] = f"-{column}"
    else:
        params["sort"] = f"-{column}" if column in ("date", "net", "quantity") else column
    return "?" + params.urlencode()


@register.simple_tag
def aria_sort(current: str, column: str) -> str:
    if current == column:
        return "ascending"
    if current == f"-{column}":
        return "descending"
    return "none"


@register.filter
def table_rows(rows: Sequence[Sequence[str]]) -> SafeString:
    """A chart's table body: the first cell a row header, the others numbers. Built
    here rather than in a template loop (a year of days is thousands of cells); every
    cell is escaped."""
    lines = []
    for row in rows:
        cells = "".join(f'<td class="num">{escape(cell)}</td>' for cell in row[1:])
        lines.append(f'<tr><th scope="row">{escape(row[0])}</th>{cells}</tr>\n')
    return mark_safe("".join(lines))  # noqa: S308 - each cell escaped above


@register.simple_tag
def install_offer(user) -> str:
    """What the overview offers for another organization: "install" to the owner of some
    organization (owners install GitHub Apps), "ask" to a billing manager (billingdash
    prepares a message for an owner), nothing to a member (who would see no billing)."""
    roles = set(
        Membership.objects.filter(user=user, state=Membership.State.ACTIVE).values_list(
            "role", flat=True
        )
    )
    if Membership.Role.OWNER in roles:
        return "install"
    if Membership.Role.BILLING_MANAGER in roles:
        return "ask"
    return ""
