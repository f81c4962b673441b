//! The jq sandbox: worker processes that evaluate expressions for this one, so that a program the in-process
//! budget cannot stop in time (one operation that allocates gigabytes, a native recursion over a deeply nested
//! value) ends a worker instead of the App.
//!
//! A worker is this same executable started with [`SANDBOX_ARG`]. It caps its own address space
//! ([`MEMORY_LIMIT`] above what it uses when idle), reads one request per line on stdin (the program, its input,
//! its limits) and writes one answer per line on stdout. Workers are started on demand, kept while idle (a few),
//! and killed when an evaluation runs past its time limit; one that dies is replaced by the next request. A program
//! that exceeded a limit is not run again by this process under the same limits (the policy must change first), so a hostile policy costs
//! one time limit per expression, not one per repository.

use super::budget::{self, THREAD_STACK};
use super::{Answer, EvalError, Jq, Limits, Want};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The first argument that makes `shipshape` a jq worker.
pub const SANDBOX_ARG: &str = "__jq-sandbox";

/// Memory a worker may allocate beyond what it holds when idle.
pub const MEMORY_LIMIT: u64 = 256 << 20;

/// Largest request (program and input as JSON) or answer line.
const LINE_LIMIT: u64 = 32 << 20;

/// Time allowed beyond an evaluation's own limit (for the request to travel) before the worker is killed.
const GRACE: Duration = Duration::from_millis(500);

/// Idle workers kept for the next evaluations.
const KEEP_IDLE: usize = 4;

/// Programs remembered as having exceeded a limit.
const QUARANTINE_SIZE: usize = 1024;

/// Expressions compiled by one worker and kept for later requests.
const COMPILED_CACHE: usize = 256;

static SANDBOX: OnceLock<Sandbox> = OnceLock::new();

/// Runs every later evaluation of this process in worker processes of `exe` (the `shipshape` binary). Returns
/// `false` when a sandbox was already set up (the first one stays).
pub fn use_sandbox(exe: PathBuf) -> bool {
    SANDBOX.set(Sandbox { exe, idle: Mutex::new(Vec::new()), quarantine: Mutex::new(HashMap::new()) }).is_ok()
}

pub(super) fn installed() -> Option<&'static Sandbox> {
    SANDBOX.get()
}

#[derive(Serialize)]
struct Request<'a> {
    program: &'a str,
    input: &'a serde_json::Value,
    limits: Limits,
    want: Want,
}

#[derive(Deserialize)]
struct OwnedRequest {
    program: String,
    input: serde_json::Value,
    limits: Limits,
    want: Want,
}

pub(super) struct Sandbox {
    exe: PathBuf,
    idle: Mutex<Vec<Worker>>,
    quarantine: Mutex<HashMap<(String, Limits), String>>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Vec<u8>>,
    stderr: Option<ChildStderr>,
}

impl Sandbox {
    pub(super) fn eval(
        &self,
        program: &str,
        input: &serde_json::Value,
        limits: &Limits,
        want: Want,
    ) -> Result<Answer, EvalError> {
        let key = (program.to_string(), *limits);
        if let Some(reason) = self.quarantine.lock().expect("quarantine lock").get(&key) {
            return Err(EvalError::Limit(format!("{reason} on an earlier input; it is not run again")));
        }
        let outcome = self.ask(program, input, limits, want);
        if let Err(EvalError::Limit(reason)) = &outcome {
            let mut quarantine = self.quarantine.lock().expect("quarantine lock");
            if quarantine.len() < QUARANTINE_SIZE {
                quarantine.insert(key, reason.clone());
            }
        }
        outcome
    }

    fn ask(&self, program: &str, input: &serde_json::Value, limits: &Limits, want: Want) -> Result<Answer, EvalError> {
        let mut line = serde_json::to_vec(&Request { program, input, limits: *limits, want })
            .map_err(|e| EvalError::Limit(format!("cannot send the input to the jq sandbox: {e}")))?;
        if line.len() as u64 >= LINE_LIMIT {
            return Err(EvalError::Limit(format!("the input is larger than {} MiB", LINE_LIMIT >> 20)));
        }
        line.push(b'\n');
        let mut worker = self.take()?;
        if worker.stdin.write_all(&line).and_then(|()| worker.stdin.flush()).is_err() {
            return Err(worker.death());
        }
        match worker.lines.recv_timeout(limits.time() + GRACE) {
            Ok(answer) => {
                let answer: Result<Answer, EvalError> = serde_json::from_slice(&answer)
                    .map_err(|_| EvalError::Limit("the jq sandbox gave an answer that cannot be read".into()))?;
                self.give_back(worker);
                answer
            }
            Err(RecvTimeoutError::Timeout) => {
                worker.kill();
                Err(EvalError::Limit(format!(
                    "jq program exceeded its time limit of {}",
                    budget::millis(limits.time_ms)
                )))
            }
            Err(RecvTimeoutError::Disconnected) => Err(worker.death()),
        }
    }

    fn take(&self) -> Result<Worker, EvalError> {
        if let Some(worker) = self.idle.lock().expect("idle lock").pop() {
            return Ok(worker);
        }
        Worker::start(&self.exe).map_err(|e| EvalError::Limit(format!("cannot start the jq sandbox: {e}")))
    }

    fn give_back(&self, worker: Worker) {
        let mut idle = self.idle.lock().expect("idle lock");
        if idle.len() < KEEP_IDLE {
            idle.push(worker);
        } else {
            drop(idle);
            worker.kill();
        }
    }
}

impl Worker {
    fn start(exe: &PathBuf) -> std::io::Result<Worker> {
        let mut child = Command::new(exe)
            .arg(SANDBOX_ARG)
            .env_clear()
            .env("MALLOC_ARENA_MAX", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take();
        let (send, lines) = mpsc::channel();
        std::thread::Builder::new().name("jq-sandbox-reader".into()).spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match reader.by_ref().take(LINE_LIMIT).read_until(b'\n', &mut line) {
                    Ok(n) if n > 0 && line.ends_with(b"\n") && send.send(line).is_ok() => {}
                    _ => return,
                }
            }
        })?;
        Ok(Worker { child, stdin, lines, stderr })
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Why the worker ended, from its exit and what it printed (Rust's own messages for a failed allocation or
    /// an overflowed stack).
    fn death(mut self) -> EvalError {
        let _ = self.child.kill();
        let status = self.child.wait();
        let mut said = String::new();
        if let Some(stderr) = self.stderr.take() {
            let _ = stderr.take(16 << 10).read_to_string(&mut said);
        }
        EvalError::Limit(if said.contains("memory allocation") {
            format!("jq program exceeded the memory limit of {} MiB", MEMORY_LIMIT >> 20)
        } else if said.contains("overflowed its stack") {
            "jq program recursed too deeply (its sandbox ran out of stack)".to_string()
        } else {
            match status {
                Ok(status) => format!("the jq sandbox stopped ({status})"),
                Err(e) => format!("the jq sandbox stopped: {e}"),
            }
        })
    }
}

/// The worker: `shipshape __jq-sandbox`. Serves requests until stdin closes.
pub fn worker_main() -> ExitCode {
    let serve = std::thread::Builder::new().name("jq".into()).stack_size(THREAD_STACK).spawn(|| {
        limit_memory();
        serve(std::io::stdin().lock(), std::io::stdout().lock())
    });
    match serve.map(|thread| thread.join()) {
        Ok(Ok(Ok(()))) => ExitCode::SUCCESS,
        _ => ExitCode::from(70),
    }
}

/// Caps the address space at what the worker holds now plus [`MEMORY_LIMIT`]; an allocation past it fails, and
/// the worker ends (Rust aborts on a failed allocation).
fn limit_memory() {
    let now = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map(|kib| kib * 1024);
    if let Some(now) = now {
        let cap = now + MEMORY_LIMIT;
        let _ = rlimit::setrlimit(rlimit::Resource::AS, cap, cap);
    }
}

fn serve(input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    let mut compiled: HashMap<String, Jq> = HashMap::new();
    let mut input = input.take(LINE_LIMIT);
    loop {
        let mut line = Vec::new();
        input.set_limit(LINE_LIMIT);
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let answer = match serde_json::from_slice::<OwnedRequest>(&line) {
            Ok(request) => answer(&mut compiled, request),
            Err(e) => Err(EvalError::Limit(format!("the jq sandbox cannot read the request: {e}"))),
        };
        let mut reply =
            serde_json::to_vec(&answer).unwrap_or_else(|_| b"{\"Err\":{\"Limit\":\"unreadable\"}}".to_vec());
        reply.push(b'\n');
        output.write_all(&reply)?;
        output.flush()?;
    }
}

fn answer(compiled: &mut HashMap<String, Jq>, request: OwnedRequest) -> Result<Answer, EvalError> {
    if !compiled.contains_key(&request.program) {
        if compiled.len() >= COMPILED_CACHE {
            compiled.clear();
        }
        let jq = Jq::compile(&request.program).map_err(|e| EvalError::Program(e.message))?;
        compiled.insert(request.program.clone(), jq);
    }
    let jq = &compiled[&request.program];
    budget::run(&jq.filter, super::to_val(&request.input), &request.limits, request.want)
}
