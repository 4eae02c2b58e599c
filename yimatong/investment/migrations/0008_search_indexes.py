"""Indexes for the project and lead searches on PostgreSQL: pg_trgm GIN indexes on each searched
column written with every character three times, so that one- and two-character Chinese words
use them too (yimatong/lib/search.py). Code prefixes use the varchar_pattern_ops index Django
already keeps beside each unique code. Nothing on SQLite (docs/search.md)."""

from django.db import migrations

from yimatong.lib.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("investment", "0007_lead_source_scene_index"),
    ]

    operations = [
        trigram_indexes(
            "investment_project",
            [
                ("investment_project_name_trgm", "name", True),
                ("investment_project_codename_trgm", "codename", True),
                ("investment_project_initials_trgm", "name_initials", False),
            ],
        ),
        trigram_indexes(
            "investment_lead",
            [
                ("investment_lead_company_trgm", "company_name", True),
                ("investment_lead_contact_trgm", "contact_name", True),
                ("investment_lead_normalized_trgm", "normalized_name", False),
                ("investment_lead_initials_trgm", "name_initials", False),
                ("investment_lead_phone_trgm", "contact_phone", False),
            ],
        ),
    ]
