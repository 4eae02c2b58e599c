"""Two people at once, for real: threads with their own database connections."""

import threading

import pytest
from django.db import connection
from django.test import override_settings

from tests.factories import OrganizationFactory, TeamFactory, UserFactory
from yimatong.accounts.models import AuditEntry, User
from yimatong.directory import actions
from yimatong.directory.models import Organization
from yimatong.lib.errors import StaleObject


def run_together(*functions):
    barrier = threading.Barrier(len(functions))
    outcomes = [None] * len(functions)

    def runner(index, fn):
        try:
            barrier.wait()
            outcomes[index] = fn()
        except Exception as exc:  # the outcome is what the test looks at
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_people_saving_the_same_version_one_wins_and_the_other_is_told():
    team = TeamFactory()
    owner = UserFactory(role=User.Role.PROMOTER, team=team)
    lead = UserFactory(role=User.Role.TEAM_LEAD, team=team)
    org = OrganizationFactory(org_type="prospect", owner=owner, team=team)

    def save(user, address):
        return lambda: actions.update_organization(
            actor=user, org=Organization.objects.get(pk=org.pk), data={"address": address}, version=1
        )

    outcomes = run_together(save(owner, "A 地址"), save(lead, "B 地址"))
    winners = [o for o in outcomes if isinstance(o, Organization)]
    losers = [o for o in outcomes if isinstance(o, StaleObject)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    stored = Organization.objects.get(pk=org.pk)
    assert stored.address == winners[0].address
    assert stored.version == 2
    assert AuditEntry.objects.filter(action="update", object_id=str(org.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
@override_settings(LOGIN_MAX_FAILURES=4)
def test_guesses_arriving_together_check_no_more_passwords_than_the_limit_and_lock_once():
    from django.test import Client

    UserFactory(username="target", role=User.Role.PROMOTER, team=TeamFactory())

    def fail():
        return Client().post("/accounts/login/", {"username": "target", "password": "wrong"}).status_code

    outcomes = run_together(*[fail] * 8)
    assert outcomes == [400] * 8
    user = User.objects.get(username="target")
    assert user.locked_until is not None
    assert AuditEntry.objects.filter(action="locked", object_id=str(user.pk)).count() == 1
    # Eight guesses arrived together; only the four the limit allows had their password checked.
    assert AuditEntry.objects.filter(action="login_failed", object_id=str(user.pk)).count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_people_naming_a_primary_contact_at_once_leave_exactly_one_primary():
    from yimatong.directory.models import Contact

    team = TeamFactory()
    owner = UserFactory(role=User.Role.PROMOTER, team=team)
    org = OrganizationFactory(org_type="prospect", owner=owner, team=team)

    def add(name, mobile):
        return lambda: actions.create_contact(
            actor=owner,
            data={
                "organization": Organization.objects.get(pk=org.pk),
                "name": name,
                "mobile": mobile,
                "is_primary": True,
            },
        )

    outcomes = run_together(add("甲", "13700000001"), add("乙", "13700000002"))
    assert all(isinstance(o, Contact) for o in outcomes), outcomes
    assert Contact.objects.filter(organization=org, is_primary=True).count() == 1
    assert Contact.objects.filter(organization=org).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_people_moving_the_same_project_at_once_one_wins_and_the_other_is_told():
    from yimatong.investment.actions.projects import create_project, move_stage
    from yimatong.investment.models import Project as InvestmentProject
    from yimatong.investment.models import ProjectEvent

    team = TeamFactory()
    owner = UserFactory(role=User.Role.PROMOTER, team=team)
    lead = UserFactory(role=User.Role.TEAM_LEAD, team=team)
    org = OrganizationFactory(org_type="prospect", owner=owner, team=team)
    project = create_project(actor=owner, data={"name": "并发项目", "organization": org, "owner": owner})

    def move(user, to):
        return lambda: move_stage(
            actor=user, project=InvestmentProject.objects.get(pk=project.pk), to=to, expected_stage="contact"
        )

    outcomes = run_together(move(owner, "visit"), move(lead, "negotiation"))
    winners = [o for o in outcomes if isinstance(o, InvestmentProject)]
    losers = [o for o in outcomes if isinstance(o, StaleObject)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    stored = InvestmentProject.objects.get(pk=project.pk)
    assert stored.stage == winners[0].stage
    assert ProjectEvent.objects.filter(project=project, kind="stage").count() == 1
    assert "已被移到" in str(losers[0])


@pytest.mark.django_db(transaction=True)
def test_two_promoters_claiming_the_same_pool_lead_at_once_leave_it_with_one_owner():
    from yimatong.investment.actions.leads import claim_lead, create_lead
    from yimatong.investment.models import Lead, LeadEvent
    from yimatong.lib.errors import Conflict

    team = TeamFactory()
    first, second = (UserFactory(role=User.Role.PROMOTER, team=team) for _ in range(2))
    lead = create_lead(
        actor=None, data={"company_name": "并发认领生物科技有限公司"}, source={"channel": "expo"}
    )
    assert lead.status == Lead.Status.POOL

    def claim(user):
        return lambda: claim_lead(lead=Lead.objects.get(pk=lead.pk), actor=user)

    outcomes = run_together(claim(first), claim(second))
    winners = [o for o in outcomes if isinstance(o, Lead)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    stored = Lead.objects.get(pk=lead.pk)
    assert stored.owner == winners[0].owner and stored.status == Lead.Status.ASSIGNED
    assert LeadEvent.objects.filter(lead=lead, kind="claimed").count() == 1
