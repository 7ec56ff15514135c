"""The demo's receivers as the processes the demo will run: ``python -m
ghsim.chat_receiver`` and ``python -m ghsim.mailbox``, reached over real sockets."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
import requests
from django.conf import settings

from tests.helpers import free_port, wait_for


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def start(tmp_path) -> Iterator:
    processes = []

    def run(*args: str, ready_url: str) -> subprocess.Popen:
        log = (tmp_path / f"{args[0]}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        wait_for(lambda: answers(ready_url) or process.poll() is not None, timeout=30)
        assert process.poll() is None, (tmp_path / f"{args[0]}.log").read_text()
        return process

    yield run
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def test_the_chat_receiver_process(start):
    port = free_port()
    secret = "bdwhsec_demo-secret-for-this-test"
    base = f"http://127.0.0.1:{port}"
    start("ghsim.chat_receiver", "--port", str(port), "--secret", secret, ready_url=base + "/")
    webhook = json.dumps({"schema": "billingdash.alert/v1", "event": "test"}).encode()
    good = "sha256=" + hmac.new(secret.encode(), webhook, hashlib.sha256).hexdigest()
    posts = [
        ("/slack", json.dumps({"text": "hi", "blocks": []}).encode(), {}, 200),
        (
            "/teams",
            json.dumps(
                {
                    "type": "message",
                    "attachments": [
                        {
                            "contentType": "application/vnd.microsoft.card.adaptive",
                            "content": {"type": "AdaptiveCard", "version": "1.4", "body": []},
                        }
                    ],
                }
            ).encode(),
            {},
            202,
        ),
        ("/generic", webhook, {"X-Billingdash-Signature-256": good}, 200),
        ("/generic", webhook, {"X-Billingdash-Signature-256": "sha256=00"}, 401),
        ("/anything", b"not json", {}, 400),
    ]
    for path, body, headers, status in posts:
        answer = requests.post(base + path, data=body, headers=headers, timeout=10)
        assert answer.status_code == status, (path, answer.text)
    kept = requests.get(base + "/_receiver/messages.json", timeout=10).json()
    assert [(m["kind"], m["status"]) for m in kept] == [
        ("slack", 200),
        ("teams", 202),
        ("webhook", 200),
        ("webhook", 401),
        ("", 400),
    ]
    assert [m["signature_valid"] for m in kept] == [None, None, True, False, None]
    page = requests.get(base + "/", timeout=10).text
    assert "5 request(s)" in page and "signature INVALID" in page
    requests.delete(base + "/_receiver/messages", timeout=10)
    assert requests.get(base + "/_receiver/messages.json", timeout=10).json() == []


def test_the_mailbox_process(start):
    smtp_port, web_port = free_port(), free_port()
    web = f"http://127.0.0.1:{web_port}"
    start(
        "ghsim.mailbox",
        *("--smtp-port", str(smtp_port), "--web-port", str(web_port)),
        ready_url=web + "/",
    )
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@example.com", "b@example.com", "Hello <demo>"
    mail["List-Unsubscribe"] = "<https://billingdash.test/alerts/unsubscribe/t/>"
    mail.set_content("plain part")
    mail.add_alternative("<p>html part</p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
        smtp.send_message(mail)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("a@example.com", ["reject@example.com"], b"Subject: x\r\n\r\nx")
    (kept,) = requests.get(web + "/messages.json", timeout=10).json()
    assert kept["subject"] == "Hello <demo>" and kept["rcpt_tos"] == ["b@example.com"]
    assert kept["text"].strip() == "plain part" and "html part" in kept["html"]
    page = requests.get(web + "/", timeout=10).text
    assert "Hello &lt;demo&gt;" in page and "List-Unsubscribe: &lt;https://billingdash.test" in page
