//! The child process: started without a shell, spoken to over its stdin and stdout on threads
//! of their own, its stderr kept (the last lines) to say what went wrong.
//!
//! Rewind writes requests on one thread and reads answers on another: a plug-in that writes
//! to its stdout synchronously (Node.js does, to a pipe) would otherwise deadlock with Rewind
//! writing to its stdin. Answers are matched to requests by id; every wait has a deadline.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError, channel, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Lines of the plug-in's stderr kept, the last ones.
const STDERR_LINES: usize = 40;
/// Requests queued for the writing thread before a sender waits.
const QUEUED: usize = 8;

/// An answer: its line (JSON with an id), or why there is none.
pub type Reply = Result<String, String>;

/// What the reading thread dispatches answers to, and why the connection ended if it did.
#[derive(Default)]
struct Shared {
    waiting: HashMap<u64, Sender<Reply>>,
    /// Why the connection can no longer be used.
    ended: Option<String>,
}

impl Shared {
    /// Ends the connection: every request waiting, and every one to come, gets `why`.
    fn end(&mut self, why: &str) {
        if self.ended.is_none() {
            self.ended = Some(why.to_owned());
        }
        let why = self.ended.clone().unwrap_or_default();
        for (_, waiting) in self.waiting.drain() {
            let _ = waiting.send(Err(why.clone()));
        }
    }
}

/// A started plug-in process.
pub struct Connection {
    /// The command as given, for messages.
    pub command: String,
    child: Mutex<Child>,
    to_child: SyncSender<Vec<u8>>,
    shared: Arc<Mutex<Shared>>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// The stderr thread has read to the end.
    stderr_done: Arc<std::sync::atomic::AtomicBool>,
    /// Rewind stopped the process (its exit status then says nothing about the plug-in).
    stopped: std::sync::atomic::AtomicBool,
    next_id: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connection {
    /// Starts `command` (split like a shell would, without one): its environment is Rewind's
    /// without the `PG*` variables, so no database password reaches it.
    pub fn start(command: &str) -> Result<Self, String> {
        let words = shlex::split(command).ok_or_else(|| format!("cannot split the plug-in command `{command}`"))?;
        let (program, args) = words
            .split_first()
            .ok_or_else(|| "the plug-in command is empty".to_owned())?;
        let mut process = Command::new(program);
        process
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PG") {
                process.env_remove(name);
            }
        }
        let mut child = process
            .spawn()
            .map_err(|e| format!("cannot start the plug-in `{command}`: {e}"))?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err(format!("cannot talk to the plug-in `{command}`: its pipes are missing"));
        };
        let shared = Arc::new(Mutex::new(Shared::default()));
        let kept = Arc::new(Mutex::new(VecDeque::new()));
        let (to_child, lines) = sync_channel::<Vec<u8>>(QUEUED);
        spawn("rewind-plugin-stdin", {
            let shared = Arc::clone(&shared);
            move || write_lines(stdin, &lines, &shared)
        })?;
        spawn("rewind-plugin-stdout", {
            let shared = Arc::clone(&shared);
            move || read_answers(stdout, &shared)
        })?;
        let stderr_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        spawn("rewind-plugin-stderr", {
            let kept = Arc::clone(&kept);
            let done = Arc::clone(&stderr_done);
            move || {
                keep_stderr(stderr, &kept);
                done.store(true, Ordering::Release);
            }
        })?;
        Ok(Self {
            command: command.to_owned(),
            child: Mutex::new(child),
            to_child,
            shared,
            stderr: kept,
            stderr_done,
            stopped: std::sync::atomic::AtomicBool::new(false),
            next_id: AtomicU64::new(1),
        })
    }

    /// A request id, never used before on this connection.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends `line` (a request with `id`, ending in a newline) and returns where its answer
    /// will come; gives up after `timeout` if the plug-in does not read it.
    pub fn send(&self, id: u64, line: Vec<u8>, timeout: Duration) -> Result<Receiver<Reply>, String> {
        let (answer, receiver) = channel();
        {
            let mut shared = lock(&self.shared);
            if let Some(why) = &shared.ended {
                return Err(why.clone());
            }
            shared.waiting.insert(id, answer);
        }
        let deadline = Instant::now() + timeout;
        let mut line = line;
        loop {
            match self.to_child.try_send(line) {
                Ok(()) => return Ok(receiver),
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    line = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(TrySendError::Full(_)) => {
                    let why = format!("the plug-in did not read its input for {} s", timeout.as_secs());
                    self.end(&why);
                    return Err(why);
                }
                Err(TrySendError::Disconnected(_)) => {
                    let why = self.ended().unwrap_or_else(|| "the plug-in's input is closed".into());
                    return Err(why);
                }
            }
        }
    }

    /// Waits for an answer, at most `timeout`; a plug-in that does not answer in time is
    /// stopped.
    pub fn wait(&self, receiver: &Receiver<Reply>, timeout: Duration) -> Reply {
        match receiver.recv_timeout(timeout) {
            Ok(reply) => reply,
            Err(RecvTimeoutError::Timeout) => {
                let why = format!("the plug-in did not answer within {} s", timeout.as_secs());
                self.end(&why);
                Err(why)
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.ended().unwrap_or_else(|| "the plug-in is gone".into())),
        }
    }

    /// Why the connection ended, if it did.
    pub fn ended(&self) -> Option<String> {
        lock(&self.shared).ended.clone()
    }

    /// Stops the plug-in: every waiting request gets `why`.
    pub fn end(&self, why: &str) {
        lock(&self.shared).end(why);
        let mut child = lock(&self.child);
        // A process whose output just closed is exiting: let it, so its status says how.
        for _ in 0..20 {
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if matches!(child.try_wait(), Ok(None)) {
            self.stopped.store(true, Ordering::Release);
            let _ = child.kill();
        }
        let _ = child.wait();
    }

    /// The last lines the plug-in wrote to its stderr. Once it has ended, what it wrote last
    /// is waited for a moment (its pipe is read on another thread).
    pub fn stderr_tail(&self) -> Vec<String> {
        if self.ended().is_some() {
            for _ in 0..40 {
                if self.stderr_done.load(Ordering::Acquire) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        lock(&self.stderr).iter().cloned().collect()
    }

    /// How the process ended, if it has: `exit status: 1`, `signal: 9`. A process whose output
    /// just closed is given a moment to be reaped.
    pub fn exit_status(&self) -> Option<String> {
        if self.stopped.load(Ordering::Acquire) {
            return None;
        }
        for _ in 0..20 {
            if let Some(status) = lock(&self.child).try_wait().ok().flatten() {
                return Some(status.to_string());
            }
            // A process still running is not waited for.
            self.ended()?;
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Ask politely first: a plug-in reading `bye` exits by itself.
        let _ = self.to_child.try_send(b"{\"id\":0,\"type\":\"bye\"}\n".to_vec());
        let mut child = lock(&self.child);
        for _ in 0..50 {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn spawn(name: &str, work: impl FnOnce() + Send + 'static) -> Result<(), String> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .map(drop)
        .map_err(|e| format!("cannot start a thread for the plug-in: {e}"))
}

/// The writing thread: each line as it comes, until the connection is dropped.
fn write_lines(mut stdin: ChildStdin, lines: &Receiver<Vec<u8>>, shared: &Mutex<Shared>) {
    for line in lines {
        if let Err(e) = stdin.write_all(&line).and_then(|()| stdin.flush()) {
            lock(shared).end(&format!("cannot write to the plug-in: {e}"));
            return;
        }
    }
}

/// The reading thread: each line is an answer, given to the request with its id.
fn read_answers(stdout: std::process::ChildStdout, shared: &Mutex<Shared>) {
    let mut reader = BufReader::with_capacity(1 << 16, stdout);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => {
                lock(shared).end("the plug-in exited");
                return;
            }
            Ok(_) => {}
            Err(e) => {
                lock(shared).end(&format!("cannot read the plug-in's answers: {e}"));
                return;
            }
        }
        if line.trim().is_empty() {
            continue;
        }
        // Only the id is read here; the request's owner reads the rest, once.
        let id = match serde_json::from_str::<Id>(&line) {
            Ok(Id { id: Some(id) }) => id,
            Err(e) if e.is_syntax() || e.is_eof() => {
                lock(shared).end(&format!(
                    "the plug-in wrote a line that is not JSON ({e}): `{}`",
                    clip(line.trim_end())
                ));
                return;
            }
            Ok(Id { id: None }) | Err(_) => {
                lock(shared).end(&format!(
                    "the plug-in wrote an answer without an id: `{}`",
                    clip(line.trim_end())
                ));
                return;
            }
        };
        let waiting = lock(shared).waiting.remove(&id);
        let Some(waiting) = waiting else {
            lock(shared).end(&format!("the plug-in answered request {id}, which nobody asked"));
            return;
        };
        let _ = waiting.send(Ok(std::mem::take(&mut line)));
    }
}

/// An answer's id, read without the rest of the line.
#[derive(serde::Deserialize)]
struct Id {
    id: Option<u64>,
}

/// The stderr thread: keeps the last lines.
fn keep_stderr(stderr: std::process::ChildStderr, kept: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { return };
        let mut kept = lock(kept);
        if kept.len() == STDERR_LINES {
            kept.pop_front();
        }
        kept.push_back(line);
    }
}

/// The start of a long text, for a message.
pub fn clip(text: &str) -> String {
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text.to_owned()
    }
}
