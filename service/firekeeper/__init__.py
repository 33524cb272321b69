"""Firekeeper: a chat-platform-agnostic governance rules engine served over gRPC."""

__version__ = "0.1.0"
