"""The CSV export: the documented columns, exactly the filtered line items (every
decimal), streamed (`StreamingHttpResponse` from a server-side cursor), audited; bad
parameters 400; only owners and billing managers."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse

from accounts.models import AuditEvent
from usage import periods
from usage.models import UsageItem
from usage.reporting.lineitems import CSV_COLUMNS
from usage.web.exports import csv_lines, plain_decimal

from .conftest import dec, sim_totals

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

URL = "/orgs/acme-corp/usage.csv"
HEADER = (
    "date,product,sku,quantity,unit_type,price_per_unit,gross_amount,discount_amount,"
    "net_amount,repository"
)


def download(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200, response.content[:300]
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return response, text, list(csv.DictReader(io.StringIO(text)))


def stored(acme, **filters):
    qs = UsageItem.objects.filter(organization=acme, **filters).order_by("date", "id")
    return [
        {
            "date": i.date.isoformat(),
            "product": i.product,
            "sku": i.sku,
            "quantity": dec(i.quantity),
            "unit_type": i.unit_type,
            "price_per_unit": dec(i.price_per_unit),
            "gross_amount": dec(i.gross_amount),
            "discount_amount": dec(i.discount_amount),
            "net_amount": dec(i.net_amount),
            "repository": i.repository,
        }
        for i in qs
    ]


def parsed(rows):
    numbers = ("quantity", "price_per_unit", "gross_amount", "discount_amount", "net_amount")
    return [{k: (Decimal(v) if k in numbers else v) for k, v in row.items()} for row in rows]


def test_columns_rows_and_headers(client, acme, people, dash):
    response, text, rows = download(client, people["olivia"])
    assert text.splitlines()[0] == HEADER
    assert tuple(HEADER.split(",")) == CSV_COLUMNS
    month = periods.current_month()
    assert parsed(rows) == stored(acme, date__gte=month)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    end = periods.today()  # this month runs from the 1st to today, never past it
    assert response["Content-Disposition"] == (
        f'attachment; filename="acme-corp-usage-{month}-{end}.csv"'
    )
    # The money agrees with GitHub's own sums, to the last decimal.
    expected = sim_totals(dash, acme, month, periods.today(), "day")["total"]
    assert sum((r["net_amount"] for r in parsed(rows)), Decimal(0)) == dec(expected["net"])
    assert len(rows) == expected["items"]
    event = AuditEvent.objects.get(action="export_csv")
    assert (event.actor, event.organization) == (people["olivia"], acme)
    assert event.details["start"] == str(month)


def test_filters_choose_the_rows(client, acme, people):
    previous = periods.previous_month()
    # Any of GitHub's spellings selects the SKU; rows carry its identifier.
    for sku in ("Actions Linux", "actions_linux"):
        params = {"range": "last_month", "product": "Actions", "sku": sku}
        _, _, rows = download(client, people["bill"], **params)
        want = stored(
            acme,
            date__gte=previous,
            date__lt=periods.current_month(),
            product="actions",
            sku="actions_linux",
        )
        assert parsed(rows) == want and want
        assert {(r["product"], r["sku"], r["unit_type"]) for r in rows} == {
            ("actions", "actions_linux", "minutes")
        }
    _, _, rows = download(client, people["bill"], range="last_month", repository="acme-corp/api")
    assert {r["repository"] for r in rows} == {"acme-corp/api"}
    _, _, rows = download(client, people["bill"], range="last_month", repository="(no repository)")
    assert rows and {r["repository"] for r in rows} == {""}
    assert {r["product"] for r in rows} == {"copilot"}


def test_the_dashboard_links_the_csv_of_its_filters(client, acme, people):
    client.force_login(people["olivia"])
    html = client.get("/orgs/acme-corp/?range=last_month&product=copilot").content.decode()
    assert 'href="/orgs/acme-corp/usage.csv?range=last_month&amp;product=copilot"' in html


def test_bad_parameters_and_access(client, acme, people):
    client.force_login(people["olivia"])
    response = client.get(URL, {"start": "2026-11-31", "end": "2026-12-01"})
    assert response.status_code == 400 and b"start must be a date" in response.content
    assert client.get(URL, {"range": "nope"}).status_code == 400
    assert not AuditEvent.objects.filter(action="export_csv").exists()
    client.logout()
    assert client.get(URL)["Location"].startswith("/login/?next=")
    for who in ("mia", "charlie"):
        client.force_login(people[who])
        assert client.get(URL).status_code == 404


def test_rows_stream_in_chunks_and_numbers_stay_plain():
    row = (date(2026, 11, 1), "p", "=cmd()", Decimal("0E-10"), "u", 1, 2, 3, 4, "-x")
    rows = iter([row] * 4500)
    chunks = list(csv_lines(rows))
    assert len(chunks) == 1 + 3  # header, then chunks of 2,000 rows
    assert chunks[1].splitlines()[0] == "2026-11-01,p,'=cmd(),0,u,1,2,3,4,'-x"
    # Numbers PostgreSQL already wrote as text are left alone, even negative ones.
    [line] = list(
        csv_lines(iter([("2026-11-01", "p", "s", "-1.5", "u", "1", "2", "3", "-1", "")]))
    )[1:]
    assert line == "2026-11-01,p,s,-1.5,u,1,2,3,-1,\r\n"
    assert plain_decimal(Decimal("1.2300000000")) == "1.23"
    assert plain_decimal(Decimal("-0.0000000000")) == "0"
    assert plain_decimal(Decimal("1E+3")) == "1000"
