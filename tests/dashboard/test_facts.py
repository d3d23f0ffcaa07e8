"""The summary tables agree with a direct recomputation from the raw rows, before and after changes."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from dashboard.facts import facts_rebuild, facts_refresh
from dashboard.models import DashboardFact
from members.choices import DuesCategory, Education, MembershipStatus, Sex, Stage
from members.models import Member
from organizations.choices import OrgType
from organizations.models import Organization
from organizations.selectors import organization_flags, organization_with_flag_data
from tests.factories import MemberFactory, make_org

pytestmark = pytest.mark.django_db

PARTY = {Stage.PROBATIONARY, Stage.FULL}


def _expected() -> Counter:
    """Own and cumulative facts of the members and flags families, computed in plain Python."""
    own: Counter = Counter()
    for m in Member.objects.all():
        org = m.organization_id
        if m.membership_status == MembershipStatus.NORMAL:
            own[(org, "now", "stage", m.stage)] += 1
        if m.stage in PARTY:
            own[(org, "now", "status", m.membership_status)] += 1
        if m.stage in PARTY and m.membership_status == MembershipStatus.NORMAL:
            own[(org, "now", "category", m.dues_category)] += 1
            own[(org, "now", "sex", m.sex)] += 1
            own[(org, "now", "education", m.education)] += 1
            own[(org, "now", "birth_year", str(m.birth_date.year))] += 1
            if m.stage == Stage.FULL:
                own[(org, "now", "full_year", str(m.full_on.year) if m.full_on else "")] += 1
            for flag in ("lost_contact", "mobile", "abroad"):
                if getattr(m, f"is_{flag}"):
                    own[(org, "now", "member_flag", flag)] += 1
    for org in organization_with_flag_data(Organization.objects.all()):
        own[(org.pk, "now", "org_type", org.org_type)] += 1
        for flag in organization_flags(org):
            own[(org.pk, "now", "org_flag", flag.code)] += 1
    paths = dict(Organization.objects.values_list("pk", "path"))
    by_path = {path: pk for pk, path in paths.items()}
    out: Counter = Counter()
    for (org, period, metric, dim), value in own.items():
        if not value:
            continue
        out[(org, False, period, metric, dim)] += value
        path = paths[org]
        for i in range(4, len(path) + 1, 4):
            out[(by_path[path[:i]], True, period, metric, dim)] += value
    return +out


def _stored() -> Counter:
    rows = DashboardFact.objects.filter(family__in=["members", "flags"]).values_list(
        "organization_id", "cumulative", "period", "metric", "dimension", "value"
    )
    return +Counter({(o, c, p, m, d): v for o, c, p, m, d, v in rows})


def _random_tree(rng: random.Random) -> list[Organization]:
    root = make_org("中共测试市委", OrgType.COMMITTEE)
    orgs = [root]
    for i in range(3):
        committee = make_org(f"第{i}党委", OrgType.COMMITTEE, parent=root)
        orgs.append(committee)
        for j in range(rng.randint(1, 3)):
            branch = make_org(f"第{i}-{j}支部", OrgType.BRANCH, parent=committee)
            orgs.append(branch)
            if rng.random() < 0.5:
                orgs.append(make_org(f"第{i}-{j}小组", OrgType.GROUP, parent=branch))
    return orgs


def _random_member(rng: random.Random, org: Organization) -> Member:
    stage = rng.choice(list(Stage))
    full_on = (
        date(rng.randint(1980, 2024), rng.randint(1, 12), 1) if stage == Stage.FULL and rng.random() < 0.9 else None
    )
    return MemberFactory(
        organization=org,
        stage=stage,
        membership_status=rng.choice([MembershipStatus.NORMAL] * 5 + [MembershipStatus.SUSPENDED]),
        sex=rng.choice(list(Sex)),
        birth_date=date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)),
        dues_category=rng.choice(list(DuesCategory)),
        education=rng.choice([*Education.values, ""]),
        full_on=full_on,
        is_mobile=rng.random() < 0.1,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summaries_match_raw_rows_after_random_changes(seed, django_capture_on_commit_callbacks):
    rng = random.Random(seed)
    with django_capture_on_commit_callbacks(execute=True):
        orgs = _random_tree(rng)
    branches = [o for o in orgs if o.org_type == OrgType.BRANCH]
    members = [_random_member(rng, rng.choice(branches)) for _ in range(60)]  # no hooks yet: rebuild
    facts_rebuild()
    assert _stored() == _expected()

    for step in range(40):
        action = rng.choice(["add", "move", "delete", "stage", "flag"])
        with django_capture_on_commit_callbacks(execute=True):
            if action == "add" or not members:
                members.append(_random_member(rng, rng.choice(branches)))
            elif action == "move":
                member = rng.choice(members)
                member.organization = rng.choice(branches)
                member.save()
            elif action == "delete":
                member = members.pop(rng.randrange(len(members)))
                member.delete()
            elif action == "stage":
                member = rng.choice(members)
                member.stage = rng.choice(list(Stage))
                member.membership_status = rng.choice(list(MembershipStatus))
                member.save()
            else:
                member = rng.choice(members)
                member.is_lost_contact = not member.is_lost_contact
                member.save()
        assert _stored() == _expected(), f"step {step}: {action}"

    # A rebuild from scratch gives the same rows as the incremental path.
    incremental = _stored()
    facts_rebuild()
    assert _stored() == incremental == _expected()


def test_refresh_is_idempotent_and_counts_changes(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        root = make_org("中共测试市委", OrgType.COMMITTEE)
        branch = make_org("支部", OrgType.BRANCH, parent=root)
        MemberFactory.create_batch(3, organization=branch)
    assert facts_refresh(org_ids=[branch.pk], families=["members", "flags"]) == 0
    Member.objects.filter(organization=branch).update(sex=Sex.FEMALE)  # bypasses signals
    assert facts_refresh(org_ids=[branch.pk], families=["members"]) == 2
    root_sex = dict(
        DashboardFact.objects.filter(organization=root, cumulative=True, metric="sex").values_list("dimension", "value")
    )
    assert root_sex == {"female": 3}
    assert _stored() == _expected()
