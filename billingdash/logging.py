"""A logging filter that masks GitHub tokens and keys wherever they appear, and the
secret parts of chat webhook URLs (Slack, Teams, Power Automate)."""

import logging
import re

# ghu_/gho_/ghs_/ghr_/ghp_ tokens, including the stateless ghs_<app>_<jwt> format,
# JWTs, PEM blocks and "Authorization: ..." values.
_PATTERNS = [
    re.compile(r"\bgh[oupsr]_[A-Za-z0-9_\-\.]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|token)\s+[^\s'\",]+"),
    re.compile(r"(?i)((?:access|refresh)_token['\"]?\s*[:=]\s*['\"]?)[^\s'\",&]+"),
    # Chat webhook URLs are bearer secrets: Slack's path, the Teams connectors' path, and
    # the `sig` (or token/key) query parameter of Power Automate / Logic Apps triggers.
    re.compile(r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s'\"<>]+"),
    re.compile(r"(?i)(\.webhook\.office\.com/)[^\s'\"<>]+"),
    re.compile(r"(?i)([?&](?:sig|signature|token|key|code)=)[^\s&'\"<>]+"),
    # The signing secrets billingdash generates for generic alert webhooks.
    re.compile(r"\bbdwhsec_[A-Za-z0-9_\-]{8,}"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + "***", text)
        else:
            text = pattern.sub("***", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
