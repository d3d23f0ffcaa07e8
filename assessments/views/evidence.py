"""Downloading 佐证材料 (evidence files) through the gate, audited."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from assessments.models import Evidence
from assessments.services.evidence import evidence_path
from audit.services import audit_log
from core.access import VIEW, get_for_user


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = get_for_user(Evidence.objects.select_related("organization"), request.user, VIEW, pk=pk)
    if not evidence.file:
        raise Http404
    path = evidence_path(evidence)
    if not path.is_file():
        raise Http404
    audit_log(event="assessment_evidence_download", obj=evidence, organization=evidence.organization)
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=evidence.original_name or path.name,
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
