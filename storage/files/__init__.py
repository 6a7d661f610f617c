"""End-user files (the ``files`` app): uploads, downloads, expiry and server-side backups.

* models: ``FileSpace`` (one per tenant: primary and backup buckets) and ``StoredFile``.
* :mod:`.services` -- every change (upload, delete, expiry, restore), audited;
  :mod:`.backup_jobs` -- what the backup task does (claim, copy, verify, record).
* :mod:`.views` / :mod:`.http` -- pages and their JSON twins, scoping, CSRF; :mod:`.tasks` --
  Celery tasks; :mod:`.backup` -- server-side copies; :mod:`.admin`; ``set_file_space``.

Bounded-memory streaming of end-user files between the browser, Django and S3:

* :mod:`storage.files.multipart` -- :class:`MultipartWriter`, a push-style writer that
  turns a stream of chunks into an S3 object holding at most one part in memory.
* :mod:`storage.files.upload_handler` -- :class:`S3StreamingUploadHandler`, a Django
  upload handler that pipes multipart/form-data file fields straight into S3.
* :mod:`storage.files.download` -- streaming GetObject, ``Content-Disposition`` building
  and sanitising of browser-supplied file names.

The three streaming modules (and :mod:`.backup`) depend on no project model: callers pass
boto3 clients, bucket names and keys in.
"""
