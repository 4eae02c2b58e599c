from django import template

from yimatong.directory.models import Contact

register = template.Library()


@register.filter
def mobile_for(contact: Contact, can_edit: bool) -> str:
    """The contact's mobile number, masked (138****1234) for people who don't own the record."""
    return contact.mobile_for(bool(can_edit))
