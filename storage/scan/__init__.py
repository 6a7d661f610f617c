"""Bucket scanning.

Pure analysis (no AWS, no database): :mod:`.policy`, :mod:`.acl`, :mod:`.verdict` and
:mod:`.checks`. Reading S3: :mod:`.collect`, :mod:`.inventory`, :mod:`.object_acl`. Running and
saving scans: :mod:`.runner`, :mod:`.findings`, :mod:`.alerts`. Fixes: :mod:`storage.remediation`.
"""
