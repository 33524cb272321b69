"""The role table covers every RPC; keys are read from every part of a request."""

from __future__ import annotations

from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2 as spb
from firekeeper.auth.credentials import Credential, Role
from firekeeper.auth.policy import (
    AUTHENTICATED_SERVICES,
    METHODS,
    PUBLIC_SERVICES,
    describe,
    refused,
)

from .support import all_methods, method_path


def test_every_method_of_every_service_has_exactly_one_rule() -> None:
    described = {method_path(m) for m in all_methods()}
    assert described == set(METHODS), (
        f"without a rule: {sorted(described - set(METHODS))}; "
        f"rules for no method: {sorted(set(METHODS) - described)}"
    )
    for path, rule in METHODS.items():
        assert rule.roles, path


def test_health_is_public_and_reflection_needs_a_caller() -> None:
    assert {s.full_name for s in health_pb2.DESCRIPTOR.services_by_name.values()} == set(
        PUBLIC_SERVICES
    )
    reflection = {s.full_name for s in reflection_pb2.DESCRIPTOR.services_by_name.values()}
    assert reflection <= AUTHENTICATED_SERVICES


def _cred(tenants: set[str] | None, platforms: set[str] | None) -> Credential:
    return Credential(
        name="c",
        tenants=None if tenants is None else frozenset(tenants),
        platforms=None if platforms is None else frozenset(platforms),
        roles=frozenset(Role),
    )


def test_a_batch_names_every_refused_event() -> None:
    rule = METHODS["/firekeeper.v1.Governance/EvaluateBatch"]
    batch = pb.EvaluateBatchRequest()
    for tenant, platform in (("a", 1), ("b", 1), ("a", 2), ("a", 1)):
        batch.events.add().envelope.MergeFrom(pb.Envelope(tenant=tenant, platform=platform))  # type: ignore[arg-type]
    outside = refused(_cred({"a"}, {"telegram"}), rule, batch)
    assert [k.path for k in outside] == ["events[1].envelope", "events[2].envelope"]
    assert describe(outside) == (
        "events[1].envelope ('b', telegram), events[2].envelope ('a', discord)"
    )
    assert rule.cost(batch) == 4


def test_an_empty_tenant_or_platform_means_all_of_them() -> None:
    held = METHODS["/firekeeper.v1.Screening/ListHeldJoins"]
    confined = _cred({"a"}, {"telegram"})
    assert refused(confined, held, spb.ListHeldJoinsRequest(tenant="a", platform=1)) == []
    assert refused(confined, held, spb.ListHeldJoinsRequest(tenant="a"))  # every platform
    assert refused(confined, held, spb.ListHeldJoinsRequest(platform=1))  # every tenant
    assert refused(_cred({"a"}, None), held, spb.ListHeldJoinsRequest(tenant="a")) == []
    reload = METHODS["/firekeeper.v1.Admin/ReloadRulesets"]
    assert refused(_cred({"a"}, None), reload, None)  # global: every tenant needed
    assert refused(_cred(None, None), reload, None) == []


def test_blocklist_domains_hold_on_every_platform_users_on_theirs() -> None:
    rule = METHODS["/firekeeper.v1.Screening/AddBlocklistEntries"]
    request = spb.AddBlocklistEntriesRequest(
        tenant="a",
        entries=[
            spb.BlocklistEntry(kind=spb.BLOCKLIST_KIND_USER, platform=1, value="9"),
            spb.BlocklistEntry(kind=spb.BLOCKLIST_KIND_DOMAIN, value="spam.example"),
        ],
    )
    outside = refused(_cred({"a"}, {"telegram"}), rule, request)
    assert [(k.path, k.subject) for k in outside] == [("entries[1]", "spam.example")]
