"""The one registry every HTTP module declares its routes in."""

from server.api.routing import Api

api = Api()
