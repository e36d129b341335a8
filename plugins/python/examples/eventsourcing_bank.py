#!/usr/bin/env python3
"""A Rewind domain plug-in that folds a Python `eventsourcing` store through the domain code
that wrote it: each stored event becomes the library's own event object (found by its topic),
and the library's `mutate` applies it to the aggregate, exactly as `Repository.get` would.

    rewind state fixtures/python-eventsourcing/bank.sqlite --stream 2cb26e6aae4b5fc0b3e84f8a1bf4b1f1 \
        --plugin 'python3 plugins/python/examples/eventsourcing_bank.py'

The domain module (`bankdomain`, in fixtures/python-eventsourcing/) must be importable: this
script puts that directory on the path, or set PYTHONPATH to your own domain's. The library
must be installed (`pip install eventsourcing`).
"""
from __future__ import annotations

import datetime as dt
import sys
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the SDK
sys.path.insert(0, str(HERE.parents[2] / "fixtures" / "python-eventsourcing"))  # bankdomain

from eventsourcing.utils import get_topic, resolve_topic  # noqa: E402

from rewind_plugin import Aggregate, Projection, Rejected, decode, encode, serve  # noqa: E402

import bankdomain  # noqa: E402,F401  (the domain the events' topics name)


def domain_event(event):
    """The library's event object for a stored event."""
    try:
        cls = resolve_topic(event.type)
    except Exception as error:  # a topic this domain does not know
        raise Rejected(f"no class for topic {event.type}: {error}", "unknown_event_type") from error
    fields = dict(event.data)
    fields["originator_id"] = uuid.UUID(event.stream_id)
    fields["originator_version"] = event.version
    fields["timestamp"] = dt.datetime.fromisoformat(fields["timestamp"])
    try:
        return cls(**fields)
    except TypeError as error:
        raise Rejected(f"{event.type} does not read: {error}", "invalid_payload") from error


def apply(aggregate, event):
    """`mutate`, as the library's repository folds a stream."""
    return domain_event(event).mutate(aggregate)


def to_json(aggregate):
    """The aggregate's attributes (the library's private ones too: its id, version and times),
    and its class by topic, so `from_json` rebuilds it exactly."""
    if aggregate is None:
        return None
    attributes = {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}
    return {"$class": get_topic(type(aggregate)), **encode(attributes)}


def from_json(state):
    if state is None:
        return None
    cls = resolve_topic(state["$class"])
    aggregate = cls.__new__(cls)
    for key, value in decode({k: v for k, v in state.items() if k != "$class"}).items():
        setattr(aggregate, key, value)
    aggregate._pending_events = []
    return aggregate


def balances(rows, event):
    if event.type.endswith(".Opened"):
        rows.set(event.stream_id, {"owner": event.data["owner"], "balance": 0})
    elif event.type.endswith(".Deposited"):
        row = rows.get(event.stream_id) or {"owner": None, "balance": 0}
        rows.set(event.stream_id, {**row, "balance": row["balance"] + event.data["amount"]})
    elif event.type.endswith(".Withdrew"):
        row = rows.get(event.stream_id) or {"owner": None, "balance": 0}
        rows.set(event.stream_id, {**row, "balance": row["balance"] - event.data["amount"]})


TOPICS = [f"bankdomain:BankAccount.{name}" for name in ("Opened", "Deposited", "Withdrew")]

serve(
    name="eventsourcing-bank",
    version="1.0.0",
    aggregates=[
        Aggregate(
            "BankAccount",
            first_event_types=["bankdomain:BankAccount.Opened"],
            events=TOPICS,
            initial=lambda: None,
            apply=apply,
            to_json=to_json,
            from_json=from_json,
            invariants={
                "balance_never_negative": (
                    "an account's balance never goes below zero",
                    lambda account: account is None or account.balance >= 0,
                ),
            },
        )
    ],
    projections=[Projection("account_balances", key="account id", event_types=TOPICS, apply=balances)],
)
