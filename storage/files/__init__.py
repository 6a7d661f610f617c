"""End-user files (the ``files`` app): uploads, downloads, expiry and server-side backups.

An app of its own inside ``storage/`` (label ``files``): it depends on ``accounts`` and ``audit``
only and imports nothing from the rest of ``storage`` (tests/test_import_graph.py holds it to
that). Who may see, upload, download and change files is ``accounts.policy.FilesPolicy``.

* models: ``FileSpace`` (one per tenant: primary and backup buckets) and ``StoredFile``.
* :mod:`.services` -- what people do (upload, download, delete, expiry, restore), audited;
  :mod:`.s3` -- clients and exact S3 operations; :mod:`.jobs` -- the background work
  (backups: claim, copy, verify, record; the expiry sweep; purges of kept backups);
  :mod:`.tasks` -- Celery tasks that only call into :mod:`.jobs`.
* :mod:`.views` / :mod:`.http` -- pages and their JSON twins, scoping, CSRF;
  :mod:`.backup` -- server-side copies; :mod:`.admin`; ``set_file_space``.

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
