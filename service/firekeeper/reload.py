"""Hot reload of the rulesets directory: validate and compile off the request path, swap whole.

    reloader = Reloader(directory, holder, metrics, fingerprint=fingerprint(sources))
    task = asyncio.create_task(reloader.watch(5.0, stop))   # poll every 5 s
    result = reloader.reload()                              # the admin RPC (blocking)

A reload reads every ruleset file (each within the loader's size limit); if the
contents are what is serving, nothing happens. Otherwise the whole set is
checked in a child process under memory and time limits when a ``check`` is
given (``firekeeper.sandbox``; the service gives one), then compiled on a
worker thread (never the event loop) and, only if every file compiles, swapped into the
``RulesetHolder`` in one assignment: an evaluation uses the set that was current
when it started, so no request fails or waits. A set with errors is rejected:
every located error is logged and returned, ``firekeeper_ruleset_reloads_total
{result="rejected"}`` counts it, and the last good set keeps serving. A rejected
set is not compiled (or logged) again until the files change.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from firekeeper.errors import Diagnostic, RulesetError
from firekeeper.pipeline import RulesetHolder
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.rulesets_dir import compile_dir_sources, read_sources

log = logging.getLogger("firekeeper.reload")


class ReloadMetrics(Protocol):
    def observe_reload(self, ok: bool) -> None: ...

    def set_rulesets(self, loaded: list[tuple[str, str]]) -> None: ...


def fingerprint(sources: Mapping[str, str]) -> str:
    """A digest of the file names and contents of a ruleset set."""
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return digest.hexdigest()


def versions(index: RulesetIndex) -> tuple[tuple[str, str], ...]:
    return tuple((rs.name, rs.version) for rs in index.all())


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool  # the directory's contents compile and are serving
    changed: bool  # this reload swapped a new set in
    loaded: tuple[tuple[str, str], ...]  # (name, version) serving after the reload
    errors: tuple[Diagnostic, ...] = ()  # when not ok: every problem, located


class Reloader:
    """Reloads one directory into one holder; thread-safe (one reload at a time)."""

    def __init__(
        self,
        directory: Path,
        holder: RulesetHolder,
        metrics: ReloadMetrics | None = None,
        *,
        fingerprint: str = "",
        check: Callable[[Mapping[str, str]], list[Diagnostic]] | None = None,
    ) -> None:
        self.directory = directory
        self._check = check  # e.g. firekeeper.sandbox.check_in_child, before compiling here
        self.holder = holder
        self._metrics = metrics
        self._serving = fingerprint  # contents of the set serving now
        self._rejected: tuple[str, tuple[Diagnostic, ...]] | None = None
        self._lock = threading.Lock()

    def reload(self) -> ReloadResult:
        """Read the directory; compile and swap it in if it changed. Blocks: call it on a
        worker thread (``asyncio.to_thread``)."""
        with self._lock:
            try:
                sources = read_sources(self.directory)
            except RulesetError as exc:
                unreadable = "unreadable:" + "\n".join(d.render() for d in exc.diagnostics)
                return self._reject(unreadable, tuple(exc.diagnostics))
            current = fingerprint(sources)
            if current == self._serving:
                return ReloadResult(True, False, versions(self.holder.index))
            if self._rejected is not None and self._rejected[0] == current:
                return ReloadResult(False, False, versions(self.holder.index), self._rejected[1])
            if self._check is not None:  # in a child process under memory and time limits
                found = self._check(sources)
                if found:
                    return self._reject(current, tuple(found))
            try:
                index = compile_dir_sources(sources, previous=self.holder.index)
            except RulesetError as exc:
                return self._reject(current, tuple(exc.diagnostics))
            before = versions(self.holder.index)
            self.holder.replace(index)
            self._serving, self._rejected = current, None
            loaded = versions(index)
            if self._metrics is not None:
                self._metrics.observe_reload(True)
                self._metrics.set_rulesets(list(loaded))
            log.info(
                "rulesets reloaded",
                extra={
                    "directory": str(self.directory),
                    "loaded": [f"{n}@{v}" for n, v in loaded],
                    "changed": sorted(n for n, v in loaded if (n, v) not in before),
                    "removed": sorted(set(dict(before)) - set(dict(loaded))),
                },
            )
            return ReloadResult(True, True, loaded)

    def _reject(self, current: str, errors: tuple[Diagnostic, ...]) -> ReloadResult:
        already = self._rejected is not None and self._rejected[0] == current
        self._rejected = (current, errors)
        if not already:
            if self._metrics is not None:
                self._metrics.observe_reload(False)
            n = len(errors)
            log.error(
                f"ruleset reload rejected with {n} error{'s' if n != 1 else ''}; "
                "the last good rulesets keep serving\n" + "\n".join(d.render() for d in errors),
                extra={
                    "directory": str(self.directory),
                    "errors": [f"{d.file}:{d.line}:{d.column}: {d.message}" for d in errors],
                    "serving": [f"{n}@{v}" for n, v in versions(self.holder.index)],
                },
            )
        return ReloadResult(False, False, versions(self.holder.index), errors)

    async def watch(self, interval: float, stop: asyncio.Event | None = None) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set or the task is cancelled."""
        stop = stop if stop is not None else asyncio.Event()
        while not stop.is_set():
            # asyncio.wait, not wait_for: on 3.11 wait_for can swallow a cancellation
            waiter = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({waiter}, timeout=interval)
            finally:
                waiter.cancel()
            if stop.is_set():
                return
            try:
                await asyncio.to_thread(self.reload)
            except Exception:  # never let the watcher die; the next poll tries again
                log.exception("ruleset reload failed unexpectedly")
