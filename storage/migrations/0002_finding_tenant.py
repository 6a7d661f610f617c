"""Findings carry their tenant and a numeric severity, for index-only lists (issue 13)."""

import django.db.models.deletion
from django.db import migrations, models

RANK = {"info": 1, "low": 2, "medium": 3, "high": 4}


def fill(apps, schema_editor):
    Finding = apps.get_model("storage", "Finding")
    for finding in Finding.objects.select_related("bucket__account").iterator():
        finding.tenant_id = finding.bucket.account.tenant_id
        finding.severity_rank = RANK.get(finding.severity, 0)
        finding.save(update_fields=["tenant", "severity_rank"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("storage", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="finding",
            name="tenant",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.tenant",
            ),
        ),
        migrations.AddField(
            model_name="finding",
            name="severity_rank",
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="finding",
            name="tenant",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.tenant",
            ),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                fields=["tenant", "resolved_at", "-first_seen_at", "-id"], name="finding_by_age"
            ),
        ),
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                fields=["tenant", "resolved_at", "-severity_rank", "first_seen_at", "id"],
                name="finding_by_severity",
            ),
        ),
    ]
