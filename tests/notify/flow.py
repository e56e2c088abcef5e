"""Drive the pipeline by hand in tests: dispatch due groups, then deliver the outbox, deterministically."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI


async def settle(app: FastAPI) -> None:
    """Flush due groups (the lock serialises with a scheduler-started run) and wait for every delivery."""
    pipeline = app.state.nightowl.pipeline
    await asyncio.to_thread(pipeline.dispatcher.tick)
    await pipeline.outbox.deliver_now()
