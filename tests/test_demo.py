import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from yimatong.accounts.models import AuditEntry, Team, User
from yimatong.demo import park as demo_park
from yimatong.directory.models import ChainNode, Contact, Organization
from yimatong.lib.identifiers import clean_uscc


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Organization, Contact, ChainNode, Team, User, AuditEntry)
    }


@pytest.mark.django_db
def test_loading_the_demo_twice_gives_the_same_data(capsys):
    call_command("load_demo")
    first = counts()
    codes = set(Organization.objects.values_list("uscc", flat=True))
    call_command("load_demo")
    assert counts() == first
    assert set(Organization.objects.values_list("uscc", flat=True)) == codes
    out = capsys.readouterr().out
    assert "0 created, 0 updated" in out
    for username in ("admin", "leader", "teamlead", "promoter", "service", "enterprise"):
        assert f"  {username}" in out


@pytest.mark.django_db
def test_the_demo_park_has_every_role_sixty_organizations_and_the_chain():
    call_command("load_demo")
    assert {u.role for u in User.objects.all()} >= {
        "admin",
        "leader",
        "team_lead",
        "promoter",
        "service",
        "enterprise",
    }
    assert Organization.objects.count() >= 60
    assert {n.name for n in ChainNode.objects.filter(parent__isnull=True)} == {
        "生物药",
        "化学药",
        "现代中药",
        "医疗器械",
        "公共服务平台",
    }
    assert ChainNode.objects.get(code="vaccine").children.count() == 3
    for user in User.objects.all():
        assert user.check_password("demo")
    assert User.objects.get(username="enterprise").organization.name == "重庆智翔金泰生物制药股份有限公司"


@pytest.mark.django_db
def test_every_demo_uscc_and_mobile_number_is_valid():
    call_command("load_demo")
    for org in Organization.objects.exclude(uscc=None):
        assert clean_uscc(org.uscc) == org.uscc
    for spec in demo_park.ORGANIZATIONS:
        code = demo_park.organization_code(spec.name)
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        remainder = 11 - sum(int(d) * w for d, w in zip(code[:8], weights, strict=True)) % 11
        assert code[8] == {10: "X", 11: "0"}.get(remainder, str(remainder))
    from yimatong.lib.identifiers import clean_mobile

    for contact in Contact.objects.all():
        if contact.wechat_openid and not contact.mobile:
            continue  # a WeChat follower who has not given a number yet
        assert clean_mobile(contact.mobile) == contact.mobile


@pytest.mark.django_db
def test_the_demo_accounts_are_never_created_in_production():
    with override_settings(PRODUCTION=True), pytest.raises(CommandError, match="never loaded in production"):
        call_command("load_demo")
    assert User.objects.count() == 0
