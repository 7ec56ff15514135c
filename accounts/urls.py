"""Sign-in, sign-out and organization pages. Org-scoped URLs take ``<str:login>``; the
isolation test walks every pattern with a ``login`` and checks who gets a 404."""

from django.urls import path

from accounts.privacy.views import account_delete, api_account
from accounts.signin.views import home, login_page, logout_view
from accounts.wizard.views import install_start, org_install

urlpatterns = [
    path("", home, name="home"),
    path("login/", login_page, name="login"),
    path("logout/", logout_view, name="logout"),
    path("orgs/<str:login>/install/", org_install, name="org_install"),
    path("install/", install_start, name="install_start"),
    path("account/delete/", account_delete, name="account_delete"),
    path("api/account/", api_account, name="api_account"),
]
