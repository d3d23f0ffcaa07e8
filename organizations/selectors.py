"""Reads for the organization tree: annotated querysets and computed flags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Substr

from core.access import VIEW
from core.dates import add_months, today
from organizations.choices import BRANCH_TYPES, COMMITTEE_POSITIONS, OrgType
from organizations.models import CommitteeTerm, Organization, Position


def count_subquery(queryset: QuerySet, group_field: str) -> Coalesce:
    """``COUNT`` of a correlated queryset as an annotation (0 when no row)."""
    sub = queryset.values(group_field).annotate(c=Count("pk")).values("c")
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


# How many members an organization has is the members app's to say (it sits above this one): it
# registers, at start-up, a function giving the count annotations ``full_member_count`` and
# ``party_member_count`` for an organization queryset (subqueries on ``OuterRef("pk")``).
# It also gives ``subtree_party_member_count`` / ``subtree_full_member_count``: the organization
# and all its descendants (the figure the pages show, equal to the dashboard's 党员).
_member_count_source: Callable[[], dict[str, Any]] | None = None
_subtree_count_source: Callable[[], dict[str, Any]] | None = None


# The same two subtree totals can be read from the summary tables the dashboard keeps (one indexed
# lookup per organization instead of counting every member of the subtree): the dashboard app
# registers a reader that returns those annotations, or None when its facts are not complete or
# marks for ``within``'s subtree have waited too long, and the recount is used.
_subtree_facts_reader: Callable[[Organization | None], dict[str, Any] | None] | None = None


def register_member_count_source(
    source: Callable[[], dict[str, Any]], subtree: Callable[[], dict[str, Any]] | None = None
) -> None:
    global _member_count_source, _subtree_count_source
    _member_count_source = source
    _subtree_count_source = subtree


def register_subtree_facts_reader(reader: Callable[[Organization | None], dict[str, Any] | None]) -> None:
    global _subtree_facts_reader
    _subtree_facts_reader = reader


def organization_with_member_totals(
    queryset: QuerySet[Organization], *, within: Organization | None = None
) -> QuerySet[Organization]:
    """Annotate the subtree member totals ``subtree_party_member_count`` / ``subtree_full_member_count``
    (same single query): from the summary tables when they are complete and current for ``within``'s
    subtree (None: the whole tree), else by counting the members."""
    if _subtree_count_source is None:
        raise ImproperlyConfigured("no member count source: is the members app installed?")
    annotations = _subtree_facts_reader(within) if _subtree_facts_reader is not None else None
    return queryset.annotate(**(annotations or _subtree_count_source()))


def organization_with_flag_data(queryset: QuerySet[Organization]) -> QuerySet[Organization]:
    """Annotate what the flags need, in the same single query (no N+1)."""
    if _member_count_source is None:
        raise ImproperlyConfigured("no member count source: is the members app installed?")
    current_term = CommitteeTerm.objects.filter(organization=OuterRef("pk"), ended_on__isnull=True)
    committee_positions = Position.objects.filter(
        term__organization=OuterRef("pk"),
        term__ended_on__isnull=True,
        end_on__isnull=True,
        position__in=list(COMMITTEE_POSITIONS),
    )
    return queryset.annotate(
        **_member_count_source(),
        term_expires_on=Subquery(current_term.values("expires_on")[:1]),
        term_extended_until=Subquery(current_term.values("extended_until")[:1]),
        committee_size=count_subquery(committee_positions, "term__organization"),
    )


def organization_with_parent_id(queryset: QuerySet[Organization]) -> QuerySet[Organization]:
    """Annotate ``parent_pk``, the parent's id, in the same query (a root gets None): one object's
    detail needs no second query for it (#20.1)."""
    parent_path = Substr(OuterRef("path"), 1, (OuterRef("depth") - 1) * Organization.steplen)
    return queryset.annotate(
        parent_pk=Subquery(Organization.objects.filter(path=parent_path).order_by().values("pk")[:1])
    )


@dataclass(frozen=True)
class Flag:
    code: str
    label: str
    level: str  # "warning" or "danger"


def organization_flags(org: Any, *, on: date | None = None) -> list[Flag]:
    """Flags for one organization annotated by ``organization_with_flag_data``."""
    on = on or today()
    flags: list[Flag] = []
    expiry = getattr(org, "term_extended_until", None) or getattr(org, "term_expires_on", None)
    if expiry is not None and org.org_type != OrgType.GROUP:
        if expiry < on:
            flags.append(Flag("term_overdue", f"任期已于 {expiry:%Y-%m-%d} 届满，应及时换届", "danger"))
        elif expiry <= add_months(on, settings.PB_TERM_WARNING_MONTHS):
            flags.append(Flag("term_ending", f"任期将于 {expiry:%Y-%m-%d} 届满，请准备换届", "warning"))
    if org.org_type in BRANCH_TYPES:
        if org.full_member_count >= settings.PB_COMMITTEE_REQUIRED_AT and org.committee_size < 3:
            flags.append(
                Flag(
                    "committee_missing",
                    f"正式党员 {org.full_member_count} 名（≥{settings.PB_COMMITTEE_REQUIRED_AT}），应设立支部委员会",
                    "warning",
                )
            )
        if org.party_member_count > settings.PB_BRANCH_SIZE_LIMIT:
            flags.append(
                Flag(
                    "too_many_members",
                    f"党员 {org.party_member_count} 名，超过 {settings.PB_BRANCH_SIZE_LIMIT} 名，建议分设支部或成立党总支",
                    "warning",
                )
            )
    return flags


def organization_list(*, user: Any, search: str = "", org_type: str = "") -> QuerySet[Organization]:
    qs = Organization.objects.visible_to(user, VIEW)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(short_name__icontains=search) | Q(code__icontains=search))
    if org_type:
        qs = qs.filter(org_type=org_type)
    return organization_with_member_totals(organization_with_flag_data(qs)).order_by("path")


CHILDREN_PAGE_SIZE = 50


def organization_detail(*, org: Organization, children_search: str = "", children_page: int = 1) -> dict[str, Any]:
    """Everything the organization page shows, in a fixed number of queries. The child
    organizations come a page at a time (a city committee may have thousands), optionally
    filtered by name."""
    annotated = organization_with_member_totals(
        organization_with_flag_data(Organization.objects.filter(pk=org.pk)), within=org
    ).get()
    terms = list(CommitteeTerm.objects.filter(organization=org).order_by("-number"))
    positions = list(Position.objects.filter(term__organization=org).select_related("term").in_rank_order())
    by_term: dict[int, list[Position]] = {}
    for position in positions:
        by_term.setdefault(position.term_id, []).append(position)
    for term in terms:
        term.position_list = by_term.get(term.pk, [])
    children_qs = Organization.objects.children_of(org)
    if children_search:
        children_qs = children_qs.filter(Q(name__icontains=children_search) | Q(short_name__icontains=children_search))
    children_qs = organization_with_member_totals(organization_with_flag_data(children_qs), within=org)
    page = Paginator(children_qs.order_by("path"), CHILDREN_PAGE_SIZE).get_page(children_page)
    children = list(page.object_list)
    ancestors = list(Organization.objects.ancestors_of(org))
    return {
        "org": annotated,
        "flags": organization_flags(annotated),
        "current_term": next((t for t in terms if t.ended_on is None), None),
        "terms": terms,
        "children": [(child, organization_flags(child)) for child in children],
        "children_page": page,
        "children_search": children_search,
        "ancestors": ancestors,
    }
