"""Alert e-mail: a plain-text and an HTML part, sent through Django's e-mail backend (SMTP:
EMAIL_URL or EMAIL_*), with RFC 8058 one-click unsubscribe.

Every message carries ``List-Unsubscribe: <SITE_URL/alerts/unsubscribe/<token>/>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: a mail client POSTs
``List-Unsubscribe=One-Click`` to that URL, without cookies, and the recipient is off.
The token is signed (`django.core.signing`, salted): it names one `Subscription`, needs
no sign-in and cannot be guessed. (RFC 8058 also wants the message DKIM-signed over those
headers: that is the outgoing mail server's job.)
"""

from __future__ import annotations

import smtplib
import socket
from dataclasses import replace

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .messages import Message
from .models import Channel, Delivery, Subscription
from .senders import Outcome, scrub

UNSUBSCRIBE_SALT = "alerts.unsubscribe"


def _signer() -> signing.Signer:
    return signing.Signer(salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(subscription: Subscription) -> str:
    return _signer().sign_object({"s": subscription.pk})


def subscription_from_token(token: str) -> Subscription | None:
    """The subscription a token names; None for a forged, damaged or stale token."""
    try:
        data = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    pk = data.get("s") if isinstance(data, dict) else None
    if not isinstance(pk, int):
        return None
    return Subscription.objects.select_related("channel", "organization").filter(pk=pk).first()


def unsubscribe_url(subscription: Subscription) -> str:
    path = reverse("alerts_unsubscribe", kwargs={"token": unsubscribe_token(subscription)})
    return settings.SITE_URL + path


def channel_subscription(channel: Channel) -> Subscription:
    """The subscription of the channel's own address (made with the channel)."""
    subscription, _ = Subscription.objects.get_or_create(
        channel=channel, user=None, defaults={"organization_id": channel.organization_id}
    )
    return subscription


def build_email(channel: Channel, delivery: Delivery, message: Message) -> EmailMultiAlternatives:
    subscription = channel_subscription(channel)
    link = unsubscribe_url(subscription)
    context = {"message": message, "channel": channel, "unsubscribe_url": link}
    title = " ".join(message.title.split())[:150]
    email = EmailMultiAlternatives(
        subject=f"[billingdash] {message.organization}: {title}",
        body=render_to_string("alerts/email/message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[str(channel.destination)],
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Billingdash-Event": message.event,
            "X-Billingdash-Delivery": str(delivery.delivery_id),
        },
    )
    email.attach_alternative(render_to_string("alerts/email/message.html", context), "text/html")
    return email


def _smtp_outcome(error: Exception) -> Outcome:
    """SMTP reply codes: 4xx is "try again later", 5xx is final."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()), (550, b""))
        words = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return Outcome(
            ok=False,
            retryable=400 <= code < 500,
            error=f"the mail server refused the address: {code} {words}",
        )
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return Outcome(
            ok=False,
            retryable=True,
            error="the mail server did not accept billingdash's credentials "
            "(EMAIL_URL or EMAIL_HOST_USER/EMAIL_HOST_PASSWORD)",
        )
    if isinstance(error, smtplib.SMTPResponseException):
        words = error.smtp_error
        words = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
        return Outcome(
            ok=False,
            retryable=not 500 <= error.smtp_code < 600,
            error=f"the mail server answered {error.smtp_code} {words}",
        )
    if isinstance(error, socket.timeout | TimeoutError):
        return Outcome(ok=False, retryable=True, error="the mail server did not answer in time")
    if isinstance(error, ConnectionRefusedError):
        return Outcome(
            ok=False, retryable=True, error="could not connect to the mail server: refused"
        )
    return Outcome(
        ok=False,
        retryable=True,
        error=f"could not talk to the mail server ({type(error).__name__})",
    )


def send_email(channel: Channel, delivery: Delivery, message: Message) -> Outcome:
    """Send `message` to an e-mail channel's address (not when it unsubscribed)."""
    if not channel_subscription(channel).active:
        return Outcome(ok=False, error="the recipient unsubscribed from this channel's e-mail")
    email = build_email(channel, delivery, message)
    try:
        email.send()
    except (smtplib.SMTPException, OSError) as error:
        outcome = _smtp_outcome(error)
        return replace(outcome, error=scrub(" ".join(outcome.error.split()), channel))
    return Outcome(ok=True)
