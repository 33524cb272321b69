"""The server interceptor that authenticates, confines and rate-limits every call.

Per call, before the servicer runs:

1. the method's rule (``policy.METHODS``); health passes untouched, a method
   without a rule is refused (PERMISSION_DENIED): deny by default;
2. the caller: ``authorization: Bearer <token>`` metadata, else the client
   certificate's CN or a SAN under mutual TLS; none, or one the credentials file
   does not know: UNAUTHENTICATED;
3. fair share (``limits``): RESOURCE_EXHAUSTED with ``google.rpc.RetryInfo``;
4. the role, then the tenant and platform of every key in the request (every
   event of a batch): PERMISSION_DENIED naming each refused field path. Nothing
   of a refused request runs, so there is never a partial success;
5. an audited method runs with a pending audit entry (``store.audit``) and its
   outcome is recorded when it changed nothing in the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2

from firekeeper.api.status import STATUS_DETAILS_KEY, ErrorStatus, retry_info
from firekeeper.auth.credentials import Credential, CredentialsFile, Limits
from firekeeper.auth.limits import FairShare, Refusal
from firekeeper.auth.metrics import AuthMetrics
from firekeeper.auth.policy import (
    AUTHENTICATED_SERVICES,
    METHODS,
    PUBLIC_SERVICES,
    Rule,
    describe,
    refused,
    service_of,
)
from firekeeper.store.audit import AuditEntry, AuditLog, pending

log = logging.getLogger(__name__)

Context = grpc.aio.ServicerContext[Any, Any]
__all__ = ["STATUS_DETAILS_KEY", "AuthInterceptor", "retry_metadata"]


class _Denied(Exception):
    """A refusal: ``reason`` is the metric label, and (upper-cased) the ErrorInfo reason;
    ``info`` the ErrorInfo metadata and ``details`` further google.rpc details."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        reason: str,
        *,
        info: dict[str, str] | None = None,
        details: tuple[Message, ...] = (),
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.reason = code, message, reason
        status = ErrorStatus(code, message, reason=reason.upper(), info=info or {}, details=details)
        self.metadata = status.trailing_metadata()


def retry_metadata(message: str, seconds: float) -> tuple[tuple[str, str | bytes], ...]:
    """Trailing metadata carrying a ``google.rpc.Status`` with a ``RetryInfo`` detail."""
    status = ErrorStatus(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        message,
        reason="RATE_LIMITED",
        details=(retry_info(seconds),),
    )
    return status.trailing_metadata()


def peer_names(context: Context) -> list[str]:
    """The client certificate's common name and subject alternative names (mTLS)."""
    auth = context.auth_context()
    names: list[str] = []
    for key in ("x509_common_name", "x509_subject_alternative_name"):
        names.extend(v.decode("utf-8", "replace") for v in auth.get(key, ()))
    return names


class _Recording:
    """The call's context, whose ``abort`` writes the audit entry first: grpc.aio sends the
    status as ``abort`` is called, so a client must not see the refusal before its entry."""

    def __init__(
        self,
        context: Context,
        entry: AuditEntry,
        record: Callable[[AuditEntry, str], Awaitable[None]],
    ) -> None:
        self._context = context
        self._entry = entry
        self._write = record

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)

    async def abort(
        self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()
    ) -> NoReturn:
        await self._write(self._entry, code.name)
        await self._context.abort(code, details, trailing_metadata)
        raise AssertionError("abort returned")  # grpc.aio's abort always raises


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(
        self,
        credentials: CredentialsFile,
        limits: Limits,
        metrics: AuthMetrics,
        *,
        audit: AuditLog | None = None,
        fair_share: FairShare | None = None,
    ) -> None:
        self._credentials = credentials
        self._limits = limits
        self._metrics = metrics
        self._audit = audit
        self._share = fair_share if fair_share is not None else FairShare()
        # method -> (the handler grpc gave, its wrapped copy): wrapped once, not per call
        self._wrapped: dict[
            str, tuple[grpc.RpcMethodHandler[Any, Any], grpc.RpcMethodHandler[Any, Any]]
        ] = {}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None:
            return handler
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(
        self, method: str, handler: grpc.RpcMethodHandler[Any, Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        """``handler`` behind the checks of ``method``'s rule (the same for every call)."""
        service = service_of(method)
        if service in PUBLIC_SERVICES:
            return handler
        rule = METHODS.get(method)
        if rule is None and service not in AUTHENTICATED_SERVICES:
            rule = None  # no rule: refused below, for every caller
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary(method, rule, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._unary_stream(method, rule, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:
            return grpc.stream_stream_rpc_method_handler(
                self._stream_stream(method, rule, handler.stream_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary is None:
            return handler
        return grpc.stream_unary_rpc_method_handler(
            self._stream_unary(method, rule, handler.stream_unary),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    # ------------------------------------------------------------ checks

    def _authenticate(self, context: Context) -> Credential:
        credentials = self._credentials.current()
        for key, value in context.invocation_metadata() or ():
            if key != "authorization":
                continue
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise _Denied(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "the authorization metadata must be 'Bearer <token>'",
                    "unauthenticated",
                )
            found = credentials.for_token(token.strip())
            if found is None:
                raise _Denied(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "the bearer token is not valid (unknown, or rotated out)",
                    "unauthenticated",
                )
            return found
        names = peer_names(context)
        if names:
            found = credentials.for_cert(names)
            if found is None:
                raise _Denied(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "the client certificate names no known credential",
                    "unauthenticated",
                )
            return found
        raise _Denied(
            grpc.StatusCode.UNAUTHENTICATED,
            "credentials required: send 'authorization: Bearer <token>' metadata"
            " (or a client certificate under mutual TLS)",
            "unauthenticated",
        )

    def _admit(self, cred: Credential, rule: Rule | None, method: str, request: Any) -> None:
        """Role, then every key of the request."""
        if rule is None:
            raise _Denied(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{method} has no access rule, so no one may call it",
                "permission_denied",
                info={"method": method.lstrip("/")},
            )
        if not rule.roles & cred.roles:
            roles = " or ".join(sorted(r.value for r in rule.roles))
            raise _Denied(
                grpc.StatusCode.PERMISSION_DENIED,
                f"credential {cred.name!r} lacks the role for {method.lstrip('/')}: needs {roles}",
                "permission_denied",
                info={"credential": cred.name, "method": method.lstrip("/"), "roles": roles},
            )
        if request is None:
            return
        outside = refused(cred, rule, request)
        if outside:
            raise _Denied(
                grpc.StatusCode.PERMISSION_DENIED,
                f"credential {cred.name!r} may not act for {describe(outside)}; nothing was done",
                "permission_denied",
                info={
                    "credential": cred.name,
                    "method": method.lstrip("/"),
                    "fields": ", ".join(k.path or "request" for k in outside[:10]),
                },
            )

    def _pay(self, cred: Credential, cost: int, *, inflight: bool) -> None:
        refusal: Refusal | None = self._share.acquire(
            cred.name, cred.limits(self._limits), cost, inflight=inflight
        )
        if refusal is not None:
            reason = "rate_limited" if refusal.reason == "rate" else "concurrency"
            quota = error_details_pb2.QuotaFailure.Violation(
                subject=f"credential:{cred.name}", description=refusal.message
            )
            raise _Denied(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                refusal.message,
                reason,
                info={"credential": cred.name},
                details=(
                    retry_info(refusal.retry_after),
                    error_details_pb2.QuotaFailure(violations=[quota]),
                ),
            )

    async def _refuse(self, context: Context, denied: _Denied, name: str) -> NoReturn:
        self._metrics.rejected(name, denied.reason)
        log.info(
            "call refused",
            extra={"credential": name, "code": denied.code.name, "reason": denied.reason},
        )
        await context.abort(denied.code, denied.message, denied.metadata)

    # ------------------------------------------------------------ audit

    def _entry(self, cred: Credential, rule: Rule | None, method: str, request: Any) -> AuditEntry:
        keys = list(rule.keys(request)) if rule is not None and request is not None else []
        first = keys[0] if keys else None
        subjects = ", ".join(k.subject for k in keys if k.subject)
        return AuditEntry(
            credential=cred.name,
            method=method.lstrip("/"),
            tenant=first.tenant if first else "",
            platform=first.platform if first else "",
            key=subjects,
        )

    async def _record(self, entry: AuditEntry, outcome: str) -> None:
        if self._audit is None:
            return
        try:
            await asyncio.to_thread(self._audit.record, entry, outcome)
        except Exception:
            log.exception("audit entry not written", extra={"method": entry.method})

    # ------------------------------------------------------------ wrappers

    def _unary(
        self, method: str, rule: Rule | None, behavior: Callable[..., Any]
    ) -> Callable[[Any, Context], Awaitable[Any]]:
        async def call(request: Any, context: Context) -> Any:
            name = ""
            try:
                cred = self._authenticate(context)
                name = cred.name
                self._pay(cred, rule.cost(request) if rule else 1, inflight=True)
            except _Denied as denied:
                await self._refuse(context, denied, name)
            try:
                audited = rule is not None and rule.audited
                entry = self._entry(cred, rule, method, request) if audited else None
                try:
                    self._admit(cred, rule, method, request)
                except _Denied as denied:
                    if entry is not None:
                        await self._record(entry, denied.code.name)
                    await self._refuse(context, denied, name)
                if entry is None:
                    return await behavior(request, context)
                with pending(entry):
                    try:
                        result = await behavior(request, _Recording(context, entry, self._record))
                    except BaseException:
                        code = context.code()
                        await self._record(entry, _code_name(code, "UNKNOWN"))
                        raise
                await self._record(entry, "OK")
                return result
            finally:
                self._share.release(name)

        return call

    def _unary_stream(
        self, method: str, rule: Rule | None, behavior: Callable[..., Any]
    ) -> Callable[[Any, Context], AsyncIterator[Any]]:
        async def call(request: Any, context: Context) -> AsyncIterator[Any]:
            name = ""
            try:
                cred = self._authenticate(context)
                name = cred.name
                self._pay(cred, 1, inflight=False)
                self._admit(cred, rule, method, request)
            except _Denied as denied:
                await self._refuse(context, denied, name)
            async for item in behavior(request, context):
                yield item

        return call

    def _stream_stream(
        self, method: str, rule: Rule | None, behavior: Callable[..., Any]
    ) -> Callable[[Any, Context], AsyncIterator[Any]]:
        async def call(requests: Any, context: Context) -> AsyncIterator[Any]:
            await self._stream_gate(context, method, rule)
            async for item in behavior(requests, context):
                yield item

        return call

    def _stream_unary(
        self, method: str, rule: Rule | None, behavior: Callable[..., Any]
    ) -> Callable[[Any, Context], Awaitable[Any]]:
        async def call(requests: Any, context: Context) -> Any:
            await self._stream_gate(context, method, rule)
            return await behavior(requests, context)

        return call

    async def _stream_gate(self, context: Context, method: str, rule: Rule | None) -> None:
        """Client-streaming calls (reflection): the caller and its role; no request keys."""
        name = ""
        try:
            cred = self._authenticate(context)
            name = cred.name
            self._pay(cred, 1, inflight=False)
            if service_of(method) not in AUTHENTICATED_SERVICES:
                self._admit(cred, rule, method, None)
        except _Denied as denied:
            await self._refuse(context, denied, name)


def _code_name(code: Any, default: str) -> str:
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return default
