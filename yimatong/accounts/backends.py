"""Staff sign in with their username or their mobile number."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from yimatong.accounts.models import User
from yimatong.lib.identifiers import clean_mobile


def find_user(identifier: str) -> User | None:
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    user = User.objects.filter(username__iexact=identifier).first()
    if user is not None:
        return user
    try:
        phone = clean_mobile(identifier)
    except ValidationError:
        return None
    return User.objects.filter(phone=phone).first()


class UsernameOrPhoneBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = find_user(username or kwargs.get(User.USERNAME_FIELD, ""))
        if user is None:
            User().set_password(password)  # same cost whether or not the user exists
            return None
        if user.is_locked() or not user.check_password(password) or not self.user_can_authenticate(user):
            return None
        return user

    def get_user(self, user_id: Any) -> User | None:
        # The console shows the user's team or department on every page: fetch them with the user.
        user = User.objects.select_related("team", "department", "organization").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
