"""Celery application. Configuration comes from Django settings (CELERY_ namespace)."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("partybuilding")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _django_logging(**_kwargs: object) -> None:
    """Workers log through Django's LOGGING, with its filter that masks ID and phone numbers
    (#21.16). Connected, this replaces Celery's own root-logger setup, which dropped the filter."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    if app.conf.worker_redirect_stdouts:  # print() in a task goes through the filter as well
        app.log.redirect_stdouts(app.conf.worker_redirect_stdouts_level)
