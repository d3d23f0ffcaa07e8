"""The one access gate: who may see or change what.

Every page, API endpoint, export and task fetches rows through
``Model.objects.visible_to(user, action)`` or ``get_for_user(...)``. Deny by default: a user
with no role assignment sees nothing.

Roles are assignments of a user to an organization (``RoleAssignment``):

- ``org_admin``: read-write over the organization's whole subtree;
- ``secretary``: read-write over the organization and its party groups;
- ``auditor``: read-only over the subtree (and the audit log);
- ``member``: their own member record and rows that belong to it; read of their own branch;
- ``sysadmin``: accounts and settings; reads the organization tree, never member data.
- ``secadmin``: grants roles and sets security parameters; reads the organization tree of its
  subtree (to pick where a role applies), never member data.

A model takes part by using ``ScopedQuerySet`` and naming, as class attributes,
``scope_org_field`` (the path from the model to its Organization, "" for Organization itself)
and optionally ``scope_member_field`` (the path to the owning Member, for members' own rows).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

from core.compiled import PreparedLookup, plain_lookup
from core.roles import Role


class Organization(Protocol):
    """What the gate reads of an organization (``organizations.models.Organization``): its tree
    path and type. A protocol, so the gate imports no domain app."""

    path: str
    org_type: str


VIEW = "view"
CHANGE = "change"
ACTIONS = (VIEW, CHANGE)

# How far one rule reaches from its organization.
SUBTREE = "subtree"
ORG_AND_GROUPS = "org_and_groups"
ORG_ONLY = "org_only"
EVERYTHING = "everything"


@dataclass(frozen=True)
class Rule:
    path: str
    reach: str


@dataclass
class Scope:
    """What one user may reach, computed once per request from their role assignments."""

    rules: dict[str, list[Rule]] = field(default_factory=lambda: {VIEW: [], CHANGE: []})
    # Organization-only rules: they open organization rows, never the data inside them.
    org_rules: dict[str, list[Rule]] = field(default_factory=lambda: {VIEW: [], CHANGE: []})
    member_id: int | None = None
    roles: frozenset[str] = frozenset()
    # The auditor role's reach over the audit log: subtree paths, and whether events without an
    # organization (logins, account changes) too: an auditor at a top-level organization.
    audit_paths: list[str] = field(default_factory=list)
    audits_unattached: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.rules[VIEW] or self.org_rules[VIEW] or self.member_id)

    @property
    def is_read_only(self) -> bool:
        """Nothing to change anywhere: an auditor (or 三员 admin) outside their own account pages."""
        return not (self.rules[CHANGE] or self.org_rules[CHANGE] or self.member_id)

    # --- Named questions. Callers ask these; no module outside this one reads ``rules`` or
    # compares role names. ------------------------------------------------------------------

    def has_role(self, role: str) -> bool:
        """Holds ``role`` (a ``core.roles.Role``) somewhere. For menus and what a page offers,
        never for row access (that is ``visible_to`` / ``user_can``)."""
        return role in self.roles

    def has_any_role(self, roles: Iterable[str]) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def is_org_admin(self) -> bool:
        return Role.ORG_ADMIN in self.roles

    @property
    def is_secretary(self) -> bool:
        return Role.SECRETARY in self.roles

    @property
    def is_auditor(self) -> bool:
        return Role.AUDITOR in self.roles

    @property
    def is_sysadmin(self) -> bool:
        return Role.SYSADMIN in self.roles

    @property
    def is_secadmin(self) -> bool:
        return Role.SECADMIN in self.roles

    @property
    def is_member(self) -> bool:
        """A party member signed in as themself (their own record, dues, meetings)."""
        return self.member_id is not None

    @property
    def works_with_data(self) -> bool:
        """Holds a role over organization data (org_admin, secretary, auditor)."""
        return bool(self.rules[VIEW])

    @property
    def may_send_notices(self) -> bool:
        """Notices go out from where one records (org_admin, secretary)."""
        return bool(self.roles & {Role.ORG_ADMIN, Role.SECRETARY})

    def manages(self, org: Organization) -> bool:
        """Read-write over ``org``'s whole subtree: an org_admin of ``org`` or of one above it."""
        return any(rule.reach == SUBTREE and org.path.startswith(rule.path) for rule in self.rules[CHANGE])

    def managed_paths(self) -> list[str]:
        """The roots of the subtrees this user manages (org_admin roles)."""
        return [rule.path for rule in self.rules[CHANGE] if rule.reach == SUBTREE]

    @property
    def manages_any(self) -> bool:
        return any(rule.reach == SUBTREE for rule in self.rules[CHANGE])

    def reads_subtree(self, org: Organization) -> bool:
        """Reads ``org``'s whole subtree (org_admin, auditor). A secretary reaches the organization
        and its 党小组 only, so subtree totals are not theirs to see."""
        return any(
            rule.reach == EVERYTHING or (rule.reach == SUBTREE and org.path.startswith(rule.path))
            for rule in self.rules[VIEW]
        )

    def may_read_data_of(self, org: Organization) -> bool:
        """Reads the data inside ``org`` (members, meetings, dues): not just its row."""
        return self.allows_org(VIEW, org, for_org_model=False)

    def may_record_for(self, org: Organization) -> bool:
        """Records and changes data of ``org`` (its secretary, or an org_admin above)."""
        return self.allows_org(CHANGE, org, for_org_model=False)

    def recording_paths(self) -> list[str]:
        """The organizations where this user holds a read-write role (their paths)."""
        return [rule.path for rule in self.rules[CHANGE]]

    def reading_paths(self) -> list[str]:
        """The organizations where this user holds a role over data (their paths)."""
        return [rule.path for rule in self.rules[VIEW] if rule.path]

    def own_org_paths(self) -> list[str]:
        """A member's own organization (its path), as opened by the member role."""
        return [rule.path for rule in self.org_rules[VIEW] if rule.reach == ORG_ONLY]

    def shape(self, action: str, *, for_org_model: bool) -> tuple[tuple[str, ...], bool]:
        """What the SQL of ``visible_to`` depends on besides the paths and the member id: the
        reach of each rule, in order, and whether the user's own record is added."""
        rules = self._rules(action, for_org_model=for_org_model)
        return tuple(rule.reach for rule in rules), self.member_id is not None and action == VIEW

    def paths(self, action: str, *, for_org_model: bool) -> list[str]:
        return [rule.path for rule in self._rules(action, for_org_model=for_org_model)]

    @classmethod
    def of_shape(
        cls, action: str, reaches: tuple[str, ...], paths: list[str], member_id: int | None
    ) -> Scope:
        """A scope with these rules (as data rules, not organization-only ones): the twin of a
        user's scope that a compiled statement is built from."""
        scope = cls(member_id=member_id)
        scope.rules[action] = [Rule(path, reach) for path, reach in zip(paths, reaches, strict=True)]
        return scope

    def org_q(self, action: str, prefix: str, *, for_org_model: bool) -> Q | None:
        parts = [_rule_q(rule, prefix) for rule in self._rules(action, for_org_model=for_org_model)]
        return reduce(or_, parts) if parts else None

    def allows_org(self, action: str, org: Organization, *, for_org_model: bool = False) -> bool:
        return any(_rule_matches(rule, org) for rule in self._rules(action, for_org_model=for_org_model))

    def _rules(self, action: str, *, for_org_model: bool) -> list[Rule]:
        """The rules of ``action``; the organization-only ones too where the rows are organizations."""
        return [*self.rules[action], *self.org_rules[action]] if for_org_model else list(self.rules[action])


def _rule_q(rule: Rule, prefix: str) -> Q:
    if rule.reach == EVERYTHING:
        return Q(**{f"{prefix}pk__isnull": False})
    if rule.reach == SUBTREE:
        return Q(**{f"{prefix}path__startswith": rule.path})
    if rule.reach == ORG_AND_GROUPS:
        return Q(**{f"{prefix}path": rule.path}) | Q(
            **{f"{prefix}path__startswith": rule.path, f"{prefix}org_type": "group"}
        )
    return Q(**{f"{prefix}path": rule.path})


def _rule_matches(rule: Rule, org: Organization) -> bool:
    if rule.reach == EVERYTHING:
        return True
    if rule.reach == SUBTREE:
        return org.path.startswith(rule.path)
    if rule.reach == ORG_AND_GROUPS:
        return org.path == rule.path or (org.path.startswith(rule.path) and org.org_type == "group")
    return org.path == rule.path


@dataclass(frozen=True)
class Grant:
    """One role held in one organization (by its tree path)."""

    role: str
    path: str
    top_level: bool = False


@dataclass(frozen=True)
class Identity:
    """The member record a user is, if any: its id and its organization's path."""

    member_id: int
    org_path: str


# The gate does not know the apps that store role assignments and member records (they sit above
# it): they register a source when their app is ready (organizations: grants; members: identity).
_grant_source: Callable[[Any], Iterable[Grant]] | None = None
_identity_source: Callable[[Any], Identity | None] | None = None


def register_grant_source(source: Callable[[Any], Iterable[Grant]]) -> None:
    global _grant_source
    _grant_source = source


def register_identity_source(source: Callable[[Any], Identity | None]) -> None:
    global _identity_source
    _identity_source = source


def get_scope(user: Any) -> Scope:
    """The user's scope: cached on the user object for the rest of the request, and in the shared
    cache across requests (``SCOPE_CACHE_SECONDS``), so a request usually resolves it with one
    cache read and no query; computed from the role assignments and the member record (two
    queries) when the shared copy is missing or older than the last ``forget_all_scopes``."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached = getattr(user, "_pb_scope", None)
    if cached is not None:
        return cached
    shared, generation = _shared_scope(user.pk)
    if shared is None:
        shared = _compute_scope(user)
        _store_shared_scope(user.pk, shared, generation)
    user._pb_scope = shared
    return shared


def _compute_scope(user: Any) -> Scope:
    if _grant_source is None or _identity_source is None:
        raise ImproperlyConfigured(
            "the access gate has no grant/identity source: are organizations and members installed?"
        )

    scope = Scope()
    roles: set[str] = set()
    identity = _identity_source(user)
    for grant in _grant_source(user):
        roles.add(grant.role)
        path = grant.path
        if grant.role == Role.ORG_ADMIN:
            for action in ACTIONS:
                scope.rules[action].append(Rule(path, SUBTREE))
        elif grant.role == Role.SECRETARY:
            for action in ACTIONS:
                scope.rules[action].append(Rule(path, ORG_AND_GROUPS))
        elif grant.role == Role.AUDITOR:
            scope.rules[VIEW].append(Rule(path, SUBTREE))
            scope.audit_paths.append(path)
            scope.audits_unattached = scope.audits_unattached or grant.top_level
        elif grant.role == Role.SYSADMIN:
            scope.org_rules[VIEW].append(Rule("", EVERYTHING))
        elif grant.role == Role.SECADMIN:
            scope.org_rules[VIEW].append(Rule(path, SUBTREE))
        elif grant.role == Role.MEMBER and identity:
            scope.member_id = identity.member_id
    if identity and Role.MEMBER in roles:
        scope.org_rules[VIEW].append(Rule(identity.org_path, ORG_ONLY))
    scope.roles = frozenset(roles)
    return scope


# --- The shared scope cache (#20.1) ----------------------------------------------------------------
# One entry per user, ``(generation, scope)``, beside one generation token. ``forget_all_scopes``
# replaces the token, which retires every entry at once; the apps that own what a scope is made of
# call it when that changes (organizations: role assignments, tree moves, deleted organizations;
# members: a member record's account link or organization), right away and again after the commit,
# so a request that computed a scope from the old rows while the change was in flight stores it
# under a token that is already retired. Writes that send no signal are bounded by the timeout.
SCOPE_CACHE_SECONDS = 300
SCOPE_GENERATION_KEY = "pb:scope:generation"


def _scope_key(user_pk: Any) -> str:
    return f"pb:scope:{user_pk}"


def _shared_scope(user_pk: Any) -> tuple[Scope | None, str | None]:
    """(the cached scope if still current, the current generation); one cache round trip."""
    from django.core.cache import cache

    try:
        found = cache.get_many([SCOPE_GENERATION_KEY, _scope_key(user_pk)])
    except Exception:  # the cache is down: compute (a query or two), never refuse the request
        return None, None
    generation = found.get(SCOPE_GENERATION_KEY)
    entry = found.get(_scope_key(user_pk))
    if generation is not None and isinstance(entry, tuple) and entry[0] == generation:
        return entry[1], generation
    return None, generation


def _store_shared_scope(user_pk: Any, scope: Scope, generation: str | None) -> None:
    from django.core.cache import cache

    try:
        if generation is None:
            cache.add(SCOPE_GENERATION_KEY, uuid.uuid4().hex, None)
            generation = cache.get(SCOPE_GENERATION_KEY)
            if generation is None:
                return
        cache.set(_scope_key(user_pk), (generation, scope), SCOPE_CACHE_SECONDS)
    except Exception:  # a cache outage only costs the next request its two queries
        return


def forget_all_scopes() -> None:
    """Retire every cached scope: now and once the current transaction commits."""
    from django.db import transaction

    _new_generation()
    transaction.on_commit(_new_generation)


def _new_generation() -> None:
    from django.core.cache import cache

    try:
        cache.set(SCOPE_GENERATION_KEY, uuid.uuid4().hex, None)
    except Exception:  # the entries still expire after SCOPE_CACHE_SECONDS
        return


def forget_scope(user: Any) -> None:
    """Drop the scope cached on this user object (after role assignments change within one
    request). The shared copies are retired by the owners' signals (``forget_all_scopes``)."""
    if hasattr(user, "_pb_scope"):
        del user._pb_scope


def _resolve(obj: Any, dotted: str) -> Any:
    for part in dotted.split("__"):
        obj = getattr(obj, part)
        if obj is None:
            return None
    return obj


def refuse_read_only(user: Any) -> None:
    """Pages that take several POST actions call this first: a read-only user (the auditor) is
    refused with 403 before the form is looked at, whatever the action."""
    if get_scope(user).is_read_only:
        raise PermissionDenied("只读角色不能修改数据")


class ScopedQuerySet(models.QuerySet):
    """A QuerySet with ``visible_to(user, action)``: the row filter of the access gate."""

    def visible_to(self, user: Any, action: str = VIEW) -> ScopedQuerySet:
        return self.visible_to_scope(get_scope(user), action)

    def visible_to_scope(self, scope: Scope, action: str = VIEW) -> ScopedQuerySet:
        """``visible_to`` for a scope in hand (a compiled statement builds it from a scope of
        placeholder paths with the same rules, ``Scope.shape``)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        model = self.model
        org_field: str = model.scope_org_field
        member_field: str | None = getattr(model, "scope_member_field", None)
        prefix = f"{org_field}__" if org_field else ""
        q = scope.org_q(action, prefix, for_org_model=org_field == "")
        if member_field and scope.member_id and action == VIEW:
            own = Q(**{member_field: scope.member_id})
            q = own if q is None else q | own
        if q is None:
            return self.none()
        return self.filter(q)


def user_can(user: Any, action: str, obj: Any, *, for_org_model: bool | None = None) -> bool:
    """Python-side check for one loaded object (its organization must be loaded or loadable)."""
    scope = get_scope(user)
    model = type(obj)
    org_field: str = model.scope_org_field
    member_field: str | None = getattr(model, "scope_member_field", None)
    if member_field and scope.member_id and action == VIEW and _resolve(obj, member_field) == scope.member_id:
        return True
    org = _resolve(obj, org_field) if org_field else obj
    if org is None:
        return False
    if for_org_model is None:
        for_org_model = org_field == ""
    return scope.allows_org(action, org, for_org_model=for_org_model)


def get_for_user(queryset: Any, user: Any, action: str = VIEW, **lookup: Any) -> Any:
    """Fetch one object through the gate.

    404 when the user cannot see it (so foreign objects are indistinguishable from missing
    ones); 403 when they can see it but not perform ``action``.
    """
    if isinstance(queryset, type) and issubclass(queryset, models.Model):
        if queryset.scope_org_field == "" and set(lookup) == {"pk"}:
            # An organization by its key: a statement compiled once, the scope checked on the row.
            return get_prepared_for_user(plain_lookup(queryset), user, lookup["pk"], action)
        queryset = queryset.objects.all()
    try:
        obj = queryset.visible_to(user, VIEW).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("对象不存在或无权访问") from exc
    if action != VIEW and not user_can(user, action, obj):
        raise PermissionDenied("无权修改该对象")
    return obj


def get_prepared_for_user(prepared: PreparedLookup, user: Any, pk: Any, action: str = VIEW) -> Any:
    """``get_for_user`` over a ``core.compiled.PreparedLookup`` of a model whose rows are
    organizations (``scope_org_field == ""``): the row by its key, then the scope in Python with
    the rules ``visible_to`` writes as SQL. 404 when missing or not visible, 403 when visible but
    ``action`` is not allowed."""
    obj = prepared.get(pk)
    if obj is None or not user_can(user, VIEW, obj):
        raise Http404("对象不存在或无权访问")
    if action != VIEW and not user_can(user, action, obj):
        raise PermissionDenied("无权修改该对象")
    return obj


def authorize(user: Any, obj: Any, action: str = CHANGE, *, message: str = "无权修改该对象") -> None:
    """The service contract (docs/architecture.md): a write service given the acting user checks
    it here before it writes, whatever view, API, task or command called it.

    ``obj`` is a scoped model instance (its organization loaded or loadable) or an Organization,
    whose *data* is what the service changes. ``user=None`` marks a system call (tasks, commands,
    imports already authorized row by row, demo data): it trusts its caller, and only code no
    request reaches passes None.
    """
    if user is None:
        return
    if not user_can(user, action, obj, for_org_model=False):
        raise PermissionDenied(message)


def authorize_organizations(
    user: Any, organizations: Iterable[Organization], *, message: str = "无权修改该对象"
) -> None:
    """``authorize`` for a batch that changes the data of several organizations."""
    if user is None:
        return
    scope = get_scope(user)
    if any(not scope.may_record_for(org) for org in organizations):
        raise PermissionDenied(message)
