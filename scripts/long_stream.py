#!/usr/bin/env python3
"""Writes a Rewind SQLite store with one very long stream, for `rewind bench`.

    python3 scripts/long_stream.py OUT.sqlite [--events 100000] [--others 1000]

account-0001 gets `--events` deposits and withdrawals (its balance never goes negative);
`--others` more accounts are opened with one deposit each, interleaved, so the store is not a
single stream. Seeded, so the same arguments write the same events. The schema is the one
`rewind sample` writes (crates/store/src/sqlite.rs).
"""
import argparse
import json
import random
import sqlite3
import sys
import uuid
from datetime import datetime, timedelta, timezone

SCHEMA = """
CREATE TABLE events (
    global_position INTEGER PRIMARY KEY,
    stream_id       TEXT    NOT NULL,
    stream_type     TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    event_id        TEXT    NOT NULL UNIQUE,
    event_type      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL,
    recorded_at     TEXT    NOT NULL,
    data            TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    UNIQUE (stream_id, stream_version)
) STRICT;
CREATE TABLE snapshots (
    stream_id      TEXT    NOT NULL,
    stream_version INTEGER NOT NULL,
    state          TEXT    NOT NULL,
    PRIMARY KEY (stream_id, stream_version)
) STRICT;
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(7)
    db = sqlite3.connect(args.out)
    db.executescript(SCHEMA)
    time = datetime(2024, 1, 1, 8, tzinfo=timezone.utc)
    versions = {}
    rows = []

    def add(stream, event_type, data, schema=1):
        nonlocal time
        time += timedelta(milliseconds=rng.randint(1, 5000))
        version = versions.get(stream, 0) + 1
        versions[stream] = version
        rows.append((
            len(rows) + 1, stream, "BankAccount", version, str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            event_type, schema, time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            json.dumps(data, separators=(",", ":")), "{}",
        ))

    long = "account-0001"
    add(long, "AccountOpened", {"holder": "Grace Conway", "currency": "EUR"})
    balance = 0
    others = iter(range(2, args.others + 2))
    for i in range(args.events - 1):
        amount = rng.randint(100, 100_000)
        if balance >= amount and rng.random() < 0.45:
            balance -= amount
            add(long, "MoneyWithdrawn", {"amount_cents": amount, "reference": f"wd-{i}"}, 2)
        else:
            balance += amount
            add(long, "MoneyDeposited", {"amount_cents": amount, "reference": f"dep-{i}"}, 2)
        if i % max(1, args.events // max(1, args.others)) == 0:
            other = next(others, None)
            if other is not None:
                stream = f"account-{other:04}"
                add(stream, "AccountOpened", {"holder": f"Holder {other}", "currency": "EUR"})
                add(stream, "MoneyDeposited", {"amount_cents": 1000, "reference": "first"}, 2)
    db.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    print(f"wrote {len(rows)} events, {len(versions)} streams, {versions[long]} in {long}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
