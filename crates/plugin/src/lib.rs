//! `rewind_plugin`: a domain written in any language, run as a child process.
//!
//! [`PluginDomain::start`] runs a command, shakes hands (protocol version, the aggregates and
//! the streams each claims, the read models and what they read, the invariants), and is then
//! a [`Domain`] whose streams fold in the plug-in, in batches ([`BatchFold`]). The protocol is
//! line-delimited JSON over the plug-in's stdin and stdout, written down in
//! `docs/plugin-protocol.md`; its version is [`PROTOCOL`].
//!
//! What a plug-in is sent: events (payloads as stored, schema versions as recorded) and
//! states it answered before; never a connection string or a password, and its environment
//! has no `PG*` variables. A plug-in that fails (does not start, exits, stops answering within
//! the timeout, answers something else than the protocol) is a [`FoldError`] that says what
//! happened, with the last lines of its stderr; the next request starts it again.

mod process;
mod wire;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use rewind_core::{
    AggregateClaim, AggregateState, BatchFold, Domain, FoldError, FoldItem, FoldOutcome, FoldSession, JsonRowHistory,
    ProjectionReads, ProjectionState, RecordedEvent, RemoteState, UpcastError,
};

use crate::process::{Connection, Reply};

/// The protocol version this Rewind speaks.
pub const PROTOCOL: u64 = 1;

/// How long a plug-in may take to answer one request (a batch, a seek) before it is taken to
/// hang, unless said otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// An invariant a plug-in declared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Invariant {
    pub name: String,
    #[serde(default)]
    pub aggregate: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// A read model a plug-in declared, and what it reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
struct ProjectionDeclared {
    name: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    reads: Reads,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
struct Reads {
    #[serde(default)]
    stream_types: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    event_types: Vec<String>,
}

/// What a plug-in said of itself when it started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Handshake {
    pub protocol: u64,
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub aggregates: Vec<AggregateClaim>,
    #[serde(default)]
    projections: Vec<ProjectionDeclared>,
    #[serde(default)]
    pub invariants: Vec<Invariant>,
    /// Fields holding money in the minor unit of the currency named beside them.
    #[serde(default)]
    pub money: Vec<MoneyDeclared>,
}

/// A field a plug-in says holds money: `{"field": "balance_cents", "currency_field": "currency"}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct MoneyDeclared {
    pub field: String,
    pub currency_field: String,
}

/// A plug-in as the app shows it: who it is, and what it said on stderr.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginStatus {
    pub command: String,
    pub name: String,
    pub version: String,
    /// The last lines it wrote to stderr.
    pub stderr: Vec<String>,
    /// What went wrong last, if anything did.
    pub fault: Option<String>,
}

/// What a plug-in declared and how it is held to it, shared by the domain and its sessions.
struct Rules {
    command: String,
    handshake: Handshake,
    timeout: Duration,
    /// The last failure, for the app to show.
    fault: Mutex<Option<String>>,
}

/// The plug-in: its rules and its running process (started again after a failure, at the next
/// request).
struct Plugin {
    rules: Arc<Rules>,
    connection: Mutex<Option<Arc<Running>>>,
    next_session: AtomicU64,
}

/// A running process and what it has been told: event type numbers are the connection's.
struct Running {
    connection: Connection,
    types: Mutex<HashMap<rewind_core::SmolStr, u32>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A domain whose aggregates and read models live in a plug-in process.
#[derive(Clone)]
pub struct PluginDomain {
    plugin: Arc<Plugin>,
}

impl std::fmt::Debug for PluginDomain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginDomain")
            .field("command", &self.plugin.rules.command)
            .field("name", &self.plugin.rules.handshake.name)
            .finish_non_exhaustive()
    }
}

impl PluginDomain {
    /// Starts `command` and shakes hands; an error says what failed, with its stderr.
    pub fn start(command: &str, timeout: Duration) -> Result<Self, FoldError> {
        let (running, handshake) = handshake(command, timeout)?;
        Ok(Self {
            plugin: Arc::new(Plugin {
                rules: Arc::new(Rules {
                    command: command.to_owned(),
                    handshake,
                    timeout,
                    fault: Mutex::new(None),
                }),
                connection: Mutex::new(Some(Arc::new(running))),
                next_session: AtomicU64::new(1),
            }),
        })
    }

    pub fn handshake(&self) -> &Handshake {
        &self.plugin.rules.handshake
    }

    /// Who the plug-in is and what it said last.
    pub fn status(&self) -> PluginStatus {
        let running = lock(&self.plugin.connection).clone();
        let rules = &self.plugin.rules;
        PluginStatus {
            command: rules.command.clone(),
            name: rules.handshake.name.clone(),
            version: rules.handshake.version.clone(),
            stderr: running.map(|r| r.connection.stderr_tail()).unwrap_or_default(),
            fault: lock(&rules.fault).clone(),
        }
    }
}

impl Domain for PluginDomain {
    fn name(&self) -> &str {
        &self.plugin.rules.handshake.name
    }

    fn aggregates(&self) -> Vec<AggregateClaim> {
        self.plugin.rules.handshake.aggregates.clone()
    }

    fn money_fields(&self) -> Vec<rewind_core::MoneyField> {
        self.plugin
            .rules
            .handshake
            .money
            .iter()
            .map(|m| rewind_core::MoneyField::new(&m.field, &m.currency_field))
            .collect()
    }

    /// A stream's state before its first event: nothing yet; the plug-in makes it.
    fn new_aggregate(&self, aggregate: &str) -> Option<Box<dyn AggregateState>> {
        self.plugin
            .rules
            .handshake
            .aggregates
            .iter()
            .any(|claim| claim.aggregate == aggregate)
            .then(|| Box::new(RemoteState::default()) as Box<dyn AggregateState>)
    }

    /// Rewind keeps the plug-in's read models, from the rows the plug-in says each event
    /// changed.
    fn projections(&self) -> Vec<Box<dyn ProjectionState>> {
        self.plugin
            .rules
            .handshake
            .projections
            .iter()
            .map(|p| Box::new(JsonRowHistory::new(p.name.clone())) as Box<dyn ProjectionState>)
            .collect()
    }

    /// Upcasting is the plug-in's, inside its fold; the inspector asks it through
    /// [`BatchFold::upcast`].
    fn upcast(&self, _event: &RecordedEvent) -> Result<Option<RecordedEvent>, UpcastError> {
        Ok(None)
    }

    /// The payload is checked on the reading thread: it goes to the plug-in as it is stored,
    /// and only JSON can go as JSON.
    fn prepare(&self, event: &mut RecordedEvent) {
        let _ = event.data.check();
    }

    fn batch_fold(&self) -> Option<Arc<dyn BatchFold>> {
        Some(Arc::clone(&self.plugin) as Arc<dyn BatchFold>)
    }
}

/// Starts `command`, says hello, and reads what it claims.
fn handshake(command: &str, timeout: Duration) -> Result<(Running, Handshake), FoldError> {
    let connection = Connection::start(command).map_err(FoldError::new)?;
    let id = connection.next_id();
    let hello = format!(
        "{{\"id\":{id},\"type\":\"hello\",\"protocol\":{PROTOCOL},\"rewind\":\"{}\"}}\n",
        env!("CARGO_PKG_VERSION")
    );
    let answer = connection
        .send(id, hello.into_bytes(), timeout)
        .and_then(|receiver| connection.wait(&receiver, timeout))
        .and_then(|line| {
            serde_json::from_str::<Value>(&line).map_err(|e| format!("the plug-in's hello does not read: {e}"))
        })
        .map_err(|why| failure(&connection, &why, None))?;
    if answer.get("type").and_then(Value::as_str) == Some("error") {
        let message = answer
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        let why = format!("the plug-in refused to start: {message}");
        connection.end(&why);
        return Err(failure(&connection, &why, None));
    }
    let protocol = answer.get("protocol").and_then(Value::as_u64);
    if protocol != Some(PROTOCOL) {
        let spoken = protocol.map_or_else(|| "no protocol version".to_owned(), |p| format!("protocol version {p}"));
        let why = format!("the plug-in speaks {spoken}; this Rewind speaks protocol version {PROTOCOL}");
        connection.end(&why);
        return Err(failure(&connection, &why, None));
    }
    let handshake: Handshake = match serde_json::from_value(answer) {
        Ok(handshake) => handshake,
        Err(e) => {
            let why = format!("the plug-in's hello does not read: {e}");
            connection.end(&why);
            return Err(failure(&connection, &why, None));
        }
    };
    if handshake.name.trim().is_empty() || handshake.name == "generic" {
        let why = format!(
            "the plug-in must name itself (and not `generic`), not `{}`",
            handshake.name
        );
        connection.end(&why);
        return Err(failure(&connection, &why, None));
    }
    Ok((
        Running {
            connection,
            types: Mutex::default(),
        },
        handshake,
    ))
}

/// A failure of `connection`, said in one line with how the process ended and the last line it
/// wrote on stderr (the error keeps the last lines).
fn failure(connection: &Connection, why: &str, positions: Option<(u64, u64)>) -> FoldError {
    let mut message = format!("plug-in `{}`: {why}", connection.command);
    if let Some(status) = connection.exit_status() {
        let _ = write!(message, " ({status})");
    }
    if let Some((first, last)) = positions {
        let _ = write!(message, " while folding positions {first} to {last}");
    }
    let stderr = connection.stderr_tail();
    if let Some(last) = stderr.iter().rev().find(|line| !line.trim().is_empty()) {
        let _ = write!(message, "; its last line on stderr: {}", process::clip(last.trim()));
    }
    FoldError {
        message,
        positions,
        stderr,
    }
}

impl Rules {
    fn remember(&self, error: &FoldError) {
        *lock(&self.fault) = Some(error.message.clone());
    }

    /// Sends a request and waits for its answer.
    fn ask(
        &self,
        running: &Running,
        id: u64,
        line: Vec<u8>,
        positions: Option<(u64, u64)>,
    ) -> Result<String, FoldError> {
        let connection = &running.connection;
        let reply: Reply = connection
            .send(id, line, self.timeout)
            .and_then(|receiver| connection.wait(&receiver, self.timeout));
        self.check(running, reply, positions)
    }

    /// An answer's line, or the failure it is (see [`Rules::fail`]).
    fn check(&self, running: &Running, reply: Reply, positions: Option<(u64, u64)>) -> Result<String, FoldError> {
        reply.map_err(|why| self.fail(running, &why, positions))
    }

    /// A failure: it stops the process (the next request starts it again) and is remembered
    /// for the app.
    fn fail(&self, running: &Running, why: &str, positions: Option<(u64, u64)>) -> FoldError {
        running.connection.end(why);
        let error = failure(&running.connection, why, positions);
        self.remember(&error);
        error
    }

    /// The outcomes of an answer to a fold, checked against what was declared.
    fn outcomes(
        &self,
        running: &Running,
        answer: &str,
        sent: usize,
        positions: Option<(u64, u64)>,
    ) -> Result<Vec<FoldOutcome>, FoldError> {
        wire::outcomes(answer, sent, &self.handshake).map_err(|why| self.fail(running, &why, positions))
    }
}

impl Plugin {
    /// The running process, started again if the last one failed.
    fn running(&self) -> Result<Arc<Running>, FoldError> {
        let mut connection = lock(&self.connection);
        if let Some(running) = connection.as_ref()
            && running.connection.ended().is_none()
        {
            return Ok(Arc::clone(running));
        }
        let rules = &self.rules;
        let (running, handshake) = handshake(&rules.command, rules.timeout).inspect_err(|e| rules.remember(e))?;
        if handshake.aggregates != rules.handshake.aggregates {
            let error = FoldError::new(format!(
                "plug-in `{}` claims other aggregates since it was started again",
                rules.command
            ));
            rules.remember(&error);
            return Err(error);
        }
        let running = Arc::new(running);
        *connection = Some(Arc::clone(&running));
        Ok(running)
    }

    fn next_session(&self) -> u64 {
        self.next_session.fetch_add(1, Ordering::Relaxed)
    }
}

impl BatchFold for Plugin {
    fn session(&self) -> Result<Box<dyn FoldSession>, FoldError> {
        let running = self.running()?;
        Ok(Box::new(Session {
            rules: Arc::clone(&self.rules),
            running,
            number: self.next_session(),
            batch: wire::Batch::default(),
            positions: None,
            announced: HashSet::new(),
            in_flight: VecDeque::new(),
        }))
    }

    fn fold_stream(
        &self,
        stream_id: &str,
        aggregate: &str,
        start: Option<&str>,
        events: &[RecordedEvent],
        want_state: &dyn Fn(usize) -> bool,
    ) -> Result<Vec<FoldOutcome>, FoldError> {
        let running = self.running()?;
        let id = running.connection.next_id();
        let mut batch = wire::Batch::default();
        batch.stream(
            0,
            stream_id,
            Some(aggregate),
            events.first().map_or("", |e| e.stream_type.as_str()),
        );
        batch.start(0, start);
        {
            let mut types = lock(&running.types);
            for (i, event) in events.iter().enumerate() {
                batch.event(&mut types, event, 0, want_state(i));
            }
        }
        let positions = events
            .first()
            .zip(events.last())
            .map(|(f, l)| (f.global_position, l.global_position));
        let line = batch.fold_line(id, self.next_session(), false);
        let answer = self.rules.ask(&running, id, line, positions)?;
        self.rules.outcomes(&running, &answer, events.len(), positions)
    }

    fn upcast(&self, events: &[RecordedEvent]) -> Result<Vec<Option<RecordedEvent>>, FoldError> {
        let running = self.running()?;
        let id = running.connection.next_id();
        let mut batch = wire::Batch::default();
        {
            let mut types = lock(&running.types);
            for (stream, event) in events.iter().enumerate() {
                batch.stream(stream as u32, &event.stream_id, None, &event.stream_type);
                batch.event(&mut types, event, stream as u32, false);
            }
        }
        let answer = self.rules.ask(&running, id, batch.upcast_line(id), None)?;
        wire::upcasts(&answer, events).map_err(|why| self.rules.fail(&running, &why, None))
    }

    fn projections(&self) -> Vec<ProjectionReads> {
        self.rules
            .handshake
            .projections
            .iter()
            .map(|p| ProjectionReads {
                name: p.name.clone(),
                key: p.key.clone(),
                stream_types: p.reads.stream_types.clone(),
                categories: p.reads.categories.clone(),
                event_types: p.reads.event_types.clone(),
            })
            .collect()
    }
}

/// A batch sent: where its answer comes, how many events it held, which positions.
type Sent = (Receiver<Reply>, usize, Option<(u64, u64)>);

/// A fold of a whole store in the plug-in: the plug-in keeps each stream's state between
/// batches until the session ends.
struct Session {
    rules: Arc<Rules>,
    running: Arc<Running>,
    /// The session's number on the connection.
    number: u64,
    /// The batch being made, and the positions it spans.
    batch: wire::Batch,
    positions: Option<(u64, u64)>,
    /// Streams the plug-in has been told about in this session.
    announced: HashSet<u32>,
    /// Batches sent, oldest first.
    in_flight: VecDeque<Sent>,
}

impl FoldSession for Session {
    fn push(&mut self, items: &[FoldItem<'_>]) -> Result<(), FoldError> {
        let mut types = lock(&self.running.types);
        for item in items {
            if self.announced.insert(item.stream) {
                self.batch.stream(
                    item.stream,
                    &item.event.stream_id,
                    item.aggregate,
                    &item.event.stream_type,
                );
            }
            self.batch.event(&mut types, item.event, item.stream, item.want_state);
            let position = item.event.global_position;
            self.positions = Some(
                self.positions
                    .map_or((position, position), |(first, _)| (first, position)),
            );
        }
        Ok(())
    }

    fn pending(&self) -> usize {
        self.batch.len()
    }

    fn flush(&mut self) -> Result<(), FoldError> {
        if self.batch.len() == 0 {
            return Ok(());
        }
        let connection = &self.running.connection;
        let id = connection.next_id();
        let count = self.batch.len();
        let positions = self.positions.take();
        let line = std::mem::take(&mut self.batch).fold_line(id, self.number, true);
        match connection.send(id, line, self.rules.timeout) {
            Ok(receiver) => {
                self.in_flight.push_back((receiver, count, positions));
                Ok(())
            }
            Err(why) => {
                let reply = Err(why);
                self.rules.check(&self.running, reply, positions).map(drop)
            }
        }
    }

    fn receive(&mut self) -> Result<Vec<FoldOutcome>, FoldError> {
        let Some((receiver, count, positions)) = self.in_flight.pop_front() else {
            return Ok(Vec::new());
        };
        let reply = self.running.connection.wait(&receiver, self.rules.timeout);
        let answer = self.rules.check(&self.running, reply, positions)?;
        self.rules.outcomes(&self.running, &answer, count, positions)
    }

    fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

impl Drop for Session {
    /// The plug-in may forget the session's states.
    fn drop(&mut self) {
        let connection = &self.running.connection;
        if connection.ended().is_none() {
            let id = connection.next_id();
            let line = format!("{{\"id\":{id},\"type\":\"end\",\"session\":{}}}\n", self.number);
            let _ = connection.send(id, line.into_bytes(), Duration::from_secs(1));
        }
    }
}
