"""Signals other apps listen to (storage never imports them: dependencies point one way).

``bucket_scanned``: sent once per bucket a scan saved (after its transaction committed), with
``bucket`` (the Bucket row), ``lifecycle`` (the scan's :class:`~storage.scan.collect.Fetched`
for GetBucketLifecycleConfiguration, or None when the scan did not read it) and ``run`` (the
ScanRun). Receivers run with ``send_robust``: a failing receiver is logged and never fails
the scan.
"""

from __future__ import annotations

from django.dispatch import Signal

bucket_scanned = Signal()
