"""Factories for the suite. Codes and phone numbers are valid by construction."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from yimatong.accounts.models import Department, Team, User
from yimatong.directory.models import ChainNode, Contact, Organization
from yimatong.lib.identifiers import uscc_with_check_digit


def valid_uscc(n: int) -> str:
    return uscc_with_check_digit(f"91500113{n:09d}")


class ChainNodeFactory(DjangoModelFactory):
    class Meta:
        model = ChainNode

    code = factory.Sequence(lambda n: f"node-{n}")
    name = factory.Sequence(lambda n: f"环节{n}")
    kind = ChainNode.Kind.CORE


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    code = factory.Sequence(lambda n: f"team-{n}")
    name = factory.Sequence(lambda n: f"招商{n}组")


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"服务部门{n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"用户{n}")
    role = User.Role.PROMOTER
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"测试生物科技{n}有限公司")
    uscc = factory.Sequence(valid_uscc)
    org_type = Organization.Type.RESIDENT

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        collaborators = kwargs.pop("collaborators", [])
        obj = model_class(*args, **kwargs)
        obj.refresh_search_fields()
        obj.save()
        if collaborators:
            obj.collaborators.set(collaborators)
        return obj


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = Contact

    name = factory.Sequence(lambda n: f"联系人{n}")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        obj.refresh_search_fields()
        obj.save()
        return obj
