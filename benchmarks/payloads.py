"""The bodies under test: one person.created notification at 0.4 KB, 1.5 KB and 64 KB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from superoffice_webhooks import sign

ROOT = Path(__file__).resolve().parent.parent
SECRET = "Something Super Secret"  # noqa: S105  # a benchmark secret, as in the tests
EVENT_ID = "576086e3-5261-426b-a84b-26ca7f5b65e8"


@attrs.frozen
class Payload:
    """One signed body and the headers SuperOffice would send with it."""

    label: str
    body: bytes
    signature: str
    headers: dict[str, str]

    @property
    def size(self) -> int:
        return len(self.body)


def documented() -> dict[str, Any]:
    """The documented person.created example (tests/data), decoded."""
    data: dict[str, Any] = json.loads(
        (ROOT / "tests" / "data" / "person.created.json").read_bytes()
    )
    return data


def _compact(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


def small() -> bytes:
    """About 0.4 KB: a person.created with a short Changes list and a few FieldValues."""
    data = documented()
    data["Changes"] = data["Changes"][:3]
    data["FieldValues"] = {
        k: data["FieldValues"][k] for k in ("contact_id", "person_id", "updated")
    }
    return _compact(data)


def medium() -> bytes:
    """1.5 KB: the documented example, byte for byte."""
    return (ROOT / "tests" / "data" / "person.created.json").read_bytes()


def large(target: int = 64 * 1024) -> bytes:
    """About 64 KB: a long Changes list and many custom FieldValues (kept in ``extra``)."""
    data = documented()
    changes: list[str] = data["Changes"]
    values: dict[str, Any] = data["FieldValues"]
    i = 0
    while len(_compact(data)) < target:
        changes.append(f"udef_column_{i:05d}")
        values[f"x_custom_{i:05d}"] = f"custom value number {i}"
        i += 1
    return _compact(data)


def headers_for(body: bytes, signature: str, event_id: str = EVENT_ID) -> dict[str, str]:
    """The headers of a real delivery (tests/data/person.created.headers.txt)."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": str(len(body)),
        "User-Agent": "NetServer-Webhook/8.8.6684.1719",
        "X-Superoffice-Event": "person.created",
        "X-Superoffice-Eventid": event_id,
        "X-Superoffice-Signature": signature,
    }


def payload(label: str, body: bytes) -> Payload:
    signature = sign(body, SECRET)
    return Payload(label, body, signature, headers_for(body, signature))


def renewed(p: Payload, event_id: str) -> Payload:
    """*p* as another event: its ``EventId`` replaced by *event_id*, and signed again."""
    body = p.body.replace(EVENT_ID.encode("ascii"), event_id.encode("ascii"))
    signature = sign(body, SECRET)
    return Payload(p.label, body, signature, headers_for(body, signature, event_id))


def payloads() -> list[Payload]:
    """The three sizes, smallest first."""
    return [payload("0.4 KB", small()), payload("1.5 KB", medium()), payload("64 KB", large())]
