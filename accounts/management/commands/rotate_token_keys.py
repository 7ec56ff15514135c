"""Re-encrypt every stored GitHub token with the first key of `TOKEN_ENCRYPTION_KEYS`.

Rotation: put a new key first (keep the old ones after it), deploy, run this command,
then drop the old keys. A row changed by a token refresh while the command runs is left
alone (it was just written with the new key anyway).
"""

from django.core.management.base import BaseCommand

from accounts.models import GitHubToken
from billingdash import crypto


class Command(BaseCommand):
    help = "Re-encrypt stored GitHub tokens with the first TOKEN_ENCRYPTION_KEYS key."

    def handle(self, *args, **options) -> None:
        rotated = unreadable = 0
        for pk in GitHubToken.objects.order_by("pk").values_list("pk", flat=True).iterator():
            try:
                token = GitHubToken.objects.filter(pk=pk).first()
            except crypto.InvalidToken:
                unreadable += 1
                self.stderr.write(f"token #{pk}: no configured key decrypts it; left as is")
                continue
            if token is None:
                continue
            # Compare-and-swap on updated_at: a refresh that saved meanwhile wins.
            rotated += GitHubToken.objects.filter(pk=pk, updated_at=token.updated_at).update(
                access_token=str(token.access_token), refresh_token=str(token.refresh_token)
            )
        self.stdout.write(f"re-encrypted {rotated} token(s); {unreadable} unreadable")
        if unreadable:
            raise SystemExit(1)
