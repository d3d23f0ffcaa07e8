"""年度党内统计 of a subtree, as at 31 December (domain rules §7, issue #15.3).

The count at a date ``d`` (end of day) is the members who, that day, have a roster row in the
subtree (``OrganizationMembership``: start ≤ d < end), joined the party on or before ``d`` and are
in normal standing (``MembershipStatusChange`` history; 停止党籍 members are not counted).

The year's changes are the days a member's being counted flips, classified by what happened
that day: increases 发展 (joined that day), 恢复党籍, 转入; decreases 死亡, 开除党籍, 除名, 停止党籍,
转出. So ``年初 + increases − decreases = 年末`` holds member by member whenever every flip has a
recorded cause; a flip without one (a record changed outside the procedures) breaks the identity
and is listed by member. Four queries, whatever the size of the subtree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q

from members.choices import Education, Ethnicity, JobPost, MembershipStatus, Sex, Stage
from members.discipline.models import MembershipStatusChange
from members.models import Member, OrganizationMembership
from organizations.choices import OrgType, UnitRelation
from organizations.models import Organization

INCREASES = {"develop": "发展党员", "transfer_in": "转入组织关系", "restore": "恢复党籍"}
DECREASES = {
    "death": "死亡",
    "expel": "出党：开除党籍",
    "remove": "出党：除名",
    "transfer_out": "转出组织关系",
    "suspend": "停止党籍",
}
LEAVING_CAUSE = {
    MembershipStatus.DECEASED: "death",
    MembershipStatus.EXPELLED: "expel",
    MembershipStatus.REMOVED: "remove",
    MembershipStatus.SUSPENDED: "suspend",
}
AGE_BANDS = [(0, 30, "30岁及以下"), (31, 35, "31—35岁"), (36, 40, "36—40岁"), (41, 45, "41—45岁"),
             (46, 50, "46—50岁"), (51, 55, "51—55岁"), (56, 60, "56—60岁"), (61, 70, "61—70岁"),
             (71, 80, "71—80岁"), (81, 200, "81岁及以上")]  # fmt: skip
STANDING_BANDS = [(0, 5, "5年及以下"), (6, 10, "6—10年"), (11, 20, "11—20年"), (21, 30, "21—30年"),
                  (31, 40, "31—40年"), (41, 50, "41—50年"), (51, 200, "51年及以上")]  # fmt: skip
BLANK = "未填写"
MEMBER_FIELDS = ("pk", "name", "sex", "ethnicity", "birth_date", "education", "job_post", "joined_on", "full_on",
                 "stage", "membership_status", "suspended_on", "organization__name")  # fmt: skip


def _years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _band(value: int, bands: list[tuple[int, int, str]]) -> str:
    return next(label for low, high, label in bands if low <= value <= high)


@dataclass
class _Person:
    row: dict[str, Any]
    spans: list[tuple[date, date | None]] = field(default_factory=list)
    changes: list[tuple[date, str, str]] = field(default_factory=list)  # (on, from, to), in order

    def on_roster(self, day: date) -> bool:
        return any(start <= day and (end is None or end > day) for start, end in self.spans)

    def status_at(self, day: date) -> str:
        if self.changes:
            current = self.changes[0][1]
            for on, _, to in self.changes:
                if on <= day:
                    current = to
            return current
        status = self.row["membership_status"]
        if status == MembershipStatus.SUSPENDED:  # recorded before the status history existed
            since = self.row["suspended_on"]
            return status if since is None or since <= day else MembershipStatus.NORMAL
        if status == MembershipStatus.TRANSFERRED_OUT:  # the roster row's end says when
            return MembershipStatus.NORMAL
        return status

    def counted(self, day: date) -> bool:
        joined = self.row["joined_on"]
        return (
            joined is not None
            and joined <= day
            and self.row["stage"] in (Stage.PROBATIONARY, Stage.FULL)
            and self.on_roster(day)
            and self.status_at(day) == MembershipStatus.NORMAL
        )

    def flips(self, start: date, end: date) -> list[tuple[date, str, bool]]:
        """(day, cause, increase?) for each day in (start, end] the member's being counted changes."""
        days = {self.row["joined_on"], self.row["suspended_on"], *(on for on, _, _ in self.changes)}
        for first, last in self.spans:
            days.update((first, last))
        state = self.counted(start)
        found = []
        for day in sorted(d for d in days if d is not None and start < d <= end):
            now = self.counted(day)
            if now != state:
                found.append((day, self._cause(day, now), now))
                state = now
        return found

    def _cause(self, day: date, increase: bool) -> str:
        todays = [to for on, _, to in self.changes if on == day]
        if increase:
            if self.row["joined_on"] == day:
                return "develop"
            if MembershipStatus.NORMAL in todays:
                return "restore"
            if any(first == day for first, _ in self.spans):
                return "transfer_in"
            return "other_in"
        for to in reversed(todays):
            if to in LEAVING_CAUSE:
                return LEAVING_CAUSE[to]
        if any(last == day for _, last in self.spans):
            return "transfer_out"
        return "other_out"


def _breakdown(counter: Counter, choices: list[tuple[str, str]]) -> list[dict[str, Any]]:
    rows = [{"code": code, "label": label, "count": counter.get(code, 0)} for code, label in choices]
    if counter.get(""):
        rows.append({"code": "", "label": BLANK, "count": counter[""]})
    return rows


def _person_breakdowns(people: list[dict[str, Any]], on_of: Any) -> dict[str, list[dict[str, Any]]]:
    sex, ethnicity, age, education, job = Counter(), Counter(), Counter(), Counter(), Counter()
    for row in people:
        sex[row["sex"] or ""] += 1
        code = row["ethnicity"] or ""
        ethnicity["" if not code else ("han" if code == Ethnicity.HAN else "minority")] += 1
        age[_band(_years(row["birth_date"], on_of(row)), AGE_BANDS)] += 1
        education[row["education"] or ""] += 1
        job[row["job_post"] or ""] += 1
    return {
        "by_sex": _breakdown(sex, list(Sex.choices)),
        "by_ethnicity": _breakdown(ethnicity, [("han", "汉族"), ("minority", "少数民族")]),
        "by_age": _breakdown(age, [(label, label) for _, _, label in AGE_BANDS]),
        "by_education": _breakdown(education, list(Education.choices)),
        "by_job_post": _breakdown(job, list(JobPost.choices)),
    }


def _load(root: Organization, start: date, end: date) -> dict[int, _Person]:
    in_subtree = Q(organization__path__startswith=root.path)
    spans = OrganizationMembership.objects.filter(in_subtree, start_on__lte=end).filter(
        Q(end_on__isnull=True) | Q(end_on__gte=start)
    )
    member_ids = spans.values("member_id")
    people = {row["pk"]: _Person(row) for row in Member.objects.filter(pk__in=member_ids).values(*MEMBER_FIELDS)}
    for member_id, first, last in spans.values_list("member_id", "start_on", "end_on").order_by("start_on"):
        people[member_id].spans.append((first, last))
    changes = MembershipStatusChange.objects.filter(member_id__in=member_ids).order_by("on", "pk")
    for member_id, on, before, after in changes.values_list("member_id", "on", "from_status", "to_status"):
        people[member_id].changes.append((on, before, after))
    return people


def party_statistics(*, organization: Organization, year: int) -> dict[str, Any]:
    """The yearly 党内统计 of ``organization``'s subtree (see the module docstring)."""
    start, end = date(year - 1, 12, 31), date(year, 12, 31)
    people = _load(organization, start, end)
    at_start = [p for p in people.values() if p.counted(start)]
    at_end = [p for p in people.values() if p.counted(end)]
    increases: Counter = Counter()
    decreases: Counter = Counter()
    developed: list[dict[str, Any]] = []
    unexplained: list[dict[str, Any]] = []
    for person in people.values():
        for day, cause, up in person.flips(start, end):
            if cause in ("other_in", "other_out"):
                unexplained.append(
                    {
                        "member_id": person.row["pk"],
                        "name": person.row["name"],
                        "organization": person.row["organization__name"],
                        "on": day,
                        "change": "增加" if up else "减少",
                        "note": "无对应的发展、转接或党籍状态变更记录" if up else "无对应的转接或党籍状态变更记录",
                    }
                )
            elif up:
                increases[cause] += 1
                if cause == "develop":
                    developed.append(person.row)
            else:
                decreases[cause] += 1
    total_in, total_out = sum(increases.values()), sum(decreases.values())
    end_rows = [p.row for p in at_end]
    kinds = Counter("full" if r["full_on"] and r["full_on"] <= end else "probationary" for r in end_rows)
    standing = Counter(
        _band(_years(r["full_on"], end), STANDING_BANDS) if r["full_on"] and r["full_on"] <= end else "预备党员"
        for r in end_rows
    )
    orgs = list(
        Organization.objects.filter(path__startswith=organization.path)
        .filter(Q(established_on__isnull=True) | Q(established_on__lte=end))
        .values_list("org_type", "unit_relation", "is_village_or_community")
    )
    return {
        "organization": {"id": organization.pk, "name": organization.name},
        "year": year,
        "as_of": end,
        "balance": {
            "start": len(at_start),
            "increases": [{"code": c, "label": label, "count": increases[c]} for c, label in INCREASES.items()],
            "increase_total": total_in,
            "decreases": [{"code": c, "label": label, "count": decreases[c]} for c, label in DECREASES.items()],
            "decrease_total": total_out,
            "end": len(at_end),
            "balanced": len(at_start) + total_in - total_out == len(at_end),
            "imbalance": sorted(unexplained, key=lambda row: (row["on"], row["name"])),
        },
        "members": {
            "total": len(at_end),
            "by_kind": _breakdown(kinds, [("probationary", "预备党员"), ("full", "正式党员")]),
            **_person_breakdowns(end_rows, lambda row: end),
            "by_standing": _breakdown(
                standing, [(label, label) for _, _, label in STANDING_BANDS] + [("预备党员", "预备党员（未计党龄）")]
            ),
        },
        "development": {
            "total": len(developed),
            **_person_breakdowns(developed, lambda row: row["joined_on"]),
        },
        "organizations": {
            "total": len(orgs),
            "by_type": _breakdown(Counter(t for t, _, _ in orgs), list(OrgType.choices)),
            "by_unit_relation": _breakdown(Counter(u or "" for _, u, _ in orgs), list(UnitRelation.choices)),
            "village_or_community": sum(1 for _, _, v in orgs if v),
        },
    }


def statistics_rows(stats: dict[str, Any]) -> list[tuple[str, str, int]]:
    """The statistics as (table, item, count) rows: the XLSX and the page's plain listing."""
    rows: list[tuple[str, str, int]] = []
    balance = stats["balance"]
    rows.append(("增减平衡", "年初党员数（上年12月31日）", balance["start"]))
    rows += [("增减平衡", f"增加：{r['label']}", r["count"]) for r in balance["increases"]]
    rows += [("增减平衡", f"减少：{r['label']}", r["count"]) for r in balance["decreases"]]
    rows.append(("增减平衡", "年末党员数（12月31日）", balance["end"]))
    titles = {"by_kind": "人员类别", "by_sex": "性别", "by_ethnicity": "民族", "by_age": "年龄",
              "by_education": "学历", "by_job_post": "工作岗位", "by_standing": "党龄"}  # fmt: skip
    for section, prefix in (("members", "党员"), ("development", "发展党员")):
        for key, title in titles.items():
            for r in stats[section].get(key, []):
                rows.append((f"{prefix}·{title}", r["label"], r["count"]))
    for r in stats["organizations"]["by_type"]:
        rows.append(("党组织·类别", r["label"], r["count"]))
    for r in stats["organizations"]["by_unit_relation"]:
        rows.append(("党组织·单位情况", r["label"], r["count"]))
    rows.append(("党组织·单位情况", "村（社区）党组织", stats["organizations"]["village_or_community"]))
    return rows


def imbalance_rows(stats: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(r["name"], r["organization"], r["on"], r["change"], r["note"]) for r in stats["balance"]["imbalance"]]


