"""Issue 8, items 1-5: the demo across runs.

One demo per var/ folder, honest ports, the emulator's S3 state surviving a restart, a clear
page for a file whose object is gone, demo users with mail addresses and a place to read mail.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from s3portal.demo_runtime import DemoError, VarLock, choose_port
from s3portal.localproc import free_port, wait_for_port
from tests.files_fixtures import *  # noqa: F403
from tests.files_fixtures import BUCKET_A, stored_file

ROOT = Path(__file__).resolve().parent.parent


# --- 1. a lock on var/ ---------------------------------------------------------------------


def test_a_second_demo_on_the_same_folder_refuses_naming_the_first(tmp_path: Path) -> None:
    first = VarLock(tmp_path)
    first.acquire()
    first.describe({"pid": 4242, "url": "http://127.0.0.1:8000/"})
    try:
        with pytest.raises(DemoError) as refused:
            VarLock(tmp_path).acquire()
        message = str(refused.value)
        assert "already running" in message
        assert "pid 4242" in message and "http://127.0.0.1:8000/" in message
        assert "S3PORTAL_VAR_DIR" in message
    finally:
        first.release()
    again = VarLock(tmp_path)
    again.acquire()  # free once the first stopped
    again.release()


def test_the_lock_is_held_by_a_process_not_a_file(tmp_path: Path) -> None:
    """A demo killed with SIGKILL leaves demo.lock behind; the next run must still start."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from s3portal.demo_runtime import VarLock;"
            f"lock = VarLock(Path({str(tmp_path)!r})); lock.acquire();"
            "print('locked', flush=True); time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(DemoError, match=f"pid {holder.pid}"):
            VarLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    lock = VarLock(tmp_path)
    lock.acquire()
    lock.release()


# --- 2. busy ports -------------------------------------------------------------------------


@contextmanager
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_an_explicit_busy_port_fails() -> None:
    with busy_port() as port, pytest.raises(DemoError) as refused:
        choose_port("PORT", 8000, "the portal", {"PORT": str(port)})
    assert f"PORT={port} is busy" in str(refused.value)


def test_an_implicit_busy_port_is_replaced_and_said() -> None:
    with busy_port() as port:
        chosen, note = choose_port("S3_EMULATOR_PORT", port, "the S3 emulator", {})
    assert chosen != port
    assert note == (
        f"port {port} is busy, so the S3 emulator uses port {chosen} "
        "(set S3_EMULATOR_PORT to choose one)"
    )
    free = free_port()
    assert choose_port("PORT", free, "the portal", {}) == (free, None)


# --- 3. the emulator keeps its state -------------------------------------------------------


@contextmanager
def demo_emulator(state: Path) -> Iterator[Any]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "s3portal.demo_emulator", "-p", str(port), "--state", str(state)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="AKIADEMO000000000000",
            aws_secret_access_key="demo",  # noqa: S106 - the emulator accepts any key
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0


@pytest.mark.integration
def test_the_demo_emulator_keeps_its_s3_state_across_restarts(
    tmp_path: Path, aws_env: None
) -> None:
    state = tmp_path / "s3-emulator.pickle"
    with demo_emulator(state) as s3:
        s3.create_bucket(Bucket="kept-bucket")
        s3.put_object(Bucket="kept-bucket", Key="a/file.txt", Body=b"still here")
        s3.put_bucket_versioning(
            Bucket="kept-bucket", VersioningConfiguration={"Status": "Enabled"}
        )
        s3.put_public_access_block(
            Bucket="kept-bucket",
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    assert state.exists()
    with demo_emulator(state) as s3:
        assert s3.get_object(Bucket="kept-bucket", Key="a/file.txt")["Body"].read() == (
            b"still here"
        )
        assert s3.get_bucket_versioning(Bucket="kept-bucket")["Status"] == "Enabled"
        flags = s3.get_public_access_block(Bucket="kept-bucket")
        assert all(flags["PublicAccessBlockConfiguration"].values())
        s3.create_bucket(Bucket="second-bucket")  # and it still takes changes
    with demo_emulator(state) as s3:
        names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        assert names == {"kept-bucket", "second-bucket"}


@pytest.mark.django_db
@pytest.mark.integration
def test_reseeding_keeps_fixes_made_in_the_demo(tmp_path: Path, aws_env: None) -> None:
    from accounts import aws
    from accounts.models import AwsAccount

    with demo_emulator(tmp_path / "state.pickle") as s3:
        endpoint = s3.meta.endpoint_url
        call_command("seed_demo", endpoint_url=endpoint, password="demo-pass-123")
        account = AwsAccount.objects.get(name="local-emulator")
        client = aws.client(account, "s3")
        client.delete_bucket_policy(Bucket="demo-public-read")  # "remove the public statement"
        client.delete_object(Bucket="demo-private", Key="reports/q3.csv")
    with demo_emulator(tmp_path / "state.pickle") as s3:
        call_command("seed_demo", endpoint_url=s3.meta.endpoint_url, password="demo-pass-123")
        with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
            s3.get_bucket_policy(Bucket="demo-public-read")
        assert "Contents" not in s3.list_objects_v2(Bucket="demo-private")


@pytest.mark.django_db
def test_a_download_whose_object_is_gone_is_a_portal_page(
    personas: Any, space_a: Any, enqueued: list[int], s3_a: Any
) -> None:
    stored = stored_file(space_a, personas.bob, "quarterly.pdf", b"numbers")
    s3_a.delete_object(Bucket=BUCKET_A, Key=stored.key)
    response = personas.client_for("bob").get(reverse("files:download", args=[stored.pk]))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "The file &#x27;quarterly.pdf&#x27; is missing from storage" in page
    assert "restore it from the backup" in page
    assert "<Error>" not in page and "Location" not in response


# --- 4. mail a person can see ------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.integration
def test_demo_users_have_mail_addresses(aws_env: None, tmp_path: Path) -> None:
    from django.contrib.auth import get_user_model

    with demo_emulator(tmp_path / "state.pickle") as s3:
        call_command("seed_demo", endpoint_url=s3.meta.endpoint_url, password="demo-pass-123")
    emails = dict(get_user_model().objects.values_list("username", "email"))
    assert emails["demo-admin"] == "demo-admin@example.com"
    assert emails["root"] == "root@example.com"
    assert all(emails.values())


@pytest.mark.django_db
def test_the_demo_mail_page_shows_sent_mail_to_root_only(
    personas: Any, settings: Any, tmp_path: Path
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.DEMO_MAIL_PAGE = True
    mail.send_mail("Bucket demo-x became public", "It is public now.", None, ["a@example.com"])
    page = personas.client_for("root").get("/mail/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Bucket demo-x became public" in text and "It is public now." in text
    assert "a@example.com" in text
    assert personas.client_for("alice").get("/mail/").status_code == 404
    settings.DEMO_MAIL_PAGE = False
    assert personas.client_for("root").get("/mail/").status_code == 404


# --- 5. logins last, noise down -------------------------------------------------------------


def test_the_banner_ends_with_the_logins_and_explains_notes() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import demo  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    text = demo.banner(
        "http://127.0.0.1:8001/",
        "http://127.0.0.1:5056",
        "pw",
        ["port 8000 is busy, so the portal uses port 8001 (set PORT to choose one)"],
        worker_ready=True,
    )
    lines = [line.strip() for line in text.strip().splitlines()]
    assert lines[0] == "s3portal is running at http://127.0.0.1:8001/"
    assert lines[1].startswith("note: port 8000 is busy")
    assert lines[-1] == "Ctrl-C stops web, worker, beat and the emulator."
    assert "Logins (password for all: pw):" in lines
    assert any(line.startswith("demo-admin") and "demo-admin@example.com" in line for line in lines)


def test_the_demo_broker_url_names_a_host_so_kombu_does_not_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from kombu import Connection

    assert '"filesystem://localhost//"' in (ROOT / "scripts" / "demo.py").read_text()
    with caplog.at_level("WARNING", logger="kombu.connection"):
        Connection("filesystem://localhost//").info()
    assert "No hostname was supplied" not in caplog.text
    with caplog.at_level("WARNING", logger="kombu.connection"):
        Connection("filesystem://").info()
    assert "No hostname was supplied" in caplog.text  # what every demo process said before
