//! Metered evaluation: every term jaq evaluates asks the data type for its lookup table, and that is where the
//! budget is charged. A step over the limit, a deadline passed or a stack grown too deep unwinds the evaluation
//! with an [`Exceeded`] payload (a panic that carries no message and is caught right here), so the program stops
//! wherever it is, in a loop or a recursion, without cooperation from it.

use super::{Answer, EvalError, Limits, Want};
use jaq_core::data::HasLut;
use jaq_core::native::{Fun, v};
use jaq_core::{Ctx, DataT, Exn, Lut, Native, ValT, ValXs, Vars, compile};
use jaq_json::Val;
use std::cell::Cell;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::time::Instant;

/// The stack an evaluation thread gets: room for the recursion limit and for native code between two checks.
pub(crate) const THREAD_STACK: usize = 64 << 20;

/// How often (in steps) the clock is read.
const CLOCK_EVERY: u64 = 1024;

/// jaq's data kind for metered runs: values are JSON values, the global data is the table plus the budget.
pub struct Fuel;

impl DataT for Fuel {
    type V<'a> = Val;
    type Data<'a> = Meter<'a>;
}

#[derive(Clone)]
pub struct Meter<'a> {
    lut: &'a Lut<Fuel>,
    budget: &'a Budget,
}

impl<'a> HasLut<'a, Fuel> for Meter<'a> {
    fn lut(&self) -> &'a Lut<Fuel> {
        self.budget.charge();
        self.lut
    }
}

/// Why an evaluation was unwound.
#[derive(Debug)]
enum Exceeded {
    Steps(u64),
    Time(u64),
    Depth(usize),
}

pub struct Budget {
    used: Cell<u64>,
    limits: Limits,
    deadline: Instant,
    stack_base: usize,
}

impl Budget {
    fn new(limits: &Limits) -> Self {
        Budget { used: Cell::new(0), limits: *limits, deadline: Instant::now() + limits.time(), stack_base: here() }
    }

    fn charge(&self) {
        let used = self.used.get() + 1;
        self.used.set(used);
        if used > self.limits.steps {
            std::panic::panic_any(Exceeded::Steps(self.limits.steps));
        }
        if used.is_multiple_of(CLOCK_EVERY) && Instant::now() >= self.deadline {
            std::panic::panic_any(Exceeded::Time(self.limits.time_ms));
        }
        if self.stack_base.saturating_sub(here()) > self.limits.stack_bytes {
            std::panic::panic_any(Exceeded::Depth(self.limits.stack_bytes));
        }
    }
}

/// An address on the current stack (the stack grows down on every platform Rust targets here).
#[inline(never)]
fn here() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Native filters that replace unmetered ones: `range/3` yields values without evaluating a term, so
/// `[range(1e12)]` would never be charged.
pub(super) fn funs() -> impl Iterator<Item = Fun<Fuel>> {
    let range: Fun<Fuel> = (
        "range",
        v(3),
        Native::new(|mut cv| {
            let by = cv.0.pop_var();
            let to = cv.0.pop_var();
            let from = cv.0.pop_var();
            let budget = cv.0.data().budget;
            range(from, to, by, budget)
        }),
    );
    [range].into_iter()
}

/// `range($from; $to; $by)` as jq defines it, charging a step per value.
fn range<'a>(from: Val, to: Val, by: Val, budget: &'a Budget) -> ValXs<'a, Val> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let direction = by.partial_cmp(&Val::from(0isize)).unwrap_or(Equal);
    let mut next = Some(Ok::<Val, Exn<'a, Val>>(from));
    Box::new(std::iter::from_fn(move || {
        budget.charge();
        match next.take()? {
            Ok(x) => {
                let go = match direction {
                    Greater => x < to,
                    Less => x > to,
                    Equal => x != to,
                };
                if !go {
                    return None;
                }
                next = Some((x.clone() + by.clone()).map_err(Exn::from));
                Some(Ok(x))
            }
            Err(e) => Some(Err(e)),
        }
    }))
}

/// Runs on a thread of its own with [`THREAD_STACK`], so the recursion limit holds whatever thread asks.
pub(super) fn run_on_own_thread(
    filter: &compile::Filter<Native<Fuel>>,
    input: &serde_json::Value,
    limits: &Limits,
    want: Want,
) -> Result<Answer, EvalError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("jq".into())
            .stack_size(THREAD_STACK)
            .spawn_scoped(scope, || run(filter, super::to_val(input), limits, want))
            .map_err(|e| EvalError::Limit(format!("cannot start a jq evaluation: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(EvalError::Limit("the jq evaluation failed".into())))
    })
}

/// Runs `filter` on `input` on this thread, which must have [`THREAD_STACK`] of stack.
pub(crate) fn run(
    filter: &compile::Filter<Native<Fuel>>,
    input: Val,
    limits: &Limits,
    want: Want,
) -> Result<Answer, EvalError> {
    quiet_unwinds();
    let budget = Budget::new(limits);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let meter = Meter { lut: &filter.lut, budget: &budget };
        let ctx = Ctx::<Fuel>::new(meter, Vars::new([]));
        let mut outputs = filter.id.run((ctx, input));
        outputs.next().map(|output| output.map_err(program_error))
    }));
    let first = match outcome {
        Ok(first) => first,
        Err(payload) => {
            return Err(match payload.downcast::<Exceeded>() {
                Ok(exceeded) => EvalError::Limit(describe(&exceeded)),
                Err(other) => std::panic::resume_unwind(other),
            });
        }
    };
    match (first, want) {
        (None, Want::Truth) => Ok(Answer::Truth(false)),
        (None, Want::First) => Ok(Answer::First(None)),
        (Some(Err(e)), _) => Err(e),
        (Some(Ok(value)), Want::Truth) => Ok(Answer::Truth(value.as_bool())),
        (Some(Ok(value)), Want::First) => Ok(Answer::First(Some(to_json(&value, limits.output_bytes)?))),
    }
}

fn program_error(e: Exn<'_, Val>) -> EvalError {
    match e.get_err() {
        Ok(err) => EvalError::Program(err.to_string()),
        Err(_) => EvalError::Program("the expression stopped early".into()),
    }
}

fn describe(exceeded: &Exceeded) -> String {
    match exceeded {
        Exceeded::Steps(n) => format!("jq program exceeded its limit of {n} evaluation steps"),
        Exceeded::Time(ms) => format!("jq program exceeded its time limit of {}", millis(*ms)),
        Exceeded::Depth(bytes) => {
            format!("jq program recursed too deeply (more than {} MiB of stack)", bytes >> 20)
        }
    }
}

pub(super) fn millis(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{} s", ms / 1000) } else { format!("{ms} ms") }
}

/// A value's JSON text, refused when it grows past `limit` bytes (written piece by piece, so a value that would
/// print as gigabytes stops at the limit).
fn to_json(value: &Val, limit: usize) -> Result<serde_json::Value, EvalError> {
    struct Capped {
        text: String,
        limit: usize,
    }
    impl std::fmt::Write for Capped {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            if self.text.len() + s.len() > self.limit {
                return Err(std::fmt::Error);
            }
            self.text.push_str(s);
            Ok(())
        }
    }
    let mut out = Capped { text: String::new(), limit };
    write!(out, "{value}")
        .map_err(|_| EvalError::Limit(format!("jq program returned more than {} KiB", limit >> 10)))?;
    serde_json::from_str(&out.text)
        .map_err(|_| EvalError::Program("the expression returned a value that is not JSON".into()))
}

/// Unwinds that stop an evaluation are expected: the panic hook stays quiet for them and reports every other.
fn quiet_unwinds() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<Exceeded>().is_none() {
                previous(info);
            }
        }));
    });
}
