"""Sign-in, sign-out and organization pages. Org-scoped URLs take ``<str:login>``; the
isolation test walks every pattern with a ``login`` and checks who gets a 404."""

from django.urls import path

from accounts import views, wizard

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_page, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("orgs/<str:login>/install/", wizard.org_install, name="org_install"),
    path("install/", wizard.install_start, name="install_start"),
    path("api/orgs/", views.api_org_list, name="api_org_list"),
]
