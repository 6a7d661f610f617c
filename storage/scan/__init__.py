"""Pure (Django-free) analysis of S3 bucket policies, ACLs and Block Public Access settings."""
