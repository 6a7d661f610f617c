"""Buckets, scans, findings and stored files (filled in by the scanning and files issues)."""
