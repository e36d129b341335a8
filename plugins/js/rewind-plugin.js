'use strict';
// Rewind domain plug-in SDK for Node.js: speaks protocol version 1 (docs/plugin-protocol.md)
// over stdin and stdout, so a domain is a few plain functions:
//
//   const { serve, Rejected } = require('rewind-plugin');
//   serve({
//     name: 'bank-js', version: '1.0.0',
//     aggregates: { BankAccount: { claims: { categories: ['account'] }, events: [...],
//                                  initial: () => ({...}), apply: (state, event) => newState,
//                                  invariants: { name: { description, holds: (state) => bool } } } },
//     projections: { account_balances: { key: 'account id', reads: { categories: ['account'] },
//                                        apply: (rows, event) => { rows.set(key, row) } } },
//     upcasters: { MoneyDeposited: { 1: (data) => dataV2 } },
//     money: { balance_cents: 'currency' },   // amounts in minor units, and their currency field
//   });
//
// `apply` returns the state after the event (a new object, or the same one changed); throw a
// `Rejected` (or any error) to refuse the event, before changing anything: the state then stays
// as it was. An invariant is reported on the event after which `holds` turns false.
// `console.log` goes to stderr: stdout is the protocol's.

const util = require('util');

const PROTOCOL = 1;
const TEXT_PAYLOAD = 1;
const WANT_STATE = 2;

/** An event the aggregate refuses: `kind` is `rejected`, `unknown_event_type` or `invalid_payload`. */
class Rejected extends Error {
  constructor(message, kind = 'rejected') {
    super(message);
    this.kind = kind;
  }
}

// States go to Rewind as JSON and come back exactly: maps, sets, dates and big integers are
// written as tagged objects and read back as what they were.
function encode(value) {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? { $bigint: value.toString() } : value;
  }
  if (value instanceof Map) return { $map: [...value].map(([k, v]) => [encode(k), encode(v)]) };
  if (value instanceof Set) return { $set: [...value].map(encode) };
  if (value instanceof Date) return { $date: value.toISOString() };
  if (Array.isArray(value)) return value.map(encode);
  const out = {};
  for (const key of Object.keys(value)) out[key] = encode(value[key]);
  return out;
}

// Whether `value` is JSON as it is (no map, set, date or big integer inside): it then goes
// out without a copy.
function plain(value) {
  if (value === null) return true;
  const type = typeof value;
  if (type !== 'object') return type !== 'bigint';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!plain(value[i])) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) if (!plain(value[key])) return false;
  return true;
}

function encodeOut(value) {
  return plain(value) ? value : encode(value);
}

function decode(value) {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decode);
  const keys = Object.keys(value);
  if (keys.length === 1) {
    if (keys[0] === '$map') return new Map(value.$map.map(([k, v]) => [decode(k), decode(v)]));
    if (keys[0] === '$set') return new Set(value.$set.map(decode));
    if (keys[0] === '$date') return new Date(value.$date);
    if (keys[0] === '$bigint') return BigInt(value.$bigint);
  }
  const out = {};
  for (const key of keys) out[key] = decode(value[key]);
  return out;
}

/** The stream's category: its id before the first `-`, unless the id is a UUID. */
function category(streamId) {
  if (/^[0-9a-fA-F]{32}$/.test(streamId) || /^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/.test(streamId)) {
    return null;
  }
  const dash = streamId.indexOf('-');
  return dash > 0 ? streamId.slice(0, dash) : null;
}

function serve(domain) {
  const log = (...args) => process.stderr.write(util.format(...args) + '\n');
  console.log = log;
  console.info = log;
  console.debug = log;

  const aggregates = domain.aggregates || {};
  const projections = domain.projections || {};
  const projectionList = Object.entries(projections);
  // Read models that read some events by their type, whatever their stream.
  const byEventType = projectionList.filter(([, p]) => p.reads && (p.reads.event_types || []).length);
  const upcasters = domain.upcasters || {};
  // Each event type's current version: one past the newest upcaster.
  const current = {};
  for (const [type, hops] of Object.entries(upcasters)) {
    current[type] = Math.max(...Object.keys(hops).map(Number)) + 1;
  }

  const types = [];                  // event type names by number, for the connection
  const sessions = new Map();        // session number -> { streams: [], rows: Map }

  function upcast(type, version, data) {
    const hops = upcasters[type];
    if (!hops || version === null || version === undefined) return [version, data];
    while (hops[version]) {
      data = hops[version](data);
      version += 1;
    }
    return [version, data];
  }

  function hello(request) {
    return {
      id: request.id,
      type: 'hello',
      protocol: PROTOCOL,
      name: domain.name,
      version: domain.version || '0',
      aggregates: Object.entries(aggregates).map(([name, a]) => ({
        aggregate: name,
        stream_types: (a.claims && a.claims.stream_types) || [],
        categories: (a.claims && a.claims.categories) || [],
        first_event_types: (a.claims && a.claims.first_event_types) || [],
        event_types: a.events || [],
      })),
      projections: Object.entries(projections).map(([name, p]) => ({
        name,
        key: p.key || '',
        reads: {
          stream_types: (p.reads && p.reads.stream_types) || [],
          categories: (p.reads && p.reads.categories) || [],
          event_types: (p.reads && p.reads.event_types) || [],
        },
      })),
      invariants: Object.entries(aggregates).flatMap(([name, a]) =>
        Object.entries(a.invariants || {}).map(([invariant, i]) => ({
          name: invariant,
          aggregate: name,
          description: i.description || '',
        }))),
      money: Object.entries(domain.money || {}).map(([field, currency_field]) => ({ field, currency_field })),
    };
  }

  // What a read model's `apply` gets: its rows, and what it changed for this event.
  function rowsOf(table) {
    const changed = new Map();
    return {
      changed,
      get: (key) => table.get(String(key)),
      set: (key, row) => { const k = String(key); table.set(k, row); changed.set(k, row); },
      delete: (key) => { const k = String(key); table.delete(k); changed.set(k, null); },
    };
  }

  function session(number) {
    let s = sessions.get(number);
    if (!s) {
      s = { streams: [], rows: new Map() };  // rows: read model name -> its rowsOf
      sessions.set(number, s);
    }
    return s;
  }

  function fold(request) {
    const s = session(request.session);
    for (const [n, name] of request.types) types[n] = name;
    for (const [n, id, aggregate, streamType] of request.streams) {
      const spec = aggregate === null ? null : aggregates[aggregate];
      // The read models that read every event of the stream (by its type or category), found
      // once; those that read by event type are asked per event.
      const cat = category(id);
      const readers = projectionList.filter(([, p]) => {
        const r = p.reads || {};
        return (r.stream_types || []).includes(streamType) || (cat !== null && (r.categories || []).includes(cat));
      });
      const invariants = spec && spec.invariants ? Object.entries(spec.invariants) : [];
      s.streams[n] = { id, aggregate, spec, streamType, readers, invariants, held: new Array(invariants.length), state: spec ? spec.initial() : null };
    }
    for (const [n, state] of request.starts || []) {
      const stream = s.streams[n];
      if (stream && stream.spec) stream.state = state === null ? stream.spec.initial() : decode(state);
    }
    const outcomes = [];
    const events = request.events;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      const stream = s.streams[e[0]];
      const type = types[e[1]];
      const position = e[2];
      const flags = e[7];
      let outcome = null;
      const text = (flags & TEXT_PAYLOAD) !== 0;
      const event = { type, streamId: stream.id, streamType: stream.streamType, position, version: e[3], schemaVersion: e[4], recordedAt: e[5], data: e[6], text };
      if (!text && upcasters[type] !== undefined) {
        const [upcastVersion, data] = upcast(type, e[4], e[6]);
        event.schemaVersion = upcastVersion;
        event.data = data;
      }
      const spec = stream.spec;
      if (spec) {
        const invariants = stream.invariants;
        // Which invariants held before the event (in an array the stream reuses).
        const held = stream.held;
        for (let k = 0; k < invariants.length; k++) held[k] = invariants[k][1].holds(stream.state);
        try {
          if (event.text) throw new Rejected(`the payload of ${type} is not JSON`, 'invalid_payload');
          if (spec.events && !spec.events.includes(type)) {
            throw new Rejected(`${type} is not an event of ${stream.aggregate}`, 'unknown_event_type');
          }
          stream.state = spec.apply(stream.state, event);
          let broken = null;
          for (let k = 0; k < invariants.length; k++) {
            const [name, inv] = invariants[k];
            if (held[k] && !inv.holds(stream.state)) {
              (broken = broken || []).push({ invariant: name, message: inv.message ? inv.message(stream.state, event) : `${name} broke at ${type}` });
            }
          }
          if (broken) outcome = { i, violations: broken };
        } catch (error) {
          outcome = { i, rejected: { kind: error.kind || 'rejected', message: String(error.message || error), event_type: type } };
        }
        if (flags & WANT_STATE) {
          outcome = outcome || { i };
          outcome.state = encodeOut(stream.state);
        }
      }
      if (request.projections) {
        const readers = byEventType.length
          ? stream.readers.concat(byEventType.filter(([name, p]) => !stream.readers.some(([n]) => n === name)
            && (p.reads.event_types || []).includes(type)))
          : stream.readers;
        for (let r = 0; r < readers.length; r++) {
          const [name, p] = readers[r];
          let rows = s.rows.get(name);
          if (!rows) {
            rows = rowsOf(new Map());
            s.rows.set(name, rows);
          }
          try {
            p.apply(rows, event);
          } catch (error) {
            console.error(`projection ${name} at position ${position}: ${error.message || error}`);
          }
          const changed = rows.changed;
          if (changed.size) {
            outcome = outcome || { i };
            outcome.rows = outcome.rows || [];
            for (const [key, row] of changed) outcome.rows.push({ projection: name, key, row: row === null ? null : encodeOut(row) });
            changed.clear();
          }
        }
      }
      if (outcome) outcomes.push(outcome);
    }
    if (!request.keep) sessions.delete(request.session);
    return { id: request.id, type: 'folded', outcomes };
  }

  function upcastRequest(request) {
    for (const [n, name] of request.types) types[n] = name;
    const out = [];
    request.events.forEach(([, t, , , schemaVersion, , payload, flags], i) => {
      if (flags & TEXT_PAYLOAD) return;
      const [version, data] = upcast(types[t], schemaVersion, payload);
      if (version !== schemaVersion) out.push({ i, schema_version: version, payload: data });
    });
    return { id: request.id, type: 'upcast', events: out };
  }

  function answer(request) {
    switch (request.type) {
      case 'hello': return hello(request);
      case 'fold': return fold(request);
      case 'end': sessions.delete(request.session); return { id: request.id, type: 'ended' };
      case 'upcast': return upcastRequest(request);
      case 'bye': process.exit(0); return null;
      default: return { id: request.id, type: 'error', message: `unknown request type ${request.type}` };
    }
  }

  function handle(line) {
    if (!line.trim()) return;
    let request;
    try {
      request = JSON.parse(line);
    } catch (error) {
      console.error(`not JSON: ${error.message}`);
      process.exit(1);
    }
    let reply;
    try {
      reply = answer(request);
    } catch (error) {
      reply = { id: request.id, type: 'error', message: String(error && error.stack || error) };
    }
    if (reply) process.stdout.write(JSON.stringify(reply) + '\n');
  }

  // Lines are split here rather than by `readline`: requests are long lines, and a line is
  // decoded once, whole.
  let pending = [];
  process.stdin.on('data', (chunk) => {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      if (newline < 0) {
        if (start < chunk.length) pending.push(chunk.subarray(start));
        return;
      }
      let line;
      if (pending.length) {
        pending.push(chunk.subarray(start, newline));
        line = Buffer.concat(pending).toString('utf8');
        pending = [];
      } else {
        line = chunk.toString('utf8', start, newline);
      }
      handle(line);
      start = newline + 1;
    }
  });
  process.stdin.on('end', () => {
    if (pending.length) handle(Buffer.concat(pending).toString('utf8'));
    process.exit(0);
  });
}

module.exports = { serve, Rejected, encode, decode, category };
