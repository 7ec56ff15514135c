"""An exception-reporter filter that keeps tokens out of debug pages and error reports.

Django hides sensitive *settings*, but a traceback also shows every frame's local
variables (a token response, a `TokenSet`, a header dict). This filter, in DEBUG too,
replaces variables whose name says "secret" and masks any token or key found in the
printed value of the others (the patterns of `billingdash.logging`).
"""

from __future__ import annotations

import re
from pprint import pformat

from django.views.debug import SafeExceptionReporterFilter

from billingdash.logging import redact

_SECRET_NAMES = re.compile(r"token|secret|verifier|password|authorization|private_key", re.I)


class RedactingExceptionReporterFilter(SafeExceptionReporterFilter):
    def get_traceback_frame_variables(self, request, tb_frame):
        cleaned = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if _SECRET_NAMES.search(str(name)):
                cleaned.append((name, self.cleansed_substitute))
                continue
            try:
                text = pformat(value)
            except Exception:  # a broken __repr__ must not break the report
                cleaned.append((name, value))
                continue
            masked = redact(text)
            cleaned.append((name, masked if masked != text else value))
        return cleaned
