"""Lifecycle rules managed by the portal (filled in by the lifecycle issue)."""
