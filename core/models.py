"""Core's only table: liveness marks written by periodic tasks (the beat heartbeat)."""

from django.db import models


class Heartbeat(models.Model):
    """The last time a named periodic job ran; /readyz compares it with the job's period."""

    name = models.CharField(max_length=64, primary_key=True)
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = "心跳"
        verbose_name_plural = "心跳"

    def __str__(self) -> str:
        return f"{self.name} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
