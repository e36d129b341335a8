//! The command line: the same binary as the app.

mod out;

use out::Out;

use crate::domains::DomainChoice;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

use rewind_bank::sample::{SampleConfig, generate};
use rewind_core::{Domain, DomainSet, RecordedEvent, ReplayIssue, Severity};
use rewind_engine::Replay;
use rewind_engine::filter::{Bound, time_bound};
use rewind_store::{
    EncodedEvent, EventSource, Mapping, NdjsonWriter, OpenOptions, SqliteStore, StoreLocation, export_ndjson,
    format_time, open_store_with,
};

/// Rewind: a time-travel debugger for event-sourced systems.
///
/// With no command, opens the desktop app (on FILE, if given).
#[derive(Debug, Parser)]
#[command(name = "rewind", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A store to open in the desktop app: a file (.sqlite, .ndjson, .json, .gz) or a
    /// PostgreSQL URL.
    pub store: Option<StoreLocation>,
    /// Open the app with the cursor on this global position (and its stream selected).
    #[arg(long, requires = "store")]
    pub position: Option<u64>,
    #[command(flatten)]
    pub open: OpenArgs,
}

/// How every command opens its store.
#[derive(Debug, Clone, Default, Args)]
pub struct OpenArgs {
    /// A mapping (TOML) for a store whose shape Rewind does not recognise: which column or
    /// field is the stream, version, position, type, time, payload. Rewind proposes one when
    /// it needs it.
    #[arg(long, global = true, value_name = "FILE.toml")]
    pub mapping: Option<PathBuf>,
    /// Fail (exit 2) if any record of the store had to be skipped.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Print JSON (NDJSON for events). Every command takes it, so scripts can pass it
    /// everywhere; for those whose output is JSON anyway it changes nothing.
    #[arg(long, global = true)]
    pub json: bool,
    /// Replay with these domains only (repeat it, or separate names with commas): `bank`, a
    /// plug-in's name, or `generic` for the generic fold alone. Without it, every domain
    /// replays the streams it claims (a plug-in's first), in any store.
    #[arg(long = "domain", global = true, value_name = "NAME", value_delimiter = ',')]
    pub domains: Vec<String>,
    /// Run a domain plug-in, written in any language (docs/plugin-protocol.md): it replays
    /// the streams it claims, ahead of the built-in domains. The command is split as a shell
    /// would split it, but no shell runs it; it gets Rewind's environment without the PG*
    /// variables.
    #[arg(long, global = true, value_name = "'COMMAND ARGS'")]
    pub plugin: Option<String>,
    /// How long a plug-in may take to answer one request (a batch of events, a seek) before
    /// Rewind takes it to hang and stops it, in seconds.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30)]
    pub plugin_timeout: u64,
}

impl OpenArgs {
    /// The domains these arguments choose.
    pub fn choice(&self, builtin: &Arc<DomainSet>) -> DomainChoice {
        DomainChoice {
            builtin: Arc::clone(builtin),
            plugin: self.plugin.clone(),
            only: self.domains.clone(),
            timeout: std::time::Duration::from_secs(self.plugin_timeout.max(1)),
        }
    }

    /// The domains to replay with: the plug-in's (started here) ahead of `builtin`, then only
    /// those `--domain` names. A plug-in that cannot start is an error.
    pub fn domains(&self, builtin: &Arc<DomainSet>) -> Result<Arc<DomainSet>> {
        let resolved = self.choice(builtin).resolve().map_err(anyhow::Error::msg)?;
        if let Some(error) = resolved.plugin_error {
            bail!("{error}");
        }
        if let Some(plugin) = &resolved.plugin {
            let handshake = plugin.handshake();
            let claims: Vec<&str> = handshake.aggregates.iter().map(|a| a.aggregate.as_str()).collect();
            eprintln!(
                "rewind: plug-in {} {} claims {}",
                handshake.name,
                handshake.version,
                claims.join(", ")
            );
        }
        Ok(resolved.domains)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the streams of a store.
    Streams { store: StoreLocation },
    /// Print events as NDJSON, in global order.
    Events {
        store: StoreLocation,
        /// Only this stream (in version order).
        #[arg(long)]
        stream: Option<String>,
        /// Only events after this global position.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// At most this many events.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Print the events matching a filter as NDJSON, in global order, with their payloads as the
    /// domain reads them (upcast to their current schema). The filter is Find's language:
    /// text anywhere, or conditions such as `amount_cents > 200000 and recorded_at >= 2024-02-01`
    /// (`and`, `or`, `not`, parentheses; == != > >= < <= contains). Exit 2 when it does not read.
    Search(SearchArgs),
    /// Print one stream's aggregate state at a version, position or time.
    State(StateArgs),
    /// Print a projection's state (at a global position, or at the end).
    Projection {
        store: StoreLocation,
        /// The read model, by name (the bank's: `account_balances`, `order_summaries`, `daily_totals`; an unknown name lists those the domains have).
        name: String,
        #[arg(long)]
        position: Option<u64>,
    },
    /// Replay everything and print each integrity issue (a version gap or duplicate, a
    /// repeated event id, a payload that does not read, an event the domain refuses, a broken
    /// invariant; with --json, a JSON document of every issue). Exit 1 if there is any, 0 when
    /// clean; 2 when records had to be skipped (unless --allow-skipped) or no event was
    /// replayed. Notes (clock oddities) are counted, not failed on, unless asked.
    Verify(VerifyArgs),
    /// Write one stream's evidence (JSON): its events up to a position or time, the state
    /// after each, the state they leave and the issues found. Never replaces a file.
    Evidence(EvidenceArgs),
    /// Export a store to NDJSON (one event per line).
    Export {
        store: StoreLocation,
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a store (an NDJSON export, or another store) into a new native SQLite store.
    Import {
        store: StoreLocation,
        #[arg(long)]
        out: PathBuf,
    },
    /// Generate the sample bank history: DIR/bank.sqlite and DIR/bank.ndjson.
    Sample(SampleArgs),
    /// Measure index build, seeks (global and per stream), peak memory and full replay.
    Bench {
        store: StoreLocation,
        /// Random seeks of each kind.
        #[arg(long, default_value_t = 1000)]
        seeks: usize,
        /// Build the index and replay the store this many times, and report the median run
        /// (and every run): a shared machine's speed moves between runs.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        runs: u16,
    },
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    store: StoreLocation,
    /// List the notes (clock oddities) with the issues.
    #[arg(long)]
    notes: bool,
    /// Fail (exit 1) on notes too, not only on integrity issues and broken invariants.
    #[arg(long)]
    fail_on_notes: bool,
    /// Verify what could be read when some records could not (they are listed on stderr);
    /// without it, skipped records are an error (exit 2).
    #[arg(long)]
    allow_skipped: bool,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("at_point").args(["version", "position", "at"])))]
pub struct StateArgs {
    store: StoreLocation,
    #[arg(long)]
    stream: String,
    /// The stream version to stop at.
    #[arg(long)]
    version: Option<u64>,
    /// The global position to stop at.
    #[arg(long)]
    position: Option<u64>,
    /// The time to stop at (RFC 3339): the last event at or before it.
    #[arg(long)]
    at: Option<DateTime<Utc>>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("until").args(["position", "at"])))]
pub struct EvidenceArgs {
    store: StoreLocation,
    #[arg(long)]
    stream: String,
    /// Stop after the stream's last event at or before this global position.
    #[arg(long)]
    position: Option<u64>,
    /// Stop after its last event at or before this time (RFC 3339).
    #[arg(long)]
    at: Option<DateTime<Utc>>,
    /// The JSON file to write.
    #[arg(long, value_name = "FILE.json")]
    out: PathBuf,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("destination").args(["out", "postgres"]).required(true).multiple(true)))]
pub struct SampleArgs {
    /// Write DIR/bank.sqlite and DIR/bank.ndjson.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write Rewind's events table into this PostgreSQL database (`postgres://user@host/db`).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 120)]
    accounts: u32,
    #[arg(long, default_value_t = 500)]
    orders: u32,
    #[arg(long, default_value_t = 90)]
    days: u32,
    /// About this many events (raises accounts and orders to match).
    #[arg(long)]
    events: Option<u64>,
    /// Leave the planted incident out.
    #[arg(long)]
    clean: bool,
    /// Overwrite existing output files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    store: StoreLocation,
    /// The filter, in Find's language (an empty one matches every event).
    query: String,
    /// Only events of this type (repeat for several; a Python topic's short name works).
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Only this stream's events.
    #[arg(long)]
    stream: Option<String>,
    /// Only events recorded at or after this date or time (2024-02-01, 2024-02-01T10:00:00Z).
    #[arg(long, value_name = "TIME")]
    from_time: Option<String>,
    /// Only events recorded at or before this date or time (a date includes its whole day).
    #[arg(long, value_name = "TIME")]
    to_time: Option<String>,
    /// Match and print payloads as stored, not upcast.
    #[arg(long)]
    stored: bool,
    /// At most this many events.
    #[arg(long)]
    limit: Option<usize>,
}

/// What a command asks the process to exit with.
pub enum Outcome {
    Success,
    /// `verify` found issues.
    IssuesFound,
}

/// Parses the command line and runs what it asks: a command, or the desktop app.
pub fn main(domains: &Arc<DomainSet>) -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(command) => run(command, &cli.open, domains),
        None => crate::app::run_native(cli.store, cli.position, cli.open.choice(domains)).map(|()| Outcome::Success),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::IssuesFound) => ExitCode::from(1),
        Err(error) => {
            eprintln!("rewind: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command, opts: &OpenArgs, builtin: &Arc<DomainSet>) -> Result<Outcome> {
    // Started only for the commands that replay.
    let domains = || opts.domains(builtin);
    let domain = || -> Result<Arc<dyn Domain>> { Ok(domains()? as Arc<dyn Domain>) };
    match command {
        Command::Streams { store } => streams(&store, opts),
        Command::Events {
            store,
            stream,
            from,
            limit,
        } => events(&store, stream.as_deref(), from, limit, opts),
        Command::Search(args) => search(&args, opts, &domain()?),
        Command::State(args) => state(&args, opts, &domains()?),
        Command::Projection { store, name, position } => projection(&store, &name, position, opts, domain()?),
        Command::Verify(args) => verify(&args, opts, &domain()?),
        Command::Evidence(args) => evidence(&args, opts, domain()?),
        Command::Export { store, out } => export(&store, &out, opts),
        Command::Import { store, out } => import(&store, &out, opts),
        Command::Sample(args) => sample(&args),
        Command::Bench { store, seeks, runs } => {
            let source = open(&store, opts)?;
            let report = crate::bench::run(source.as_ref(), &domain()?, seeks, runs.into(), &mut |step| {
                eprintln!("rewind: {step}");
            })?;
            let mut out = Out::new();
            if opts.json {
                out.json(&report)?;
            } else {
                writeln!(out, "{report}")?;
            }
            Ok(Outcome::Success)
        }
    }
}

fn open(location: &StoreLocation, opts: &OpenArgs) -> Result<Box<dyn EventSource>> {
    let mut options = OpenOptions::default();
    if let Some(mapping_path) = &opts.mapping {
        let text = std::fs::read_to_string(mapping_path)
            .with_context(|| format!("cannot read the mapping {}", mapping_path.display()))?;
        let mapping =
            Mapping::from_toml(&text).map_err(|e| anyhow::anyhow!("bad mapping {}: {e}", mapping_path.display()))?;
        options.mapping = Some(mapping);
    }
    let started = Instant::now();
    let source = open_store_with(location, &options)?;
    // The location, not the argument: a PostgreSQL URL is shown without its password.
    let location = source.location();
    eprintln!(
        "rewind: opened {location} as {} in {:.2} s",
        source.describe(),
        started.elapsed().as_secs_f64()
    );
    let skipped = source.skipped();
    if !skipped.is_empty() {
        for record in skipped.iter().take(100) {
            eprintln!("rewind: skipped {location}: {}: {}", record.record, record.reason);
        }
        if skipped.len() > 100 {
            eprintln!("rewind: … and {} more", skipped.len() - 100);
        }
        eprintln!("rewind: {} record(s) skipped in {location}", skipped.len());
        if opts.strict {
            bail!("{} record(s) of {location} could not be read (--strict)", skipped.len());
        }
    }
    Ok(source)
}

fn streams(path: &StoreLocation, opts: &OpenArgs) -> Result<Outcome> {
    let source = open(path, opts)?;
    let streams = source.streams()?;
    let mut out = Out::new();
    if opts.json {
        out.json(&streams)?;
    } else {
        writeln!(
            out,
            "{:<20} {:<12} {:>7}  {:<24}  {:<24}",
            "STREAM", "TYPE", "EVENTS", "FIRST", "LAST"
        )?;
        for s in &streams {
            writeln!(
                out,
                "{:<20} {:<12} {:>7}  {:<24}  {:<24}",
                s.stream_id,
                if s.stream_type.is_empty() {
                    "—"
                } else {
                    s.stream_type.as_str()
                },
                s.event_count,
                s.first_recorded_at.map_or_else(|| "—".to_owned(), format_time),
                s.last_recorded_at.map_or_else(|| "—".to_owned(), format_time)
            )?;
        }
    }
    Ok(Outcome::Success)
}

fn events(
    path: &StoreLocation,
    stream: Option<&str>,
    from: u64,
    limit: Option<usize>,
    opts: &OpenArgs,
) -> Result<Outcome> {
    let source = open(path, opts)?;
    let mut out = Out::new();
    let limit = limit.unwrap_or(usize::MAX);
    let mut written = 0;
    let mut write = |events: &[RecordedEvent], out: &mut dyn Write| -> Result<bool> {
        for event in events {
            if written >= limit {
                return Ok(false);
            }
            serde_json::to_writer(&mut *out, event)?;
            writeln!(out)?;
            written += 1;
        }
        Ok(true)
    };
    if let Some(stream_id) = stream {
        let events = source.read_stream(stream_id, None)?;
        if events.is_empty() {
            bail!("no stream named `{stream_id}` in {}", source.location());
        }
        let events: Vec<_> = events.into_iter().filter(|e| e.global_position > from).collect();
        write(&events, &mut out)?;
    } else {
        let mut after = from;
        loop {
            let batch = source.read_batch(after, 4096)?;
            let Some(last) = batch.last() else { break };
            after = last.global_position;
            if !write(&batch, &mut out)? || out.is_closed() {
                break;
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Success)
}

fn search(args: &SearchArgs, opts: &OpenArgs, domain: &Arc<dyn Domain>) -> Result<Outcome> {
    let bound = |text: &Option<String>, bound, option| time_bound(text.as_deref().unwrap_or(""), bound, option);
    let from_ms = bound(&args.from_time, Bound::From, "--from-time").map_err(anyhow::Error::msg)?;
    let to_ms = bound(&args.to_time, Bound::To, "--to-time").map_err(anyhow::Error::msg)?;
    let condition = if args.query.trim().is_empty() {
        None
    } else {
        Some(rewind_engine::Condition::parse(&args.query)?)
    };
    let source = open(&args.store, opts)?;
    let mut out = Out::new();
    let limit = args.limit.unwrap_or(usize::MAX);
    let mut written = 0;
    let mut types_seen = vec![false; args.types.len()];
    // A stream's route is decided by its first event, as in a replay.
    let mut routes: std::collections::HashMap<String, Option<u32>> = std::collections::HashMap::new();
    let mut write = |events: Vec<RecordedEvent>, out: &mut Out| -> Result<bool> {
        for event in events {
            let route = match routes.get(event.stream_id.as_str()) {
                Some(&route) => route,
                None => *routes
                    .entry(event.stream_id.to_string())
                    .or_insert(domain.route(&event)),
            };
            let wanted_type = args.types.is_empty()
                || args.types.iter().zip(&mut types_seen).fold(false, |found, (t, seen)| {
                    let this = event.event_type == *t || crate::theme::short_event_type(&event.event_type) == t;
                    *seen |= this;
                    found || this
                });
            // An event of unknown time is in no time range.
            let at = event.recorded_at.map(|t| t.timestamp_millis());
            let in_time = from_ms.is_none_or(|from| at.is_some_and(|at| at >= from))
                && to_ms.is_none_or(|to| at.is_some_and(|at| at <= to));
            if !wanted_type || !in_time {
                continue;
            }
            let event = if args.stored {
                event
            } else {
                // One that does not upcast is matched as stored (`verify` reports why).
                domain.upcast_on(route, &event).ok().flatten().unwrap_or(event)
            };
            if condition.as_ref().is_none_or(|c| c.matches(&event)) {
                if written >= limit {
                    return Ok(false);
                }
                serde_json::to_writer(&mut *out, &event)?;
                writeln!(out)?;
                written += 1;
            }
        }
        Ok(!out.is_closed())
    };
    if let Some(stream_id) = &args.stream {
        let events = source.read_stream(stream_id, None)?;
        if events.is_empty() {
            bail!("no stream named `{stream_id}` in {}", source.location());
        }
        write(events, &mut out)?;
    } else {
        let mut after = 0;
        loop {
            let batch = source.read_batch(after, 4096)?;
            let Some(last) = batch.last() else { break };
            after = last.global_position;
            if !write(batch, &mut out)? {
                break;
            }
        }
    }
    out.flush()?;
    let unseen: Vec<&str> = args
        .types
        .iter()
        .zip(&types_seen)
        .filter(|(_, seen)| !**seen)
        .map(|(t, _)| t.as_str())
        .collect();
    if !unseen.is_empty() && written < limit && !out.is_closed() {
        let searched = args.stream.as_ref().map_or_else(
            || source.location(),
            |s| format!("stream `{s}` of {}", source.location()),
        );
        bail!(
            "no event of type {} in {searched} (`rewind events` shows the types it has)",
            unseen.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(Outcome::Success)
}

fn state(args: &StateArgs, opts: &OpenArgs, domains: &Arc<DomainSet>) -> Result<Outcome> {
    let source = open(&args.store, opts)?;
    let until = until(args.position, args.at);
    let history =
        crate::evidence::history(source.as_ref(), &args.stream, args.version, until).map_err(anyhow::Error::msg)?;
    let (stream_id, events) = (history.stream_id, history.events);
    let domain = Arc::clone(domains) as Arc<dyn Domain>;
    // The replay finds the issues (versions, ids, the domain's complaints); the state is the
    // domain's own fold of the stream, wherever it folds.
    let mut replay = Replay::new(domain.clone());
    for event in &events {
        replay.apply(event);
    }
    replay.finish();
    if let Some(fault) = replay.fault() {
        bail!("the domain plug-in failed: {fault}");
    }
    let steps = domain.replay_stream(&events);
    let state = steps
        .iter()
        .rev()
        .find_map(|step| step.state.as_ref().ok().cloned())
        .unwrap_or(Value::Null);
    let route = events.first().and_then(|first| domain.route(first));
    let replayed_by = route
        .and_then(|route| domain.describe_route(route))
        .map_or_else(|| "generic fold".to_owned(), |(d, a)| format!("{d}: {a}"));
    let stream = replay.stream(&stream_id);
    let output = json!({
        "stream_id": stream_id,
        "stream_type": events.first().map(|e| e.stream_type.clone()),
        "stream_version": stream.map_or(0, |s| s.version),
        "global_position": stream.and(events.last()).map_or(0, |e| e.global_position),
        "state_money": crate::evidence::money_in(&state, &domain.money_fields()),
        "state": state,
        "generic": route.is_none(),
        "replayed_by": replayed_by,
        "issues": replay.issues(),
    });
    Out::new().json(&output)?;
    Ok(Outcome::Success)
}

/// Where `--position` or `--at` (one at most: clap says so) stops a stream; its end without.
fn until(position: Option<u64>, at: Option<DateTime<Utc>>) -> crate::evidence::Until {
    use crate::evidence::Until;
    match (position, at) {
        (Some(position), _) => Until::Position(position),
        (None, Some(at)) => Until::Time(at),
        (None, None) => Until::End,
    }
}

fn projection(
    path: &StoreLocation,
    name: &str,
    position: Option<u64>,
    opts: &OpenArgs,
    domain: Arc<dyn Domain>,
) -> Result<Outcome> {
    let names: Vec<String> = domain.projections().iter().map(|p| p.name().to_owned()).collect();
    if !names.iter().any(|n| n == name) {
        bail!("no projection named `{name}`; known: {}", names.join(", "));
    }
    let source = open(path, opts)?;
    let mut replay = Replay::new(domain);
    let end = position.unwrap_or(u64::MAX);
    source.read_all(8192, &mut |batch| {
        for event in batch.iter().take_while(|e| e.global_position <= end) {
            replay.apply(event);
        }
        Ok(())
    })?;
    replay.finish();
    if let Some(fault) = replay.fault() {
        bail!("the domain plug-in failed: {fault}");
    }
    let output = json!({
        "projection": name,
        "global_position": replay.position(),
        "state": replay.projection_state(name),
    });
    Out::new().json(&output)?;
    Ok(Outcome::Success)
}

fn verify(args: &VerifyArgs, opts: &OpenArgs, domain: &Arc<dyn Domain>) -> Result<Outcome> {
    let source = open(&args.store, opts)?;
    let location = source.location();
    let skipped = source.skipped().len();
    if skipped > 0 && !args.allow_skipped {
        bail!(
            "{skipped} record(s) of {location} could not be read, so a verdict would cover only part of the store \
             (the reasons are above; --allow-skipped verifies what was read)"
        );
    }
    let started = Instant::now();
    let replay = crate::pipeline::replay_all(source.as_ref(), Arc::clone(domain))?;
    let elapsed = started.elapsed();
    if replay.event_count() == 0 {
        bail!(
            "replayed no events from {location}: there is nothing to verify{}",
            if skipped > 0 { " (every record was skipped)" } else { "" }
        );
    }
    // A plug-in's fold must not depend on anything but the events and the state.
    let unsteady = if domain.batch_folds().is_empty() {
        Vec::new()
    } else {
        determinism(source.as_ref(), domain)?
    };
    let (integrity, notes): (Vec<&ReplayIssue>, Vec<&ReplayIssue>) = replay
        .issues()
        .iter()
        .partition(|issue| issue.severity() == Severity::Integrity);
    let mut out = Out::new();
    if opts.json {
        out.json(&json!({
            "events": replay.event_count(),
            "skipped": skipped,
            "integrity_issues": integrity.len(),
            "notes": notes.len(),
            "issues": replay.issues(),
        }))?;
    } else {
        let listed = if args.notes {
            replay.issues().iter().collect()
        } else {
            integrity.clone()
        };
        for issue in listed {
            writeln!(
                out,
                "{:>10}  {:<16} {:<20} {}",
                issue.position,
                issue.stream_id,
                issue.kind.label(),
                issue.message
            )?;
            if out.is_closed() {
                break;
            }
        }
    }
    let count = replay.event_count();
    eprintln!(
        "rewind: replayed {count} events in {:.2} s ({:.0} events/s): {} issue(s), {} note(s)",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64().max(1e-9),
        integrity.len(),
        notes.len()
    );
    if !notes.is_empty() && !args.notes && !opts.json {
        eprintln!(
            "rewind: the notes are clock oddities (time that goes backwards within a stream), not failures: \
             --notes lists them, --fail-on-notes fails on them"
        );
    }
    if skipped > 0 {
        eprintln!("rewind: {skipped} record(s) were skipped (--allow-skipped): this verdict covers the rest");
    }
    if let Some(doubt) = crate::pipeline::mapping_doubt(source.as_ref(), replay.issues(), replay.event_count()) {
        eprintln!("rewind: {doubt}");
    }
    for line in &unsteady {
        eprintln!("rewind: {line}");
    }
    let failed = !integrity.is_empty() || !unsteady.is_empty() || (args.fail_on_notes && !notes.is_empty());
    Ok(if failed { Outcome::IssuesFound } else { Outcome::Success })
}

/// Streams a plug-in folds, sampled for the determinism check.
const DETERMINISM_SAMPLES: usize = 25;

/// For domains that fold in a plug-in: each sampled stream's state at a random event, folded
/// from the plug-in's own checkpoint, equals a full replay of the stream up to that event. A
/// fold that reads the clock, draws random numbers or depends on a hash map's order fails it.
/// Returns what differed, a line each.
fn determinism(source: &dyn EventSource, domain: &Arc<dyn Domain>) -> Result<Vec<String>> {
    use rand::{Rng, SeedableRng};
    let progress = crate::pipeline::Progress::default();
    // Checkpoints every few events, so that short streams have some to fold from.
    let Some(engine) = crate::pipeline::build_engine_with(source, Arc::clone(domain), &progress, Some(4))? else {
        bail!("the determinism check was cancelled");
    };
    let index = engine.index();
    let interval = engine.config().stream_interval;
    let candidates: Vec<rewind_engine::StreamIdx> = (0..index.stream_count() as rewind_engine::StreamIdx)
        .filter(|&s| engine.folded_elsewhere(s) && index.stream(s).is_some_and(|e| e.ordinals.len() > interval))
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let fetch = crate::fetch::StoreFetch(source);
    let mut differ = Vec::new();
    for _ in 0..DETERMINISM_SAMPLES.min(candidates.len()) {
        let stream = candidates[rng.random_range(0..candidates.len())];
        let Some(entry) = index.stream(stream) else { continue };
        let at = rng.random_range(interval..entry.ordinals.len());
        let ordinal = entry.ordinals[at] as usize;
        let version = u64::from(index.headers()[ordinal].stream_version);
        let from_checkpoint = engine
            .aggregate_at(stream, Some(ordinal), &fetch)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .map(|a| a.state);
        let events = source.read_stream(entry.stream_id, Some(version))?;
        let full = domain
            .replay_stream(&events)
            .into_iter()
            .rev()
            .find_map(|step| step.state.ok());
        if from_checkpoint != full {
            differ.push(format!(
                "the plug-in is not deterministic: {} at version {version} is {} folded from its checkpoint but {} folded from the start (does its fold read the clock, draw random numbers, or depend on a hash map's order?)",
                entry.stream_id,
                canonical(from_checkpoint.as_ref()),
                canonical(full.as_ref())
            ));
        }
    }
    Ok(differ)
}

/// A state as JSON with its keys in order, to compare by eye.
fn canonical(state: Option<&Value>) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    state.map_or_else(|| "nothing".to_owned(), |s| sorted(s).to_string())
}

fn evidence(args: &EvidenceArgs, opts: &OpenArgs, domain: Arc<dyn Domain>) -> Result<Outcome> {
    let source = open(&args.store, opts)?;
    let until = until(args.position, args.at);
    let written = crate::evidence::write(source.as_ref(), domain, &args.stream, until, &args.out, false)
        .map_err(anyhow::Error::msg)?;
    eprintln!(
        "rewind: wrote the evidence for {} ({} events, {} issue(s)) to {}",
        args.stream,
        written.events,
        written.issues,
        args.out.display()
    );
    Ok(Outcome::Success)
}

fn export(path: &StoreLocation, out: &Path, opts: &OpenArgs) -> Result<Outcome> {
    let source = open(path, opts)?;
    let mut not_json = NotJson::default();
    let count = export_ndjson(source.as_ref(), out, &mut |batch| not_json.look(batch))?;
    not_json.report();
    eprintln!("rewind: wrote {count} events to {}", out.display());
    Ok(Outcome::Success)
}

/// Payloads and metadata that are not JSON, met by an export or an import: each is written as a
/// JSON string of its text, so nothing is lost, and the user is told which, by position, since
/// the copy no longer shows it (a replay of the copy finds a string, not an error).
#[derive(Default)]
struct NotJson {
    count: u64,
    first: Vec<String>,
}

impl NotJson {
    /// The cases listed by position; the rest are counted.
    const LISTED: usize = 20;

    /// Looks at events already written. An export wrote these very events, which parsed their
    /// payloads, so only what is not JSON is parsed again, for the reason; an import wrote copies,
    /// so each payload and metadata not checked yet is checked here (a parse without a tree).
    fn look(&mut self, events: &[RecordedEvent]) {
        for event in events {
            for (part, payload) in [("payload", &event.data), ("metadata", &event.metadata)] {
                if let Err(error) = payload.check() {
                    self.count += 1;
                    if self.first.len() < Self::LISTED {
                        self.first.push(format!(
                            "position {} ({}): the {part} is not JSON: {error}",
                            event.global_position, event.stream_id
                        ));
                    }
                }
            }
        }
    }

    fn report(&self) {
        if self.count == 0 {
            return;
        }
        for line in &self.first {
            eprintln!("rewind: {line}");
        }
        if self.count > self.first.len() as u64 {
            eprintln!("rewind: … and {} more", self.count - self.first.len() as u64);
        }
        eprintln!(
            "rewind: {} payload(s) or metadata that are not JSON were written as JSON strings of their text",
            self.count
        );
    }
}

fn import(path: &StoreLocation, out: &Path, opts: &OpenArgs) -> Result<Outcome> {
    if out.exists() {
        bail!("{} already exists; importing never overwrites a store", out.display());
    }
    let source = open(path, opts)?;
    let mut store = SqliteStore::create_for_bulk_load(out)?;
    let mut count = 0;
    let mut not_json = NotJson::default();
    let written = source.read_all(8192, &mut |batch| {
        count += batch.len();
        store.insert_recorded(batch)?;
        not_json.look(batch);
        Ok(())
    });
    if let Err(error) = written.and_then(|()| store.finish_bulk_load()) {
        // A half-written store is worse than none.
        let _ = std::fs::remove_file(out);
        return Err(error).with_context(|| format!("cannot import {} into {}", source.location(), out.display()));
    }
    not_json.report();
    eprintln!("rewind: imported {count} events into {}", out.display());
    Ok(Outcome::Success)
}

fn sample_config(args: &SampleArgs) -> SampleConfig {
    SampleConfig {
        seed: args.seed,
        accounts: args.accounts,
        orders: args.orders,
        days: args.days,
        events: args.events,
        clean: args.clean,
    }
}

/// The sample into PostgreSQL: Rewind's own `events` table, bulk-loaded with `COPY`, keys and
/// indexes added at the end.
fn sample_postgres(args: &SampleArgs, url: &str) -> Result<()> {
    let started = Instant::now();
    let mut writer = rewind_store::PostgresWriter::create(url, args.force)?;
    let summary = generate(&sample_config(args), |batch| -> anyhow::Result<()> {
        let encoded: Vec<EncodedEvent> = batch.into_iter().map(EncodedEvent::new).collect();
        Ok(writer.write_encoded(&encoded)?)
    })?;
    let written = writer.finish()?;
    eprintln!(
        "rewind: wrote {written} events to {} in {:.2} s{}",
        rewind_store::redact(url),
        started.elapsed().as_secs_f64(),
        summary
            .incident
            .as_ref()
            .map(|i| format!("; planted incident at position {}", i.duplicate_position))
            .unwrap_or_default()
    );
    Ok(())
}

fn sample(args: &SampleArgs) -> Result<Outcome> {
    if let Some(url) = &args.postgres {
        sample_postgres(args, url)?;
        if args.out.is_none() {
            return Ok(Outcome::Success);
        }
    }
    let Some(out) = &args.out else {
        return Ok(Outcome::Success);
    };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create directory {}", out.display()))?;
    let sqlite_path = out.join("bank.sqlite");
    let ndjson_path = out.join("bank.ndjson");
    for path in [&sqlite_path, &ndjson_path] {
        if path.exists() {
            if !args.force {
                bail!("{} already exists; pass --force to overwrite it", path.display());
            }
            std::fs::remove_file(path).with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    let config = sample_config(args);
    let started = Instant::now();
    let store = SqliteStore::create_for_bulk_load(&sqlite_path)?;
    let file =
        std::fs::File::create(&ndjson_path).with_context(|| format!("cannot create {}", ndjson_path.display()))?;
    let mut ndjson = NdjsonWriter::new(std::io::BufWriter::with_capacity(1 << 20, file), &ndjson_path);
    // Two cores: this thread generates and writes NDJSON while another inserts into SQLite.
    let (batches, received) = std::sync::mpsc::sync_channel::<Vec<EncodedEvent>>(4);
    let writer = std::thread::Builder::new()
        .name("rewind-sample-sqlite".into())
        .spawn(move || {
            let mut store = store;
            for batch in received {
                store.insert_encoded(&batch)?;
            }
            let indexing = Instant::now();
            store.finish_bulk_load()?;
            Ok::<_, rewind_store::StoreError>(indexing.elapsed())
        })?;
    let generated = generate(&config, |batch| -> anyhow::Result<()> {
        // Each payload is serialized once, for both files.
        let encoded: Vec<EncodedEvent> = batch.into_iter().map(EncodedEvent::new).collect();
        ndjson.write_encoded(&encoded)?;
        batches
            .send(encoded)
            .map_err(|_| anyhow::anyhow!("the SQLite writer stopped"))
    });
    drop(batches);
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the SQLite writer panicked"))?;
    // The writer's own error says why it stopped; report it before the generator's.
    let indexing = written?;
    eprintln!("rewind: built the SQLite indexes in {:.2} s", indexing.as_secs_f64());
    let summary = generated?;
    ndjson.finish()?;
    let elapsed = started.elapsed();
    eprintln!(
        "rewind: wrote {} events ({} accounts, {} orders, {} rejected payments, {} legacy v1 events) to {} and {} in {:.2} s ({:.0} events/s)",
        summary.events,
        summary.accounts,
        summary.orders,
        summary.rejected_payments,
        summary.legacy_events,
        sqlite_path.display(),
        ndjson_path.display(),
        elapsed.as_secs_f64(),
        summary.events as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    if let Some(incident) = &summary.incident {
        eprintln!(
            "rewind: planted incident: {} withdrawn twice from {} (reference {}) at positions {} and {}",
            incident.amount_cents,
            incident.account_id,
            incident.reference,
            incident.first_position,
            incident.duplicate_position
        );
    }
    Out::new().json(&summary)?;
    Ok(Outcome::Success)
}
