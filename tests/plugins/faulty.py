#!/usr/bin/env python3
"""A domain plug-in that misbehaves on purpose, for Rewind's tests: `faulty.py MODE`.

It claims the `account` category (as Rewind's bank does) and folds a balance, unless MODE says
otherwise:
  ok            behaves
  protocol2     says it speaks protocol version 2
  crash-after N exits (status 3, a line on stderr) when the Nth fold request comes
  hang          never answers a fold request
  garbage       answers a fold request with a line that is not JSON
  undeclared    reports an invariant its hello did not declare
  pg            refuses to start if it sees a PG* variable in its environment
  clock         puts the time it folded at into the state (not deterministic)
  named-bank    names itself `bank`, a built-in domain's name
"""
import json
import os
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
after = int(sys.argv[2]) if mode == "crash-after" else 1
folds = 0
states = {}


def send(answer):
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    request = json.loads(line)
    kind = request["type"]
    if kind == "hello":
        if mode == "pg" and any(name.startswith("PG") for name in os.environ):
            send({"id": request["id"], "type": "error", "message": "a PG variable reached the plug-in"})
            continue
        send({
            "id": request["id"], "type": "hello", "protocol": 2 if mode == "protocol2" else 1,
            "name": "bank" if mode == "named-bank" else "faulty", "version": mode,
            "aggregates": [{"aggregate": "Account", "categories": ["account"]}],
            "projections": [], "invariants": [{"name": "declared", "aggregate": "Account"}],
        })
    elif kind == "fold":
        folds += 1
        if mode == "crash-after" and folds >= after:
            sys.stderr.write("boom: the faulty plug-in broke on purpose\n")
            sys.stderr.flush()
            sys.exit(3)
        if mode == "hang":
            continue
        if mode == "garbage":
            sys.stdout.write("this is not the protocol\n")
            sys.stdout.flush()
            continue
        names = {n: stream_id for n, stream_id, _aggregate, _type in request["streams"]}
        for n, state in request.get("starts", []):
            states[(request["session"], n)] = state or {"balance": 0}
        outcomes = []
        for i, (n, _t, _position, _version, _schema, _time, payload, flags) in enumerate(request["events"]):
            state = states.setdefault((request["session"], n), {"balance": 0})
            if isinstance(payload, dict) and isinstance(payload.get("amount_cents"), int):
                state["balance"] += payload["amount_cents"]
            outcome = {"i": i}
            if mode == "clock":
                state["folded_at"] = time.monotonic_ns()
            if flags & 2:
                outcome["state"] = dict(state)
            if mode == "undeclared" and i == 0:
                outcome["violations"] = [{"invariant": "never_declared", "message": "surprise"}]
            if len(outcome) > 1:
                outcomes.append(outcome)
        send({"id": request["id"], "type": "folded", "outcomes": outcomes})
    elif kind == "end":
        send({"id": request["id"], "type": "ended"})
    elif kind == "bye":
        break
