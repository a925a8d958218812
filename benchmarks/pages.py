"""How fast the pages answer at the monthly close benchmark's scale: ``python -m benchmarks.pages``.

Runs on a database left by ``python -m benchmarks.monthly_close --keep`` (1,000 contracts × 10
service levels × 12 months of daily counters, about 11 M measurement rows, 12,000 statements):
DATABASE_URL names that database (``<name>_bench``). It requests the main pages, API lists and
back-office lists in this process through Django's test client (no network, ``DEBUG`` off), each
``--repeat`` times, as a procurement officer, as the vendor manager who owns every contract, and as
an administrator, and prints the median time and the number of SQL queries of each. The users it
needs are created once (``bench-…``); nothing else is written.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="requests per page; the median is printed (default 3)")
    return parser.parse_args(argv)


def pages(contract, statement) -> dict[str, list[str]]:
    """The URLs each kind of user requests."""
    month = f"{statement.month:%Y-%m}"
    common = [
        "/",
        "/penalties/",
        f"/penalties/?month={month}",
        f"/penalties/export.xlsx?month={month}",
        f"/penalties/statements/{statement.pk}/",
        f"/penalties/statements/{statement.pk}/export.pdf",
        "/contracts/",
        f"/contracts/{contract.pk}/",
        f"/penalties/contracts/{contract.pk}/{statement.month.year}/",
        "/committees/",
        "/audits/",
        "/api/v1/penalty-statements/?page_size=100",
        "/api/v1/statement-lines/?page_size=100",
        f"/api/v1/measurements/?contract={contract.pk}&page_size=100",
        "/api/v1/contracts/?page_size=100",
    ]
    kpi = [
        "/penalties/kpi/",
        f"/penalties/kpi/contracts/{contract.pk}/months/{month}/",
        f"/penalties/kpi/contracts/{contract.pk}/months/{month}/history/",
    ]
    back_office = [
        "/admin/",
        "/admin/sla_tracker/measurement/",
        f"/admin/sla_tracker/measurement/?contract__id__exact={contract.pk}",
        "/admin/sla_tracker/measurementchange/",
        "/admin/sla_tracker/statementline/",
        "/admin/sla_tracker/penaltystatement/",
        "/admin/contracts/contract/",
    ]
    return {"procurement": common, "vendor manager": common + kpi, "administrator": kpi + back_office}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"  # static files without a manifest
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.choices import Role
    from accounts.models import User
    from contracts.models import Contract
    from sla_tracker.models import PenaltyStatement

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    if connection.vendor != "postgresql" or not PenaltyStatement.objects.exists():
        sys.exit("Run it on a database left by `python -m benchmarks.monthly_close --keep` (DATABASE_URL).")
    contract = Contract.objects.order_by("pk").first()
    statement = PenaltyStatement.objects.filter(contract=contract).order_by("-month").first()
    users = {
        "procurement": User.objects.get_or_create(username="bench-procurement", defaults={"role": Role.PROCUREMENT})[0],
        "vendor manager": contract.owner,
        "administrator": User.objects.get_or_create(
            username="bench-administrator",
            defaults={"role": Role.ADMINISTRATOR, "is_superuser": True, "is_staff": True},
        )[0],
    }
    print(
        f"{Contract.objects.count():,} contracts, {PenaltyStatement.objects.count():,} statements; "
        f"median of {args.repeat} requests per page"
    )
    for who, urls in pages(contract, statement).items():
        client = Client()
        client.force_login(users[who])
        print(f"as {who} ({users[who].username}):")
        for url in urls:
            times = []
            for _ in range(args.repeat):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(url)
                    if response.streaming:
                        b"".join(response.streaming_content)
                    times.append(time.perf_counter() - started)
            median = statistics.median(times) * 1000
            print(f"  {response.status_code}  {median:7.0f} ms  {len(queries.captured_queries):3d} queries  {url}")


if __name__ == "__main__":
    main()
