import datetime as dt

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD
from yimatong.accounts.models import AuditEntry, User

LOGIN = "/accounts/login/"


def login(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def test_staff_log_in_with_their_username(park):
    response = login(Client(), "owner")
    assert response.status_code == 302
    assert response.url == "/"


def test_staff_log_in_with_their_mobile_number_in_any_common_format(park):
    assert login(Client(), "139 8300 0004").status_code == 302
    assert login(Client(), "+86 13983000004").status_code == 302


def test_the_username_is_not_case_sensitive(park):
    assert login(Client(), "OWNER").status_code == 302


REFUSED = "用户名/手机号或密码不正确。连续输错 5 次后账户将锁定 30 分钟，忘记密码或被锁定请联系系统管理员。"


def refusal(response) -> str:
    assert response.status_code == 400
    return response.context["error"]


@override_settings(LOGIN_MAX_FAILURES=5, LOGIN_LOCKOUT_MINUTES=30)
def test_a_guesser_cannot_tell_an_unknown_user_from_a_wrong_password_or_a_locked_account(park):
    User.objects.filter(username="colleague").update(locked_until=timezone.now() + dt.timedelta(minutes=10))
    User.objects.filter(username="leader").update(is_active=False)
    answers = {
        "wrong password": refusal(login(Client(), "owner", "nope")),
        "unknown user": refusal(login(Client(), "nobody", "nope")),
        "unknown phone": refusal(login(Client(), "13900000000", "nope")),
        "locked, wrong password": refusal(login(Client(), "colleague", "nope")),
        "locked, right password": refusal(login(Client(), "colleague")),
        "inactive": refusal(login(Client(), "leader")),
    }
    assert answers == dict.fromkeys(answers, REFUSED)


@override_settings(LOGIN_MAX_FAILURES=5, LOGIN_LOCKOUT_MINUTES=30)
def test_an_enterprise_binding_its_phone_gets_the_same_single_refusal(park):
    from yimatong.accounts.actions import check_credentials

    User.objects.filter(username="colleague").update(locked_until=timezone.now() + dt.timedelta(minutes=10))
    assert check_credentials(identifier="nobody", password="x").error == REFUSED
    assert check_credentials(identifier="colleague", password=PASSWORD).error == REFUSED


def test_an_empty_form_names_the_missing_fields(park):
    response = Client().post(LOGIN, {"username": "", "password": ""})
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "username": ["这个字段是必填项。"],
        "password": ["这个字段是必填项。"],
    }


@override_settings(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_MINUTES=15)
def test_three_failures_in_a_row_lock_the_account_even_for_the_right_password(park):
    client = Client()
    refused = (
        "用户名/手机号或密码不正确。连续输错 3 次后账户将锁定 15 分钟，忘记密码或被锁定请联系系统管理员。"
    )
    for _ in range(3):
        assert refusal(login(client, "owner", "nope")) == refused
    assert refusal(login(client, "owner")) == refused
    user = User.objects.get(username="owner")
    assert user.failed_login_count == 0
    assert user.locked_until > timezone.now() + dt.timedelta(minutes=14)
    actions = list(AuditEntry.objects.for_object(user).order_by("id").values_list("action", flat=True))
    assert actions == ["login_failed", "login_failed", "login_failed", "locked"]


@override_settings(LOGIN_MAX_FAILURES=3)
def test_a_lock_expires_and_a_success_clears_the_failure_count(park):
    client = Client()
    login(client, "owner", "nope")
    login(client, "owner", "nope")
    assert User.objects.get(username="owner").failed_login_count == 2
    assert login(client, "owner").status_code == 302
    assert User.objects.get(username="owner").failed_login_count == 0
    User.objects.filter(username="colleague").update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert login(Client(), "colleague").status_code == 302


def test_an_admin_unlocks_a_locked_account(park, as_persona):
    User.objects.filter(username="colleague").update(locked_until=timezone.now() + dt.timedelta(minutes=10))
    response = as_persona("admin").post(reverse("accounts:user_unlock", args=[park.users["colleague"].pk]))
    assert response.status_code == 302
    assert User.objects.get(username="colleague").locked_until is None
    assert login(Client(), "colleague").status_code == 302


def test_an_investor_account_cannot_enter_the_console(park):
    response = login(Client(), "investor")
    assert response.status_code == 400
    assert "投资方请通过园区微信公众号访问" in response.content.decode()


def test_an_inactive_account_cannot_log_in(park):
    User.objects.filter(username="owner").update(is_active=False)
    assert login(Client(), "owner").status_code == 400


def test_after_login_the_user_returns_to_the_page_they_asked_for_but_never_to_another_site(park):
    assert login(Client(), "owner", next="/directory/contacts/").url == "/directory/contacts/"
    assert login(Client(), "owner", next="https://evil.example/").url == "/"


def test_a_page_behind_login_sends_anonymous_visitors_to_the_login_page(park):
    response = Client().get("/directory/organizations/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/directory/organizations/"


def test_logging_out_ends_the_session_and_is_audited(park):
    client = Client()
    login(client, "owner")
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302
    assert AuditEntry.objects.filter(action="logout", actor__username="owner").count() == 1


def test_logout_needs_a_post_so_a_link_cannot_log_someone_out(park, as_persona):
    assert as_persona("owner").get("/accounts/logout/").status_code == 405


def test_changing_the_password_checks_the_old_one_and_the_rules(park):
    client = Client()
    login(client, "owner")
    url = reverse("accounts:password_change")
    wrong_old = client.post(
        url, {"old_password": "x", "new_password1": "Bio-city-2026!", "new_password2": "Bio-city-2026!"}
    )
    assert wrong_old.status_code == 400
    assert wrong_old.context["form"].errors["old_password"] == ["当前密码不正确。"]
    short = client.post(url, {"old_password": PASSWORD, "new_password1": "12345", "new_password2": "12345"})
    assert short.status_code == 400
    assert short.context["form"].errors["new_password1"] == [
        "密码太短：至少需要 10 个字符。",
        "这个密码太常见了。",
        "密码只包含数字。",
    ]
    mismatch = client.post(
        url, {"old_password": PASSWORD, "new_password1": "Bio-city-2026!", "new_password2": "x"}
    )
    assert mismatch.context["form"].errors["new_password2"] == ["两次输入的新密码不一致。"]
    assert User.objects.get(username="owner").check_password(PASSWORD)

    ok = client.post(
        url, {"old_password": PASSWORD, "new_password1": "Bio-city-2026!", "new_password2": "Bio-city-2026!"}
    )
    assert ok.status_code == 302
    assert client.get("/").status_code == 200  # this session survives
    assert User.objects.get(username="owner").check_password("Bio-city-2026!")
    assert AuditEntry.objects.filter(action="password_changed", actor__username="owner").exists()


def test_changing_the_password_ends_the_users_other_sessions(park):
    other_device, this_device = Client(), Client()
    login(other_device, "owner")
    login(this_device, "owner")
    this_device.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "Bio-city-2026!", "new_password2": "Bio-city-2026!"},
    )
    assert this_device.get("/").status_code == 200
    assert other_device.get("/").status_code == 302


@pytest.mark.parametrize(
    "setting, value",
    [
        ("SESSION_COOKIE_HTTPONLY", True),
        ("SESSION_EXPIRE_AT_BROWSER_CLOSE", True),
        ("CSRF_COOKIE_HTTPONLY", True),
        ("SESSION_COOKIE_SAMESITE", "Lax"),
    ],
)
def test_session_cookies_are_locked_down(settings, setting, value):
    assert getattr(settings, setting) == value


def test_the_admin_sites_login_sends_people_to_the_console_sign_in(park):
    response = Client().get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/admin/accounts/user/"
    assert Client().post("/admin/login/", {"username": "admin", "password": "x"}).status_code == 302
    assert User.objects.get(username="admin").failed_login_count == 0  # nothing was checked there


def test_usernames_are_unique_whatever_their_case(park):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="Owner", role=User.Role.INVESTOR)


def test_an_admin_resetting_a_password_in_the_admin_site_is_audited(park, as_persona):
    owner = park.users["owner"]
    response = as_persona("admin").post(
        reverse("admin:auth_user_password_change", args=[owner.pk]),  # Django names it so
        {"password1": "Bio-city-2026!", "password2": "Bio-city-2026!", "usable_password": "true"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="password_changed", object_id=str(owner.pk))
    assert entry.actor == park.users["admin"]


def test_an_unlock_is_audited_as_such(park, as_persona):
    User.objects.filter(username="colleague").update(locked_until=timezone.now() + dt.timedelta(minutes=5))
    as_persona("admin").post(reverse("accounts:user_unlock", args=[park.users["colleague"].pk]))
    entry = AuditEntry.objects.get(action="unlocked")
    assert (entry.actor, entry.object_repr, entry.changes) == (park.users["admin"], "孙专员", [])
