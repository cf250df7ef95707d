"""Exit 0 once a Kafka broker at argv[1] answers an ApiVersions request, else 1.

Plain sockets, so it runs before the project's virtualenv exists.
"""

import socket
import struct
import sys

host, port = sys.argv[1].rsplit(":", 1)
# ApiVersions v0 request: api_key=18, api_version=0, correlation_id=1, client_id="wait"
body = struct.pack(">hhih", 18, 0, 1, 4) + b"wait"
try:
    with socket.create_connection((host, int(port)), timeout=2) as connection:
        connection.sendall(struct.pack(">i", len(body)) + body)
        header = connection.recv(4)
        length = struct.unpack(">i", header)[0]
        payload = b""
        while len(payload) < length:
            chunk = connection.recv(length - len(payload))
            if not chunk:
                break
            payload += chunk
except OSError:
    sys.exit(1)
# correlation id, then the error code: 0 means the broker serves requests.
sys.exit(0 if len(payload) >= 6 and struct.unpack(">ih", payload[:6]) == (1, 0) else 1)
