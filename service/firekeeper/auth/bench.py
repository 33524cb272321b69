"""What the auth interceptor costs per call: ``python -m firekeeper.auth.bench [--calls N]``.

Starts two servers on loopback around a port that answers at once (no store,
no rulesets), one without authentication and one with a credentials file of
``--credentials`` entries, and times ``--calls`` sequential unary
``ListRulesets`` calls on each with a blocking channel, after a warm-up. The
difference of the medians over ``--rounds`` rounds is the interceptor's cost
(grpc's interceptor path, credential look-up, fair-share bucket, role and key
checks); on a loaded machine it is noisy. The checks alone, without transport,
are timed too, on a 100-event batch.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import grpc
import yaml
from prometheus_client import CollectorRegistry

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.auth.credentials import token_hash
from firekeeper.config import Settings
from firekeeper.domain import Decision, Event
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.onboarding import ChatHistory, ImportSummary
from firekeeper.domain.views import ChatView, RulesetSummary
from firekeeper.metrics import Metrics
from firekeeper.server import Server


class _Idle:
    """A GovernancePort with nothing behind it: the call costs only the transport."""

    def evaluate_batch(
        self, events: Sequence[Event], *, explain: bool | Sequence[bool] = False
    ) -> list[Decision | Exception]:
        raise NotImplementedError

    def register_chat(self, reg: ChatRegistration) -> ChatView:
        raise NotImplementedError

    def get_chat(self, key: ChatKey) -> ChatView:
        raise NotImplementedError

    def list_rulesets(self) -> list[RulesetSummary]:
        return []

    def import_history(self, key: ChatKey, history: ChatHistory) -> ImportSummary:
        raise NotImplementedError

    def ready(self) -> bool:
        return True


def _serve(settings: Settings, started: threading.Event, port: list[int]) -> None:
    async def main() -> None:
        server = Server(settings, _Idle(), Metrics(CollectorRegistry()))
        port.append(await server.start())
        started.set()
        await server.wait_for_termination()

    asyncio.run(main())


def _start(settings: Settings) -> int:
    started, port = threading.Event(), []  # type: ignore[var-annotated]
    threading.Thread(target=_serve, args=(settings, started, port), daemon=True).start()
    if not started.wait(30):
        raise RuntimeError("the server did not start")
    return int(port[0])


def _time(port: int, calls: int, metadata: tuple[tuple[str, str], ...]) -> float:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.GovernanceStub(channel)
        request = pb.ListRulesetsRequest()
        for _ in range(200):
            stub.ListRulesets(request, metadata=metadata)
        start = time.perf_counter()
        for _ in range(calls):
            stub.ListRulesets(request, metadata=metadata)
        return (time.perf_counter() - start) / calls


class _Context:
    """Just what the checks read from a call's context."""

    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata


def checks_alone(path: Path, calls: int) -> float:
    """Seconds per call of the interceptor's checks, without transport: authenticate,
    pay the bucket, check role and keys of a 100-event batch, release."""
    from firekeeper.auth.credentials import CredentialsFile, Limits
    from firekeeper.auth.interceptor import AuthInterceptor
    from firekeeper.auth.metrics import AuthMetrics
    from firekeeper.auth.policy import METHODS

    limits = Limits(1e9, 1e9, 1000)
    interceptor = AuthInterceptor(
        CredentialsFile(path), limits, AuthMetrics(CollectorRegistry(), limits)
    )
    method = "/firekeeper.v1.Governance/EvaluateBatch"
    rule = METHODS[method]
    batch = pb.EvaluateBatchRequest()
    for i in range(100):
        envelope = batch.events.add().envelope
        envelope.tenant, envelope.platform, envelope.chat_id = "t0", pb.PLATFORM_TELEGRAM, str(i)
    context = _Context((("authorization", "Bearer token-0"),))
    start = time.perf_counter()
    for _ in range(calls):
        cred = interceptor._authenticate(context)  # type: ignore[arg-type]
        interceptor._pay(cred, rule.cost(batch), inflight=True)
        interceptor._admit(cred, rule, method, batch)
        interceptor._share.release(cred.name)
    return (time.perf_counter() - start) / calls


def run(calls: int, rounds: int, credentials: int) -> int:
    base = {"grpc_address": "127.0.0.1:0", "metrics_port": None, "workers": 4}
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "credentials.yaml"
        entries = [
            {
                "name": f"client-{i}",
                "token_sha256": token_hash(f"token-{i}"),
                "tenants": [f"t{i}"],
                "roles": ["adapter"],
                "rate_limit": 1e9,
                "rate_burst": 1e9,
            }
            for i in range(credentials)
        ]
        path.write_text(yaml.safe_dump({"credentials": entries}), encoding="utf-8")
        plain = _start(Settings(**base))
        secured = _start(Settings(**base, credentials_file=str(path)))
        token = (("authorization", "Bearer token-0"),)
        without, with_auth = [], []
        for _ in range(rounds):
            without.append(_time(plain, calls, ()))
            with_auth.append(_time(secured, calls, token))
        alone = checks_alone(path, calls)
    a, b = statistics.median(without), statistics.median(with_auth)
    print(
        f"{calls} sequential unary calls x {rounds} rounds, {credentials} credentials in the file"
    )
    print(f"without auth: {a * 1e6:8.1f} us/call (median of rounds)")
    print(f"with auth:    {b * 1e6:8.1f} us/call")
    print(f"overhead:     {(b - a) * 1e6:8.1f} us/call")
    print(f"the checks alone (no transport, a 100-event batch): {alone * 1e6:.1f} us/call")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--credentials", type=int, default=100)
    args = parser.parse_args()
    return run(args.calls, args.rounds, args.credentials)


if __name__ == "__main__":
    raise SystemExit(main())
