"""换届选举 pages: the org_admin's list by stage, a branch's election page (a guided phone flow:
each step says what comes next and what the rules require, with the one form it needs), and the
three PDF printouts. Thin: parse, fetch through the gate, call one service, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from activities.choices import AttendanceStatus
from activities.elections import pdf
from activities.elections.models import Election, ElectionStage, Post
from activities.elections.selectors import election_detail_queryset, election_next_step, election_overview, post_states
from activities.elections.services import afterwards, prepare, voting
from activities.elections.services._common import upper_organization
from activities.selectors import organization_roster_on
from activities.services.inputs import AttendanceInput
from activities.views._common import organization_for
from core.access import VIEW, get_for_user, get_scope, refuse_read_only
from core.dates import today
from core.numbers import is_number
from organizations.choices import PositionCode

# --- parsing -------------------------------------------------------------------------------------


def _date(data: QueryDict, name: str, label: str) -> dt.date:
    value = (data.get(name) or "").strip()
    if not value:
        raise ValidationError({name: f"请填写{label}"})
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError({name: f"{label}格式应为 年-月-日"}) from exc


def _int(data: QueryDict, name: str, label: str, *, default: int | None = None) -> int:
    value = (data.get(name) or "").strip()
    if not value and default is not None:
        return default
    if not is_number(value) or len(value) > 6:
        raise ValidationError({name: f"{label}应为非负整数"})
    return int(value)


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if is_number(v) and len(v) < 18]


# --- the steps -----------------------------------------------------------------------------------


def _request(user: Any, e: Election, p: QueryDict) -> None:
    prepare.election_request_record(
        actor=user, election=e, request_on=_date(p, "request_on", "请示日期"), request_no=p.get("request_no", "")
    )


def _request_approval(user: Any, e: Election, p: QueryDict) -> None:
    prepare.election_request_approve(
        actor=user, election=e, approved_on=_date(p, "approved_on", "批复日期"), approval_no=p.get("approval_no", "")
    )


def _candidates(user: Any, e: Election, p: QueryDict) -> None:
    items = [
        prepare.CandidateInput(member_id=i, post=post) for post in e.posts for i in _ids(p.getlist(f"cand_{post}"))
    ]
    prepare.election_candidates_set(actor=user, election=e, candidates=items)


def _candidates_submit(user: Any, e: Election, p: QueryDict) -> None:
    prepare.election_candidates_submit(actor=user, election=e, submitted_on=_date(p, "submitted_on", "报送日期"))


def _candidates_approval(user: Any, e: Election, p: QueryDict) -> None:
    approve = p.get("approve") != "no"
    prepare.election_candidates_approve(
        actor=user,
        election=e,
        approved_on=_date(p, "approved_on", "批复日期") if approve else None,
        approval_no=p.get("approval_no", ""),
        approve=approve,
    )


def _assembly(user: Any, e: Election, p: QueryDict) -> None:
    held_on = _date(p, "held_on", "选举大会日期")
    rows = []
    for member in organization_roster_on(organization=e.organization, on=held_on):
        status = p.get(f"att_{member.pk}", "")
        if status not in AttendanceStatus.values:
            status = ""
        rows.append(AttendanceInput(member_id=member.pk, status=status, reason=p.get(f"reason_{member.pk}", "")))
    voting.election_assembly_record(actor=user, election=e, held_on=held_on, attendance=rows, place=p.get("place", ""))


def _round(user: Any, e: Election, p: QueryDict) -> None:
    post = p.get("post", "")
    states = {s.post: s for s in post_states(e)}
    if post not in states:
        raise ValidationError({"post": "本次选举不选该职位"})
    counts = [
        voting.CountInput(
            candidate_id=c.pk,
            votes_for=_int(p, f"for_{c.pk}", f"{c.name}的赞成票", default=0),
            votes_against=_int(p, f"against_{c.pk}", f"{c.name}的不赞成票", default=0),
            votes_abstain=_int(p, f"abstain_{c.pk}", f"{c.name}的弃权票", default=0),
        )
        for c in states[post].next_candidates
    ]
    write_ins = []
    name = (p.get("write_in_name") or "").strip()
    if name:
        member = p.get("write_in_member", "")
        write_ins.append(
            voting.WriteInInput(
                name=name,
                member_id=int(member) if is_number(member) and len(member) < 18 else None,
                votes_for=_int(p, "write_in_votes", "另选他人得票", default=0),
            )
        )
    voting.election_round_record(
        actor=user,
        election=e,
        post=post,
        ballots_issued=_int(p, "ballots_issued", "发出选票"),
        ballots_returned=_int(p, "ballots_returned", "收回选票"),
        counts=counts,
        write_ins=write_ins,
    )


def _leave_empty(user: Any, e: Election, p: QueryDict) -> None:
    voting.election_seats_leave_empty(actor=user, election=e, post=p.get("post", ""), decision=p.get("decision", ""))


def _officers(user: Any, e: Election, p: QueryDict) -> None:
    deputy = p.get("deputy", "")
    duties = {}
    for key, value in p.items():
        if key.startswith("duty_") and is_number(key[5:]) and value:
            duties[int(key[5:])] = value
    afterwards.election_officers_record(
        actor=user,
        election=e,
        held_on=_date(p, "held_on", "会议日期"),
        present=_int(p, "present", "到会委员"),
        secretary_id=_int(p, "secretary", "书记人选"),
        secretary_votes=_int(p, "secretary_votes", "书记得票"),
        deputy_id=int(deputy) if is_number(deputy) and len(deputy) < 18 else None,
        deputy_votes=_int(p, "deputy_votes", "副书记得票", default=0),
        duties=duties,
    )


def _report(user: Any, e: Election, p: QueryDict) -> None:
    afterwards.election_report(actor=user, election=e, reported_on=_date(p, "reported_on", "报告日期"))


def _result_approval(user: Any, e: Election, p: QueryDict) -> None:
    afterwards.election_result_approve(
        actor=user, election=e, approved_on=_date(p, "approved_on", "批复日期"), approval_no=p.get("approval_no", "")
    )


STEPS: dict[str, tuple[Callable[[Any, Election, QueryDict], None], str]] = {
    "request": (_request, "请示已登记"),
    "request_approval": (_request_approval, "批复已登记"),
    "candidates": (_candidates, "候选人名单已保存"),
    "candidates_submit": (_candidates_submit, "候选人名单已报送上级"),
    "candidates_approval": (_candidates_approval, "候选人批复已登记"),
    "assembly": (_assembly, "选举大会已登记"),
    "rounds": (_round, "本轮计票已登记"),
    "leave_empty": (_leave_empty, "已记录大会关于空缺名额的决定"),
    "officers": (_officers, "书记、副书记选举结果已登记"),
    "report": (_report, "已登记报告上级"),
    "result_approval": (_result_approval, "已批复，新一届委员会已建立"),
}


# --- pages ---------------------------------------------------------------------------------------


@login_required
def election_index(request: HttpRequest) -> HttpResponse:
    """The org_admin's list of the subtree's elections by stage, overdue terms first."""
    scope = get_scope(request.user)
    if not scope.works_with_data:
        raise Http404("对象不存在或无权访问")
    return render(request, "activities/elections/index.html", election_overview(user=request.user))


@login_required
@require_http_methods(["GET", "POST"])
def election_open(request: HttpRequest, pk: int) -> HttpResponse:
    org = organization_for(request, pk)
    current = Election.objects.filter(organization=org).exclude(stage=ElectionStage.COMPLETED).first()
    if current is not None:
        return redirect("activities:election", current.pk)
    errors: list[str] = []
    if request.method == "POST":
        refuse_read_only(request.user)
        try:
            election = prepare.election_open(
                actor=request.user,
                organization=org,
                committee_seats=_int(request.POST, "committee_seats", "应选委员名额", default=0),
                deputy_seat=request.POST.get("deputy_seat") == "1",
                timing_reason=request.POST.get("timing_reason", ""),
            )
        except ValidationError as exc:
            errors = [m for ms in exc.message_dict.values() for m in ms]
        else:
            messages.success(request, "换届选举已启动")
            return redirect("activities:election", election.pk)
    voters = len(prepare.electorate_on(organization=org, on=today()).voter_ids)
    past = Election.objects.filter(organization=org).order_by("-opened_on")
    return render(
        request,
        "activities/elections/open.html",
        {"org": org, "errors": errors, "voters": voters, "past": past, "data": request.POST},
    )


def _may_act(user: Any, election: Election, who: str) -> bool:
    scope = get_scope(user)
    if who == "upper":
        return scope.may_record_for(upper_organization(election.organization))
    return who == "branch" and scope.may_record_for(election.organization)


@login_required
@require_http_methods(["GET", "POST"])
def election_detail(request: HttpRequest, pk: int) -> HttpResponse:
    election = get_for_user(election_detail_queryset(request.user), request.user, VIEW, pk=pk)
    errors: list[str] = []
    if request.method == "POST":
        refuse_read_only(request.user)
        code = request.POST.get("step", "")
        if code not in STEPS:
            raise Http404("未知的步骤")
        handler, done = STEPS[code]
        try:
            handler(request.user, election, request.POST)
        except ValidationError as exc:
            errors = [m for ms in exc.message_dict.values() for m in ms]
            election = election_detail_queryset(request.user).get(pk=pk)
        except PermissionDenied:
            raise
        else:
            messages.success(request, done)
            return redirect(reverse("activities:election", args=[pk]) + "#step")
    step = election_next_step(election)
    context: dict[str, Any] = {
        "election": election,
        "org": election.organization,
        "step": step,
        "states": post_states(election),
        "may_act": _may_act(request.user, election, step.who),
        "errors": errors,
        "data": request.POST,
        "today": today(),
        "position_codes": [(c, PositionCode(c).label) for c in sorted(afterwards.DUTY_CODES)],
        "attendance_choices": [
            (c, AttendanceStatus(c).label)
            for c in (AttendanceStatus.PRESENT, AttendanceStatus.LEAVE, AttendanceStatus.ABSENT)
        ],
        "stages": ElectionStage.choices,
        "post_labels": dict(Post.choices),
    }
    if context["may_act"] and step.code in ("candidates", "assembly", "rounds"):
        on = today()
        electorate = prepare.electorate_on(organization=election.organization, on=on)
        context["roster"] = [(m, m.pk in electorate.voter_ids) for m in electorate.members.values()]
        chosen = {(c.member_id, c.post) for c in election.candidates.all()}
        context["candidate_rows"] = [
            (post, Post(post).label, [(m, ok, (m.pk, post) in chosen) for m, ok in context["roster"]])
            for post in election.posts
        ]
    if step.code == "officers":
        context["committee"] = next((s.elected for s in context["states"] if s.post == Post.COMMITTEE), [])
    return render(request, "activities/elections/detail.html", context)


PRINTOUTS = {
    "candidates": (pdf.candidates_pdf, "候选人预备人选名单"),
    "ballot": (pdf.ballot_pdf, "选票"),
    "tally": (pdf.tally_pdf, "计票结果"),
}


@login_required
def election_pdf(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    if kind not in PRINTOUTS:
        raise Http404("未知的打印件")
    election = get_for_user(election_detail_queryset(request.user), request.user, VIEW, pk=pk)
    build, _label = PRINTOUTS[kind]
    response = HttpResponse(build(election), content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename=election-{election.pk}-{kind}.pdf"
    response["X-Content-Type-Options"] = "nosniff"
    return response
