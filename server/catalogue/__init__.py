"""The catalogue: every capability's declared operations, event types and timer jobs.

Adding a command or an event type means declaring it in its capability's module; the routes,
the permission table, OpenAPI, the browser's event schema and the contract tests follow."""

from __future__ import annotations

from server.catalogue import (
    admin,
    auth,
    cases,
    display,
    hall,
    projects,
    queue,
    ratings,
    rectification,
    registration,
    reports,
    retention,
    supervision,
    workflow_figures,
    workflows,
)
from server.catalogue.spine import Catalogue

CATALOGUE = Catalogue(
    [
        auth.CAPABILITY,
        cases.CAPABILITY,
        display.CAPABILITY,
        hall.CAPABILITY,
        queue.CAPABILITY,
        registration.CAPABILITY,
        supervision.CAPABILITY,
        workflows.CAPABILITY,
        workflow_figures.CAPABILITY,
        projects.CAPABILITY,
        ratings.CAPABILITY,
        rectification.CAPABILITY,
        reports.CAPABILITY,
        admin.CAPABILITY,
        retention.CAPABILITY,
    ]
)

__all__ = ["CATALOGUE"]
