"""Schemathesis hooks for the office run (run.sh sets SCHEMATHESIS_HOOKS to this file).

Attachment chunks (`PATCH /api/v1/attachments/{sha256}`) are raw bytes sent as
`application/offset+octet-stream` (the tus convention); schemathesis serializes only the media
types it knows, so this one is sent the way it sends `application/octet-stream`.
"""

import schemathesis
from schemathesis.transport.serialization import serialize_binary


@schemathesis.serializer("application/offset+octet-stream")
def offset_octets(ctx, value):
    return {"data": serialize_binary(value)}
