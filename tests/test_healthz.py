"""`/healthz` reports the database, the broker and the worker."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client, redis_url):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert set(body) == {"status", "database", "broker", "worker"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_answers_503_when_the_database_is_down():
    # A real Django process whose database is a closed port.
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='127.0.0.1').get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = dict(os.environ, DATABASE_URL="postgres://nobody@127.0.0.1:9/nothing")
    env["DJANGO_SETTINGS_MODULE"] = "billingdash.settings"
    env["CELERY_BROKER_URL"] = "redis://127.0.0.1:9/0"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["database"]["ok"] is False
    assert answer["body"]["status"] == "down"
