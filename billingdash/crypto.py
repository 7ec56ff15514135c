"""Encryption at rest for tokens and keys: Fernet with key rotation (MultiFernet).

`TOKEN_ENCRYPTION_KEYS` is a comma-separated list: the first key encrypts, every key
decrypts, so a new key can be put first and old rows re-encrypted at leisure
(`manage.py rotate_token_keys`, then drop the old keys).
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

__all__ = ["EncryptedTextField", "InvalidToken", "decrypt", "encrypt", "rotate"]


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.TOKEN_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    return fernet().decrypt(value.encode()).decode()


def rotate(value: str) -> str:
    """Re-encrypt a ciphertext with the first (current) key."""
    return fernet().rotate(value.encode()).decode()


class Secret(str):
    """A decrypted secret whose repr never shows the value (tracebacks, debug pages)."""

    def __repr__(self) -> str:
        return "Secret('***')"


class EncryptedTextField(models.TextField):
    """A text column holding Fernet ciphertext; Python code sees the plain value.

    The database row never holds the secret in clear, and neither do fixtures or
    dumpdata output (they serialize the ciphertext).
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Secret(decrypt(value))

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))
