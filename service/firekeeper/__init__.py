"""Firekeeper: a chat-platform-agnostic governance rules engine served over gRPC."""

from firekeeper.runtime import check_python

check_python()

__version__ = "0.1.0"
