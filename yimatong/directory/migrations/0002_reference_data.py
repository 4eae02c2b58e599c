"""Load GB/T 4754-2017 codes for the biomedical slice and the district codes from data/."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"


def load(apps, schema_editor):
    IndustryCode = apps.get_model("directory", "IndustryCode")
    District = apps.get_model("directory", "District")
    with open(DATA / "gbt4754-2017-pharma-devices.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            IndustryCode.objects.update_or_create(
                code=row["code"],
                defaults={"name": row["name"], "level": row["level"], "parent_code": row["parent"],
                          "note": row["note"][:200]},
            )
    with open(DATA / "districts.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            District.objects.update_or_create(
                code=row["code"], defaults={"name": row["name"], "full_name": row["full_name"]}
            )


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
