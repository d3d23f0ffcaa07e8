"""#15.1: a branch's 组织生活台账 for a year, built from a year recorded through the services
(meetings of each type with leave, absence and votes, talks, dues, study): the PDF text holds
every finished meeting's date, topic, names on leave and votes, never a draft; its page count
grows linearly with the meetings; the API serves PDF and XLSX to those who may read the branch."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook
from pypdf import PdfReader

from activities.selectors import meeting_roster
from activities.services.inputs import AttendanceInput, MeetingInput, ResolutionInput
from activities.services.meetings import meeting_save_system
from activities.services.study import study_record_create
from activities.services.talks import talk_create_system
from assessments.ledger.data import build_ledger
from assessments.ledger.pdf import render_ledger_pdf
from members.dues.services.fixings import dues_fixing_create
from members.dues.services.payments import dues_payment_record
from organizations.services import committee_term_start, position_assign
from tests.assessments.pdf_helpers import pdf_text, save_pngs
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db
YEAR = 2026
TYPES = ["general_assembly", "committee", "lecture", "theme_day", "org_life", "group"]


def _meeting(org, held_on, meeting_type, title, *, finish=True, leave=(), absent=(), votes=None):
    roster = meeting_roster(organization=org, on=held_on, meeting_type=meeting_type)
    rows = []
    for person in roster.expected:
        name = person.member.name if person.member_id else ""
        status, reason = "present", ""
        if name in leave:
            status, reason = "leave", "出差"
        elif name in absent:
            status, reason = "absent", "未说明"
        who = {"member_id": person.member_id} if person.member_id else {"position_id": person.position.pk}
        rows.append(AttendanceInput(**who, status=status, reason=reason))
    resolutions = []
    if votes is not None:
        resolutions.append(ResolutionInput(title=f"{title}决议", votes_for=votes[0], votes_against=votes[1]))
    data = MeetingInput(
        meeting_type=meeting_type,
        title=title,
        held_on=held_on,
        start_time=dt.time(14, 30),
        end_time=dt.time(16, 0),
        place="党员活动室",
        chair_name="王书记",
        recorder_name="李委员",
        minutes="一、学习有关精神；二、讨论交流。",
    )
    return meeting_save_system(organization=org, data=data, attendance=rows, resolutions=resolutions, finish=finish)


@pytest.fixture
def branch_year(cast):
    A = cast.A
    term = committee_term_start(org=A, elected_on=dt.date(2025, 3, 1))
    people = [
        MemberFactory(organization=A, name=n, joined_on=dt.date(2010, 7, 1)) for n in ["张一", "王二", "刘三", "陈四"]
    ]
    for person, code in zip(people[:3], ["secretary", "deputy_secretary", "member"], strict=True):
        position_assign(term=term, position=code, person_name=person.name, member=person, start_on=dt.date(2025, 3, 1))
    people.append(MemberFactory(organization=A, name="赵五", party_group=cast.A1, joined_on=dt.date(2012, 7, 1)))
    meetings = []
    for month in range(1, 7):
        held_on = dt.date(YEAR, month, 10)
        kind = TYPES[month - 1]
        org = cast.A1 if kind == "group" else A
        votes = (2, 1) if kind in ("general_assembly", "committee") else None
        meetings.append(
            _meeting(org, held_on, kind, f"{month}月{kind}议题", leave=("陈四",), absent=("赵五",), votes=votes)
        )
    draft = _meeting(A, dt.date(YEAR, 7, 1), "theme_day", "草稿会议不应出现", finish=False)
    talk_create_system(
        organization=A, held_on=dt.date(YEAR, 3, 3), initiator=people[0], counterpart=people[1], topic="思想交流"
    )
    for person in people:
        dues_fixing_create(
            member=person, year=YEAR, category="employed", base=Decimal("5100"), fixed_on=dt.date(YEAR, 1, 5)
        )
    dues_payment_record(
        member=people[0], months=[dt.date(YEAR, 1, 1), dt.date(YEAR, 2, 1)], paid_on=dt.date(YEAR, 2, 5)
    )
    study_record_create(
        user=cast.users["secretary_a"],
        member=people[2],
        source="training",
        studied_on=dt.date(YEAR, 4, 2),
        hours=Decimal("8"),
        title="党务培训班",
    )
    return cast, meetings, draft


def test_ledger_pdf_holds_every_finished_meeting_and_no_draft(branch_year, tmp_path):
    cast, meetings, draft = branch_year
    ledger = build_ledger(cast.A, YEAR, generated="2026-12-06")
    assert [m.pk for m in ledger.meetings] == [m.pk for m in sorted(meetings, key=lambda m: m.held_on)]
    path = tmp_path / "ledger.pdf"
    pages = render_ledger_pdf(ledger, str(path))
    save_pngs(path, "ledger_branch", first=1, last=4)
    text = pdf_text(path)
    flat = text.replace("\n", "")
    for meeting in meetings:
        assert f"{meeting.held_on:%Y年%m月%d日}" in text
        assert meeting.title in flat
    assert "陈四（出差）" in flat and "赵五（未说明）" in flat
    assert "赞成 2，反对 1，弃权 0" in flat
    assert "草稿会议不应出现" not in flat
    assert "思想交流" in flat and "党务培训班" not in flat  # study is counted per member, not listed
    assert "第 1 页 共" in text and f"共 {pages - 1} 页" in text
    assert "记录人（签字）" in text and "目" in text
    assert len(PdfReader(str(path)).pages) == pages


def test_page_count_grows_linearly_with_meetings(cast, tmp_path):
    MemberFactory.create_batch(3, organization=cast.A)
    counts = []
    for n in (2, 4, 8):
        for i in range(len(counts) and n // 2 or n):
            _meeting(
                cast.A, dt.date(YEAR, 1 + (i % 11), 1 + len(counts) * 9 + i // 11), "theme_day", f"主题党日{n}-{i}"
            )
        path = tmp_path / f"l{n}.pdf"
        counts.append((n, render_ledger_pdf(build_ledger(cast.A, YEAR), str(path))))
    (n1, p1), (n2, p2), (n3, p3) = counts
    per_meeting = (p3 - p2) / (n3 - n2)
    assert 1 <= per_meeting <= 2
    assert (p2 - p1) / (n2 - n1) == pytest.approx(per_meeting, abs=0.5)


def test_api_serves_pdf_and_xlsx_to_readers_only(branch_year):
    from rest_framework.test import APIClient

    from audit.models import AuditEvent

    cast, meetings, _draft = branch_year
    client = APIClient()
    client.force_authenticate(cast.users["secretary_a"])
    url = f"/api/v1/organizations/{cast.A.pk}/ledger/"
    pdf = client.get(url, {"year": YEAR, "format": "pdf"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    xlsx = client.get(url, {"year": YEAR, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    import io

    wb = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    titles = [r[4] for r in wb["会议记录"].iter_rows(min_row=3, values_only=True)]
    assert titles == [m.title for m in meetings]
    assert AuditEvent.objects.filter(event="ledger_export").count() == 2
    bad = client.get(url, {"year": "abc", "format": "pdf"})
    assert bad.status_code == 400 and bad["Content-Type"].startswith("application/json") and "year" in bad.json()
    client.force_authenticate(cast.users["secretary_b"])
    assert client.get(url, {"year": YEAR, "format": "pdf"}).status_code in (403, 404)


def test_branch_page_has_the_ledger_buttons_for_its_secretary(cast, client):
    client.force_login(cast.users["secretary_a"])
    page = client.get(f"/organizations/{cast.A.pk}/").content.decode()
    assert "打印台账（PDF）" in page and f"/api/v1/organizations/{cast.A.pk}/ledger/" in page
    client.force_login(cast.users["member_a"])
    assert "打印台账" not in client.get(f"/organizations/{cast.A.pk}/").content.decode()


def test_committee_batch_builds_one_zip_of_its_branches_with_progress(
    cast, client, settings, tmp_path, django_capture_on_commit_callbacks
):
    import zipfile

    from assessments.ledger.batch import ledger_batch_request, ledger_batch_zip_path
    from assessments.models import LedgerBatch

    settings.MEDIA_ROOT = str(tmp_path / "media")
    MemberFactory.create_batch(2, organization=cast.A)
    _meeting(cast.A, dt.date(YEAR, 3, 5), "theme_day", "三月主题党日")
    with pytest.raises(PermissionDenied):
        ledger_batch_request(organization=cast.P, year=YEAR, fmt="pdf", user=cast.users["secretary_a"])
    with django_capture_on_commit_callbacks(execute=True):
        batch = ledger_batch_request(organization=cast.P, year=YEAR, fmt="pdf", user=cast.users["org_admin_p"])
    batch = LedgerBatch.objects.get(pk=batch.pk)
    assert (batch.status, batch.total, batch.done, batch.failed, batch.percent) == ("done", 2, 2, 0, 100)
    with zipfile.ZipFile(ledger_batch_zip_path(batch)) as archive:
        names = archive.namelist()
        assert names == [f"0001-第一党支部-{YEAR}年组织生活台账.pdf", f"0002-第二党支部-{YEAR}年组织生活台账.pdf"]
        assert archive.read(names[0]).startswith(b"%PDF")
    client.force_login(cast.users["org_admin_p"])
    page = client.get(f"/assessments/ledgers/{batch.pk}/").content.decode()
    assert "<progress" in page and "下载台账（ZIP" in page
    download = client.get(f"/assessments/ledgers/{batch.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert "批量生成台账" in client.get(f"/organizations/{cast.P.pk}/").content.decode()
    client.force_login(cast.users["outsider"])
    assert client.get(f"/assessments/ledgers/{batch.pk}/").status_code in (403, 404)


def test_one_meeting_record_prints_from_its_page(branch_year, client):
    cast, meetings, draft = branch_year
    client.force_login(cast.users["secretary_a"])
    meeting = meetings[0]
    detail = client.get(f"/activities/meetings/{meeting.pk}/").content.decode()
    assert f"/assessments/ledgers/meetings/{meeting.pk}/print/" in detail
    page = client.get(f"/assessments/ledgers/meetings/{meeting.pk}/print/")
    html = page.content.decode()
    assert page.status_code == 200 and "@media print" in html
    assert meeting.title in html and "陈四（出差）" in html and "赞成 2，反对 1，弃权 0" in html
    assert "记录人（签字）" in html
    assert client.get(f"/assessments/ledgers/meetings/{draft.pk}/print/").status_code == 404
    client.force_login(cast.users["outsider"])
    assert client.get(f"/assessments/ledgers/meetings/{meeting.pk}/print/").status_code in (403, 404)


def test_building_the_ledger_takes_the_same_queries_for_more_meetings(branch_year, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cast, _meetings, _draft = branch_year
    with CaptureQueriesContext(connection) as first:
        build_ledger(cast.A, YEAR)
    for day in (5, 6, 7):
        _meeting(cast.A, dt.date(YEAR, 8, day), "theme_day", f"八月{day}日主题党日", leave=("陈四",))
    with django_assert_num_queries(len(first.captured_queries)):
        ledger = build_ledger(cast.A, YEAR)
    assert len(ledger.meetings) == 9


@pytest.mark.parametrize(
    ("year", "fmt", "errors"),
    [
        ("abc", "pdf", {"year": "请填写年度（如 2026）"}),
        (1999, "pdf", {"year": "年度应在 2000 至"}),
        (dt.date.today().year + 1, "pdf", {"year": "年度应在 2000 至"}),  # next year: not yet
        (YEAR, "doc", {"fmt": "格式应为 pdf 或 xlsx"}),
    ],
)
def test_year_and_format_are_checked_alike_for_a_branch_and_a_batch(cast, year, fmt, errors):
    from django.core.exceptions import ValidationError

    from assessments.ledger.batch import ledger_batch_request
    from assessments.ledger.services import check_ledger_request
    from assessments.models import LedgerBatch

    with pytest.raises(ValidationError) as batch_refusal:
        ledger_batch_request(organization=cast.P, year=year, fmt=fmt, user=cast.users["org_admin_p"])
    with pytest.raises(ValidationError) as branch_refusal:
        check_ledger_request(organization=cast.A, year=year, fmt=fmt)
    file_errors = {("format" if k == "fmt" else k): v for k, v in errors.items()}  # the API's parameter name
    for refusal, expected in ((batch_refusal, errors), (branch_refusal, file_errors)):
        got = {field: " ".join(messages) for field, messages in refusal.value.message_dict.items()}
        assert got.keys() == expected.keys()
        assert all(expected[field] in got[field] for field in expected)
    assert not LedgerBatch.objects.exists()
    assert check_ledger_request(organization=cast.A, year=str(YEAR), fmt="xlsx") == YEAR
