fn main() -> std::process::ExitCode {
    // A jq worker (see `shipshape::jq`): this same binary, started by the process that evaluates policies.
    if std::env::args_os().nth(1).is_some_and(|arg| arg == shipshape::jq::SANDBOX_ARG) {
        return shipshape::jq::worker_main();
    }
    if let Ok(exe) = std::env::current_exe() {
        shipshape::jq::use_sandbox(exe);
    }
    shipshape::cli::main()
}
