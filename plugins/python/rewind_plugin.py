"""Rewind domain plug-in SDK for Python: speaks protocol version 1 (docs/plugin-protocol.md)
over stdin and stdout, so a domain is a few plain functions:

    from rewind_plugin import Aggregate, Projection, Rejected, serve

    serve(
        name="bank-py", version="1.0.0",
        aggregates=[Aggregate("BankAccount", categories=["account"], events=[...],
                              initial=lambda: {...}, apply=apply_account,
                              invariants={"balance_never_negative": (description, holds)})],
        projections=[Projection("account_balances", key="account id", categories=["account"],
                                apply=apply_balances)],
        upcasters={"MoneyDeposited": {1: lambda data: {...}}},
        money={"balance_cents": "currency"},   # amounts in minor units, and their currency field
    )

`apply(state, event)` returns the state after the event; raise `Rejected` (or any exception)
to refuse it, before changing anything. An invariant is reported on the event after which
`holds(state)` turns false. `print` goes to stderr: stdout is the protocol's.

Standard library only.
"""
from __future__ import annotations

import base64
import datetime as _dt
import decimal
import json
import re
import sys
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

PROTOCOL = 1
TEXT_PAYLOAD = 1
WANT_STATE = 2

_UUID = re.compile(r"^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")


class Rejected(Exception):
    """An event the aggregate refuses: `kind` is rejected, unknown_event_type or invalid_payload."""

    def __init__(self, message: str, kind: str = "rejected") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Event:
    type: str
    stream_id: str
    stream_type: str
    position: int
    version: int
    schema_version: int | None
    recorded_at: str | None
    data: Any
    text: bool = False


@dataclass
class Aggregate:
    name: str
    initial: Callable[[], Any]
    apply: Callable[[Any, Event], Any]
    stream_types: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    first_event_types: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    # name -> (description, holds(state) -> bool)
    invariants: dict[str, tuple[str, Callable[[Any], bool]]] = field(default_factory=dict)
    # Turn a state into JSON and back (the defaults keep datetimes, decimals, UUIDs, sets,
    # bytes and dataclass-free objects' attributes).
    to_json: Callable[[Any], Any] | None = None
    from_json: Callable[[Any], Any] | None = None


@dataclass
class Projection:
    name: str
    apply: Callable[["Rows", Event], None]
    key: str = ""
    stream_types: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)


class Rows:
    """A read model's rows as its `apply` sees them: get, set, delete by key."""

    def __init__(self, table: dict[str, Any]) -> None:
        self._table = table
        self.changed: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._table.get(str(key), default)

    def set(self, key: str, row: Any) -> None:
        self._table[str(key)] = row
        self.changed[str(key)] = row

    def delete(self, key: str) -> None:
        self._table.pop(str(key), None)
        self.changed[str(key)] = None


def encode(value: Any) -> Any:
    """A value as JSON that `decode` reads back as it was."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            return {"$bigint": str(value)}
        return value
    if isinstance(value, _dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, _dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, (set, frozenset)):
        return {"$set": sorted((encode(v) for v in value), key=json.dumps)}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$map": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if hasattr(value, "__dict__"):
        return {k: encode(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), = value.items()
        readers = {
            "$datetime": _dt.datetime.fromisoformat,
            "$date": _dt.date.fromisoformat,
            "$decimal": decimal.Decimal,
            "$uuid": uuid.UUID,
            "$bigint": int,
            "$bytes": base64.b64decode,
            "$set": lambda items: {decode(v) for v in items},
            "$map": lambda pairs: {decode(k): decode(v) for k, v in pairs},
        }
        if tag in readers:
            return readers[tag](inner)
    return {k: decode(v) for k, v in value.items()}


def category(stream_id: str) -> str | None:
    """The stream's category: its id before the first `-`, unless the id is a UUID."""
    if _UUID.match(stream_id):
        return None
    head, dash, _ = stream_id.partition("-")
    return head if dash and head else None


def serve(
    *,
    name: str,
    version: str = "0",
    aggregates: list[Aggregate] = (),
    projections: list[Projection] = (),
    upcasters: dict[str, dict[int, Callable[[Any], Any]]] | None = None,
    money: dict[str, str] | None = None,
) -> None:
    """Answers Rewind's requests on stdin until it says bye or closes it."""
    protocol_out = sys.stdout
    sys.stdout = sys.stderr  # `print` goes to stderr; the protocol keeps the real stdout
    by_name = {a.name: a for a in aggregates}
    upcasters = upcasters or {}
    types: dict[int, str] = {}
    sessions: dict[int, dict[str, Any]] = {}

    def upcast(event_type: str, schema_version: int | None, data: Any) -> tuple[int | None, Any]:
        hops = upcasters.get(event_type)
        if not hops or schema_version is None:
            return schema_version, data
        while schema_version in hops:
            data = hops[schema_version](data)
            schema_version += 1
        return schema_version, data

    def reads(p: Projection, stream_type: str, stream_id: str, event_type: str) -> bool:
        cat = category(stream_id)
        return stream_type in p.stream_types or (cat is not None and cat in p.categories) or event_type in p.event_types

    def hello(request: dict) -> dict:
        return {
            "id": request["id"],
            "type": "hello",
            "protocol": PROTOCOL,
            "name": name,
            "version": version,
            "aggregates": [
                {
                    "aggregate": a.name,
                    "stream_types": a.stream_types,
                    "categories": a.categories,
                    "first_event_types": a.first_event_types,
                    "event_types": a.events,
                }
                for a in aggregates
            ],
            "projections": [
                {
                    "name": p.name,
                    "key": p.key,
                    "reads": {"stream_types": p.stream_types, "categories": p.categories, "event_types": p.event_types},
                }
                for p in projections
            ],
            "invariants": [
                {"name": inv, "aggregate": a.name, "description": description}
                for a in aggregates
                for inv, (description, _) in a.invariants.items()
            ],
            "money": [{"field": f, "currency_field": c} for f, c in (money or {}).items()],
        }

    def fold(request: dict) -> dict:
        session = sessions.setdefault(request["session"], {"streams": {}, "rows": {}})
        streams = session["streams"]
        for n, type_name in request["types"]:
            types[n] = type_name
        for n, stream_id, aggregate, stream_type in request["streams"]:
            spec = by_name.get(aggregate) if aggregate is not None else None
            streams[n] = {"id": stream_id, "type": stream_type, "spec": spec, "state": spec.initial() if spec else None}
        for n, state in request.get("starts", []):
            stream = streams.get(n)
            if stream and stream["spec"]:
                spec = stream["spec"]
                stream["state"] = spec.initial() if state is None else (spec.from_json or decode)(state)
        outcomes = []
        for i, (n, t, position, stream_version, schema_version, recorded_at, payload, flags) in enumerate(
            request["events"]
        ):
            stream = streams[n]
            event_type = types[t]
            text = bool(flags & TEXT_PAYLOAD)
            if not text:
                schema_version, payload = upcast(event_type, schema_version, payload)
            event = Event(event_type, stream["id"], stream["type"], position, stream_version, schema_version,
                          recorded_at, payload, text)
            outcome: dict[str, Any] = {}
            spec: Aggregate | None = stream["spec"]
            if spec is not None:
                held = {inv: holds(stream["state"]) for inv, (_, holds) in spec.invariants.items()}
                try:
                    if text:
                        raise Rejected(f"the payload of {event_type} is not JSON", "invalid_payload")
                    if spec.events and event_type not in spec.events:
                        raise Rejected(f"{event_type} is not an event of {spec.name}", "unknown_event_type")
                    stream["state"] = spec.apply(stream["state"], event)
                    broken = [
                        {"invariant": inv, "message": f"{inv} broke at {event_type}"}
                        for inv, (_, holds) in spec.invariants.items()
                        if held[inv] and not holds(stream["state"])
                    ]
                    if broken:
                        outcome["violations"] = broken
                except Exception as error:  # the domain refused the event
                    outcome["rejected"] = {
                        "kind": getattr(error, "kind", "rejected"),
                        "message": str(error) or type(error).__name__,
                        "event_type": event_type,
                    }
                if flags & WANT_STATE:
                    outcome["state"] = (spec.to_json or encode)(stream["state"])
            if request.get("projections"):
                for p in projections:
                    if not reads(p, stream["type"], stream["id"], event_type):
                        continue
                    rows = Rows(session["rows"].setdefault(p.name, {}))
                    try:
                        p.apply(rows, event)
                    except Exception:
                        traceback.print_exc()
                    for key, row in rows.changed.items():
                        outcome.setdefault("rows", []).append(
                            {"projection": p.name, "key": key, "row": None if row is None else encode(row)}
                        )
            if outcome:
                outcome["i"] = i
                outcomes.append(outcome)
        if not request.get("keep"):
            sessions.pop(request["session"], None)
        return {"id": request["id"], "type": "folded", "outcomes": outcomes}

    def upcast_request(request: dict) -> dict:
        for n, type_name in request["types"]:
            types[n] = type_name
        changed = []
        for i, (_, t, _, _, schema_version, _, payload, flags) in enumerate(request["events"]):
            if flags & TEXT_PAYLOAD:
                continue
            version_now, data = upcast(types[t], schema_version, payload)
            if version_now != schema_version:
                changed.append({"i": i, "schema_version": version_now, "payload": data})
        return {"id": request["id"], "type": "upcast", "events": changed}

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        kind = request.get("type")
        try:
            if kind == "hello":
                answer = hello(request)
            elif kind == "fold":
                answer = fold(request)
            elif kind == "end":
                sessions.pop(request.get("session"), None)
                answer = {"id": request["id"], "type": "ended"}
            elif kind == "upcast":
                answer = upcast_request(request)
            elif kind == "bye":
                return
            else:
                answer = {"id": request.get("id"), "type": "error", "message": f"unknown request type {kind}"}
        except Exception:
            answer = {"id": request.get("id"), "type": "error", "message": traceback.format_exc()}
        protocol_out.write(json.dumps(answer, separators=(",", ":")) + "\n")
        protocol_out.flush()
