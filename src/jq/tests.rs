use super::*;
use serde_json::json;

const L: Limits = Limits::REVIEWED;

#[test]
fn evaluates_truthiness_of_first_output() {
    let jq = Jq::compile(".spec.owner != null").unwrap();
    assert!(jq.test(&json!({"spec": {"owner": "team-a"}}), &L).unwrap());
    assert!(!jq.test(&json!({"spec": {}}), &L).unwrap());
    let jq = Jq::compile(".jobs | length").unwrap();
    assert!(jq.test(&json!({"jobs": {"a": 1}}), &L).unwrap());
    assert!(!Jq::compile("empty").unwrap().test(&json!(1), &L).unwrap());
}

#[test]
fn reports_syntax_errors_with_offsets() {
    let err = Jq::compile(".a | ]").unwrap_err();
    assert_eq!(err.offset, 5, "{err:?}");
    let err = Jq::compile(".a | nosuchfn").unwrap_err();
    assert_eq!(err.offset, 5);
    assert!(err.message.contains("nosuchfn"), "{}", err.message);
}

#[test]
fn first_output_is_json() {
    let jq = Jq::compile(".metadata.annotations[\"a/b\"]").unwrap();
    assert_eq!(jq.first(&json!({"metadata": {"annotations": {"a/b": "x y"}}}), &L).unwrap(), Some(json!("x y")));
    assert_eq!(Jq::compile(".n").unwrap().first(&json!({"n": 2.5}), &L).unwrap(), Some(json!(2.5)));
    assert_eq!(Jq::compile("empty").unwrap().first(&json!({}), &L).unwrap(), None);
}

#[test]
fn environment_log_and_exit_are_not_reachable() {
    for program in ["env.HOME", "$ENV", "debug", "stderr", "halt", "halt_error(1)", "input", "debug(\"x\")"] {
        assert!(Jq::compile(program).is_err(), "{program} compiles");
    }
}

#[test]
fn runtime_errors_are_reported_not_panicked() {
    let jq = Jq::compile(".a + 1").unwrap();
    assert!(matches!(jq.test(&json!({"a": "x"}), &L), Err(EvalError::Program(_))));
}

#[test]
fn range_still_counts_as_jq_defines_it() {
    let jq = Jq::compile("[range(5)], [range(1; 10; 3)], [range(5; 0; -2)], [range(0; 1; 0)] | length").unwrap();
    assert_eq!(Jq::compile("[range(5)]").unwrap().first(&json!(null), &L).unwrap(), Some(json!([0, 1, 2, 3, 4])));
    assert_eq!(Jq::compile("[range(1; 10; 3)]").unwrap().first(&json!(null), &L).unwrap(), Some(json!([1, 4, 7])));
    assert_eq!(Jq::compile("[range(5; 0; -2)]").unwrap().first(&json!(null), &L).unwrap(), Some(json!([5, 3, 1])));
    assert!(jq.test(&json!(null), &L).unwrap());
}

fn limit_of(program: &str, limits: &Limits) -> String {
    let jq = Jq::compile(program).unwrap_or_else(|e| panic!("{program}: {e}"));
    match jq.first(&json!({"a": 1}), limits) {
        Err(EvalError::Limit(reason)) => reason,
        other => panic!("{program} was not stopped: {other:?}"),
    }
}

#[test]
fn recursion_is_stopped_at_the_depth_limit() {
    for program in ["def f: [f]; f", "def f: 1 + f; f", "def f: {a: f}; f"] {
        let reason = limit_of(program, &Limits { time_ms: 600_000, ..L });
        assert!(reason.contains("recursed too deeply"), "{program}: {reason}");
    }
}

#[test]
fn loops_are_stopped_by_steps_or_time() {
    let tight = Limits { steps: 200_000, time_ms: 600_000, ..L };
    for program in ["def f: f; f", "last(range(1e12))", "until(false; .)", "reduce range(1e12) as $x (0; . + $x)"] {
        let reason = limit_of(program, &tight);
        assert!(reason.contains("200000 evaluation steps"), "{program}: {reason}");
    }
    let quick = Limits { steps: u64::MAX, time_ms: 100, ..L };
    let started = std::time::Instant::now();
    let reason = limit_of("def f: f; f", &quick);
    assert!(reason.contains("time limit of 100 ms"), "{reason}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn collecting_an_endless_range_is_stopped_before_memory_runs_out() {
    let reason = limit_of("[range(1e12)]", &Limits { steps: 1_000_000, time_ms: 600_000, ..L });
    assert!(reason.contains("evaluation steps"), "{reason}");
}

#[test]
fn large_outputs_are_refused() {
    let reason = limit_of("\"a\" * 2000", &Limits { output_bytes: 1000, ..L });
    assert!(reason.contains("returned more than"), "{reason}");
}
