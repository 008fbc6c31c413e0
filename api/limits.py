"""A limit on request bodies: a larger body is refused with 413 before it is read whole."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException

MAX_BODY_BYTES = 1_048_576  # an incident with its alerts is a few kilobytes; a megabyte is generous


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, f"the body is larger than {MAX_BODY_BYTES} bytes")


class BodyLimit:
    """ASGI middleware: 413 for a declared Content-Length over the limit, or a streamed body that passes it."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()  # an HTTPException: the framework answers it with 413
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, send) -> None:
        body = json.dumps({"detail": BodyTooLarge().detail, "fields": {}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
