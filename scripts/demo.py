"""`make demo`: prepare a local demo and run web + worker + beat + the GitHub simulator,
and the alerts' demo receivers: an SMTP mailbox (ghsim.mailbox) and a chat-webhook
receiver (ghsim.chat_receiver), each with a page that lists what arrived.

`.demo/` keeps the generated App key and secrets, the beat schedule and the filesystem
broker (when Redis is not reachable); the database is `db.sqlite3` unless DATABASE_URL
is set.
One Ctrl-C stops every process (honcho).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / ".demo"
PY = sys.executable

WEB_PORT = int(os.environ.get("DEMO_PORT", "8000"))
SIM_PORT = int(os.environ.get("SIM_PORT", "8001"))
MAILBOX_SMTP_PORT = int(os.environ.get("MAILBOX_SMTP_PORT", "8025"))
MAILBOX_WEB_PORT = int(os.environ.get("MAILBOX_WEB_PORT", "8026"))
CHAT_RECEIVER_PORT = int(os.environ.get("CHAT_RECEIVER_PORT", "8030"))
HOST = "127.0.0.1"

PERSONAS = [
    ("olivia", "owner of acme-corp (App installed) and globex (App not installed)"),
    ("bill", "billing manager of acme-corp and globex"),
    ("mia", "member of acme-corp and globex: sees no billing"),
    ("nora", "in no organization"),
    ("oscar", "owner of initech, not on the enhanced billing platform"),
]


def _generated_env() -> dict[str, str]:
    """Secrets made once per checkout and kept in .demo/env (never committed)."""
    env_file = DEMO / "env"
    if env_file.exists():
        return dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem_path = DEMO / "github-app.pem"
    pem_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pem_path.chmod(0o600)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "GITHUB_APP_ID": "424242",
        "GITHUB_APP_SLUG": "billingdash-demo",
        "GITHUB_APP_CLIENT_ID": "Iv23li" + secrets.token_hex(7),
        "GITHUB_APP_CLIENT_SECRET": secrets.token_hex(20),
        "GITHUB_APP_PRIVATE_KEY_PATH": str(pem_path),
        "GITHUB_WEBHOOK_SECRET": secrets.token_hex(20),
        "GITHUB_OAUTH_CLIENT_ID": "Ov23li" + secrets.token_hex(7),
        "GITHUB_OAUTH_CLIENT_SECRET": secrets.token_hex(20),
        "DEMO_ADMIN_PASSWORD": secrets.token_urlsafe(12),
    }
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    env_file.chmod(0o600)
    return values


def _redis_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or HOST, parsed.port or 6379), 1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((HOST, port)) != 0


def main() -> int:
    DEMO.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(_generated_env())
    web = f"http://{HOST}:{WEB_PORT}"
    sim = f"http://{HOST}:{SIM_PORT}"
    mailbox = f"http://{HOST}:{MAILBOX_WEB_PORT}"
    chat = f"http://{HOST}:{CHAT_RECEIVER_PORT}"
    env.update(
        {
            "DEBUG": "true",
            # Static files as production serves them (hashed, gzip + brotli, cached for a
            # year), collected below; and the site's own 404 page (SHOW_DEBUG_404 unset).
            "STATIC_COMPRESSED": "true",
            "STATIC_ROOT": str(DEMO / "static"),
            "PYTHONUNBUFFERED": "1",
            "GITHUB_WEB_URL": sim,
            "GITHUB_API_URL": f"{sim}/api/v3",
            # The demo signs in with the classic OAuth App: it shows every org and role
            # before anything is installed. Set GITHUB_SIGNIN_CLIENT=app to try the
            # GitHub App's own sign-in instead.
            "GITHUB_SIGNIN_CLIENT": os.environ.get("GITHUB_SIGNIN_CLIENT", "oauth"),
            "SIM_WEBHOOK_URL": f"{web}/github/webhook/",
            "SIM_SETUP_URL": f"{web}/github/setup/",
            "SIM_CALLBACK_URLS": f"{web}/complete/",
            "CSP_FORM_ACTION_EXTRA": sim,
            "CELERY_BEAT_SCHEDULE_FILENAME": str(DEMO / "celerybeat-schedule"),
            # Alerts: e-mail to the demo's mailbox, links back to this server, and the
            # SSRF guard's demo exceptions so that channels may point at the chat
            # receiver on 127.0.0.1 over plain http (refused in production).
            "EMAIL_URL": f"smtp://{HOST}:{MAILBOX_SMTP_PORT}",
            "DEFAULT_FROM_EMAIL": "billingdash demo <alerts@billingdash.localhost>",
            "SITE_URL": web,
            "ALERTS_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8,::1/128",
            "ALERTS_ALLOW_HTTP": "true",
            "ALERTS_DEMO_CHAT_URL": chat,
            "ALERTS_DEMO_MAILBOX_URL": mailbox,
        }
    )
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    if _redis_reachable(env["REDIS_URL"]):
        broker_note = f"Celery broker: Redis at {env['REDIS_URL']}"
    else:
        env["CELERY_BROKER_URL"] = "filesystem://"
        env["CELERY_FILESYSTEM_DIR"] = str(DEMO / "broker")
        broker_note = (
            f"Redis is not reachable at {env['REDIS_URL']}: using kombu's filesystem "
            f"broker in {DEMO / 'broker'} (a real, separate worker process still runs)."
        )
    ports = {
        "DEMO_PORT": WEB_PORT,
        "SIM_PORT": SIM_PORT,
        "MAILBOX_SMTP_PORT": MAILBOX_SMTP_PORT,
        "MAILBOX_WEB_PORT": MAILBOX_WEB_PORT,
        "CHAT_RECEIVER_PORT": CHAT_RECEIVER_PORT,
    }
    for name, port in ports.items():
        if not _port_free(port):
            print(
                f"Port {port} is in use; set {name} (or the other *_PORT variables) to free ports."
            )
            return 1

    manage = [PY, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    print("Collecting static files (compressed once; later runs keep the copies)...")
    subprocess.run(
        [*manage, "collectstatic", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT
    )
    subprocess.run(
        [*manage, "demo_admin", "--password", env["DEMO_ADMIN_PASSWORD"]],
        env=env,
        check=True,
        cwd=ROOT,
    )

    procfile = DEMO / "Procfile"
    procfile.write_text(
        f"web: {PY} manage.py runserver {HOST}:{WEB_PORT} --noreload\n"
        f"worker: {PY} -m celery -A billingdash worker -l info --concurrency 2\n"
        f"beat: {PY} -m celery -A billingdash beat -l info "
        f"-s {DEMO / 'celerybeat-schedule'}\n"
        f"simulator: {PY} -m ghsim --host {HOST} --port {SIM_PORT}\n"
        f"mailbox: {PY} -m ghsim.mailbox --host {HOST} --smtp-port {MAILBOX_SMTP_PORT} "
        f"--web-port {MAILBOX_WEB_PORT}\n"
        f"chat: {PY} -m ghsim.chat_receiver --host {HOST} --port {CHAT_RECEIVER_PORT}\n"
        f"banner: {PY} scripts/demo_banner.py {web} {sim} {mailbox} {chat}\n"
    )
    banner = [
        "",
        "billingdash demo",
        f"  Open {web}/ and sign in with GitHub (the local simulator at {sim}).",
        "  Personas (pick one on the simulator's sign-in page):",
        *[f"    {login:<7} {what}" for login, what in PERSONAS],
        f"  Staff admin: {web}/admin/  user 'admin', password {env['DEMO_ADMIN_PASSWORD']}",
        f"  Simulator control page (uninstall, suspend, faults, spend spikes): {sim}/_sim/",
        f"  Alerts: e-mail lands in the mailbox at {mailbox}/ (SMTP {HOST}:{MAILBOX_SMTP_PORT});",
        f"    chat channels may use any URL under {chat}/ (e.g. {chat}/slack/demo),",
        f"    and what they receive is listed at {chat}/",
        f"  {broker_note}",
        "  Ctrl-C stops everything.",
        "",
    ]
    (DEMO / "banner.txt").write_text("\n".join(banner))
    print("\n".join(banner), flush=True)
    honcho = [PY, "-m", "honcho", "-f", str(procfile), "-d", str(ROOT), "start"]
    proc = subprocess.Popen(honcho, env=env, cwd=ROOT)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            # Ctrl-C: honcho stops every process (it ignores a repeated signal). Pass it on
            # in case only this process got it, then wait for honcho to finish: no
            # traceback, no process left behind.
            proc.send_signal(signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
