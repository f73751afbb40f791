"""Load client for the durability check: posts batches, logs every acknowledged event id."""

from __future__ import annotations

import http.client
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def main(port: int, write_key: str, out_path: str, batch_size: int, seconds: float) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {write_key}", "Content-Type": "application/json"}
    deadline = time.monotonic() + seconds
    n = 0
    with Path(out_path).open("w", encoding="utf-8") as out:
        while time.monotonic() < deadline:
            ts = datetime.now(UTC).isoformat()
            ids = [f"dur-{n + i}" for i in range(batch_size)]
            n += batch_size
            body = json.dumps(
                {
                    "batch": [
                        {"event_id": i, "type": "page_view", "ts": ts, "anonymous_id": "a"}
                        for i in ids
                    ]
                }
            )
            try:
                connection.request("POST", "/v1/events", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                break  # the server is gone: what was acknowledged so far is on file
            if response.status == 200 and json.loads(payload)["accepted"] == batch_size:
                out.write("\n".join(ids) + "\n")
                out.flush()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
