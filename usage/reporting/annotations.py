"""Extension points of the dashboard and the overview for the apps above usage (usage
never imports them; they register providers in their ``AppConfig.ready``).

- Day markers on the dashboard's daily spend chart: `register_day_markers(provider)`. A
  provider takes ``(organization, filters)`` and answers `DayMarker`s (a day and what
  happened that day, in words) that concern what the filters show;
  `mark_daily_chart(chart, organization, filters)` draws them (a dotted line per day, its
  text on hover) and says them in the chart's note, so the page states them in words too.
- Links per organization on the overview (`/orgs/`) and the dashboard's header:
  `register_org_links(provider)`. A provider takes the ids of the organizations whose
  billing the user may see and answers ``{organization id: [OrgLink, ...]}``;
  `org_links(ids)` merges every provider's answer.

A provider that raises is logged and left out: the pages never fail because of one.
"""

from __future__ import annotations

import html
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from accounts.models import Organization
from usage.reporting.chart_base import Chart
from usage.reporting.filters import Filters

log = logging.getLogger(__name__)

MARKER_COLOUR = "#cf222e"
MAX_NOTED = 6  # markers named in the chart's note; the rest are counted


@dataclass(frozen=True)
class DayMarker:
    day: date
    text: str  # "anomaly alert: Actions Linux in acme/api, $182 (usual Tuesday $9-$14)"


@dataclass(frozen=True)
class OrgLink:
    text: str
    url: str
    tone: str = ""  # a badge's colour: "", "ok", "warn" or "bad"


DayMarkerProvider = Callable[[Organization, Filters], Iterable[DayMarker]]
OrgLinkProvider = Callable[[Sequence[int]], dict[int, list[OrgLink]]]

_day_marker_providers: list[DayMarkerProvider] = []
_org_link_providers: list[OrgLinkProvider] = []


def register_day_markers(provider: DayMarkerProvider) -> None:
    if provider not in _day_marker_providers:
        _day_marker_providers.append(provider)


def register_org_links(provider: OrgLinkProvider) -> None:
    if provider not in _org_link_providers:
        _org_link_providers.append(provider)


def day_markers(organization: Organization, filters: Filters) -> list[DayMarker]:
    """Every provider's markers inside the filters' dates, by day."""
    found: list[DayMarker] = []
    for provider in _day_marker_providers:
        try:
            found.extend(provider(organization, filters))
        except Exception:
            log.exception("day marker provider %s failed", provider)
    inside = [m for m in found if filters.start <= m.day <= filters.end]
    return sorted(inside, key=lambda m: (m.day, m.text))


def org_links(organization_ids: Sequence[int]) -> dict[int, list[OrgLink]]:
    links: dict[int, list[OrgLink]] = defaultdict(list)
    for provider in _org_link_providers:
        try:
            answer = provider(list(organization_ids))
        except Exception:
            log.exception("organization link provider %s failed", provider)
            continue
        for org_id, items in answer.items():
            links[org_id].extend(items)
    return dict(links)


def _line(day: date) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "x",
        "yref": "paper",
        "x0": day.isoformat(),
        "x1": day.isoformat(),
        "y0": 0,
        "y1": 1,
        "line": {"color": MARKER_COLOUR, "width": 1.5, "dash": "dot"},
    }


def _label(day: date, texts: list[str]) -> dict[str, Any]:
    return {
        "x": day.isoformat(),
        "xref": "x",
        "yref": "paper",
        "y": 1,
        "yanchor": "bottom",
        "showarrow": False,
        "text": "▼",
        "font": {"color": MARKER_COLOUR, "size": 12},
        # plotly.js renders a subset of HTML in hover text: escape the names.
        "hovertext": "<br>".join(html.escape(t, quote=False) for t in texts),
    }


def mark_daily_chart(chart: Chart, organization: Organization, filters: Filters) -> Chart:
    """`chart` (the daily spend chart) with the registered day markers drawn on it and
    named in its note."""
    markers = day_markers(organization, filters)
    if not markers or chart.figure is None:
        return chart
    by_day: dict[date, list[str]] = defaultdict(list)
    for marker in markers:
        by_day[marker.day].append(marker.text)
    layout = chart.figure.setdefault("layout", {})
    layout["shapes"] = [*layout.get("shapes", []), *(_line(d) for d in by_day)]
    layout["annotations"] = [
        *layout.get("annotations", []),
        *(_label(d, texts) for d, texts in by_day.items()),
    ]
    named = [f"{m.day:%a} {m.day.day} {m.day:%b}: {m.text}" for m in markers[:MAX_NOTED]]
    more = len(markers) - len(named)
    note = "Red dotted lines mark alerts: " + "; ".join(named)
    note += f"; and {more} more." if more else "."
    chart.note = f"{chart.note} {note}" if chart.note else note
    return chart
