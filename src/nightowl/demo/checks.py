"""The health checks that `--demo` adds: one HTTP check of each demo service's /health endpoint."""

from __future__ import annotations

from nightowl.config import Settings
from nightowl.demo.catalog import SERVICES
from nightowl.demo.targets import own_address
from nightowl.health.spec import CheckSpec
from nightowl.health.topology import ServiceSpec

DEMO_CHECK_INTERVAL = 10.0


def demo_services() -> list[ServiceSpec]:
    return [ServiceSpec(name=spec.name, description=f"demo: {spec.name} service") for spec in SERVICES]


def demo_checks(settings: Settings) -> list[CheckSpec]:
    """Latency spikes make a service answer 0.3-2 s late: over 1 s it shows as degraded."""
    address = own_address(settings)
    return [
        CheckSpec(
            name=f"demo-{spec.name}",
            type="http",
            target=f"http://{address}/demo/{spec.name}/health",
            interval=DEMO_CHECK_INTERVAL,
            timeout=5.0,
            service=spec.name,
            degraded_latency=1.0,
        )
        for spec in SERVICES
    ]
