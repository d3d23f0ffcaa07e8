"""Authentication events go to the audit log (AUD-1)."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.services import audit_log


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_log(event="login", user=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_log(event="logout", user=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    audit_log(
        event="login_failed",
        outcome="failure",
        request=request,
        detail={"username": str(credentials.get("username", ""))[:150]},
    )


@receiver(user_logged_in)
def _superuser_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """is_superuser is break-glass only: every such login gets its own record (AC-5)."""
    if user is not None and user.is_superuser:
        audit_log(event="superuser_login", user=user, request=request, outcome="success")


def _locked_out(sender: Any, request: Any = None, username: Any = None, ip_address: Any = None, **kwargs: Any) -> None:
    audit_log(
        event="lockout",
        outcome="failure",
        request=request,
        detail={"username": str(username or "")[:150], "ip": str(ip_address or "")},
    )


def connect_lockout_signal() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="audit_lockout")


connect_lockout_signal()
