"""HTTP handlers for registration, the window terminal's commands and the public queue."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from server.api.registry import api
from server.api.routing import json_response, path_int
from server.domain.actor import Actor
from server.domain.events import EventRecord
from server.domain.hall import get_hall
from server.domain.notice import barcode_svg
from server.keys import KIOSK_LIMIT, QUEUE, STORE

HALL = "/api/halls/{hall}"
WINDOW = HALL + "/windows/{window_no}"


class RegistrationBody(BaseModel):
    item: str = Field(min_length=1, max_length=40, description="item code")
    phone: str | None = Field(None, pattern=r"^1\d{10}$", description="mobile number for SMS")
    id_number: str | None = Field(None, pattern=r"^\d{17}[\dX]$", description="resident ID")
    priority: Literal["normal", "elderly", "disabled", "appointment"] = "normal"


@api.route(
    "POST",
    HALL + "/registrations",
    summary="Register at the kiosk: ticket and notice",
    tag="queue",
    body=RegistrationBody,
    responses={201: "registered; the notice", 429: "too many requests from this device"},
)
async def handle_register(
    request: web.Request, actor: Actor, body: RegistrationBody
) -> web.Response:
    request.app[KIOSK_LIMIT].check(actor.label)
    service = request.app[QUEUE]
    reg = await service.register(
        actor,
        request.match_info["hall"],
        body.item,
        phone=body.phone,
        id_number=body.id_number,
        priority=body.priority,
    )
    return json_response(await service.notice(reg.query_code), status=201)


@api.route(
    "GET",
    "/api/notice/{query_code}",
    summary="The unified acceptance notice (public, by query code)",
    tag="queue",
    public=True,
)
async def handle_notice(request: web.Request) -> web.Response:
    return json_response(await request.app[QUEUE].notice(request.match_info["query_code"]))


@api.route(
    "GET",
    "/api/barcode/{reg_no}.svg",
    summary="Code128 barcode of a registration number",
    tag="queue",
    public=True,
    responses={200: "image/svg+xml"},
)
async def handle_barcode(request: web.Request) -> web.Response:
    svg = barcode_svg(request.match_info["reg_no"])
    return web.Response(
        body=svg, content_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


@api.route(
    "GET",
    HALL + "/queue-status",
    summary="Waiting count and estimated wait per queue (public)",
    tag="queue",
    public=True,
)
async def handle_queue_status(request: web.Request) -> web.Response:
    async with request.app[STORE].read() as conn:
        hall = await get_hall(conn, request.match_info["hall"])
    queues = await request.app[QUEUE].queue_status(hall)
    return json_response({"hall": {"code": hall.code, "name": hall.name}, "queues": queues})


@api.route(
    "GET", HALL + "/registrations/{reg_no}", summary="A registration by its barcode", tag="queue"
)
async def handle_registration(request: web.Request, actor: Actor) -> web.Response:
    return json_response(
        await request.app[QUEUE].registration_by_barcode(
            actor, request.match_info["hall"], request.match_info["reg_no"]
        )
    )


@api.route(
    "GET",
    WINDOW + "/board",
    summary="A window terminal's state: current, parked, waiting, counts",
    tag="queue",
)
async def handle_board(request: web.Request, actor: Actor) -> web.Response:
    return json_response(
        await request.app[QUEUE].window_board(
            actor, request.match_info["hall"], path_int(request, "window_no")
        )
    )


def _events(records: list[EventRecord]) -> web.Response:
    return json_response(
        {
            "events": [r.to_wire() for r in records],
            "ticket": records[-1].payload if records else None,
        }
    )


def _window_args(request: web.Request) -> tuple[str, int]:
    return request.match_info["hall"], path_int(request, "window_no")


@api.route(
    "POST",
    WINDOW + "/call-next",
    summary="Call the next ticket (atomic)",
    tag="queue",
    responses={409: "window not open, busy, or nobody waiting"},
)
async def handle_call_next(request: web.Request, actor: Actor) -> web.Response:
    return _events(await request.app[QUEUE].call_next(actor, *_window_args(request)))


class CallTicketBody(BaseModel):
    ticket_no: str = Field(min_length=2, max_length=10)
    reason: str = Field(min_length=1, max_length=200)


@api.route(
    "POST",
    WINDOW + "/call",
    summary="Call a specific waiting ticket out of order",
    tag="queue",
    body=CallTicketBody,
)
async def handle_call_ticket(
    request: web.Request, actor: Actor, body: CallTicketBody
) -> web.Response:
    return _events(
        await request.app[QUEUE].call_ticket(
            actor, *_window_args(request), body.ticket_no, body.reason
        )
    )


@api.route("POST", WINDOW + "/recall", summary="Re-announce the called ticket", tag="queue")
async def handle_recall(request: web.Request, actor: Actor) -> web.Response:
    return _events(await request.app[QUEUE].recall(actor, *_window_args(request)))


class NoShowBody(BaseModel):
    requeue: bool = False


@api.route(
    "POST",
    WINDOW + "/no-show",
    summary="Mark the called ticket as no-show",
    tag="queue",
    body=NoShowBody,
)
async def handle_no_show(request: web.Request, actor: Actor, body: NoShowBody) -> web.Response:
    return _events(await request.app[QUEUE].no_show(actor, *_window_args(request), body.requeue))


@api.route("POST", WINDOW + "/start", summary="The citizen arrived: start service", tag="queue")
async def handle_start(request: web.Request, actor: Actor) -> web.Response:
    return _events(await request.app[QUEUE].start(actor, *_window_args(request)))


@api.route("POST", WINDOW + "/finish", summary="Finish service (outcome served)", tag="queue")
async def handle_finish(request: web.Request, actor: Actor) -> web.Response:
    return _events(await request.app[QUEUE].finish(actor, *_window_args(request)))


class TransferBody(BaseModel):
    queue: str | None = Field(None, max_length=40, description="target queue code")
    to_window_no: int | None = Field(None, ge=1, le=999)
    to_clerk_id: int | None = Field(None, ge=1, le=2**31 - 1)
    front: bool = Field(False, description="to the front of the target queue")
    note: str = Field("", max_length=200)


@api.route(
    "POST",
    WINDOW + "/transfer",
    summary="Transfer to another queue, window or clerk",
    tag="queue",
    body=TransferBody,
)
async def handle_transfer(request: web.Request, actor: Actor, body: TransferBody) -> web.Response:
    return _events(
        await request.app[QUEUE].transfer(
            actor,
            *_window_args(request),
            queue=body.queue,
            to_window_no=body.to_window_no,
            to_clerk_id=body.to_clerk_id,
            front=body.front,
            note=body.note,
        )
    )


class CancelBody(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


@api.route(
    "POST",
    WINDOW + "/cancel",
    summary="Cancel the current ticket (outcome cancelled)",
    tag="queue",
    body=CancelBody,
)
async def handle_cancel(request: web.Request, actor: Actor, body: CancelBody) -> web.Response:
    return _events(await request.app[QUEUE].cancel(actor, *_window_args(request), body.reason))


@api.route(
    "POST",
    WINDOW + "/park",
    summary="Park the current ticket (citizen fetches a document)",
    tag="queue",
)
async def handle_park(request: web.Request, actor: Actor) -> web.Response:
    return _events(await request.app[QUEUE].park(actor, *_window_args(request)))


class ResumeBody(BaseModel):
    ticket_id: int = Field(ge=1)


@api.route(
    "POST", WINDOW + "/resume", summary="Resume a parked ticket", tag="queue", body=ResumeBody
)
async def handle_resume(request: web.Request, actor: Actor, body: ResumeBody) -> web.Response:
    return _events(await request.app[QUEUE].resume(actor, *_window_args(request), body.ticket_id))
