"""Bounded-memory upload/download core (storage.files), against in-process moto.

No database: nothing here touches project models. Runs under pytest-django with the
project settings; before those exist it can run with any minimal settings module.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import random
import tracemalloc
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    SkipFile,
    StopFutureHandlers,
    StopUpload,
)
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParser
from django.test import RequestFactory
from moto import mock_aws

from storage.files.download import content_disposition, safe_object_name, stream_object
from storage.files.multipart import MIN_PART_SIZE, MultipartWriter, UploadedObject
from storage.files.upload_handler import (
    FileTooLarge,
    S3StreamingUploadHandler,
    S3UploadedFile,
    clean_content_type,
)

MiB = 1024 * 1024
PART = 5 * MiB
BUCKET = "tenant-a-files"
VERSIONED = "tenant-b-versioned"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.create_bucket(Bucket=VERSIONED)
        client.put_bucket_versioning(
            Bucket=VERSIONED, VersioningConfiguration={"Status": "Enabled"}
        )
        yield client


@dataclass
class BufferProbe:
    """Records what every MultipartWriter.write() saw and buffered."""

    chunk_sizes: list[int] = field(default_factory=list)
    max_buffered: int = 0
    writes: int = 0


@pytest.fixture
def buffer_probe(monkeypatch: pytest.MonkeyPatch) -> BufferProbe:
    probe = BufferProbe()
    original = MultipartWriter.write

    def write(self: MultipartWriter, chunk: bytes | bytearray | memoryview) -> None:
        probe.writes += 1
        probe.chunk_sizes.append(len(chunk))
        original(self, chunk)
        assert self.buffered < self.part_size  # a full part is flushed immediately
        probe.max_buffered = max(probe.max_buffered, self.max_buffered)

    monkeypatch.setattr(MultipartWriter, "write", write)
    return probe


def pending_uploads(client: Any, bucket: str = BUCKET) -> list[dict[str, Any]]:
    # moto omits "Uploads" entirely when there are none.
    uploads: list[dict[str, Any]] = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return uploads


def object_exists(client: Any, key: str, bucket: str = BUCKET) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in {"404", "NoSuchKey"}
        return False
    return True


def read_object(client: Any, key: str, bucket: str = BUCKET) -> bytes:
    body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def spy(monkeypatch: pytest.MonkeyPatch, client: Any, method: str) -> list[dict[str, Any]]:
    """Record the keyword arguments of ``client.<method>`` calls (and their Body size)."""
    calls: list[dict[str, Any]] = []
    original = getattr(client, method)

    def wrapper(**kwargs: Any) -> Any:
        record = dict(kwargs)
        body = kwargs.get("Body")
        if body is not None and hasattr(body, "getbuffer"):
            record["body_size"] = body.getbuffer().nbytes
        calls.append(record)
        return original(**kwargs)

    monkeypatch.setattr(client, method, wrapper)
    return calls


def make_factory(client: Any, bucket: str = BUCKET, prefix: str = "uploads/") -> Any:
    def target_factory(
        field_name: str, file_name: str, content_type: str
    ) -> tuple[Any, str, str, dict[str, str]]:
        if field_name == "skip":
            raise SkipFile()
        return client, bucket, prefix + safe_object_name(file_name), {"field": field_name}

    return target_factory


def multipart_body(
    boundary: str,
    files: list[tuple[str, str, str, bytes]],
    fields: dict[str, str] | None = None,
    *,
    close: bool = True,
) -> bytes:
    out = io.BytesIO()
    for name, value in (fields or {}).items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for field_name, file_name, content_type, data in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
            f'filename="{file_name}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        out.write(data)
        out.write(b"\r\n")
    if close:
        out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue()


def parse(
    body: io.RawIOBase | io.BytesIO, length: int, boundary: str, handlers: list[Any]
) -> tuple[Any, Any]:
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        "CONTENT_LENGTH": str(length),
    }
    return MultiPartParser(meta, body, handlers).parse()


class SentinelHandler(FileUploadHandler):
    """Placed after the S3 handler: must never be handed a file or a byte."""

    def __init__(self) -> None:
        super().__init__(None)
        self.new_files = 0
        self.chunks = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self.new_files += 1

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.chunks += 1
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


# --------------------------------------------------------------------------- MultipartWriter


@pytest.mark.parametrize("chunk_size", [64 * 1024, 3 * MiB + 7, 13 * MiB])
def test_writer_multipart_round_trip(
    s3: Any, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    data = random.Random(1).randbytes(12 * MiB + 12345)
    parts = spy(monkeypatch, s3, "upload_part")
    writer = MultipartWriter(
        s3, BUCKET, "k/big.bin", "application/x-test", {"owner": "42"}, part_size=PART
    )
    with writer:
        for offset in range(0, len(data), chunk_size):
            writer.write(data[offset : offset + chunk_size])
            assert writer.buffered < PART
        uploaded = writer.complete()

    assert uploaded == UploadedObject(
        bucket=BUCKET,
        key="k/big.bin",
        size=len(data),
        etag=uploaded.etag,
        version_id=None,
        sha256=hashlib.sha256(data).hexdigest(),
        content_type="application/x-test",
    )
    assert uploaded.etag.endswith("-3") and '"' not in uploaded.etag
    assert [call["body_size"] for call in parts] == [PART, PART, len(data) - 2 * PART]
    assert all(call["ChecksumSHA256"] for call in parts)
    assert writer.max_buffered == PART
    assert read_object(s3, "k/big.bin") == data
    head = s3.head_object(Bucket=BUCKET, Key="k/big.bin")
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"owner": "42"}
    assert head["ContentLength"] == len(data)
    assert pending_uploads(s3) == []


def test_writer_exact_multiple_of_part_size_sends_no_empty_part(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(2 * PART)
    parts = spy(monkeypatch, s3, "upload_part")
    with MultipartWriter(s3, BUCKET, "exact.bin", part_size=PART) as writer:
        writer.write(data)
        uploaded = writer.complete()
    assert [call["body_size"] for call in parts] == [PART, PART]
    assert uploaded.size == 2 * PART and uploaded.etag.endswith("-2")
    assert read_object(s3, "exact.bin") == data


def test_writer_small_object_uses_single_put(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    creates = spy(monkeypatch, s3, "create_multipart_upload")
    puts = spy(monkeypatch, s3, "put_object")
    data = b"hello, world\n" * 100
    with MultipartWriter(s3, BUCKET, "small.txt", "text/plain", {"a": "b"}) as writer:
        writer.write(data)
        uploaded = writer.complete()
    assert creates == [] and len(puts) == 1
    assert uploaded.size == len(data)
    assert uploaded.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert uploaded.sha256 == hashlib.sha256(data).hexdigest()
    assert read_object(s3, "small.txt") == data
    assert s3.head_object(Bucket=BUCKET, Key="small.txt")["Metadata"] == {"a": "b"}


def test_writer_empty_file(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    creates = spy(monkeypatch, s3, "create_multipart_upload")
    with MultipartWriter(s3, BUCKET, "empty.txt", "text/plain", {"kind": "empty"}) as writer:
        writer.write(b"")
        uploaded = writer.complete()
    assert creates == []
    assert uploaded.size == 0
    assert uploaded.sha256 == EMPTY_SHA256
    assert uploaded.etag == hashlib.md5(b"", usedforsecurity=False).hexdigest()
    head = s3.head_object(Bucket=BUCKET, Key="empty.txt")
    assert head["ContentLength"] == 0
    assert head["ContentType"] == "text/plain"
    assert head["Metadata"] == {"kind": "empty"}
    assert read_object(s3, "empty.txt") == b""


@pytest.mark.parametrize("size", [0, 1000, 6 * MiB])
def test_writer_versioned_bucket_returns_version_id(s3: Any, size: int) -> None:
    data = os.urandom(size)
    with MultipartWriter(s3, VERSIONED, "v.bin", part_size=PART) as writer:
        writer.write(data)
        uploaded = writer.complete()
    assert uploaded.version_id
    head = s3.head_object(Bucket=VERSIONED, Key="v.bin")
    assert head["VersionId"] == uploaded.version_id
    assert read_object(s3, "v.bin", VERSIONED) == data


def test_writer_abort_leaves_no_upload_and_no_object(s3: Any) -> None:
    writer = MultipartWriter(s3, BUCKET, "aborted.bin", part_size=PART)
    writer.write(os.urandom(6 * MiB))
    assert writer.upload_id is not None and writer.parts_uploaded == 1
    assert len(pending_uploads(s3)) == 1
    writer.abort()
    assert writer.state == "aborted" and writer.buffered == 0
    assert pending_uploads(s3) == []
    assert not object_exists(s3, "aborted.bin")
    writer.abort()  # idempotent
    with pytest.raises(RuntimeError):
        writer.write(b"more")
    with pytest.raises(RuntimeError):
        writer.complete()


def test_writer_abort_before_first_part_sends_nothing(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    aborts = spy(monkeypatch, s3, "abort_multipart_upload")
    writer = MultipartWriter(s3, BUCKET, "tiny.bin")
    writer.write(b"abc")
    writer.abort()
    assert aborts == [] and pending_uploads(s3) == []
    assert not object_exists(s3, "tiny.bin")


def test_writer_abort_tolerates_upload_already_gone(
    s3: Any, caplog: pytest.LogCaptureFixture
) -> None:
    writer = MultipartWriter(s3, BUCKET, "gone.bin", part_size=PART)
    writer.write(os.urandom(PART))
    s3.abort_multipart_upload(Bucket=BUCKET, Key="gone.bin", UploadId=writer.upload_id)
    with caplog.at_level(logging.INFO, logger="storage.files.multipart"):
        writer.abort()  # NoSuchUpload: logged, not raised
    assert "already gone" in caplog.text
    assert pending_uploads(s3) == []


def test_writer_abort_never_raises_on_other_errors(
    s3: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    writer = MultipartWriter(s3, BUCKET, "err.bin", part_size=PART)
    writer.write(os.urandom(PART))

    def broken(**kwargs: Any) -> None:
        raise ConnectionError("network down")

    monkeypatch.setattr(s3, "abort_multipart_upload", broken)
    with caplog.at_level(logging.WARNING, logger="storage.files.multipart"):
        writer.abort()
    assert "Could not abort" in caplog.text
    assert writer.state == "aborted"


def test_writer_abort_after_complete_keeps_object(s3: Any) -> None:
    writer = MultipartWriter(s3, BUCKET, "kept.txt")
    writer.write(b"x")
    writer.complete()
    writer.abort()
    assert writer.state == "completed"
    assert read_object(s3, "kept.txt") == b"x"


def test_writer_context_manager_aborts_on_exception(s3: Any) -> None:
    writer = MultipartWriter(s3, BUCKET, "ctx.bin", part_size=PART)
    with pytest.raises(KeyError), writer:
        writer.write(os.urandom(6 * MiB))
        raise KeyError("view failed")
    assert writer.state == "aborted"
    assert pending_uploads(s3) == []
    assert not object_exists(s3, "ctx.bin")


def test_writer_context_manager_aborts_without_complete(s3: Any) -> None:
    with MultipartWriter(s3, BUCKET, "forgot.bin", part_size=PART) as writer:
        writer.write(os.urandom(6 * MiB))
    assert writer.state == "aborted"
    assert pending_uploads(s3) == []


def test_writer_failed_part_aborts_upload(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = s3.upload_part

    def flaky(**kwargs: Any) -> Any:
        if kwargs["PartNumber"] == 2:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "UploadPart")
        return original(**kwargs)

    monkeypatch.setattr(s3, "upload_part", flaky)
    writer = MultipartWriter(s3, BUCKET, "flaky.bin", part_size=PART)
    with pytest.raises(ClientError):
        writer.write(os.urandom(11 * MiB))
    assert writer.state == "aborted"
    assert pending_uploads(s3) == []
    assert not object_exists(s3, "flaky.bin")


def test_writer_failed_complete_aborts_upload(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(**kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "Complete")

    monkeypatch.setattr(s3, "complete_multipart_upload", failing)
    writer = MultipartWriter(s3, BUCKET, "nocomplete.bin", part_size=PART)
    writer.write(os.urandom(6 * MiB))
    with pytest.raises(ClientError):
        writer.complete()
    assert pending_uploads(s3) == []
    assert not object_exists(s3, "nocomplete.bin")


def test_writer_rejects_part_size_below_s3_minimum(s3: Any) -> None:
    with pytest.raises(ValueError, match="part_size"):
        MultipartWriter(s3, BUCKET, "k", part_size=MIN_PART_SIZE - 1)


def test_writer_without_checksums(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    creates = spy(monkeypatch, s3, "create_multipart_upload")
    parts = spy(monkeypatch, s3, "upload_part")
    data = os.urandom(6 * MiB)
    with MultipartWriter(s3, BUCKET, "plain.bin", part_size=PART, checksums=False) as writer:
        writer.write(data)
        uploaded = writer.complete()
    assert "ChecksumAlgorithm" not in creates[0]
    assert all("ChecksumSHA256" not in call for call in parts)
    assert uploaded.sha256 == hashlib.sha256(data).hexdigest()
    assert read_object(s3, "plain.bin") == data


# --------------------------------------------------------------------------- upload handler


def test_handler_through_request_factory(s3: Any, buffer_probe: BufferProbe) -> None:
    big = random.Random(2).randbytes(12 * MiB + 5)
    small = b"col1,col2\n1,2\n"
    request = RequestFactory().post(
        "/upload/",
        data={
            "note": "hello",
            "file": [
                SimpleUploadedFile("../../r\u00e9sum\u00e9.bin", big, "application/x-big"),
                SimpleUploadedFile("data.csv", small, "text/csv"),
            ],
        },
    )
    handler = S3StreamingUploadHandler(request, make_factory(s3), part_size=PART)
    sentinel = SentinelHandler()
    request.upload_handlers = [handler, sentinel]

    files = request.FILES.getlist("file")

    assert request.POST["note"] == "hello"
    assert [type(f) for f in files] == [S3UploadedFile, S3UploadedFile]
    first, second = files
    assert first.name == "r\u00e9sum\u00e9.bin"  # Django already dropped the directory part
    assert first.size == len(big) and first.content_type == "application/x-big"
    assert first.field_name == "file"
    assert first.uploaded.key == "uploads/r\u00e9sum\u00e9.bin"
    assert first.uploaded.sha256 == hashlib.sha256(big).hexdigest()
    assert second.uploaded.sha256 == hashlib.sha256(small).hexdigest()
    assert read_object(s3, first.uploaded.key) == big
    assert read_object(s3, second.uploaded.key) == small
    assert s3.head_object(Bucket=BUCKET, Key="uploads/data.csv")["Metadata"] == {"field": "file"}
    assert handler.completed == [first.uploaded, second.uploaded]
    assert pending_uploads(s3) == []
    # Nothing buffered by Django or anyone else: later handlers never saw the files...
    assert sentinel.new_files == 0 and sentinel.chunks == 0
    # ...and the writer held at most one part, fed in parser-sized chunks.
    assert buffer_probe.max_buffered == PART
    assert max(buffer_probe.chunk_sizes) <= handler.chunk_size
    request.close()  # Django closes request.FILES at the end of the request


class GeneratedUpload(io.RawIOBase):
    """A multipart/form-data body produced on the fly, never whole in memory."""

    def __init__(self, boundary: str, size: int, seed: int) -> None:
        super().__init__()
        self._head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="huge.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._remaining = size
        self._rng = random.Random(seed)
        self.sha256 = hashlib.sha256()
        self.length = len(self._head) + size + len(self._tail)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size > 0, "the parser must read in bounded chunks"
        if self._head:
            out, self._head = self._head[:size], self._head[size:]
            return out
        if self._remaining:
            out = self._rng.randbytes(min(size, self._remaining))
            self._remaining -= len(out)
            self.sha256.update(out)
            return out
        out, self._tail = self._tail[:size], self._tail[size:]
        return out


class DiscardingS3:
    """Stand-in client that reads and drops bodies, so only our own buffers count."""

    def __init__(self) -> None:
        self.part_sizes: list[int] = []
        self.aborted: list[str] = []

    def create_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        return {"UploadId": "upload-1"}

    def upload_part(self, **kwargs: Any) -> dict[str, Any]:
        body, size = kwargs["Body"], 0
        while block := body.read(64 * 1024):
            size += len(block)
        self.part_sizes.append(size)
        return {"ETag": f'"etag-{kwargs["PartNumber"]}"'}

    def complete_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        return {"ETag": f'"final-{len(kwargs["MultipartUpload"]["Parts"])}"'}

    def abort_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        self.aborted.append(kwargs["UploadId"])
        return {}


def test_handler_memory_stays_within_one_part() -> None:
    size = 40 * MiB + 321
    boundary = "bnd-" + "7" * 40
    stream = GeneratedUpload(boundary, size, seed=3)
    client = DiscardingS3()

    def factory(field: str, name: str, ctype: str) -> tuple[Any, str, str, dict[str, str]]:
        return client, BUCKET, "uploads/huge.bin", {}

    handler = S3StreamingUploadHandler(None, factory, part_size=PART)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        _, files = parse(stream, stream.length, boundary, [handler])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    uploaded = files["file"]
    assert uploaded.size == size
    assert uploaded.uploaded.sha256 == stream.sha256.hexdigest()
    assert client.part_sizes == [PART] * 8 + [size - 8 * PART]
    # 40 MiB went through; peak Python allocations stay around one part.
    assert peak < PART + MiB, f"peak {peak / MiB:.1f} MiB"


def test_handler_max_size_stops_and_aborts(s3: Any) -> None:
    boundary = "----max-size-boundary"
    data = os.urandom(12 * MiB)
    body = multipart_body(boundary, [("file", "big.bin", "application/octet-stream", data)])
    stream = io.BytesIO(body)
    handler = S3StreamingUploadHandler(
        None, make_factory(s3), part_size=PART, max_file_size=6 * MiB
    )

    post, files = parse(stream, len(body), boundary, [handler])

    assert "file" not in files  # Django swallowed the StopUpload...
    error = handler.too_large  # ...so the handler keeps it for the view (-> 413)
    assert isinstance(error, FileTooLarge) and isinstance(error, StopUpload)
    assert error.connection_reset is True
    assert error.max_size == 6 * MiB and error.file_name == "big.bin"
    assert stream.tell() < len(body)  # the rest of the body was not consumed
    assert handler.completed == []
    assert pending_uploads(s3) == []
    assert not object_exists(s3, "uploads/big.bin")


def test_handler_receive_raises_file_too_large(s3: Any) -> None:
    handler = S3StreamingUploadHandler(None, make_factory(s3), part_size=PART, max_file_size=10)
    with pytest.raises(StopFutureHandlers):  # the handler consumes the file alone
        handler.new_file("file", "a.txt", "text/plain", None)
    assert handler.receive_data_chunk(b"0123456789", 0) is None
    with pytest.raises(FileTooLarge) as excinfo:
        handler.receive_data_chunk(b"x", 10)
    assert excinfo.value.connection_reset is True
    assert handler.writer is None and handler.too_large is excinfo.value


def test_handler_rejects_declared_content_length_early(s3: Any) -> None:
    handler = S3StreamingUploadHandler(None, make_factory(s3), max_file_size=10)
    with pytest.raises(FileTooLarge):
        handler.new_file("file", "a.txt", "text/plain", 11)
    assert handler.writer is None


def test_handler_truncated_body_aborts_upload(s3: Any) -> None:
    boundary = "----truncated"
    body = multipart_body(
        boundary,
        [("file", "cut.bin", "application/octet-stream", os.urandom(7 * MiB))],
        close=False,
    )
    body = body[: -len(b"\r\n")]  # connection dropped mid-file
    handler = S3StreamingUploadHandler(None, make_factory(s3), part_size=PART)
    _, files = parse(io.BytesIO(body), len(body), boundary, [handler])
    assert "file" not in files
    assert handler.writer is None
    assert pending_uploads(s3) == []
    assert not object_exists(s3, "uploads/cut.bin")


def test_handler_s3_error_aborts_open_upload(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    original = s3.upload_part

    def flaky(**kwargs: Any) -> Any:
        if kwargs["PartNumber"] == 2:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "x"}}, "UploadPart")
        return original(**kwargs)

    monkeypatch.setattr(s3, "upload_part", flaky)
    boundary = "----s3-error"
    body = multipart_body(boundary, [("file", "f.bin", "application/x", os.urandom(11 * MiB))])
    handler = S3StreamingUploadHandler(None, make_factory(s3), part_size=PART)
    with pytest.raises(ClientError):
        parse(io.BytesIO(body), len(body), boundary, [handler])
    assert pending_uploads(s3) == []
    handler.abort_all()  # what the view does on any exception: harmless here


def test_handler_abort_all_deletes_completed_versions(s3: Any) -> None:
    boundary = "----abort-all"
    body = multipart_body(
        boundary,
        [
            ("file", "one.bin", "application/x", os.urandom(6 * MiB)),
            ("file", "two.txt", "text/plain", b"two"),
        ],
    )
    handler = S3StreamingUploadHandler(None, make_factory(s3, VERSIONED), part_size=PART)
    _, files = parse(io.BytesIO(body), len(body), boundary, [handler])
    assert len(files.getlist("file")) == 2
    assert all(obj.version_id for obj in handler.completed)

    handler.abort_all()  # e.g. the view failed to record the files in the database

    assert handler.completed == []
    versions = s3.list_object_versions(Bucket=VERSIONED)
    assert versions.get("Versions", []) == [] and versions.get("DeleteMarkers", []) == []
    handler.abort_all()  # idempotent


def test_handler_skip_file_from_target_factory(s3: Any) -> None:
    boundary = "----skip"
    body = multipart_body(
        boundary,
        [
            ("skip", "ignored.txt", "text/plain", b"ignored"),
            ("file", "kept.txt", "text/plain", b"kept"),
        ],
    )
    handler = S3StreamingUploadHandler(None, make_factory(s3))
    _, files = parse(io.BytesIO(body), len(body), boundary, [handler])
    assert list(files) == ["file"]
    assert not object_exists(s3, "uploads/ignored.txt")
    assert read_object(s3, "uploads/kept.txt") == b"kept"


def test_handler_cleans_content_type(s3: Any) -> None:
    boundary = "----ctype"
    body = multipart_body(boundary, [("file", "x.bin", "not a mime type", b"x")])
    handler = S3StreamingUploadHandler(None, make_factory(s3))
    _, files = parse(io.BytesIO(body), len(body), boundary, [handler])
    assert files["file"].content_type == "application/octet-stream"
    head = s3.head_object(Bucket=BUCKET, Key="uploads/x.bin")
    assert head["ContentType"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("text/plain", "text/plain"),
        ("Image/PNG", "image/png"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("", "application/octet-stream"),
        ("text", "application/octet-stream"),
        ("text/html\r\nX-Evil: 1", "application/octet-stream"),
        ("text/html; charset=utf-8", "application/octet-stream"),
    ],
)
def test_clean_content_type(raw: str, expected: str) -> None:
    assert clean_content_type(raw) == expected


def test_s3_uploaded_file_has_no_local_content() -> None:
    uploaded = UploadedObject(BUCKET, "k/a.txt", 3, "etag", None, EMPTY_SHA256, "text/plain")
    f = S3UploadedFile(uploaded, "a.txt", field_name="file")
    assert f.name == "a.txt" and f.size == 3 and f.content_type == "text/plain"
    assert bool(f)
    f.close()  # no-op: Django calls it at the end of every request
    with pytest.raises(io.UnsupportedOperation, match="s3://tenant-a-files/k/a.txt"):
        f.read()
    with pytest.raises(io.UnsupportedOperation):
        list(f.chunks())


# --------------------------------------------------------------------------- download


def test_stream_object_round_trip_and_closes_body(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(3 * MiB + 17)
    s3.put_object(Bucket=BUCKET, Key="dl.bin", Body=data, ContentType="application/x-dl")
    closed: list[bool] = []
    original_close = StreamingBody.close

    def close(self: StreamingBody) -> None:
        closed.append(True)
        original_close(self)

    monkeypatch.setattr(StreamingBody, "close", close)
    stream = stream_object(s3, BUCKET, "dl.bin", chunk_size=MiB)
    assert stream.content_length == len(data)
    assert stream.content_type == "application/x-dl"
    chunks = list(stream)
    assert b"".join(chunks) == data
    assert all(0 < len(chunk) <= MiB for chunk in chunks)
    assert stream.closed and closed == [True]
    assert list(stream) == []
    stream.close()  # idempotent
    assert closed == [True]


def test_stream_object_close_before_iteration_closes_body(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3.put_object(Bucket=BUCKET, Key="unread.bin", Body=b"abc")
    stream = stream_object(s3, BUCKET, "unread.bin")
    stream.close()  # e.g. client disconnected before the response started
    assert stream.closed
    assert list(stream) == []


def test_stream_object_version(s3: Any) -> None:
    first = s3.put_object(Bucket=VERSIONED, Key="doc.txt", Body=b"v1")["VersionId"]
    s3.put_object(Bucket=VERSIONED, Key="doc.txt", Body=b"v2")
    assert b"".join(stream_object(s3, VERSIONED, "doc.txt")) == b"v2"
    old = stream_object(s3, VERSIONED, "doc.txt", version_id=first)
    assert old.version_id == first and b"".join(old) == b"v1"


def test_stream_object_missing_key_raises_before_iteration(s3: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        stream_object(s3, BUCKET, "nope")
    assert excinfo.value.response["Error"]["Code"] == "NoSuchKey"


def _params(header: str) -> tuple[str, str, str]:
    disposition, fallback, extended = header.split("; ")
    assert fallback.startswith('filename="') and fallback.endswith('"')
    assert extended.startswith("filename*=UTF-8''")
    return disposition, fallback[len('filename="') : -1], extended[len("filename*=UTF-8''") :]


@pytest.mark.parametrize(
    ("name", "fallback", "decoded"),
    [
        ("report.pdf", "report.pdf", "report.pdf"),
        ("Q3 report (final).pdf", "Q3 report (final).pdf", "Q3 report (final).pdf"),
        ("r\u00e9sum\u00e9.pdf", "resume.pdf", "r\u00e9sum\u00e9.pdf"),
        ("re\u0301sume\u0301.pdf", "resume.pdf", "r\u00e9sum\u00e9.pdf"),  # NFD in, NFC out
        ("\u65e5\u672c\u8a9e.txt", "___.txt", "\u65e5\u672c\u8a9e.txt"),
        ('say "hi".txt', "say _hi_.txt", 'say "hi".txt'),
        ("back\\slash.txt", "back_slash.txt", "back_slash.txt"),
        ("100%.txt", "100_.txt", "100%.txt"),
        ("evil.txt\r\nSet-Cookie: a=b", "evil.txtSet-Cookie_ a=b", "evil.txtSet-Cookie: a=b"),
        ("nul\x00byte.txt", "nulbyte.txt", "nulbyte.txt"),
        ("a;b,c=d.txt", "a;b,c=d.txt", "a;b,c=d.txt"),
        ("", "download", "download"),
        ("\r\n\x00", "download", "download"),
    ],
)
def test_content_disposition(name: str, fallback: str, decoded: str) -> None:
    header = content_disposition(name)
    disposition, got_fallback, extended = _params(header)
    assert disposition == "attachment"
    assert got_fallback == fallback
    assert unquote(extended, encoding="utf-8", errors="strict") == decoded
    assert header.isascii()
    assert not any(ch in header for ch in "\r\n\x00")
    assert header.count('"') == 2  # no quote escapes the quoted-string
    assert "\\" not in header
    # RFC 5987 attr-chars only in the extended value
    assert all(ch.isalnum() or ch in "%-._~" for ch in extended)
    HttpResponse()["Content-Disposition"] = header  # Django accepts it as a header


def test_content_disposition_inline() -> None:
    assert content_disposition("a.png", inline=True) == (
        "inline; filename=\"a.png\"; filename*=UTF-8''a.png"
    )


def test_content_disposition_full_example() -> None:
    assert content_disposition("\u65e5\u672c\u8a9e \u00e9.pdf") == (
        'attachment; filename="___ e.pdf"; '
        "filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E%20%C3%A9.pdf"
    )


# --------------------------------------------------------------------------- safe_object_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\me\\Desktop\\photo.jpg", "photo.jpg"),
        ("dir/sub/file.txt", "file.txt"),
        ("/abs/path.txt", "path.txt"),
        ("a\x00b.txt", "ab.txt"),
        ("evil\x00/../x.txt", "x.txt"),
        ("na\x07me\r\n\t\x1b\x7f\x85.txt", "name.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # bidi override removed
        ("line\u2028break.txt", "linebreak.txt"),
        ("Cafe\u0301.txt", "Caf\u00e9.txt"),  # NFC
        ("  spaced name.txt  ", "spaced name.txt"),
        ("trailing. . .", "trailing"),
        (".env", ".env"),
        ("..hidden", "..hidden"),
        ("<img src=x onerror=alert(1)>.png", "<img src=x onerror=alert(1)>.png"),
        ('Tom & "Jerry" <b>.txt', 'Tom & "Jerry" <b>.txt'),
        ("\u65e5\u672c\u8a9e.txt", "\u65e5\u672c\u8a9e.txt"),
    ],
)
def test_safe_object_name(raw: str, expected: str) -> None:
    assert safe_object_name(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", " ", ".", "..", "...", ". .", "foo/", "a/..", "..\\", "/", "\x00\x01\r\n", "\u202e"]
)
def test_safe_object_name_rejects_unusable(raw: str) -> None:
    with pytest.raises(ValueError, match="no usable characters"):
        safe_object_name(raw)


def test_safe_object_name_long_ascii_keeps_extension() -> None:
    name = safe_object_name("a" * 300 + ".pdf")
    assert name == "a" * 196 + ".pdf"
    assert len(name.encode()) == 200


def test_safe_object_name_long_unicode_respects_byte_budget() -> None:
    name = safe_object_name("\u65e5" * 100 + ".txt")  # 3 bytes per character
    assert name.endswith(".txt")
    assert name == "\u65e5" * 65 + ".txt"  # 195 + 4 bytes: a 66th would overflow
    assert len(name.encode()) <= 200


def test_safe_object_name_does_not_split_four_byte_characters() -> None:
    name = safe_object_name("\U0001f600" * 80)  # no extension, 4 bytes each
    assert name == "\U0001f600" * 50
    mixed = safe_object_name("x" + "\u00e9" * 150 + ".tar", max_bytes=20)
    assert mixed == "x" + "\u00e9" * 7 + ".tar"
    assert len(mixed.encode()) <= 20


def test_safe_object_name_custom_budget_and_validation() -> None:
    assert safe_object_name("abcdef.txt", max_bytes=8) == "abcd.txt"
    assert safe_object_name("abcdef.verylongextension", max_bytes=8) == "abcdef.v"
    with pytest.raises(ValueError):
        safe_object_name("a.txt", max_bytes=0)


def test_safe_object_name_fuzz_invariants() -> None:
    rng = random.Random(4)
    alphabet = "ab./\\\x00\r\n\t \u00e9\u65e5\U0001f600\u202e\u0301<>\"'%:"
    for _ in range(2000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        budget = rng.choice([8, 20, 200])
        try:
            name = safe_object_name(raw, max_bytes=budget)
        except ValueError:
            continue
        assert len(name.encode("utf-8")) <= budget
        assert name not in {"", ".", ".."} and name.strip(". ")
        assert "/" not in name and "\\" not in name
        assert not any(unicodedata.category(ch) == "Cc" for ch in name)
        assert "\u202e" not in name
        assert name == unicodedata.normalize("NFC", name)
        assert safe_object_name(name, max_bytes=budget) == name  # idempotent
