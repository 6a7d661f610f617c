"""Bounded-memory streaming of end-user files between the browser, Django and S3.

* :mod:`storage.files.multipart` -- :class:`MultipartWriter`, a push-style writer that
  turns a stream of chunks into an S3 object holding at most one part in memory.
* :mod:`storage.files.upload_handler` -- :class:`S3StreamingUploadHandler`, a Django
  upload handler that pipes multipart/form-data file fields straight into S3.
* :mod:`storage.files.download` -- streaming GetObject, ``Content-Disposition`` building
  and sanitising of browser-supplied file names.

Nothing in this package depends on project models: callers pass boto3 clients, bucket
names and keys in.
"""
