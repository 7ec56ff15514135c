"""Field helpers shared by the usage app's models."""

from django.db import models


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=28, decimal_places=10, **kwargs)
