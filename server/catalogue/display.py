"""What the lobby's screens need besides the event stream: the call spoken as audio, for display
PCs whose browser has no Mandarin voice."""

from __future__ import annotations

from pydantic import Field

from server.catalogue.params import Params, WindowNo
from server.catalogue.spine import Call, Capability, Operation, Reply
from server.domain import voice


class VoiceCallParams(Params):
    ticket_no: str = Field(
        pattern=r"^[A-Z]{1,2}[0-9]{3,6}$", description="ticket number, e.g. A012"
    )
    window_no: WindowNo


async def call_audio(call: Call, p: VoiceCallParams, body: None) -> Reply:
    wav = await voice.call_audio(p.ticket_no, p.window_no)
    return Reply(wav, media_type="audio/wav", cache_seconds=86400)


OPERATIONS = (
    Operation(
        "voice.call",
        "A lobby call spoken in Mandarin (espeak-ng), audio/wav. Public: it can only say the "
        "call phrase, built from a validated ticket and window number",
        "query",
        call_audio,
        None,
        http=("GET", "/api/voice/call"),
        params=VoiceCallParams,
        errors={503: ("voice_unavailable",)},
        tag="display",
    ),
)

CAPABILITY = Capability("display", operations=OPERATIONS)
