"""``firekeeper serve --workers 2``: two processes serve one port, each with its own
metrics port, only the first runs the scheduler, and SIGTERM stops them all; on
PostgreSQL only (on SQLite it is refused, naming the setting and where it was set)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import grpc
import pytest

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.cli import main
from firekeeper.config import Settings, load
from firekeeper.workers import child_flags, refuse_sqlite
from tests.api.support import event
from tests.conftest import RULESETS

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT") or not Path("/proc/net/tcp").exists(),
    reason="SO_REUSEPORT and /proc (Linux)",
)


def _free_pair() -> int:
    """A port p with p + 1 free too (the two children's metrics ports)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return int(port)
    raise AssertionError("no two free ports in a row")


def _listeners(port: int) -> int:
    """Sockets listening on ``port`` (gRPC's are IPv6 ones, v4-mapped, in tcp6)."""
    rows = [
        row
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for row in Path(table).read_text().splitlines()[1:]
    ]
    return sum(
        1
        for row in rows
        if row.split()[3] == "0A" and int(row.split()[1].rsplit(":", 1)[1], 16) == port
    )


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


def test_child_flags_split_the_scheduler_metrics_and_console() -> None:
    s = Settings(grpc_address="0.0.0.0:0", metrics_port=9464, workers=3)
    assert child_flags(s, 0, 5000) == [
        *("--workers", "1", "--address", "0.0.0.0:5000", "--metrics-port", "9464"),
    ]
    assert child_flags(s, 2, 5000) == [
        *("--workers", "1", "--address", "0.0.0.0:5000", "--no-scheduler"),
        *("--console-port", "off", "--metrics-port", "9466"),
    ]
    assert "--metrics-port" not in child_flags(s.replace(metrics_port=None), 1, 5000)


def test_two_processes_serve_one_port_and_stop_together(postgres_url: str) -> None:
    metrics = _free_pair()
    command = [
        *(sys.executable, "-m", "firekeeper.cli", "serve", "--workers", "2"),
        *("--store", postgres_url, "--rulesets", str(RULESETS)),
        *("--address", "127.0.0.1:0", "--metrics-port", str(metrics)),
        *("--log-format", "json", "--reload-seconds", "0", "--grace-seconds", "2"),
        *("--drain-seconds", "0"),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert parent.stderr is not None
        address, pids, listening = "", [], 0
        for line in parent.stderr:
            record = json.loads(line) if line.startswith("{") else {}
            if record.get("msg") == "workers started":
                address, pids = record["grpc_address"], record["pids"]
            if record.get("msg") == "firekeeper listening":
                listening += 1
                if listening == 2:
                    break
        assert address and len(pids) == 2 and parent.pid not in pids
        port = int(address.rsplit(":", 1)[1])
        assert port != 0 and _listeners(port) == 2  # one listening socket per child

        # 16 connections of their own: the kernel spreads them over the two processes
        options = [("grpc.use_local_subchannel_pool", 1)]
        channels = [grpc.insecure_channel(address, options=options) for _ in range(16)]
        for n, channel in enumerate(channels):
            stub = pb_grpc.GovernanceStub(channel)
            response = stub.Evaluate(
                pb.EvaluateRequest(event=convert.event_to_proto(event(event_id=f"w{n}"))),
                timeout=30,
            )
            assert response.decision.event_id == f"w{n}"
        for channel in channels:
            channel.close()
        per_child = [_metric(metrics + i, "firekeeper_events_total") for i in range(2)]
        assert sum(per_child) == 16 and all(n > 0 for n in per_child), per_child
        leaders = [_metric(metrics + i, "firekeeper_scheduler_leader") for i in range(2)]
        assert leaders[1] == 0  # the second child never runs the scheduler

        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 0
        for pid in pids:  # the children are gone too
            assert (
                not Path(f"/proc/{pid}").exists()
                or "zombie" in Path(f"/proc/{pid}/status").read_text()
            )
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stderr is not None:
            parent.stderr.close()


@pytest.mark.parametrize(
    ("env", "flags", "where"),
    [
        ({"FIREKEEPER_WORKERS": "2"}, {}, "FIREKEEPER_WORKERS=2"),
        ({}, {"workers": 3}, "--workers=3"),
        ({"FIREKEEPER_CONFIG": "{file}"}, {}, "{file}: workers=2"),
    ],
)
def test_several_processes_on_sqlite_are_refused_naming_the_setting(
    tmp_path: Path, env: dict[str, str], flags: dict[str, int], where: str
) -> None:
    config = tmp_path / "firekeeper.yaml"
    config.write_text("workers: 2\n")
    env = {k: v.format(file=config) for k, v in env.items()}
    loaded = load(env, flags)
    with pytest.raises(ValueError) as refused:
        refuse_sqlite(loaded)
    message = str(refused.value)
    assert message.startswith(where.format(file=config) + ":")
    assert "SQLite" in message and "(store_url: default)" in message
    assert "PostgreSQL" in message and "workers 1" in message


def test_one_process_on_sqlite_and_several_on_postgresql_are_allowed() -> None:
    refuse_sqlite(load({}, {}))  # the default: one process
    pg = {"FIREKEEPER_STORE_URL": "postgresql+psycopg://fk@db/fk", "FIREKEEPER_WORKERS": "4"}
    refuse_sqlite(load(pg, {}))


def test_serve_refuses_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "never.db"
    status = main(
        ["serve", "--workers", "2", "--store", f"sqlite:///{db}", "--rulesets", str(RULESETS)]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("firekeeper: --workers=2: 2 server processes on an SQLite store")
    assert "(store_url: --store)" in err
    assert not db.exists()  # not even migrated
