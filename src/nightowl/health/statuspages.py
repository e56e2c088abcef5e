"""Status pages: one per group, public only when marked so, with current state, uptime bars and
incident notes. The public view leaves out what only operators should see (targets, error texts)."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, delete, insert, select, update

from nightowl.core.errors import Conflict, NotFound
from nightowl.health.tables import status_page_incidents, status_pages

IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
BAR_DAYS = 90
INCIDENTS_SHOWN = 20


class StatusPageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str = Field(..., description="URL name: lowercase letters, digits and '-'.")
    title: str = Field(..., min_length=1, max_length=200)
    group: str = Field(..., description="The group whose services (and sub-groups' services) the page shows.")
    public: bool = Field(False, description="Readable without signing in.")
    description: str = ""

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("must be 1-100 lowercase letters, digits or '-', starting with a letter or digit")
        return value


class IncidentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field("", max_length=20_000)
    status: IncidentStatus = "investigating"


class IncidentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, max_length=20_000)
    status: IncidentStatus | None = None


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    body: str
    status: str
    created_at: float
    updated_at: float
    resolved_at: float | None


def _page(row: Any) -> StatusPageSpec:
    return StatusPageSpec(
        slug=row["slug"],
        title=row["title"],
        group=row["group_name"],
        public=row["public"],
        description=row["description"],
    )


def list_pages(engine: Engine) -> list[StatusPageSpec]:
    with engine.connect() as conn:
        return [_page(r) for r in conn.execute(select(status_pages).order_by(status_pages.c.slug)).mappings()]


def get_page(engine: Engine, slug: str) -> StatusPageSpec:
    with engine.connect() as conn:
        row = conn.execute(select(status_pages).where(status_pages.c.slug == slug)).mappings().first()
    if row is None:
        raise NotFound(f"no status page {slug!r}", field="slug")
    return _page(row)


def save_page(engine: Engine, spec: StatusPageSpec, now: float, create: bool) -> None:
    values = {"title": spec.title, "group_name": spec.group, "public": spec.public, "description": spec.description}
    with engine.begin() as conn:
        exists = conn.execute(select(status_pages.c.slug).where(status_pages.c.slug == spec.slug)).first() is not None
        if create and exists:
            raise Conflict(f"a status page {spec.slug!r} already exists", field="slug")
        if not create and not exists:
            raise NotFound(f"no status page {spec.slug!r}", field="slug")
        if exists:
            conn.execute(update(status_pages).where(status_pages.c.slug == spec.slug).values(**values))
        else:
            conn.execute(insert(status_pages).values(slug=spec.slug, created_at=now, **values))


def delete_page(engine: Engine, slug: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(status_page_incidents).where(status_page_incidents.c.page_slug == slug))
        if conn.execute(delete(status_pages).where(status_pages.c.slug == slug)).rowcount == 0:
            raise NotFound(f"no status page {slug!r}", field="slug")


def add_incident(engine: Engine, slug: str, spec: IncidentSpec, now: float) -> Incident:
    get_page(engine, slug)
    incident = Incident(
        id=uuid.uuid4().hex,
        title=spec.title,
        body=spec.body,
        status=spec.status,
        created_at=now,
        updated_at=now,
        resolved_at=now if spec.status == "resolved" else None,
    )
    with engine.begin() as conn:
        conn.execute(insert(status_page_incidents).values(page_slug=slug, **asdict(incident)))
    return incident


def update_incident(engine: Engine, slug: str, incident_id: str, change: IncidentUpdate, now: float) -> Incident:
    current = next((i for i in incidents(engine, slug, limit=10_000) if i.id == incident_id), None)
    if current is None:
        raise NotFound(f"no incident {incident_id!r} on status page {slug!r}", field="id")
    status = change.status or current.status
    resolved_at = current.resolved_at if status == "resolved" else None
    if status == "resolved" and resolved_at is None:
        resolved_at = now
    updated = Incident(
        id=current.id,
        title=change.title if change.title is not None else current.title,
        body=change.body if change.body is not None else current.body,
        status=status,
        created_at=current.created_at,
        updated_at=now,
        resolved_at=resolved_at,
    )
    with engine.begin() as conn:
        conn.execute(
            update(status_page_incidents)
            .where(status_page_incidents.c.id == incident_id)
            .values(
                title=updated.title,
                body=updated.body,
                status=updated.status,
                updated_at=now,
                resolved_at=resolved_at,
            )
        )
    return updated


def incidents(engine: Engine, slug: str, limit: int = INCIDENTS_SHOWN) -> list[Incident]:
    """Newest first."""
    c = status_page_incidents.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(status_page_incidents).where(c.page_slug == slug).order_by(c.created_at.desc()).limit(limit)
        ).mappings()
        return [
            Incident(r["id"], r["title"], r["body"], r["status"], r["created_at"], r["updated_at"], r["resolved_at"])
            for r in rows
        ]


OPEN_WORDS = {"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring"}


def banner(status: str, notes: list[Incident]) -> dict[str, str]:
    """What the page's banner says: an open incident is news even while every check is green.

    `level` is `operational`, `degraded`, `incident` (an incident open, nothing down) or `outage`.
    """
    open_ = [i for i in notes if i.status in OPEN_WORDS]
    if status == "unhealthy":
        return {"level": "outage", "text": "Major outage"}
    if len(open_) == 1:
        return {"level": "incident", "text": f"{OPEN_WORDS[open_[0].status]}: {open_[0].title}"}
    if open_:
        return {"level": "incident", "text": f"{len(open_)} open incidents"}
    if status == "degraded":
        return {"level": "degraded", "text": "Some systems are degraded"}
    return {"level": "operational", "text": "All systems operational"}


def public_view(page: StatusPageSpec, report: dict[str, Any], notes: list[Incident]) -> dict[str, Any]:
    """The page as the public sees it: states, uptime and bars, without targets or error texts."""
    return {
        "slug": page.slug,
        "title": page.title,
        "description": page.description,
        "status": report["status"],
        "banner": banner(report["status"], notes),
        "generated_at": report["generated_at"],
        "services": [
            {
                "name": s["name"],
                "description": s["description"],
                "state": "maintenance" if s["in_maintenance"] else s["state"],
                "uptime": s["uptime"],
                "uptime_observed": s["uptime_observed"],
                "bars": s.get("bars", []),
            }
            for s in report["services"]
        ],
        "incidents": [asdict(i) for i in notes],
    }
