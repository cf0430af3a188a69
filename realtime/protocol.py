"""Names shared by the live transports."""

from typing import Final

from server.catalogue import CATALOGUE
from server.domain import events
from server.domain.auth import SESSION_ENDED  # noqa: F401  (re-exported: the fan-out acts on it)

SOCKET_NAMESPACE: Final = "/hall"
SOCKET_EVENT: Final = "hall"  # every frame (snapshot, live marker, event) on one event
AUTH_TIMEOUT: Final = 10.0  # seconds a plain WebSocket has to send its auth message

# The permission both live transports are authorized by (server/domain/permissions.py).
STREAM_PERMISSION: Final = "hall.stream"

# Events in a hall's log that no client receives: those the catalogue declares with no rooms
# (session.ended, which closes that session's live connections in Fanout). An unfiltered
# client gets a frame {"seq": N, "type": SKIP_FRAME} in place of each, so its sequence stays
# gapless (it resumes from N like after any event); a room-filtered one gets nothing, as for
# events not its rooms'.
INTERNAL_EVENTS: Final = CATALOGUE.internal
SKIP_FRAME: Final = events.SKIP_FRAME

# Close codes of the plain WebSocket feed (4000-4999 are for applications).
CLOSE_UNAUTHENTICATED: Final = 4401  # also: the session ended (logout, sign-out, revoked)
CLOSE_FORBIDDEN: Final = 4403
CLOSE_BAD_REQUEST: Final = 4400
CLOSE_SLOW: Final = 4408
CLOSE_RESYNC: Final = 4409
