"""The rule editor: one form that builds one rule in S3's shape and validates it inline."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django import forms

from lifecycle.s3shape import Rule, midnight_utc, parse_date, portal_prefix
from lifecycle.validation import STORAGE_CLASSES, validate_rule

EXPIRATION_CHOICES = [
    ("none", "Never (no expiration)"),
    ("days", "Days after creation"),
    ("date", "On a date (midnight UTC)"),
    ("marker", "Remove expired delete markers"),
]


def _parse_steps(text: str, *, noncurrent: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """Lines like "30 STANDARD_IA", "2030-01-01 GLACIER" or (noncurrent) "30 GLACIER keep 2"."""
    steps: list[dict[str, Any]] = []
    errors: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        if len(words) not in (2, 4) or (len(words) == 4 and words[2].lower() != "keep"):
            errors.append(
                f"Line {number} ({line.strip()!r}): write DAYS CLASS"
                + (" [keep N]" if noncurrent else " or YYYY-MM-DD CLASS")
                + "."
            )
            continue
        when, klass = words[0], words[1].upper()
        step: dict[str, Any] = {}
        if when.isdigit():
            step["NoncurrentDays" if noncurrent else "Days"] = int(when)
        elif not noncurrent and parse_date(when) is not None:
            parsed = parse_date(when)
            assert parsed is not None
            step["Date"] = midnight_utc(parsed.date()) if len(when) == 10 else parsed.isoformat()
        else:
            errors.append(f"Line {number}: {when!r} is not a number of days or a date.")
            continue
        step["StorageClass"] = klass
        if len(words) == 4:
            if not words[3].isdigit():
                errors.append(f"Line {number}: keep takes a number of versions.")
                continue
            step["NewerNoncurrentVersions"] = int(words[3])
        steps.append(step)
    return steps, errors


def _steps_text(steps: list[dict[str, Any]], *, noncurrent: bool) -> str:
    lines = []
    for step in steps:
        if noncurrent:
            line = f"{step.get('NoncurrentDays')} {step.get('StorageClass')}"
            if step.get("NewerNoncurrentVersions"):
                line += f" keep {step['NewerNoncurrentVersions']}"
        elif "Date" in step:
            parsed = parse_date(step["Date"])
            day = parsed.date().isoformat() if parsed else step["Date"]
            line = f"{day} {step.get('StorageClass')}"
        else:
            line = f"{step.get('Days')} {step.get('StorageClass')}"
        lines.append(line)
    return "\n".join(lines)


class RuleForm(forms.Form):
    rule_id = forms.CharField(
        label="Rule ID",
        max_length=255,
        help_text="New portal rules start with the portal's prefix.",
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)
    # The form metaclass moves declared fields into base_fields, so this does not shadow
    # BaseForm.prefix (the form's own prefix); django-stubs types the class attribute.
    prefix = forms.CharField(  # type: ignore[assignment]
        label="Key prefix", required=False, max_length=1024
    )
    tags = forms.CharField(
        label="Tags", required=False, help_text="key=value, separated by commas (all must match)"
    )
    size_greater_than = forms.IntegerField(label="Larger than (bytes)", required=False, min_value=0)
    size_less_than = forms.IntegerField(label="Smaller than (bytes)", required=False, min_value=0)
    legacy_prefix = forms.BooleanField(required=False, widget=forms.HiddenInput)
    expiration = forms.ChoiceField(choices=EXPIRATION_CHOICES, initial="none")
    expiration_days = forms.IntegerField(label="Expire after (days)", required=False)
    expiration_date = forms.DateField(
        label="Expire on (date, midnight UTC)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    transitions = forms.CharField(
        label="Transitions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: DAYS CLASS or YYYY-MM-DD CLASS; classes: "
        + ", ".join(STORAGE_CLASSES),
    )
    noncurrent_expiration_days = forms.IntegerField(
        label="Delete old versions after (days noncurrent)", required=False
    )
    newer_noncurrent_versions = forms.IntegerField(
        label="...but keep the newest N old versions", required=False
    )
    noncurrent_transitions = forms.CharField(
        label="Old-version transitions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: DAYS CLASS [keep N]",
    )
    abort_multipart_days = forms.IntegerField(
        label="Abort unfinished multipart uploads after (days)", required=False
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, new: bool = True, **kwargs: Any) -> None:
        self.new = new
        super().__init__(*args, **kwargs)
        if new and not self.is_bound and not self.initial.get("rule_id"):
            self.fields["rule_id"].initial = portal_prefix()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        self.rule = self._build(data)
        for problem in getattr(self, "_parse_errors", []):
            self.add_error(None, problem)
        if not getattr(self, "_parse_errors", []):
            for problem in validate_rule(self.rule):
                self.add_error(None, problem)
        return data

    def _build(self, data: dict[str, Any]) -> Rule:
        self._parse_errors: list[str] = []
        rule: Rule = {"ID": data["rule_id"].strip()}
        tags = []
        for part in (data.get("tags") or "").split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                self._parse_errors.append(f"Tag {part.strip()!r}: write key=value.")
                continue
            tags.append({"Key": key.strip(), "Value": value.strip()})
        prefix = data.get("prefix") or ""
        greater, less = data.get("size_greater_than"), data.get("size_less_than")
        predicates = int(bool(prefix)) + len(tags) + (greater is not None) + (less is not None)
        if (
            data.get("legacy_prefix")
            and predicates <= 1
            and not tags
            and greater is None
            and less is None
        ):
            rule["Prefix"] = prefix
        elif predicates == 0:
            rule["Filter"] = {}
        elif predicates == 1:
            if prefix:
                rule["Filter"] = {"Prefix": prefix}
            elif tags:
                rule["Filter"] = {"Tag": tags[0]}
            elif greater is not None:
                rule["Filter"] = {"ObjectSizeGreaterThan": greater}
            else:
                rule["Filter"] = {"ObjectSizeLessThan": less}
        else:
            both: Rule = {}
            if prefix:
                both["Prefix"] = prefix
            if tags:
                both["Tags"] = tags
            if greater is not None:
                both["ObjectSizeGreaterThan"] = greater
            if less is not None:
                both["ObjectSizeLessThan"] = less
            rule["Filter"] = {"And": both}
        rule["Status"] = "Enabled" if data.get("enabled") else "Disabled"
        kind = data.get("expiration")
        if kind == "days":
            if data.get("expiration_days") is None:
                self._parse_errors.append("Give the number of days after which objects expire.")
            rule["Expiration"] = {"Days": data.get("expiration_days")}
        elif kind == "date":
            day: date | None = data.get("expiration_date")
            if day is None:
                self._parse_errors.append("Give the date on which objects expire.")
            else:
                rule["Expiration"] = {"Date": midnight_utc(day)}
        elif kind == "marker":
            rule["Expiration"] = {"ExpiredObjectDeleteMarker": True}
        steps, errors = _parse_steps(data.get("transitions", ""), noncurrent=False)
        self._parse_errors += errors
        if steps:
            rule["Transitions"] = steps
        steps, errors = _parse_steps(data.get("noncurrent_transitions", ""), noncurrent=True)
        self._parse_errors += errors
        if steps:
            rule["NoncurrentVersionTransitions"] = steps
        nve: Rule = {}
        if data.get("noncurrent_expiration_days") is not None:
            nve["NoncurrentDays"] = data["noncurrent_expiration_days"]
        if data.get("newer_noncurrent_versions") is not None:
            nve["NewerNoncurrentVersions"] = data["newer_noncurrent_versions"]
        if nve:
            rule["NoncurrentVersionExpiration"] = nve
        if data.get("abort_multipart_days") is not None:
            rule["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": data["abort_multipart_days"]
            }
        return rule


def initial_from_rule(rule: Rule) -> dict[str, Any]:
    """Form values of one S3 rule (the editor's prefill)."""
    flt: dict[str, Any] = rule.get("Filter") or {}
    both = flt.get("And", flt)
    tags = list(both.get("Tags") or []) + ([flt["Tag"]] if "Tag" in flt else [])
    exp = rule.get("Expiration") or {}
    nve = rule.get("NoncurrentVersionExpiration") or {}
    expiration = "none"
    expiration_date = None
    if "Days" in exp:
        expiration = "days"
    elif "Date" in exp:
        expiration = "date"
        parsed = parse_date(str(exp["Date"]))
        expiration_date = parsed.date() if parsed else None
    elif exp.get("ExpiredObjectDeleteMarker"):
        expiration = "marker"
    return {
        "rule_id": rule.get("ID", ""),
        "enabled": rule.get("Status", "Enabled") == "Enabled",
        "prefix": rule.get("Prefix", "") if "Filter" not in rule else both.get("Prefix", ""),
        "legacy_prefix": "Filter" not in rule and "Prefix" in rule,
        "tags": ", ".join(f"{t.get('Key')}={t.get('Value', '')}" for t in tags),
        "size_greater_than": both.get("ObjectSizeGreaterThan"),
        "size_less_than": both.get("ObjectSizeLessThan"),
        "expiration": expiration,
        "expiration_days": exp.get("Days"),
        "expiration_date": expiration_date,
        "transitions": _steps_text(rule.get("Transitions") or [], noncurrent=False),
        "noncurrent_expiration_days": nve.get("NoncurrentDays"),
        "newer_noncurrent_versions": nve.get("NewerNoncurrentVersions"),
        "noncurrent_transitions": _steps_text(
            rule.get("NoncurrentVersionTransitions") or [], noncurrent=True
        ),
        "abort_multipart_days": (rule.get("AbortIncompleteMultipartUpload") or {}).get(
            "DaysAfterInitiation"
        ),
    }


def parse_prefill(text: str) -> tuple[Rule | None, str]:
    """The ?rule= prefill (URL-encoded JSON of one rule in S3's shape): (rule, error)."""
    try:
        rule = json.loads(text)
    except ValueError:
        return None, "The rule to prefill is not valid JSON; start from an empty rule."
    if not isinstance(rule, dict):
        return None, "The rule to prefill must be one JSON object in S3's shape."
    prefix = portal_prefix()
    rid = str(rule.get("ID") or "").strip()
    if not rid:
        rid = prefix + "rule"
    elif prefix and not rid.startswith(prefix):
        rid = prefix + rid
    rule["ID"] = rid[:255]
    return rule, ""


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    rules = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "class": "mono"}),
        help_text="A JSON list of rules in S3's shape; IDs start with the portal's prefix.",
    )

    def clean_rules(self) -> list[Rule]:
        try:
            rules = json.loads(self.cleaned_data["rules"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(rules, list):
            raise forms.ValidationError("Give a JSON list of rules.")
        from lifecycle.validation import validate_configuration

        problems = validate_configuration({"Rules": rules})
        prefix = portal_prefix()
        problems += [
            f"Rule {r.get('ID')!r}: template rule IDs start with {prefix!r}."
            for r in rules
            if isinstance(r, dict) and prefix and not str(r.get("ID", "")).startswith(prefix)
        ]
        if problems:
            raise forms.ValidationError(problems)
        return rules
