"""The citizen's verdict (好差评, issue 11), declared: a rating through an SMS link (public, by
its one-time token), through the window's rating device at the clerk's request, or from the
ballot box's slip keyed by supervision — one per case or served ticket, whatever the channel
(server/domain/ratings.py); a bad review opens its department's rectification task
(server/domain/rectification.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.catalogue.params import HallParams, Int8Id, Params, WindowParams
from server.catalogue.spine import Call, Capability, EventType, Operation, Reply, query
from server.domain import ratings
from server.domain.policies import RATING_BALLOT, RATING_DEVICE, RATING_PENDING, RATING_REQUEST

Reason = Literal["attitude", "efficiency", "service", "fees", "other"]


class TokenParams(Params):
    token: str = Field(pattern=r"^[A-Za-z0-9]{8,40}$")


class VerdictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: int = Field(
        ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意"
    )
    reasons: list[Reason] = Field(default_factory=list, max_length=5)
    comment: str = Field(default="", max_length=500)

    def verdict(self) -> ratings.Verdict:
        return ratings.Verdict(self.level, tuple(self.reasons), self.comment)


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # the ticket or case to rate; by default the last one served at the window
    ticket_id: Int8Id | None = None
    case_id: Int8Id | None = None


class SlipBody(VerdictBody):
    slip: str = Field(pattern=r"^[A-Za-z0-9-]{4,40}$", description="the notice's barcode")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class RatingReply(_Open):
    rating_id: int
    level: int
    level_name: str


class RatingCommandReply(RatingReply):
    seq: list[int]


class InvitationReply(_Open):
    item_name: str
    rated: bool


class RequestReply(_Open):
    window_no: int
    pending: bool


class RequestCommandReply(RequestReply):
    seq: list[int]


class RatingGiven(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating_id: int
    window_no: int | None
    department: str | None
    level: int
    level_name: str
    bad: bool
    reasons: list[str]
    channel: Literal["sms", "device", "ballot"]
    subject: Literal["case", "ticket"]
    rated_at: str


class RatingRequested(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window_no: int
    subject: Literal["case", "ticket"] | None
    requested_at: str | None


class RectificationOpened(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rectification_id: int
    rating_id: int
    department: str | None
    window_no: int | None
    state: str
    due_at: str


async def invitation(call: Call, p: TokenParams, body: None) -> dict[str, Any]:
    if call.ctx.track_limit is not None:
        call.ctx.track_limit.check(f"rate:{call.client or '-'}")
    return await ratings.invitation(call, p.token)


async def by_invite(call: Call, p: TokenParams, body: VerdictBody) -> Reply:
    if call.ctx.track_limit is not None:
        call.ctx.track_limit.check(f"rate:{call.client or '-'}")
    data, events = await ratings.by_invite(call, p.token, body.verdict())
    return Reply(data, events=events, status=201)


async def request(call: Call, p: WindowParams, body: RequestBody) -> Reply:
    data, events = await ratings.request(call, p.hall, p.window_no, body.ticket_id, body.case_id)
    return Reply(data, events=events)


async def pending(call: Call, p: WindowParams, body: None) -> dict[str, Any]:
    return await ratings.pending(call, p.hall, p.window_no)


async def by_device(call: Call, p: WindowParams, body: VerdictBody) -> Reply:
    data, events = await ratings.by_device(call, p.hall, p.window_no, body.verdict())
    return Reply(data, events=events, status=201)


async def by_slip(call: Call, p: HallParams, body: SlipBody) -> Reply:
    data, events = await ratings.by_slip(call, p.hall, body.slip, body.verdict())
    return Reply(data, events=events, status=201)


_WINDOW = "/api/halls/{hall}/windows/{window_no}"
_RATED = {409: ("already_rated",)}

OPERATIONS: tuple[Operation, ...] = (
    query(
        "rating.invitation",
        "What an SMS rating link rates (public, by its one-time token): the service, and whether "
        "it is rated already",
        invitation,
        None,
        "/api/rate/{token}",
        TokenParams,
        InvitationReply,
        {404: ("unknown_invite",), 429: ("rate_limited",)},
        tag="ratings",
    ),
    Operation(
        "rating.by_invite",
        "The citizen rates a completed case through the SMS link (public, one-time token)",
        "command",
        by_invite,
        None,
        http=("POST", "/api/rate/{token}"),
        params=TokenParams,
        body=VerdictBody,
        response=RatingCommandReply,
        status=201,
        emits=("rating.given", "rectification.opened"),
        errors={404: ("unknown_invite",), 409: ("already_rated",), 429: ("rate_limited",)},
        tag="ratings",
    ),
    Operation(
        "rating.request",
        "The clerk asks for a rating of the service just given (the ticket or case named, else "
        "the last served at the window): the window's rating device shows the buttons",
        "command",
        request,
        RATING_REQUEST,
        http=("POST", _WINDOW + "/rating-request"),
        params=WindowParams,
        body=RequestBody,
        response=RequestCommandReply,
        emits=("rating.requested",),
        errors={
            404: ("unknown_window", "unknown_ticket", "unknown_case"),
            409: ("already_rated", "nothing_served", "not_served", "not_served_here"),
        },
        tag="ratings",
    ),
    query(
        "rating.pending",
        "The window's rating request the device shows now (after a reconnect too)",
        pending,
        RATING_PENDING,
        _WINDOW + "/rating-request",
        WindowParams,
        RequestReply,
        {404: ("unknown_window",)},
        tag="ratings",
    ),
    Operation(
        "rating.by_device",
        "The citizen's tap on the window's rating device (评价器): the request it answers is taken",
        "command",
        by_device,
        RATING_DEVICE,
        http=("POST", _WINDOW + "/rating"),
        params=WindowParams,
        body=VerdictBody,
        response=RatingCommandReply,
        status=201,
        emits=("rating.given", "rectification.opened"),
        errors={404: ("unknown_window",), 409: ("no_request", "already_rated")},
        tag="ratings",
    ),
    Operation(
        "rating.by_slip",
        "A ballot-box slip keyed by supervision: its barcode names the notice's case (or served "
        "ticket); a slip counts once",
        "command",
        by_slip,
        RATING_BALLOT,
        http=("POST", "/api/halls/{hall}/ballots"),
        params=HallParams,
        body=SlipBody,
        response=RatingCommandReply,
        status=201,
        emits=("rating.given", "rectification.opened"),
        errors={404: ("unknown_slip",), 409: ("slip_counted", "already_rated", "not_served")},
        tag="ratings",
    ),
)

EVENTS = (
    EventType(
        "rating.given",
        "A citizen rated a service (no citizen identity): the window's clerk sees it at once",
        RatingGiven,
        ("window",),
        {
            "rating_id": 1,
            "window_no": 1,
            "department": "amr",
            "level": 5,
            "level_name": "非常满意",
            "bad": False,
            "reasons": [],
            "channel": "device",
            "subject": "case",
            "rated_at": "2026-12-07T10:20:00+08:00",
        },
    ),
    EventType(
        "rating.requested",
        "The clerk asked for a rating: the window's rating device shows the buttons",
        RatingRequested,
        ("window",),
        {"window_no": 1, "subject": "case", "requested_at": "2026-12-07T10:19:00+08:00"},
    ),
    EventType(
        "rectification.opened",
        "A bad review opened its department's rectification task (整改), due in the hall's days",
        RectificationOpened,
        ("department",),
        {
            "rectification_id": 1,
            "rating_id": 1,
            "department": "amr",
            "window_no": 1,
            "state": "open",
            "due_at": "2026-12-14T17:00:00+08:00",
        },
    ),
)

CAPABILITY = Capability("ratings", operations=OPERATIONS, events=EVENTS)
