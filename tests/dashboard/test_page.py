"""The dashboard page: who may open it, filters kept in the URL, the sortable and
paginated line items, untrusted names rendered as text (HTML, table, chart JSON), and
the accessibility basics (every chart has a summary and a table)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest

from tests.accounts.test_isolation import org_routes
from usage import periods
from usage.models import UsageItem

from .conftest import collect, join, mirror

pytestmark = [pytest.mark.django_db, pytest.mark.dates]

XSS = "</script><script>alert(1)</script>"


def html_of(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response, response.content.decode()


def test_owner_and_billing_manager_see_it_others_get_404(client, acme, people):
    for who in ("olivia", "bill"):
        _, html = html_of(client, people[who], "/orgs/acme-corp/")
        assert 'id="chart-daily"' in html and "Line items" in html
    for who in ("mia", "charlie"):
        client.force_login(people[who])
        assert client.get("/orgs/acme-corp/").status_code == 404
    client.logout()
    assert client.get("/orgs/acme-corp/")["Location"] == "/login/?next=/orgs/acme-corp/"


def test_the_isolation_walk_covers_the_dashboard_urls():
    names = {name for _, name in org_routes()}
    assert {"org_dashboard", "org_usage_csv", "org_refresh", "api_org_usage"} <= names


def test_filters_live_in_the_url(client, acme, people):
    start = periods.previous_month() + timedelta(days=2)
    # A custom range ends today at the latest (no usage exists after today).
    end = min(periods.current_month() + timedelta(days=3), periods.today())
    query = (
        f"?range=custom&start={start}&end={end}&product=actions&sku=Actions+Linux"
        "&repository=acme-corp%2Fapi"
    )
    response, html = html_of(client, people["olivia"], f"/orgs/acme-corp/{query}")
    f = response.context["filters"]
    assert (f.range, f.start, f.end) == ("custom", start, end)
    # GitHub's display name of the SKU selects its identifier, the one spelling stored.
    assert (f.product, f.sku, f.repository) == ("actions", "actions_linux", "acme-corp/api")
    assert '<option value="custom" selected>' in html
    assert f'name="start" value="{start}" max="{periods.today()}"' in html
    assert f'name="end" value="{end}" max="{periods.today()}"' in html
    assert '<option value="actions" selected>' in html
    assert '<option value="actions_linux" selected>' in html
    assert 'name="repository" value="acme-corp/api"' in html
    kept = f"start={start}&amp;end={end}&amp;range=custom&amp;product=actions"
    assert f"/orgs/acme-corp/usage.csv?{kept}" in html  # the CSV of exactly this view
    for link in re.findall(r'href="(\?[^"]*sort=[^"]*)"', html):  # sort links keep them
        assert "product=actions" in link and "repository=acme-corp%2Fapi" in link
    # The form works without JavaScript: a plain GET form back to this page.
    assert '<form method="get" action="/orgs/acme-corp/"' in html


def test_invalid_filters_fall_back_and_say_so(client, acme, people):
    response, html = html_of(
        client, people["olivia"], "/orgs/acme-corp/?range=custom&start=2026-02-30&end=x"
    )
    assert response.context["filters"].range == "this_month"
    assert "Some filters were ignored" in html and "start must be a date" in html


def test_line_items_are_paginated_by_keyset_in_every_sort(client, acme, people):
    client.force_login(people["olivia"])
    base = "/orgs/acme-corp/?range=last_month&product=copilot"
    previous = periods.previous_month()
    items = UsageItem.objects.filter(
        organization=acme, product="copilot", date__gte=previous, date__lt=periods.current_month()
    )
    for sort, key in (("-date", ("-date", "-id")), ("net", ("net_amount", "id"))):
        seen, pages, url = [], [], f"{base}&sort={sort}"
        while url:
            page = client.get(url).context["page"]
            pages.append([r["id"] for r in page.rows])
            seen += pages[-1]
            url = f"{base}&sort={sort}&after={page.next_cursor}" if page.next_cursor else None
        assert seen == list(items.order_by(*key).values_list("id", flat=True))
        assert len(pages) > 1
        # Back from the second page lands on the first.
        second = client.get(f"{base}&sort={sort}&after={cursor_after(client, base, sort)}")
        back = client.get(f"{base}&sort={sort}&before={second.context['page'].prev_cursor}")
        assert [r["id"] for r in back.context["page"].rows] == pages[0]
        assert back.context["page"].prev_cursor is None


def cursor_after(client, base, sort):
    return client.get(f"{base}&sort={sort}").context["page"].next_cursor


def test_sort_links_and_aria_sort(client, acme, people):
    _, html = html_of(client, people["olivia"], "/orgs/acme-corp/?sort=net")
    assert re.search(r'aria-sort="ascending"[^>]*>\s*<a href="\?sort=-net', html)
    assert 'aria-sort="none"' in html
    _, html = html_of(client, people["olivia"], "/orgs/acme-corp/?sort=evil;drop")
    assert 'aria-sort="descending"' in html  # unknown sort: the default, newest first


def test_untrusted_names_render_as_text(client, dash, people):
    globex = mirror(dash, "globex")  # the simulator names a repository </script><script>...
    join(globex, people)
    collect(globex, [periods.current_month()])
    globex.name = "Globex <b>Corp</b>"
    globex.save()
    repo = f"globex/{XSS}"
    response, html = html_of(client, people["olivia"], "/orgs/globex/")
    assert "<script>alert(1)" not in html and "<b>Corp</b>" not in html
    assert "Globex &lt;b&gt;Corp&lt;/b&gt;" in html
    assert '<option value="globex/&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;">' in html
    # Chart JSON: json_script escapes < > &, and the names are HTML-escaped for plotly.js.
    blocks = re.findall(
        r'<script id="(chart-[a-z]+-figure)" type="application/json">(.*?)</script>', html, re.S
    )
    assert len(blocks) == 5
    repos = dict(blocks)["chart-repositories-figure"]
    assert "\\u0026lt;/script\\u0026gt;" in repos and "</" not in repos
    figure = json.loads(repos)
    labels = [y for trace in figure["data"] for y in trace["y"]]
    assert "globex/&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in labels
    # The table of the chart and the line items.
    table = response.context["charts"][2].rows
    assert [repo, table[[r[0] for r in table].index(repo)][1]] in table
    _, html = html_of(client, people["olivia"], f"/orgs/globex/?repository={repo}")
    cells = re.findall(r'<td class="repo">(.*?)</td>', html)
    assert cells and {unescape(c) for c in cells} == {repo}
    assert "<script>alert(1)" not in html


def test_every_chart_has_a_summary_and_a_table(client, acme, people):
    response, html = html_of(client, people["bill"], "/orgs/acme-corp/")
    for chart in response.context["charts"]:
        assert chart.summary and chart.rows, chart.key
        assert f'id="{chart.dom_id}-summary"' in html
        assert f'aria-describedby="{chart.dom_id}-summary"' in html
    assert html.count('<details class="chart-data"') == 5
    assert html.count('<details class="chart-data" open>') == 1  # the budgets: shown open
    assert 'class="skip-link"' in html  # base template: keyboard users skip to content
    assert "<script>" not in html.replace('<script id="', "")  # no inline script
    assert " style=" not in html  # no inline style either (CSP style-src 'self')
