"""Sign a device in at a HeatCrew office and print its access token (for the schemathesis run).

An independent implementation of the device's sign-in (crates/protocol/src/log.rs,
`enrolment_message`): a fresh Ed25519 key and device id, the office's one-time challenge signed
over `heatcrew.enrol.v1\\n || challenge || device id || public key || len(username) u64 BE ||
username`.

    python device_token.py http://127.0.0.1:PORT zhangwei heatcrew-demo
"""

import json
import struct
import sys
import urllib.request
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def post(base: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def main() -> None:
    base, username, password = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    device = uuid.uuid4()
    challenge = post(base, "/api/v1/auth/challenge", {"device_id": str(device)})["challenge"]
    name = username.encode()
    message = (
        b"heatcrew.enrol.v2\n"
        + bytes.fromhex(challenge)
        + device.bytes
        + public
        + struct.pack(">Q", len(name))
        + name
        # A new device's chain head: no event yet.
        + struct.pack(">Q", 0)
        + bytes(32)
    )
    login = post(
        base,
        "/api/v1/auth/login",
        {
            "username": username,
            "password": password,
            "device_id": str(device),
            "device_public_key": public.hex(),
            "device_name": "schemathesis",
            "challenge": challenge,
            "proof": key.sign(message).hex(),
            "chain_head": {"seq": 0, "hash": "0" * 64},
        },
    )
    print(login["access_token"])


if __name__ == "__main__":
    main()
