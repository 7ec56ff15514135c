"""Create (or reset the password of) the demo's staff superuser `admin`."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create or update the demo staff superuser 'admin'."

    def add_arguments(self, parser):
        parser.add_argument("--password", required=True)

    def handle(self, *args, password: str, **options):
        user, _ = get_user_model().objects.get_or_create(username="admin")
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
