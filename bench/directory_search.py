"""Benchmark: the organization list, search and API at park scale.

Builds a throw-away database (SQLite in a temp dir, or the PostgreSQL of DATABASE_URL, in a
database named bench_yimatong, dropped at the end, on Ctrl-C too) with N organizations and 2N
contacts, then times what a promoter does all day: open the list, search by pinyin initials, by
phone digits, page the API.

    .venv/bin/python bench/directory_search.py [--orgs 20000] [--repeat 15]

Prints the median time of each step and its ratio to bench/baseline.json (1.00 = as fast as the
baseline; above 1 is slower). --save writes the current figures as the new baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.benchenv import BASELINE, BenchEnv  # noqa: E402


def populate(n: int) -> None:
    from django.db import transaction

    from yimatong.accounts.models import Team, User
    from yimatong.demo import park
    from yimatong.demo.loader import load_demo
    from yimatong.directory.models import ChainNode, Contact, Organization
    from yimatong.lib.identifiers import uscc_with_check_digit
    from yimatong.lib.text import normalize_org_name, pinyin_full, pinyin_initials

    load_demo()
    nodes = list(ChainNode.objects.all())
    owners = list(User.objects.filter(role__in=["promoter", "team_lead"]))
    teams = {t.pk: t for t in Team.objects.all()}
    words = "智翔金泰百亚宏冠九彩珂蓝渝康巴渝长嘉核睿肽达赛维联拓本草明析安瑞药谷爱睿慧康启明源峰华晟瑞康禾泰锦程楚康粤创"
    kinds = ["生物科技", "生物制药", "医疗器械", "医药包装", "药业", "诊断技术", "细胞治疗"]
    with transaction.atomic():
        orgs = []
        for i in range(n):
            name = (
                f"{'重庆' if i % 3 else '苏州'}{words[i % 40]}{words[(i * 7) % 40]}{kinds[i % 7]}{i}有限公司"
            )
            org_type = "prospect" if i % 4 == 0 else "resident"
            owner = owners[i % len(owners)] if org_type == "prospect" else None
            orgs.append(
                Organization(
                    name=name,
                    normalized_name=normalize_org_name(name),
                    name_initials=pinyin_initials(name),
                    name_pinyin=pinyin_full(name),
                    uscc=uscc_with_check_digit(f"91500113{i:09d}"),
                    org_type=org_type,
                    chain_node=nodes[i % len(nodes)],
                    owner=owner,
                    team=teams.get(owner.team_id) if owner else None,
                )
            )
        Organization.objects.bulk_create(orgs, batch_size=2000)
        ids = list(Organization.objects.filter(uscc__startswith="91500113").values_list("pk", flat=True))
        contacts = [
            Contact(
                organization_id=pk,
                name=park.person_name(f"b{pk}{j}"),
                name_initials="",
                name_pinyin="",
                mobile=park.mobile(f"b{pk}{j}"),
            )
            for pk in ids
            for j in range(2)
        ]
        Contact.objects.bulk_create(contacts, batch_size=4000)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after a bulk load


def timed(fn, repeat: int) -> float:
    fn()  # warm caches and templates
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def run(repeat: int) -> dict[str, float]:
    from django.test import Client

    from yimatong.accounts.models import User
    from yimatong.directory.models import Contact

    phone = Contact.objects.order_by("pk").values_list("mobile", flat=True)[1000][-6:]
    results = {}
    for username in ("promoter", "leader"):
        client = Client()
        client.force_login(User.objects.get(username=username))

        def get(url: str, params: dict | None = None, _client: Client = client) -> None:
            response = _client.get(url, params or {})
            assert response.status_code == 200, response.status_code

        results[f"{username}: list page 1"] = timed(lambda g=get: g("/directory/organizations/"), repeat)
        results[f"{username}: list page 50"] = timed(
            lambda g=get: g("/directory/organizations/", {"page": 50}), repeat
        )
        results[f"{username}: search initials 'zxjt'"] = timed(
            lambda g=get: g("/directory/organizations/", {"q": "zxjt"}), repeat
        )
        results[f"{username}: search phone digits"] = timed(
            lambda g=get, p=phone: g("/directory/organizations/", {"q": p}), repeat
        )
        results[f"{username}: API list 50 per page"] = timed(
            lambda g=get: g("/api/v1/organizations", {"page_size": 50}), repeat
        )
        results[f"{username}: home page"] = timed(lambda g=get: g("/"), repeat)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orgs", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--save", action="store_true", help="store these figures as the baseline")
    args = parser.parse_args()
    # The database (and the temp dir) go away at the end, on an error or Ctrl-C too.
    with BenchEnv(env="test") as bench:
        bench.setup_django()
        from django.db import connection

        start = time.perf_counter()
        populate(args.orgs)
        print(
            f"database: {connection.vendor}; {args.orgs} organizations, {2 * args.orgs} contacts "
            f"loaded in {time.perf_counter() - start:.1f} s"
        )
        results = run(args.repeat)
    key = f"{connection.vendor}/{args.orgs}"
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    base = baseline.get(key, {})
    print(f"{'step':44} {'median ms':>10} {'baseline':>10} {'ratio':>7}")
    for step, ms in results.items():
        ref = base.get(step)
        ratio = f"{ms / ref:7.2f}" if ref else "      —"
        print(f"{step:44} {ms:10.1f} {ref if ref else '—':>10} {ratio}")
    if args.save:
        baseline[key] = {k: round(v, 1) for k, v in results.items()}
        BASELINE.write_text(json.dumps(baseline, indent=2, ensure_ascii=False) + "\n")
        print(f"baseline saved for {key}")


if __name__ == "__main__":
    main()
