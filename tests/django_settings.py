"""The test suite's settings: billingdash's own, with DEBUG set explicitly.

DEBUG is off unless set (billingdash/settings.py). The suite runs with the development
keys, so it sets DEBUG=true in the environment before the settings are read. The
processes the tests start (workers, ``manage.py``) run billingdash's own settings module
with that environment: DJANGO_SETTINGS_MODULE is set back for them. pytest-django still runs each
test with ``settings.DEBUG = False``; what DEBUG decides at start-up (cookie flags, the
static files storage) is the development one, as before.
"""

import os

os.environ["DEBUG"] = "true"
os.environ["DJANGO_SETTINGS_MODULE"] = "billingdash.settings"

from billingdash.settings import *  # noqa: F403
