"""The SSRF guard: what is refused and why, that the connection goes to the address that
was checked (with TLS still checked against the hostname), that redirects are not
followed, timeouts are bounded and answers capped; and that the demo/test exceptions
cannot be switched on in production by accident."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from alerts import ssrf
from ghsim.chat_receiver import ChatReceiver

ROOT = Path(__file__).resolve().parents[2]


def refused(url: str, **kw) -> str:
    result = ssrf.check_url(url, **kw)
    assert isinstance(result, ssrf.Refused), (url, result)
    return str(result)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "refused: only https:// URLs are accepted"),
        ("https://127.0.0.1/", "refused: 127.0.0.1 is a loopback address"),
        ("https://127.8.9.10:8443/x", "refused: 127.8.9.10 is a loopback address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://[::1]/", "refused: ::1 is a loopback address"),
        ("https://[fe80::1]/", "fe80::1 is a link-local address"),
        ("https://[fd12:3456::1]/", "fd12:3456::1 is a unique-local address"),
        ("https://10.1.2.3/", "10.1.2.3 is a private address"),
        ("https://172.16.0.1/", "172.16.0.1 is a private address"),
        ("https://192.168.1.1/", "192.168.1.1 is a private address"),
        ("https://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT address"),
        ("https://224.0.0.251/", "224.0.0.251 is a multicast address"),
        ("https://0.0.0.0/", "0.0.0.0 is an unspecified address"),
        ("https://[::]/", ":: is an unspecified address"),
        ("https://240.0.0.1/", "240.0.0.1 is a reserved address"),
        ("https://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is a loopback address"),
        ("https://[::ffff:169.254.169.254]/", "link-local address (inside the IPv6 address)"),
        ("https://[64:ff9b::a00:1]/", "a private address (inside the IPv6 address)"),
        ("https://2130706433/", "2130706433 resolves to 127.0.0.1, which is a loopback address"),
        ("https://user:pw@example.com/", "must not contain a user name or password"),
        ("https://@example.com/", "must not contain a user name or password"),
        ("ftp://example.com/", "only https:// URLs are accepted"),
        ("javascript:alert(1)", "only https:// URLs are accepted"),
        ("https:///path", "the URL has no host"),
        ("https://example.com:99999/", "cannot be parsed"),
        ("https://exa mple.com/", "spaces or control characters"),
        ("", "the URL is empty"),
        ("https://example.com/" + "a" * 3000, "longer than 2048 characters"),
    ],
)
def test_refused_with_a_reason(strict, url, reason):
    assert reason in refused(url)


def test_a_name_that_resolves_to_a_private_address_is_refused(strict):
    # /etc/hosts makes localhost 127.0.0.1 (and ::1): the system resolver's real answer.
    assert "localhost resolves to" in refused("https://localhost/hook")
    assert "which is a loopback address" in refused("https://localhost./hook")
    assert "localhost resolves to" in refused("https://LOCALHOST:8443/hook")


def test_every_answer_must_be_public(strict):
    """One private A record among public ones is enough to refuse (a resolver answers
    the name as a DNS server would)."""

    def mixed(host, port):
        return ["93.184.216.34", "10.0.0.7"]

    assert "alerts.example resolves to 10.0.0.7, which is a private address" in refused(
        "https://alerts.example/hook", resolver=mixed
    )
    target = ssrf.check_url("https://alerts.example/h", resolver=lambda h, p: ["93.184.216.34"])
    assert target == ssrf.Target(
        url="https://alerts.example/h",
        scheme="https",
        hostname="alerts.example",
        port=443,
        address="93.184.216.34",
    )


def test_a_name_that_does_not_resolve_is_refused(strict):
    def nxdomain(host, port):  # what getaddrinfo raises for a name DNS does not know
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert refused("https://no-such-host.invalid/x", resolver=nxdomain) == (
        "refused: no-such-host.invalid does not resolve to an address"
    )
    assert "does not resolve" in refused("https://empty.invalid/", resolver=lambda h, p: [])


def test_the_exceptions_let_the_local_receivers_through(local_delivery, receiver):
    target = ssrf.check_url(receiver.url + "/hook")
    assert isinstance(target, ssrf.Target) and target.address == "127.0.0.1"
    answer = ssrf.post(target, b'{"text": "hi"}', {"Content-Type": "application/json"})
    assert (answer.status, answer.body) == (200, b"ok")
    # Plain http only with ALERTS_ALLOW_HTTP, other private networks still refused.
    local_delivery.ALERTS_ALLOW_HTTP = False
    assert "only https://" in refused(receiver.url + "/hook")
    assert "10.0.0.1 is a private address" in refused("https://10.0.0.1/")
    local_delivery.ALERTS_ALLOWED_PRIVATE_NETWORKS = ["0.0.0.0/0"]
    assert "0.0.0.0 is an unspecified address" in refused("https://0.0.0.0/")


def test_the_connection_goes_to_the_checked_address(local_delivery, receiver):
    """`receiver.invalid` resolves nowhere on this machine (RFC 6761); the guard was told
    127.0.0.1 once, and the request still arrives: the connection used the checked
    address and never asked the resolver again (a rebinding answer would not be seen).
    The Host header is the hostname."""
    calls = []

    def once(host, port):
        calls.append(host)
        return ["127.0.0.1"]

    target = ssrf.check_url(f"http://receiver.invalid:{receiver.port}/pinned", resolver=once)
    answer = ssrf.post(target, b'{"text": "pinned"}', {"Content-Type": "application/json"})
    assert answer.status == 200 and calls == ["receiver.invalid"]
    (arrived,) = receiver.messages()
    assert arrived["path"] == "/pinned"
    assert arrived["headers"]["Host"] == f"receiver.invalid:{receiver.port}"


def test_redirects_are_not_followed(local_delivery, receiver):
    receiver.script("/moved", {"status": 302, "location": receiver.url + "/elsewhere"})
    answer = ssrf.post(ssrf.check_url(receiver.url + "/moved"), b"{}", {})
    assert answer.status == 302
    assert [m["path"] for m in receiver.messages()] == ["/moved"]


def test_a_slow_receiver_is_cut_off_by_the_read_timeout(local_delivery, receiver):
    local_delivery.ALERTS_HTTP_READ_TIMEOUT = 0.5
    receiver.script("/slow", {"delay": 5})
    with pytest.raises(requests.exceptions.ReadTimeout):
        ssrf.post(ssrf.check_url(receiver.url + "/slow"), b"{}", {})
    # We gave up while the receiver was still holding its answer back.
    (arrived,) = receiver.messages()
    assert arrived["answered"] is False


def test_only_the_first_bytes_of_an_answer_are_read(local_delivery, receiver):
    local_delivery.ALERTS_HTTP_MAX_RESPONSE_BYTES = 1000
    receiver.script("/huge", {"body_bytes": 50_000_000})
    answer = ssrf.post(ssrf.check_url(receiver.url + "/huge"), b"{}", {})
    assert answer.status == 200 and len(answer.body) == 1000


def test_proxies_from_the_environment_are_ignored(local_delivery, receiver, monkeypatch):
    """A proxy would see (and could redirect) the URL: requests' trust_env is off."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    answer = ssrf.post(ssrf.check_url(receiver.url + "/direct"), b'{"text": "x"}', {})
    assert answer.status == 200


# --- TLS with a pinned address ------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for the name `localhost` only (no IP address in it)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Wide: TEST_TODAY moves this process's clock, not OpenSSL's.
        .not_valid_before(now - datetime.timedelta(days=365 * 30))
        .not_valid_after(now + datetime.timedelta(days=365 * 30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_receiver(tls_files, local_delivery):
    local_delivery.ALERTS_CA_BUNDLE = tls_files[0]
    local_delivery.ALERTS_ALLOW_HTTP = False
    with ChatReceiver(tls=tls_files) as server:
        yield server


def test_tls_to_a_pinned_address_checks_the_hostname(tls_receiver):
    port = tls_receiver.port
    good = ssrf.check_url(f"https://localhost:{port}/tls")
    assert isinstance(good, ssrf.Target) and ipaddress.ip_address(good.address).is_loopback
    answer = ssrf.post(good, b'{"text": "over tls"}', {"Content-Type": "application/json"})
    assert answer.status == 200
    assert tls_receiver.messages()[-1]["headers"]["Host"] == f"localhost:{port}"
    # The certificate names localhost, not the address we connect to, nor another name
    # made to resolve to the same address: both are refused by the TLS check.
    for url, resolver in (
        (f"https://127.0.0.1:{port}/tls", None),
        (f"https://impostor.invalid:{port}/tls", lambda h, p: ["127.0.0.1"]),
    ):
        with pytest.raises(requests.exceptions.SSLError):
            ssrf.post(ssrf.check_url(url, resolver=resolver), b"{}", {})
    assert len(tls_receiver.messages()) == 1


# --- settings: the exceptions are for the demo and the tests -------------------------------


def run_check(**env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("ALERTS_", "SECRET"))}
    full |= {
        "DEBUG": "false",
        "SECRET_KEY": "k3-Qz8r!vT0pLm2wXy7nB5cD9eF1gH4jK6sA%uI0oP_rE8tY2-more",
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "billing.example.com",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env", [{"ALERTS_ALLOW_HTTP": "true"}, {"ALERTS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8"}]
)
def test_production_refuses_the_exceptions_unless_told_it_understands(env):
    refused_run = run_check(**env)
    assert refused_run.returncode != 0
    assert "ALERTS_I_UNDERSTAND_SSRF_RISK" in refused_run.stderr
    accepted = run_check(**env, ALERTS_I_UNDERSTAND_SSRF_RISK="true")
    assert accepted.returncode == 0, accepted.stderr[-2000:]
    assert "meant for the demo and tests only" in accepted.stderr


def test_production_defaults_start_and_a_bad_network_is_refused():
    assert run_check().returncode == 0
    bad = run_check(ALERTS_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/33", DEBUG="true")
    assert bad.returncode != 0 and "'127.0.0.0/33' is not a network" in bad.stderr
