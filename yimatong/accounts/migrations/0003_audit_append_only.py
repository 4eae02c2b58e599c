"""Make the audit log append-only in the database itself.

UPDATE is refused on SQLite and PostgreSQL. DELETE is refused on PostgreSQL; on SQLite the
test runner empties tables with DELETE between transactional tests, so there the model and
its QuerySet refuse deletes instead (PostgreSQL's test flush uses TRUNCATE, which row
triggers do not see).
"""

from django.db import migrations

SQLITE_FORWARD = [
    """CREATE TRIGGER accounts_auditentry_no_update BEFORE UPDATE ON accounts_auditentry
       BEGIN SELECT RAISE(ABORT, 'accounts_auditentry is append-only'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS accounts_auditentry_no_update;"]

POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION accounts_auditentry_refuse() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'accounts_auditentry is append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER accounts_auditentry_no_update_delete BEFORE UPDATE OR DELETE ON accounts_auditentry
       FOR EACH ROW EXECUTE FUNCTION accounts_auditentry_refuse();""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS accounts_auditentry_no_update_delete ON accounts_auditentry;",
    "DROP FUNCTION IF EXISTS accounts_auditentry_refuse();",
]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]
    operations = [migrations.RunPython(forward, backward)]
