"""Tenants, memberships, AWS accounts, access control and the AWS seam."""
