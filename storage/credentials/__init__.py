"""Scoped credentials (the ``credentials`` app): what s3-credentials does, per tenant.

* :mod:`.policies` -- policy generators and validation (no AWS);
* :mod:`.issuing` -- plan (dry run), create with rollback, the one-time secret;
* :mod:`.lifecycle` -- rotate, revoke, expire, remind, last used and key-age alerts;
* :mod:`.formats` -- json / ini / env / credential_process output and parsing;
* :mod:`.views`, :mod:`.forms`, :mod:`.admin`, :mod:`.tasks`, ``manage.py credentials``.

It lives under storage (not accounts) because it checks bucket ownership against
``storage.Bucket`` and members' prefixes against ``storage.files.FileSpace``; accounts stays free
of storage imports. Secrets exist only in memory, in :class:`.issuing.Secret`.
"""
