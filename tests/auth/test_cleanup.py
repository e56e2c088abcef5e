"""The auth-cleanup job drops ended sessions and audit entries past their retention."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select

from nightowl.auth import audit, sessions, users
from nightowl.auth.tables import auth_sessions
from nightowl.core.clock import ManualClock


def session_count(app: FastAPI) -> int:
    with app.state.nightowl.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(auth_sessions)).scalar_one())


def test_cleanup_drops_ended_sessions_and_old_audit_entries(app: FastAPI, clock: ManualClock) -> None:
    nightowl = app.state.nightowl
    engine = nightowl.engine
    user = users.create_user(engine, clock, username="bob", password="long enough", role="viewer", actor="test")
    revoked = sessions.start_session(engine, clock, nightowl.gate.signer, user)
    sessions.start_session(engine, clock, nightowl.gate.signer, user)  # expires after refresh_token_ttl
    sessions.revoke_session(engine, clock, revoked.session_id)
    clock.advance(86400 * 366)
    sessions.start_session(engine, clock, nightowl.gate.signer, user)
    audit.record(engine, "user:bob", "recent.thing", "x", "1", clock=clock)
    assert "auth-cleanup" in {s.name for s in nightowl.scheduler.statuses()}
    nightowl.gate.cleanup()  # the job's body, called directly: the scheduler may be running it already
    assert session_count(app) == 1
    assert [e.action for e in audit.query(engine)] == ["recent.thing"]
