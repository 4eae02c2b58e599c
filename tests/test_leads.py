import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from yimatong.accounts.models import User
from yimatong.investment.actions import leads
from yimatong.investment.models import Lead, LeadEvent, LeadSource
from yimatong.lib.errors import Conflict
from yimatong.notifications.models import Notification


def make_lead(park, actor=None, **data):
    values = {
        "company_name": "杭州新药研究有限公司",
        "chain_node": park.antibody,
        "contact_phone": "13700001111",
    }
    values.update(data)
    return leads.create_lead(actor=actor, data=values, source={"channel": "expo", "event": "2026 生物医药展"})


def test_a_lead_from_an_expo_goes_to_the_team_covering_its_chain_segment(investment):
    lead = make_lead(investment)
    assert lead.code.startswith(f"L-{timezone.now().year}-")
    assert (lead.status, lead.team.code) == ("assigned", "bio")
    assert lead.owner in (investment.users["owner"], investment.users["colleague"])
    assert lead.sources.get().event == "2026 生物医药展"
    assert Notification.objects.filter(recipient=lead.owner, kind="lead_assigned").count() == 1


def test_round_robin_gives_the_next_lead_to_the_other_promoter(investment):
    first = make_lead(investment)
    second = make_lead(investment, company_name="南京另一家药业有限公司", contact_phone="13700002222")
    assert {first.owner, second.owner} == {investment.users["owner"], investment.users["colleague"]}


def test_a_lead_no_team_covers_stays_in_the_pool(investment):
    lead = make_lead(investment, chain_node=None)
    assert (lead.status, lead.owner) == ("pool", None)


def test_a_promoters_own_entry_is_theirs(investment):
    lead = make_lead(investment, actor=investment.users["other_team"])
    assert lead.owner == investment.users["other_team"]


def test_claiming_twice_the_second_is_told_and_nothing_changes(investment):
    lead = make_lead(investment, chain_node=None)
    leads.claim_lead(lead=lead, actor=investment.users["owner"])
    with pytest.raises(Conflict, match="已被他人认领"):
        leads.claim_lead(lead=Lead.objects.get(pk=lead.pk), actor=investment.users["colleague"])
    assert Lead.objects.get(pk=lead.pk).owner == investment.users["owner"]


def test_an_untouched_lead_returns_to_the_pool_and_its_owner_is_told(investment):
    lead = make_lead(investment, actor=investment.users["owner"])
    later = timezone.now() + dt.timedelta(days=16)
    assert leads.return_stale_leads(now=later) == 1
    assert leads.return_stale_leads(now=later) == 0  # a second sweep finds nothing more
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == ("pool", None)
    assert lead.events.filter(kind="returned").count() == 1
    assert Notification.objects.filter(recipient=investment.users["owner"], kind="lead_returned").count() == 1


def test_a_touched_lead_stays_with_its_owner(investment):
    lead = make_lead(investment, actor=investment.users["owner"])
    leads.add_note(lead=lead, actor=investment.users["owner"], text="电话沟通，下周来园")
    assert leads.return_stale_leads(now=timezone.now() + dt.timedelta(days=14)) == 0


def test_duplicates_are_found_by_uscc_name_and_phone(investment):
    other = make_lead(
        investment, company_name="苏州启明抗体药物（江苏）有限公司", contact_phone="13812345678"
    )
    found = leads.find_duplicates(
        company_name="苏州启明抗体药物有限公司", uscc=investment.prospect.uscc, phone="13812345678"
    )
    assert found.organizations == [investment.prospect]
    assert found.leads == [other]
    assert set(found.reasons_for(investment.prospect)) == {
        "统一社会信用代码相同",
        "名称相近",
        "联系人电话相同",
    }


def test_merging_keeps_the_sources_activities_and_history_of_both(investment):
    from yimatong.investment.actions.work import add_activity

    keep = make_lead(investment, actor=investment.users["owner"])
    merge = make_lead(
        investment,
        actor=investment.users["owner"],
        company_name="杭州新药研究院",
        contact_phone="",
        interest="ADC 平台",
    )
    add_activity(
        actor=investment.users["owner"],
        lead=merge,
        data={"kind": "call", "summary": "首次电话", "occurred_on": dt.date(2026, 11, 20)},
    )
    kept = leads.merge_leads(keep=keep, merge=merge, actor=investment.users["owner"])
    assert kept.sources.count() == 2
    assert kept.activities.get().summary == "首次电话"
    assert kept.interest == "ADC 平台"  # filled from the merged lead
    merge.refresh_from_db()
    assert (merge.status, merge.merged_into) == ("merged", kept)
    assert merge.events.filter(kind="created").exists()  # its own history stays on it


def test_qualifying_creates_the_investor_contact_and_project_and_keeps_the_source(investment):
    lead = make_lead(investment, actor=investment.users["owner"], contact_name="吴总")
    project = leads.qualify_lead(lead=lead, actor=investment.users["owner"], data={})
    lead.refresh_from_db()
    assert lead.status == "qualified"
    assert project.lead == lead
    assert project.source_channel == "expo"
    assert project.organization.name == "杭州新药研究有限公司"
    assert project.organization.org_type == "prospect"
    assert project.contact.mobile == "13700001111"
    assert project.code.startswith(f"YMT-{timezone.now().year}-")


def test_the_database_refuses_a_pool_lead_with_an_owner(investment):
    from django.db import IntegrityError, transaction

    lead = make_lead(investment, chain_node=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Lead.objects.filter(pk=lead.pk).update(owner=investment.users["owner"])


def test_lead_events_are_append_only(investment):
    lead = make_lead(investment)
    event = lead.events.first()
    with pytest.raises(TypeError):
        event.save()


def test_a_team_lead_assigns_only_within_the_team(investment):
    from yimatong.lib.errors import ActionError

    lead = make_lead(investment, chain_node=None)
    with pytest.raises(ActionError):
        leads.assign_lead(lead=lead, actor=investment.users["teamlead"], owner=investment.users["other_team"])
    leads.assign_lead(lead=lead, actor=investment.users["teamlead"], owner=investment.users["colleague"])
    assert Lead.objects.get(pk=lead.pk).owner == investment.users["colleague"]
    assert LeadEvent.objects.filter(lead=lead, kind="assigned").exists()


def test_only_active_promoters_get_auto_assigned(investment):
    User.objects.filter(pk__in=[investment.users["owner"].pk, investment.users["colleague"].pk]).update(
        is_active=False
    )
    lead = make_lead(investment)
    assert lead.status == "pool"
    assert LeadSource.objects.filter(lead=lead).count() == 1
    assert UserFactory  # factories stay importable for later tests
