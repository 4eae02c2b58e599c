"""Indexes for the organization and contact searches on PostgreSQL: pg_trgm GIN indexes on each
searched column written with every character three times, so that one- and two-character
Chinese words use them too (yimatong/lib/search.py). USCC prefixes use the varchar_pattern_ops
index Django keeps beside the unique USCC. Nothing on SQLite (docs/search.md)."""

from django.db import migrations

from yimatong.lib.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0004_changed_index"),
    ]

    operations = [
        trigram_indexes(
            "directory_organization",
            [
                ("directory_org_name_trgm", "name", True),
                ("directory_org_normalized_trgm", "normalized_name", False),
                ("directory_org_initials_trgm", "name_initials", False),
                ("directory_org_pinyin_trgm", "name_pinyin", False),
            ],
        ),
        trigram_indexes(
            "directory_contact",
            [
                ("directory_contact_name_trgm", "name", True),
                ("directory_contact_initials_trgm", "name_initials", False),
                ("directory_contact_pinyin_trgm", "name_pinyin", False),
                ("directory_contact_email_trgm", "email", True),
                ("directory_contact_mobile_trgm", "mobile", False),
            ],
        ),
    ]
