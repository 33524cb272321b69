"""``firekeeper rpc list`` and ``firekeeper rpc describe``: what a running server offers,
read through its gRPC server reflection (grpcio-reflection), not from this package's own
descriptors, so they show the server's version of the API.

    firekeeper rpc list                                   every service and its methods
    firekeeper rpc describe firekeeper.v1.Governance/Evaluate
                                                          the method, then its request and
                                                          response messages (and the messages
                                                          and enums they use), in proto syntax

A name may be ``package.Service/Method``, ``package.Service.Method``, ``Service.Method``,
a bare Governance method (``Evaluate``), a service, or a message or enum.
When the server authenticates, reflection needs a credential (any role): pass
``--token`` (or FIREKEEPER_TOKEN) as for calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TextIO

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import (
    Descriptor,
    EnumDescriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

DEFAULT_SERVICE = "firekeeper.v1.Governance"

_SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: "double",
    FieldDescriptor.TYPE_FLOAT: "float",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_FIXED64: "fixed64",
    FieldDescriptor.TYPE_FIXED32: "fixed32",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_SFIXED32: "sfixed32",
    FieldDescriptor.TYPE_SFIXED64: "sfixed64",
    FieldDescriptor.TYPE_SINT32: "sint32",
    FieldDescriptor.TYPE_SINT64: "sint64",
}


class NotFoundError(LookupError):
    """The server's reflection knows no such name."""


class _Metadata(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds fixed metadata (the bearer token) to every call of a channel."""

    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    def _details(self, details: Any) -> Any:
        return details._replace(metadata=(*(details.metadata or ()), *self._metadata))

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)


class Reflection:
    """The descriptors a server reflects, fetched as they are needed."""

    def __init__(self, channel: grpc.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        if metadata:
            channel = grpc.intercept_channel(channel, _Metadata(metadata))
        self._database = ProtoReflectionDescriptorDatabase(channel)
        self._pool = descriptor_pool.DescriptorPool(self._database)

    def services(self) -> list[ServiceDescriptor]:
        return [
            self._pool.FindServiceByName(name) for name in sorted(self._database.get_services())
        ]

    def resolve(
        self, name: str
    ) -> MethodDescriptor | ServiceDescriptor | Descriptor | EnumDescriptor:
        """The method, service, message or enum ``name`` names (see the module's docstring)."""
        text = name.strip().lstrip("/")
        for candidate in _candidates(text):
            found = self._find(candidate)
            if isinstance(
                found, MethodDescriptor | ServiceDescriptor | Descriptor | EnumDescriptor
            ):
                return found
        services = self.services()
        if "." in text.replace("/", "."):  # Service.Method without the package
            head, _, tail = text.replace("/", ".").rpartition(".")
            for service in services:
                if service.name == head and tail in service.methods_by_name:
                    return service.methods_by_name[tail]
        for service in services:  # a bare service name
            if service.name == text:
                return service
        raise NotFoundError(
            f"the server reflects no method, service, message or enum named {name!r};"
            " see `firekeeper rpc list`"
        )

    def _find(self, name: str) -> Any:
        service, slash, method = name.partition("/")
        lookups: list[Callable[[], Any]] = []
        if slash:
            lookups.append(lambda: self._pool.FindServiceByName(service).methods_by_name[method])
        else:
            lookups += [
                lambda: self._pool.FindMethodByName(name),
                lambda: self._pool.FindServiceByName(name),
                lambda: self._pool.FindMessageTypeByName(name),
                lambda: self._pool.FindEnumTypeByName(name),
            ]
        for lookup in lookups:
            try:
                return lookup()
            except (KeyError, grpc.RpcError):
                # KeyError: not that kind of name; the reflection service answers NOT_FOUND
                # for a symbol it does not know, which the database raises as is
                continue
        return None


def _candidates(text: str) -> Iterator[str]:
    yield text
    if "." not in text and "/" not in text:
        yield f"{DEFAULT_SERVICE}/{text}"
    if "/" not in text and text.count(".") >= 2:
        service, _, method = text.rpartition(".")
        yield f"{service}/{method}"


def signature(method: MethodDescriptor) -> str:
    request = ("stream " if method.client_streaming else "") + method.input_type.full_name
    response = ("stream " if method.server_streaming else "") + method.output_type.full_name
    return f"{method.name}({request}) returns ({response})"


def write_list(reflection: Reflection, out: TextIO) -> None:
    for service in reflection.services():
        print(service.full_name, file=out)
        for method in service.methods:
            print(f"  {signature(method)}", file=out)


def write_description(
    found: MethodDescriptor | ServiceDescriptor | Descriptor | EnumDescriptor, out: TextIO
) -> None:
    if isinstance(found, ServiceDescriptor):
        print(f"service {found.full_name} {{", file=out)
        for method in found.methods:
            print(f"  rpc {signature(method)};", file=out)
        print("}", file=out)
        return
    roots: list[Descriptor | EnumDescriptor]
    if isinstance(found, MethodDescriptor):
        print(f"rpc {found.containing_service.full_name}/{signature(found)}", file=out)
        roots = [found.input_type, found.output_type]
    else:
        roots = [found]
    for shape in _closure(roots):
        print(file=out)
        if isinstance(shape, EnumDescriptor):
            _write_enum(shape, out)
        else:
            _write_message(shape, out)


def _closure(roots: list[Descriptor | EnumDescriptor]) -> list[Descriptor | EnumDescriptor]:
    """``roots`` and every message and enum their fields use, first seen first; the
    well-known types (google.protobuf.*) are named, not expanded."""
    seen: dict[str, Descriptor | EnumDescriptor] = {}
    queue = list(roots)
    while queue:
        shape = queue.pop(0)
        if shape.full_name in seen or shape.full_name.startswith("google.protobuf."):
            continue
        seen[shape.full_name] = shape
        if isinstance(shape, Descriptor):
            for field in shape.fields:
                if field.message_type is not None and field.message_type.GetOptions().map_entry:
                    value = field.message_type.fields_by_name["value"]
                    queue.extend(t for t in (value.message_type, value.enum_type) if t is not None)
                elif field.message_type is not None:
                    queue.append(field.message_type)
                elif field.enum_type is not None:
                    queue.append(field.enum_type)
    return list(seen.values())


def _type_name(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        if field.message_type.GetOptions().map_entry:
            key, value = (field.message_type.fields_by_name[n] for n in ("key", "value"))
            return f"map<{_type_name(key)}, {_type_name(value)}>"
        return field.message_type.full_name
    if field.enum_type is not None:
        return field.enum_type.full_name
    return _SCALARS.get(field.type, f"type{field.type}")


def _is_synthetic(oneof: Any) -> bool:
    """proto3 ``optional`` wraps its field in a oneof of its own, named ``_<field>``."""
    return len(oneof.fields) == 1 and oneof.name == f"_{oneof.fields[0].name}"


def _field_line(field: FieldDescriptor, indent: str) -> str:
    label = ""
    is_map = field.message_type is not None and field.message_type.GetOptions().map_entry
    if field.is_repeated and not is_map:
        label = "repeated "
    elif field.containing_oneof is not None and _is_synthetic(field.containing_oneof):
        label = "optional "
    return f"{indent}{label}{_type_name(field)} {field.name} = {field.number};"


def _write_message(message: Descriptor, out: TextIO) -> None:
    print(f"message {message.full_name} {{", file=out)
    written: set[str] = set()
    for field in message.fields:
        oneof = field.containing_oneof
        if oneof is not None and not _is_synthetic(oneof):
            if oneof.name in written:
                continue
            written.add(oneof.name)
            print(f"  oneof {oneof.name} {{", file=out)
            for member in oneof.fields:
                print(_field_line(member, "    "), file=out)
            print("  }", file=out)
        else:
            print(_field_line(field, "  "), file=out)
    print("}", file=out)


def _write_enum(enum: EnumDescriptor, out: TextIO) -> None:
    print(f"enum {enum.full_name} {{", file=out)
    for value in enum.values:
        print(f"  {value.name} = {value.number};", file=out)
    print("}", file=out)
