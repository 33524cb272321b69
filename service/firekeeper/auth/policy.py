"""Who may call what: one table, ``METHODS``, from every RPC to its rule.

A rule names the roles that may call the method, how to read the tenant and
platform of every key in its request (``keys``), whether the call is an admin
action written to the audit log, and what it costs against the caller's rate
limit. ``tests/auth`` checks that the table covers every method of every service
in the descriptors, so a new RPC without a rule fails the build.

A key is ``(field path, tenant, platform)``; an empty tenant or an unspecified
platform means "every tenant" / "every platform" (a tenant-wide list, a global
operation) and so needs a credential for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from firekeeper.api.gen.firekeeper.v1 import admin_pb2 as apb
from firekeeper.api.gen.firekeeper.v1 import corrections_pb2 as cpb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2 as spb
from firekeeper.auth.credentials import Credential, Role


class Key(NamedTuple):  # a tuple: a batch makes one per event, so it must be cheap
    path: str  # where in the request, e.g. "events[3].envelope"
    tenant: str  # "": every tenant
    platform: str  # "telegram", ...; "": every platform
    subject: str = ""  # what it names, for the audit log: a chat id, a blocklist value


KeysOf = Callable[[Any], Iterator[Key]]


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[Role]
    keys: KeysOf
    audited: bool = False  # an admin action: written to the audit log
    cost: Callable[[Any], int] = lambda _request: 1


_PLATFORM_NAMES = {
    int(number): "" if number == pb.PLATFORM_UNSPECIFIED else name.removeprefix("PLATFORM_").lower()
    for name, number in pb.Platform.items()
}


def platform_name(value: int) -> str:
    """``PLATFORM_TELEGRAM`` -> ``telegram``; unspecified -> "" (every platform)."""
    found = _PLATFORM_NAMES.get(value)
    return found if found is not None else f"unknown-{value}"  # never in a credential


def _none(_request: Any) -> Iterator[Key]:
    return iter(())


def _everything(_request: Any) -> Iterator[Key]:
    """A global operation (rulesets, the whole audit log): needs every tenant."""
    yield Key("", "", "")


def _flat(path: str = "") -> KeysOf:
    """A request with ``tenant`` and ``platform`` fields of its own."""

    def keys(request: Any) -> Iterator[Key]:
        platform = getattr(request, "platform", pb.PLATFORM_UNSPECIFIED)
        chat = getattr(request, "chat_id", "")
        yield Key(path or "tenant", request.tenant, platform_name(platform), chat)

    return keys


def _chat_key(field: str) -> KeysOf:
    """A request whose ``field`` is a ``ChatKey``."""

    def keys(request: Any) -> Iterator[Key]:
        key = getattr(request, field)
        yield Key(field, key.tenant, platform_name(key.platform), key.chat_id)

    return keys


def _event(request: pb.EvaluateRequest) -> Iterator[Key]:
    envelope = request.event.envelope
    platform = platform_name(envelope.platform)
    yield Key("event.envelope", envelope.tenant, platform, envelope.chat_id)


def _events(request: pb.EvaluateBatchRequest) -> Iterator[Key]:
    for i, event in enumerate(request.events):
        envelope = event.envelope
        yield Key(f"events[{i}].envelope", envelope.tenant, platform_name(envelope.platform))


def _blocklist(request: Any) -> Iterator[Key]:
    """Tenant-wide: user entries name their platform, domain entries hold on every one."""
    if not request.entries:
        yield Key("tenant", request.tenant, "")
    for i, entry in enumerate(request.entries):
        platform = entry.platform if entry.kind == spb.BLOCKLIST_KIND_USER else 0
        yield Key(f"entries[{i}]", request.tenant, platform_name(platform), entry.value)


def _tenant_wide(request: Any) -> Iterator[Key]:
    yield Key("tenant", request.tenant, "")


ADAPTER = frozenset({Role.ADAPTER})
ADMIN = frozenset({Role.TENANT_ADMIN})
OPERATOR = frozenset({Role.OPERATOR})
ANY_ROLE = frozenset(Role)

_GOV = "/firekeeper.v1.Governance/"
_ADMIN = "/firekeeper.v1.Admin/"
_SCREENING = "/firekeeper.v1.Screening/"
_OUTBOX = "/firekeeper.v1.Outbox/"
_HEALTH = "/firekeeper.v1.Health/"
_SCHEDULER = "/firekeeper.v1.Scheduler/"
_CORRECTIONS = "/firekeeper.v1.Corrections/"

METHODS: dict[str, Rule] = {
    _GOV + "Evaluate": Rule(ADAPTER, _event),
    _GOV + "EvaluateBatch": Rule(ADAPTER, _events, cost=lambda r: max(1, len(r.events))),
    _GOV + "RegisterChat": Rule(ADAPTER | ADMIN, _flat(), audited=True),
    _GOV + "GetChat": Rule(ADAPTER | ADMIN, _chat_key("key")),
    _GOV + "ListRulesets": Rule(ANY_ROLE, _none),
    _GOV + "ImportChatHistory": Rule(ADAPTER | ADMIN, _chat_key("chat"), audited=True),
    _ADMIN + "ReloadRulesets": Rule(OPERATOR, _everything, audited=True),
    _ADMIN + "ListAuditLog": Rule(ADMIN | OPERATOR, _tenant_wide),
    _SCREENING + "ListHeldJoins": Rule(ADMIN, _flat()),
    _SCREENING + "ResolveHeldJoin": Rule(ADMIN, _chat_key("chat"), audited=True),
    _SCREENING + "AddBlocklistEntries": Rule(ADMIN, _blocklist, audited=True),
    _SCREENING + "RemoveBlocklistEntries": Rule(ADMIN, _blocklist, audited=True),
    _SCREENING + "ListBlocklist": Rule(ADMIN, _tenant_wide),
    _SCREENING + "SetChatScreening": Rule(ADMIN, _chat_key("chat"), audited=True),
    _SCREENING + "GetChatScreening": Rule(ADMIN, _chat_key("chat")),
    _OUTBOX + "StreamActions": Rule(ADAPTER, _flat()),
    _OUTBOX + "Ack": Rule(ADAPTER, _flat()),
    _HEALTH + "GetChatHealth": Rule(ADMIN, _chat_key("key")),
    _SCHEDULER + "RunTicks": Rule(ADMIN | OPERATOR, _flat(), audited=True),
    # The adapter reports what an admin did on the platform (the service checks that the
    # reporter is an admin of that chat); a tenant admin's console may report too.
    _CORRECTIONS + "ReportCorrection": Rule(ADAPTER | ADMIN, _chat_key("chat"), audited=True),
    _CORRECTIONS + "GetRuleCorrections": Rule(ADMIN | OPERATOR, _tenant_wide),
}

# Services outside the table: health answers anyone (load balancers, probes);
# reflection describes the API to any authenticated caller, as the API itself does.
PUBLIC_SERVICES = frozenset({"grpc.health.v1.Health"})
AUTHENTICATED_SERVICES = frozenset(
    {"grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"}
)

# The request types, so tests and tools can build a request for any method.
REQUEST_MODULES = (pb, apb, spb, lpb, cpb)


def service_of(method: str) -> str:
    """``/pkg.Service/Method`` -> ``pkg.Service``."""
    return method.lstrip("/").split("/", 1)[0]


def refused(credential: Credential, rule: Rule, request: Any) -> list[Key]:
    """The keys of ``request`` that ``credential`` may not act for (empty: allowed)."""
    return [k for k in rule.keys(request) if not credential.covers(k.tenant, k.platform)]


def describe(keys: list[Key], limit: int = 10) -> str:
    def one(k: Key) -> str:
        tenant = repr(k.tenant) if k.tenant else "every tenant"
        platform = k.platform or "every platform"
        return f"{k.path or 'request'} ({tenant}, {platform})"

    text = ", ".join(one(k) for k in keys[:limit])
    if len(keys) > limit:
        text += f" and {len(keys) - limit} more"
    return text
