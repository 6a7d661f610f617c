"""Portal pages of the storage app (mounted at /buckets/)."""
