"""换届选举 services by step: ``prepare`` (opening, 请示/批复, candidates), ``voting`` (the 选举大会
and its rounds), ``afterwards`` (书记/副书记, the report, the approval that creates the new term)."""

from activities.elections.services._common import authorize_step

__all__ = ["authorize_step"]
