"""Two requests racing with one refresh token: one rotates it, the other is reuse and ends the session."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI
from sqlalchemy import select

from nightowl.auth import sessions, users
from nightowl.auth.tables import auth_sessions
from nightowl.core.errors import Unauthorized

TRIALS = 25


def test_parallel_refreshes_of_one_token_never_both_succeed(app: FastAPI) -> None:
    nightowl = app.state.nightowl
    engine, clock, signer = nightowl.engine, nightowl.clock, nightowl.gate.signer
    user = users.create_user(engine, clock, username="racer", password="pw-racer-1", role="viewer", actor="test")
    barrier = threading.Barrier(2)

    def refresh(token: str) -> bool:
        barrier.wait()
        try:
            sessions.refresh_session(engine, clock, signer, token)
        except Unauthorized:
            return False
        return True

    with ThreadPoolExecutor(2) as pool:
        for trial in range(TRIALS):
            pair = sessions.start_session(engine, clock, signer, user)
            outcomes = list(pool.map(refresh, [pair.refresh_token] * 2))
            assert sorted(outcomes) == [False, True], f"trial {trial}: {outcomes}"
            with engine.connect() as conn:
                revoked = conn.execute(
                    select(auth_sessions.c.revoked_at).where(auth_sessions.c.id == pair.session_id)
                ).scalar_one()
            assert revoked is not None, f"trial {trial}: the reuse did not end the session"
