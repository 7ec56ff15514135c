"""social-auth's Django strategy, with `next` cleaned before social-auth reads it: on
top of its own host check, `next` may only be a path on this site (a relative URL such
as ``evil.example`` or a ``javascript:`` URL is dropped)."""

from __future__ import annotations

from django.contrib.auth import REDIRECT_FIELD_NAME
from social_django.strategy import DjangoStrategy

from accounts.signin.redirects import safe_next


class BillingdashStrategy(DjangoStrategy):
    def get_request_data(self, merge: bool = True):
        data = super().get_request_data(merge)
        if REDIRECT_FIELD_NAME in data:
            data = data.copy()
            cleaned = safe_next(self.request, data.get(REDIRECT_FIELD_NAME))
            if cleaned:
                data[REDIRECT_FIELD_NAME] = cleaned
            else:
                data.pop(REDIRECT_FIELD_NAME)
        return data
