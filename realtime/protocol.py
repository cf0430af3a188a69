"""Names shared by the live transports."""

from typing import Final

SOCKET_NAMESPACE: Final = "/hall"
SOCKET_EVENT: Final = "hall"  # every frame (snapshot, live marker, event) on one event
AUTH_TIMEOUT: Final = 10.0  # seconds a plain WebSocket has to send its auth message

# Close codes of the plain WebSocket feed (4000-4999 are for applications).
CLOSE_UNAUTHENTICATED: Final = 4401
CLOSE_FORBIDDEN: Final = 4403
CLOSE_BAD_REQUEST: Final = 4400
CLOSE_SLOW: Final = 4408
CLOSE_RESYNC: Final = 4409
