"""Money as money, quantities with their unit, one thousands separator (issue 13 item
11): the central formats (usage.reporting.formatting), and the pages that use them: the
line items table, the quantity chart's summary, table, axis and hover text, and the staff
admin's usage lists."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html import unescape

import pytest

from usage.models import UsageItem
from usage.reporting.formatting import money, number, quantity, unit_price

pytestmark = [pytest.mark.django_db, pytest.mark.dates]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0.00009409", "$0.00009409"),
        ("0.0080000000", "$0.008"),
        ("0.25", "$0.25"),
        ("4", "$4.00"),
        ("1234.5", "$1,234.50"),
        ("-0.5", "−$0.50"),
    ],
)
def test_a_price_per_unit_keeps_its_significant_digits(value, text):
    assert unit_price(Decimal(value)) == text


def test_amounts_quantities_and_units():
    assert money(Decimal("19")) == "$19.00"
    assert money(Decimal("1234.567")) == "$1,234.57"
    assert number(Decimal("6000.0000000000")) == "6,000"
    assert number(Decimal("1234.56789")) == "1,234.5679"
    assert quantity(Decimal("6000"), "minutes") == "6,000 minutes"
    assert quantity(Decimal("12.5"), "GigabyteHours") == "12.5 GB-hours"
    assert quantity(None, "minutes") == "—"


def cells(html: str, table_class: str) -> list[list[str]]:
    body = html.split(f'class="{table_class}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


RAW_THOUSANDS = re.compile(r"(?<![\d,.])\d{4,}(?![\d-])")  # 6000, never in a date


def test_the_line_items_say_money_and_quantities_with_units(client, acme, people):
    client.force_login(people["olivia"])
    html = client.get("/orgs/acme-corp/?sort=-quantity").content.decode()
    rows = cells(html, "items-table")
    assert rows
    skus = set(UsageItem.objects.filter(organization=acme).values_list("sku", flat=True))
    for _date, product, sku, _repo, qty, price, gross, discount, net in rows:
        assert re.fullmatch(r"\$[\d,]+\.\d{2,}", price), price
        for amount in (gross, discount, net):
            assert re.fullmatch(r"−?\$[\d,]+\.\d\d", amount), amount
        assert re.fullmatch(r"[\d,]+(\.\d+)? \S.*", qty), qty  # a number, then its unit
        assert not RAW_THOUSANDS.search(qty), qty
        assert sku not in skus or " " in sku, sku  # "Actions Linux", not actions_linux
        assert product[:1].isupper(), product
    assert any("," in row[4] for row in rows)  # sorted by quantity: thousands, separated


def test_the_quantity_chart_says_units_and_thousands(client, acme, people):
    client.force_login(people["olivia"])
    html = client.get("/orgs/acme-corp/").content.decode()
    section = html.split('class="card chart-card chart-quantity"', 1)[1].split("</section>", 1)[0]
    summary = unescape(re.search(r'class="chart-summary"[^>]*>(.*?)</p>', section, re.S).group(1))
    assert not RAW_THOUSANDS.search(summary), summary
    assert re.search(r"[\d,]+(\.\d+)? (minutes|GB-hours|GB|[a-z])", summary), summary
    figure = json.loads(
        re.search(r'id="chart-quantity-figure"[^>]*>(.*?)</script>', section, re.S).group(1)
    )
    assert figure["layout"]["yaxis"]["tickformat"] == ",~r"  # "6,000", not plotly's "6k"
    for trace in figure["data"]:
        assert "%{y:,.4~f}" in trace["hovertemplate"]
        assert "_" not in trace["name"] and "gigabyte" not in trace["name"]
    header = re.findall(r'<th scope="col" class="num">(.*?)</th>', section)
    assert header and all("_" not in h for h in header)


def test_the_staff_usage_lists_say_money_and_quantities(client, acme, people):
    from tests.factories import StaffUserFactory

    client.force_login(StaffUserFactory(username="fmt-staff"))
    html = client.get("/admin/usage/usageitem/").content.decode()
    assert re.search(r'<td class="field-unit_price_shown">\$\d[\d,]*\.\d{2,}</td>', html)
    assert re.search(r'<td class="field-net">−?\$[\d,]+\.\d\d</td>', html)
    assert "0000000" not in html  # no Decimal('19.0000000000')
    daily = client.get("/admin/usage/dailyusage/").content.decode()
    assert re.search(r'<td class="field-quantity_shown">[\d,]+(\.\d+)? \S+', daily)
