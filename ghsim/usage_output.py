"""The usage generator's answers: the summary per SKU
and the independent totals of `GET /_sim/orgs/<login>/totals`, all from one OrgPlan's rows
(exact fixed-point integers, see usage.py and catalog.py)."""

from __future__ import annotations

from datetime import date

from ghsim.catalog import A_DECIMALS, Q_DECIMALS, Q_SCALE, fmt_units
from ghsim.jsonutil import Raw
from ghsim.usage import OrgPlan


def _fq(q: int) -> str:
    return str(q // Q_SCALE) if q % Q_SCALE == 0 else fmt_units(q, Q_DECIMALS)


def _fa(a: int) -> str:
    return fmt_units(a, A_DECIMALS) if a else "0"


def _norm(text: str) -> str:
    return text.strip().lower().replace(" ", "_").replace("-", "_")


def summary_items(
    plan: OrgPlan,
    span: tuple[date, date] | None,
    repository: str | None = None,
    product: str | None = None,
    sku: str | None = None,
) -> list[dict[str, object]]:
    """Usage summary rows per (product, SKU) with gross/discount/net quantity and amount."""
    if span is None:
        return []
    acc: dict[int, list[int]] = {}
    repo_l = repository.lower() if repository else None
    prod_n = _norm(product) if product else None
    sku_l = sku.strip().lower() if sku else None
    wanted = []
    for s in plan.slots:
        ok = (repo_l is None or (s.repo or "").lower() == repo_l) and (
            prod_n is None or _norm(s.sku.product) == prod_n
        )
        ok = ok and (sku_l is None or sku_l in (s.sku.key, s.sku.name.lower()))
        wanted.append(ok)
    for _day, rows in plan.iter_rows(*span):
        for i, q, gross, disc, dq in rows:
            if wanted[i]:
                a = acc.setdefault(plan.slots[i].sku_idx, [0, 0, 0, 0])
                a[0] += q
                a[1] += gross
                a[2] += dq
                a[3] += disc
    prices = plan.month_prices(span[0].year, span[0].month)
    out = []
    for idx in sorted(acc):
        q, gross, dq, disc = acc[idx]
        s = plan.skus[idx]
        out.append(
            {
                "product": s.product,
                "sku": s.key,
                "unitType": s.unit,
                "pricePerUnit": Raw(fmt_units(prices[idx], 8)),
                "grossQuantity": Raw(_fq(q)),
                "grossAmount": Raw(_fa(gross)),
                "discountQuantity": Raw(_fq(dq)),
                "discountAmount": Raw(_fa(disc)),
                "netQuantity": Raw(_fq(q - dq)),
                "netAmount": Raw(_fa(gross - disc)),
            }
        )
    return out


def totals(plan: OrgPlan, span: tuple[date, date] | None, group_by: str) -> dict[str, object]:
    """Independent recomputation for `GET /_sim/orgs/<login>/totals` (decimal strings)."""
    groups: dict[str, list[int]] = {}
    total = [0, 0, 0, 0, 0]
    if span is not None:
        for day, rows in plan.iter_rows(*span):
            for i, q, gross, disc, _dq in rows:
                s = plan.slots[i]
                key = {
                    "day": day.isoformat(),
                    "product": s.sku.product,
                    "sku": s.sku.name,
                    "repository": s.repo or "",
                }[group_by]
                g = groups.setdefault(key, [0, 0, 0, 0, 0])
                for acc in (g, total):
                    acc[0] += 1
                    acc[1] += q
                    acc[2] += gross
                    acc[3] += disc
                    acc[4] += gross - disc

    def render(v: list[int]) -> dict[str, object]:
        return {
            "items": v[0],
            "quantity": fmt_units(v[1], Q_DECIMALS),
            "gross": fmt_units(v[2], A_DECIMALS),
            "discount": fmt_units(v[3], A_DECIMALS),
            "net": fmt_units(v[4], A_DECIMALS),
        }

    return {
        "start": span[0].isoformat() if span else None,
        "end": span[1].isoformat() if span else None,
        "group_by": group_by,
        "groups": [{"key": k, **render(v)} for k, v in sorted(groups.items())],
        "total": render(total),
    }
