"""Helpers shared by the election services (private to the package)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError

from activities.elections.models import Election, ElectionStage
from audit.services import audit_log
from core.access import authorize
from organizations.models import Organization


def fmt(day: date | None) -> str:
    return f"{day:%Y-%m-%d}" if day else ""


def require_stage(election: Election, *stages: str, doing: str) -> None:
    """Refuse a step taken at the wrong point of the flow, naming where the election is."""
    if election.stage not in stages:
        wanted = "、".join(ElectionStage(s).label for s in stages)
        raise ValidationError(
            {"stage": f"当前阶段为“{election.get_stage_display()}”，不能{doing}（应在“{wanted}”阶段）"}
        )


def authorize_branch(actor: Any, election: Election) -> None:
    """The branch's own steps: its secretary, or an org_admin above."""
    authorize(actor, election.organization, message="无权办理该组织的换届选举")


def upper_organization(organization: Organization) -> Organization:
    """The organization that approves (the parent; a root organization approves its own)."""
    return Organization.objects.parent_of(organization) or organization


def authorize_upper(actor: Any, election: Election) -> Organization:
    """Approvals are recorded by the organization above (its org_admin), never by the branch."""
    upper = upper_organization(election.organization)
    authorize(actor, upper, message="批复须由上级党组织登记")
    return upper


def authorize_step(actor: Any, election: Election, *, upper: bool) -> None:
    """Whether ``actor`` may take a step of ``election``: the organization above's (``upper``) or the branch's."""
    if upper:
        authorize_upper(actor, election)
    else:
        authorize_branch(actor, election)


def require_text(value: str, field: str, label: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: f"请填写{label}"})
    return text


def require_date_after(value: date | None, earlier: date | None, field: str, label: str, earlier_label: str) -> date:
    if value is None:
        raise ValidationError({field: f"请填写{label}"})
    if earlier is not None and value < earlier:
        raise ValidationError({field: f"{label}（{fmt(value)}）不能早于{earlier_label}（{fmt(earlier)}）"})
    return value


def log(event: str, actor: Any, election: Election, **detail: Any) -> None:
    audit_log(event=event, user=actor, obj=election, organization=election.organization, detail=detail)
