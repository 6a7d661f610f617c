"""Rebuild the S3 price table from AWS's Price List API or a downloaded offer file."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from storage.cost import offers
from storage.cost.prices import load_table, parse_table, table_path


class Command(BaseCommand):
    help = (
        "Rebuild the price table: from pricing:GetProducts (service code AmazonS3; needs "
        "pricing:GetProducts permission), or --from-file OFFER.json (an AmazonS3 offer file "
        "from https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonS3/current/...)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from-file", dest="from_file", help="an AmazonS3 offer file (JSON)")
        parser.add_argument("--region", help="only this region (API mode)")
        parser.add_argument("--tenant", help="use this tenant's AWS account credentials (API mode)")
        parser.add_argument("--account", help="... of this account (default: ambient credentials)")
        parser.add_argument("--dry-run", action="store_true", help="print, do not write")

    def handle(self, *args: Any, **options: Any) -> None:
        path = table_path()
        with open(path, encoding="utf-8") as fh:
            current = json.load(fh)
        today = timezone.now().date().isoformat()
        if options["from_file"]:
            try:
                with open(options["from_file"], encoding="utf-8") as fh:
                    data = json.load(fh)
                items = list(offers.products_of_offer_file(data))
            except (OSError, json.JSONDecodeError, offers.OfferError) as exc:
                raise CommandError(f"cannot read offer file {options['from_file']}: {exc}") from exc
            published = str(data.get("publicationDate", ""))[:10]
            source = (
                f"AWS offer file {options['from_file'].rsplit('/', 1)[-1]} "
                f"(offerCode {data.get('offerCode', '?')}, version {data.get('version', '?')}, "
                f"published {published or '?'})"
            )
        else:
            items, published = self._from_api(options)
            source = f"AWS Price List API pricing:GetProducts, AmazonS3, read {today}"
        regions, skipped = offers.regions_from_products(items)
        if not regions:
            raise CommandError("no S3 storage prices found (is it an AmazonS3 offer?)")
        table = offers.merge_into_table(
            current, regions, source=source, table_date=today, effective_date=published
        )
        parse_table(table)  # refuse to write what the loader cannot read
        for line in skipped:
            self.stderr.write(f"skipped usage type {line}")
        summary = ", ".join(
            f"{r} ({len(v['storage'])} classes)" for r, v in sorted(regions.items())
        )
        if options["dry_run"]:
            self.stdout.write(json.dumps(table, indent=2))
            return
        offers.write_table(path, table)
        load_table()
        self.stdout.write(f"price table {path} rebuilt ({today}): {summary}")

    def _from_api(self, options: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        from botocore.exceptions import BotoCoreError, ClientError

        from accounts import aws
        from accounts.models import AwsAccount

        # The Price List API answers in us-east-1 (also ap-south-1, eu-central-1).
        if options["account"]:
            qs = AwsAccount.objects.filter(name=options["account"])
            if options["tenant"]:
                qs = qs.filter(tenant__slug=options["tenant"])
            account = qs.first()
            if account is None:
                raise CommandError(f"no AWS account named {options['account']!r}")
            pricing = aws.client(account, "pricing", region="us-east-1")
        else:
            # Prices are the same for everyone: the platform's own identity asks, no tenant's.
            pricing = aws.platform_client("pricing", "us-east-1")
        try:
            items = list(offers.get_products(pricing, options["region"]))
        except (ClientError, BotoCoreError) as exc:
            raise CommandError(
                f"pricing:GetProducts failed ({exc}); without that permission download the "
                "offer file and use --from-file"
            ) from exc
        return items, ""
