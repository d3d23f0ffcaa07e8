"""The facts are complete whenever a dashboard shows numbers (#13.1): seeding builds them, a
dashboard whose facts were never built says so, and ``dashboard_verify`` catches a wrong figure."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from dashboard.builds import FACTS_VERSION, after_migrate, facts_state, request_rebuild
from dashboard.facts import facts_rebuild
from dashboard.models import DashboardBuild, DashboardFact
from dashboard.selectors import dashboard_data, period_default
from dashboard.verify import party_members, verify_facts
from members.choices import Stage
from organizations.models import Organization
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        MemberFactory.create_batch(3, organization=cast.A, birth_date=date(1990, 5, 1))
        MemberFactory.create_batch(2, organization=cast.B, stage=Stage.APPLICANT, joined_on=None, full_on=None)
    facts_rebuild()
    return cast


def test_seed_demo_leaves_every_dashboard_equal_to_a_recount():
    call_command("seed_demo", orgs=8, members=60, stdout=StringIO())
    assert facts_state().ready
    assert verify_facts() == []
    admin = get_user_model().objects.get(username="orgadmin")
    period = period_default()
    for org in Organization.objects.all():
        data = dashboard_data(user=admin, org=org, period=period)
        assert data["members"]["party_total"] == party_members(org), org.name
    root = Organization.objects.get(depth=1)
    assert party_members(root) > 0


def test_never_built_facts_show_the_message_instead_of_numbers(built):
    DashboardBuild.objects.all().delete()
    page = built.client("org_admin_p").get(f"/organizations/{built.P.pk}/dashboard/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "统计数据生成中" in body
    assert "stat-value" not in body
    api = built.api("org_admin_p").get(f"/api/v1/organizations/{built.P.pk}/dashboard/")
    assert api.status_code == 200
    assert api.json()["facts"]["state"] == "building"
    assert "members" not in api.json()


def test_a_running_rebuild_shows_its_progress(built):
    DashboardBuild.objects.all().delete()
    now = timezone.now()
    DashboardBuild.objects.create(
        reason="migration", version=FACTS_VERSION, started_at=now, steps_total=4, steps_done=2
    )
    page = built.client("org_admin_p").get(f"/organizations/{built.P.pk}/dashboard/")
    assert "统计数据生成中，已完成 50%" in page.content.decode()
    api = built.api("org_admin_p").get(f"/api/v1/organizations/{built.P.pk}/dashboard/")
    assert api.json()["facts"]["progress"] == 50


def test_a_rebuild_request_hides_the_numbers_until_the_rebuild_ran(built, django_capture_on_commit_callbacks):
    assert facts_state().ready
    with django_capture_on_commit_callbacks() as callbacks:
        request_rebuild("migration")
    assert not facts_state().ready
    for callback in callbacks:
        callback()  # the queued rebuild (eager in tests)
    assert facts_state().ready
    page = built.client("org_admin_p").get(f"/organizations/{built.P.pk}/dashboard/")
    assert page.context["members"]["party_total"] == 5


def test_after_migrate_builds_facts_of_a_database_never_built(built, django_capture_on_commit_callbacks):
    DashboardBuild.objects.all().delete()
    DashboardFact.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        after_migrate()
    assert facts_state().ready
    assert verify_facts() == []


def test_after_migrate_on_an_empty_database_marks_it_complete(db):
    DashboardBuild.objects.all().delete()
    after_migrate()
    assert facts_state().ready


def test_verify_passes_then_detects_a_tampered_fact(built):
    out = StringIO()
    call_command("dashboard_verify", "--all", stdout=out)
    assert "一致" in out.getvalue()
    fact = DashboardFact.objects.get(organization=built.P, cumulative=True, metric="stage", dimension=Stage.FULL)
    fact.value += 1
    fact.save(update_fields=["value"])
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("dashboard_verify", "--org", built.P.code, stdout=out, stderr=StringIO())
    assert exit_info.value.code == 1
    assert "存储 6，重新统计 5" in out.getvalue()
    # A branch's own figures are unaffected.
    call_command("dashboard_verify", "--org", str(built.A.pk), stdout=StringIO())


def test_member_import_and_its_rollback_leave_the_facts_equal_to_a_recount(built, django_capture_on_commit_callbacks):
    from members.imports import import_commit, import_preview, import_rollback
    from tests.members.test_member_import import row, xlsx

    user = built.users["secretary_a"]
    with django_capture_on_commit_callbacks(execute=True):
        preview = import_preview(user=user, scope=built.A, data=xlsx([row(built, 1), row(built, 2)]), file_name="i")
        batch = import_commit(batch=preview, user=user)
    assert verify_facts() == []
    assert (
        dashboard_data(user=built.users["org_admin_p"], org=built.P, period=period_default())["members"]["party_total"]
        == party_members(built.P)
        == 7
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_rollback(batch=batch, user=user)
    assert verify_facts() == []
    assert party_members(built.P) == 5


def test_a_failed_rebuild_is_requested_again_and_the_sweeper_runs_it(built, monkeypatch):
    from dashboard import facts
    from dashboard.tasks import dashboard_sweep

    def database_gone(names):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(facts, "_rebuild_cumulative", database_gone)
    with pytest.raises(RuntimeError):
        facts.facts_rebuild(reason="migration")
    state = facts_state()
    assert not state.ready and not state.building  # queued again, no frozen progress bar
    assert verify_facts() == []  # the old figures are untouched (one transaction)
    monkeypatch.undo()
    dashboard_sweep()  # eager in tests: the rebuild runs now
    assert facts_state().ready


def test_tree_moves_request_a_rebuild_that_runs_after_each_commit(built, django_capture_on_commit_callbacks):
    from organizations.services import organization_update

    for parent in (built.Q, built.P):
        with django_capture_on_commit_callbacks(execute=True):
            organization_update(org=built.B, parent=parent)
            assert not facts_state().ready  # requested with the move, in its transaction
        assert facts_state().ready
        assert verify_facts() == []
    built.B.refresh_from_db()
    assert built.B.path.startswith(built.P.path)


def test_dashboard_rebuild_command_completes_the_facts(built):
    request_rebuild("migration", queue=False)
    assert not facts_state().ready
    out = StringIO()
    call_command("dashboard_rebuild", stdout=out)
    assert "已重建" in out.getvalue()
    assert facts_state().ready
