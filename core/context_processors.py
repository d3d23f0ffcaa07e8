"""Deployment-wide template values: the site's name and logo (login page, header) and the prefix for
absolute links in printed pages (``PB_REPORT_SITE_URL``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def site(request: Any) -> dict[str, Any]:
    return {
        "pb_site_name": settings.PB_SITE_NAME,
        "pb_site_logo": settings.PB_SITE_LOGO,
        "pb_site_url": settings.PB_REPORT_SITE_URL,
    }
