from django.http import HttpRequest
from ninja import Router, Schema

router = Router(tags=["accounts"])


class RefOut(Schema):
    code: str
    name: str


class MeOut(Schema):
    username: str
    name: str
    role: str
    role_label: str
    team: RefOut | None
    department: RefOut | None
    organization: RefOut | None


@router.get("/me", response=MeOut, summary="The signed-in user and their role")
def me(request: HttpRequest) -> dict:
    user = request.auth
    return {
        "username": user.username,
        "name": user.display_name,
        "role": user.role,
        "role_label": str(user.get_role_display()),
        "team": {"code": user.team.code, "name": user.team.name} if user.team else None,
        "department": {"code": user.department.code, "name": user.department.name}
        if user.department
        else None,
        "organization": {"code": str(user.organization.code), "name": user.organization.name}
        if user.organization
        else None,
    }
