"""Every area's admin API comes from its package, and the server adds what it names.

``area_registry.admin_apis`` builds each registered area's admin port (its gauges
registered on the service's metrics); ``api.area_services.bind`` imports the services
the package names, in the API layer, and refuses a name outside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from firekeeper.api.area_services import bind
from firekeeper.area_package import AdminApi, AreaContext, ServiceContext
from firekeeper.area_registry import admin_apis, build, metrics
from firekeeper.areas.corrections.admin import CorrectionsAdmin
from firekeeper.areas.screening.admin import ScreeningAdmin
from firekeeper.config import Settings
from firekeeper.metrics import Metrics
from firekeeper.store import create_store


def test_every_admin_api_is_built_from_the_registry_and_bound(tmp_path: Path) -> None:
    store = create_store(f"sqlite:///{tmp_path / 'firekeeper.db'}")
    try:
        store.migrate()
        registry = CollectorRegistry()
        context = ServiceContext(store, metrics(Metrics(registry)), Settings())
        apis = admin_apis(context, build(AreaContext(cached=True)))
        assert [type(api.port) for api in apis] == [ScreeningAdmin, CorrectionsAdmin]
        names = [name for api in apis for name in bind(api).names]
        assert names == ["firekeeper.v1.Screening", "firekeeper.v1.Corrections"]
        # the screening package registered its gauge: read from the store at scrape time
        assert registry.get_sample_value("firekeeper_review_queue_depth") == 0.0
    finally:
        store.close()


@pytest.mark.parametrize(
    ("services", "refusal"),
    [
        ("os:system", "firekeeper.api.<module>:<name>"),
        ("firekeeper.api.screening_servicer", "firekeeper.api.<module>:<name>"),
        ("firekeeper.api.screening_servicer:Nothing", "are not there"),
        ("firekeeper.api.no_such_module:Services", "are not there"),
    ],
)
def test_a_binding_outside_the_api_layer_or_missing_is_refused(services: str, refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        bind(AdminApi(object(), services))
