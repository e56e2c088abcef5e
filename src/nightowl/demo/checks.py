"""What `--demo` adds to health: its services in a group `demo`, one HTTP check of each one's /health."""

from __future__ import annotations

from nightowl.config import Settings
from nightowl.demo.catalog import SERVICES
from nightowl.demo.targets import own_address
from nightowl.health.spec import CheckSpec
from nightowl.health.topology import GroupSpec, ServiceSpec

DEMO_CHECK_INTERVAL = 10.0
DEMO_GROUP = "demo"
DEMO_SOURCE = "demo"
"""Not the config file's: the API may move a demo service to another group or put it on a status page."""


def demo_groups() -> list[GroupSpec]:
    return [GroupSpec(name=DEMO_GROUP, description="The simulated platform of --demo.")]


def demo_services() -> list[ServiceSpec]:
    return [
        ServiceSpec(name=spec.name, group=DEMO_GROUP, description=f"demo: {spec.name} service") for spec in SERVICES
    ]


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
