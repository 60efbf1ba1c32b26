//! Parley's developer commands. Each installs what it needs first (pinned, idempotent).
//!
//! - `cargo xtask dev`: install, build the workers, apply local D1 migrations, seed the demo
//!   org, and serve the app at http://127.0.0.1:8787 with state under `.state/`
//!   (`--port`, `--issuer-port` and `--state` change those).
//! - `cargo xtask test`: install, then run every test layer.
//! - `cargo xtask bench`: run the benchmarks and write `docs/BENCHMARKS.md`.
//! - `cargo xtask wrangler ARGS...`: the pinned wrangler under the pinned Node 22.
//! - `cargo xtask restore list|verify|restore ...`: the backup restore script
//!   (`tools/restore.mjs`; see `docs/RUNBOOK.md`).
//! - `cargo xtask build-worker <orchestrator|agents|chat|workspace>`: the `[build]` command in each
//!   `wrangler.toml`; rebuilds only when sources changed.

mod build;
mod install;
mod run;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dev") => run::DevOptions::parse(&args[1..]).and_then(|opts| run::dev(&opts)),
        Some("test") => run::test(&args[1..]),
        Some("bench") => run::bench(),
        Some("wrangler") => run::wrangler_passthrough(&args[1..]),
        Some("restore") => run::restore(&args[1..]),
        Some("install") => install::all(install::Scope::Test).map(|_| ()),
        Some("build-worker") => match args.get(1) {
            Some(name) => install::all(install::Scope::Build).and_then(|tools| build::worker(&tools, name, false)),
            None => Err("usage: cargo xtask build-worker <orchestrator|agents|chat|workspace>".into()),
        },
        _ => Err("usage: cargo xtask <dev [--port N] [--issuer-port N] [--state DIR]|test [LAYER...]|bench|install|wrangler ARGS|restore ARGS|build-worker NAME>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
