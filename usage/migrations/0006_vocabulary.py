"""One spelling per product, SKU and unit type for the rows stored before
`usage.vocabulary` (issue 12): usage items, their rollups, the usage summaries and the
budgets get GitHub's identifiers ("Actions Linux" -> actions_linux, "Minutes" -> minutes).

Safe on a large table: the distinct spellings are read from the daily rollup (small; it
holds every item's product, SKU and unit), and only the org-months that hold a spelling
to change are touched, each in a transaction of its own (the migration is not atomic: a
run that stops halfway leaves whole months done, and running it again finishes the
rest). In a month where two spellings become one key ("Actions" and "actions" on one
day) the rollups are rebuilt from the items, which would otherwise break their unique
constraints; elsewhere they are renamed in place. The SQL is written against the tables
as they are at this migration, not against today's code.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import migrations, transaction

SUMS = "SUM(quantity), SUM(gross_amount), SUM(discount_amount), SUM(net_amount), COUNT(*)"
SUM_COLUMNS = "quantity, gross_amount, discount_amount, net_amount, items"


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _changes(values, normalise) -> dict[str, str]:
    return {v: normalise(v) for v in values if normalise(v) != v}


def _case(column: str, mapping: dict[str, str]) -> tuple[str, list[str]]:
    """``column = CASE column WHEN old THEN new ... ELSE column END``."""
    whens = " ".join("WHEN %s THEN %s" for _ in mapping)
    params = [text for pair in mapping.items() for text in pair]
    return f"{column} = CASE {column} {whens} ELSE {column} END", params


def _rename(cursor, table: str, where: str, where_params: list, columns: dict) -> None:
    """Rename the changed spellings of `columns` ({column: mapping}) in `table`'s rows
    matching `where`."""
    sets, params, matches, match_params = [], [], [], []
    for column, mapping in columns.items():
        if not mapping:
            continue
        sql, values = _case(column, mapping)
        sets.append(sql)
        params += values
        matches.append(f"{column} IN ({', '.join(['%s'] * len(mapping))})")
        match_params += list(mapping)
    if sets:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(sets)} WHERE {where} AND ({' OR '.join(matches)})",
            [*params, *where_params, *match_params],
        )


def _merges(keys, positions: dict[int, dict[str, str]]) -> bool:
    """Would renaming these rollup keys make two of them one?"""
    renamed = set()
    for key in keys:
        new = tuple(positions.get(i, {}).get(part, part) for i, part in enumerate(key))
        if new in renamed:
            return True
        renamed.add(new)
    return False


def normalise(apps, connection) -> dict[str, int]:
    """Normalise every stored spelling; returns counts of what was done (for the tests)."""
    from usage.vocabulary import product_id, sku_id, unit_id

    item_table = apps.get_model("usage", "UsageItem")._meta.db_table
    Daily = apps.get_model("usage", "DailyUsage")
    Repo = apps.get_model("usage", "MonthlyRepositoryUsage")
    daily_table, repo_table = Daily._meta.db_table, Repo._meta.db_table
    done = {"months": 0, "rebuilt": 0, "summaries": 0, "budgets": 0}

    products = _changes(
        set(Daily.objects.values_list("product", flat=True).distinct())
        | set(Repo.objects.values_list("product", flat=True).distinct()),
        product_id,
    )
    skus = _changes(
        set(Daily.objects.values_list("sku", flat=True).distinct())
        | set(Repo.objects.values_list("sku", flat=True).distinct()),
        sku_id,
    )
    units = _changes(set(Daily.objects.values_list("unit_type", flat=True).distinct()), unit_id)

    months: set[tuple[int, date]] = set()
    if products or skus or units:
        touched = Daily.objects.filter(product__in=list(products)) | Daily.objects.filter(
            sku__in=list(skus)
        )
        touched |= Daily.objects.filter(unit_type__in=list(units))
        for org, day in touched.values_list("organization_id", "date").distinct():
            months.add((org, _month_start(day)))
        touched_repos = Repo.objects.filter(product__in=list(products)) | Repo.objects.filter(
            sku__in=list(skus)
        )
        months |= set(touched_repos.values_list("organization_id", "month").distinct())

    item_columns = {"product": products, "sku": skus, "unit_type": units}
    for org, start in sorted(months):
        end = _next_month(start)
        in_month = "organization_id = %s AND date >= %s AND date < %s"
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            _rename(cursor, item_table, in_month, [org, start, end], item_columns)
            daily_keys = Daily.objects.filter(
                organization_id=org, date__gte=start, date__lt=end
            ).values_list("date", "product", "sku", "unit_type")
            repo_keys = Repo.objects.filter(organization_id=org, month=start).values_list(
                "repository", "product", "sku"
            )
            merges = _merges(daily_keys, {1: products, 2: skus, 3: units}) or _merges(
                repo_keys, {1: products, 2: skus}
            )
            if merges:
                # Two spellings become one key: rebuild the month's rollups from the items.
                cursor.execute(f"DELETE FROM {daily_table} WHERE {in_month}", [org, start, end])
                cursor.execute(
                    f"DELETE FROM {repo_table} WHERE organization_id = %s AND month = %s",
                    [org, start],
                )
                cursor.execute(
                    f"INSERT INTO {daily_table} (organization_id, date, product, sku, "
                    f"unit_type, {SUM_COLUMNS}) SELECT organization_id, date, product, sku, "
                    f"unit_type, {SUMS} FROM {item_table} WHERE {in_month} "
                    "GROUP BY organization_id, date, product, sku, unit_type",
                    [org, start, end],
                )
                cursor.execute(
                    f"INSERT INTO {repo_table} (organization_id, month, repository, product, "
                    f"sku, {SUM_COLUMNS}) SELECT organization_id, %s, repository, product, sku, "
                    f"{SUMS} FROM {item_table} WHERE {in_month} "
                    "GROUP BY organization_id, repository, product, sku",
                    [start, org, start, end],
                )
                done["rebuilt"] += 1
            else:
                _rename(cursor, daily_table, in_month, [org, start, end], item_columns)
                _rename(
                    cursor,
                    repo_table,
                    "organization_id = %s AND month = %s",
                    [org, start],
                    {"product": products, "sku": skus},
                )
        done["months"] += 1

    Summary = apps.get_model("usage", "UsageSummary")
    for summary in Summary.objects.all().iterator():
        items = []
        for item in summary.items or []:
            row = dict(item) if isinstance(item, dict) else item
            if isinstance(row, dict):
                for key, fn in (("product", product_id), ("sku", sku_id), ("unitType", unit_id)):
                    if isinstance(row.get(key), str):
                        row[key] = fn(row[key])
            items.append(row)
        if items != (summary.items or []):
            Summary.objects.filter(pk=summary.pk).update(items=items)
            done["summaries"] += 1

    Budget = apps.get_model("usage", "Budget")
    changed = defaultdict(list)
    for budget in Budget.objects.all().iterator():
        fn = sku_id if budget.budget_type == "SkuPricing" else product_id
        skus_now = [fn(str(s)) for s in budget.product_skus or []]
        if skus_now != (budget.product_skus or []):
            changed[budget.pk] = skus_now
    for pk, skus_now in changed.items():
        Budget.objects.filter(pk=pk).update(product_skus=skus_now)
        done["budgets"] += 1
    return done


def forwards(apps, schema_editor) -> None:
    normalise(apps, schema_editor.connection)


class Migration(migrations.Migration):
    # Each org-month in a transaction of its own (see the docstring).
    atomic = False

    dependencies = [("usage", "0005_endpoint_availability_usage")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
