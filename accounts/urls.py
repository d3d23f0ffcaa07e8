from django.urls import path

from accounts import display, views

app_name = "accounts"

urlpatterns = [
    path("password/", views.password_change, name="password_change"),
    path("2fa/setup/", views.otp_setup, name="otp_setup"),
    path("2fa/verify/", views.otp_verify, name="otp_verify"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/roles/", views.role_grant, name="role_grant"),
    path("users/<int:pk>/<slug:action>/", views.user_action, name="user_action"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("resets/<int:pk>/<slug:decision>/", views.reset_decide, name="reset_decide"),
    path("reset/set/", views.password_reset_set, name="password_reset_set"),  # public: from the e-mailed link
    path("reset/<str:token>/", views.password_reset_link, name="password_reset_link"),  # public
    path("security/", views.security_settings, name="security_settings"),
    path("display/large-text/", display.large_text_toggle, name="large_text"),
]
