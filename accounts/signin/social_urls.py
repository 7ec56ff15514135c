"""social-auth's two sign-in URLs only (``/login/<backend>/``, a POST, and
``/complete/<backend>/``), under the ``social`` namespace. Its disconnect and
"launch bridge" URLs are not exposed: billingdash does not use them."""

from django.urls import path
from social_django import views

app_name = "social"

urlpatterns = [
    path("login/<str:backend>/", views.auth, name="begin"),
    path("complete/<str:backend>/", views.complete, name="complete"),
]
