"""What the summary tables hold: one family per source app, each defined by the owning app's rules.

- ``members``: member records (organizations' own rows: by stage, status, dues category, sex,
  education, birth year, year of 转正, and the 失联/流动/出国 flags). Ages and 党龄 are derived
  at read time from the birth year / 转正 year for the chosen statistical year (党内统计 counts
  as at 31 December), so the stored rows never go stale as time passes.
- ``flags``: organization types and the flags of ``organizations.selectors.organization_flags``
  (term ending / overdue, committee missing, branch over the size limit): the lead's rules and
  the PB_* settings, never a second copy of the thresholds.
- further families (organizational life, dues, development, ratings, rectification, follow-ups)
  are registered by ``dashboard.sources_apps`` when those apps' models exist.

Period keys: ``now`` (current state), ``YYYY`` (a year), ``YYYY-MM`` (a month).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from django.db.models import CharField, Count, F, Q, Value
from django.db.models.functions import Cast, Coalesce, ExtractYear

from dashboard.facts import ZERO, PythonSource, QuerySource, Row, family_register, grouped
from members.choices import MembershipStatus, Stage
from members.models import Member
from organizations.models import Organization
from organizations.selectors import organization_flags, organization_with_flag_data

NOW = "now"
PARTY_STAGES = [Stage.PROBATIONARY, Stage.FULL]


def _text(value: str) -> Value:
    return Value(value, output_field=CharField())


def _year(field_name: str) -> Coalesce:
    return Coalesce(Cast(ExtractYear(field_name), CharField(max_length=4)), _text(""))


def _members(org_ids: list[int] | None) -> Q:
    return Q() if org_ids is None else Q(organization_id__in=org_ids)


def _member_source(metric: str, dimension, extra: Q) -> QuerySource:
    def build(org_ids: list[int] | None, on: date):
        qs = Member.objects.filter(_members(org_ids), extra)
        return grouped(
            qs,
            org=F("organization_id"),
            period=_text(NOW),
            metric=_text(metric),
            dimension=dimension,
            value=Count("pk"),
        )

    return QuerySource(build)


# Everyone in normal standing, by development stage (applicants … full members).
IN_STANDING = Q(membership_status=MembershipStatus.NORMAL)
# 党员 = 预备党员 + 正式党员 in normal standing: the population of the structure figures.
PARTY = Q(membership_status=MembershipStatus.NORMAL, stage__in=PARTY_STAGES)

family_register(
    "members",
    "党员结构",
    [
        _member_source("stage", F("stage"), IN_STANDING),
        _member_source("status", F("membership_status"), Q(stage__in=PARTY_STAGES)),
        _member_source("category", F("dues_category"), PARTY),
        _member_source("sex", F("sex"), PARTY),
        _member_source("education", F("education"), PARTY),
        _member_source("birth_year", _year("birth_date"), PARTY),
        _member_source("full_year", _year("full_on"), PARTY & Q(stage=Stage.FULL)),
        _member_source("member_flag", _text("lost_contact"), PARTY & Q(is_lost_contact=True)),
        _member_source("member_flag", _text("mobile"), PARTY & Q(is_mobile=True)),
        _member_source("member_flag", _text("abroad"), PARTY & Q(is_abroad=True)),
    ],
)


def _flag_rows(org_ids: list[int] | None, on: date) -> Iterator[Row]:
    qs = Organization.objects.all() if org_ids is None else Organization.objects.filter(pk__in=org_ids)
    for org in organization_with_flag_data(qs).iterator(chunk_size=2000):
        yield (org.pk, NOW, "org_type", org.org_type, 1, ZERO)
        for flag in organization_flags(org, on=on):
            yield (org.pk, NOW, "org_flag", flag.code, 1, ZERO)


family_register("flags", "组织建设", [PythonSource(_flag_rows)])
