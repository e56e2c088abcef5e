"""POST /-/reload: re-read rule files and alertmanager_config without a restart, as Prometheus and
Alertmanager do (there behind --web.enable-lifecycle; here behind the `admin` permission)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from nightowl.api.deps import Principal, get_nightowl, requires
from nightowl.auth import audit
from nightowl.core.errors import InvalidInput
from nightowl.runtime import Nightowl

router = APIRouter(tags=["lifecycle"])


@router.post("/-/reload")
@router.put("/-/reload")
async def reload_configuration(
    nightowl: Annotated[Nightowl, Depends(get_nightowl)],
    principal: Annotated[Principal, Depends(requires("admin"))],
) -> dict[str, str]:
    """Reload; a file that does not load is named in a 422 and the previous configuration keeps running."""
    errors = await run_in_threadpool(nightowl.reload_configuration)
    audit.record(nightowl.engine, principal, "config.reloaded", "config", "-", {"errors": errors}, clock=nightowl.clock)
    if errors:
        raise InvalidInput("; ".join(errors), field="config")
    return {"status": "success"}
