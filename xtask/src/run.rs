//! The dev, test and bench commands.

use crate::build;
use crate::install::{self, status, Scope, Tools};
use std::process::Command;

/// Where `cargo xtask dev` keeps local D1, R2 and Durable Object state (git-ignored).
const STATE_DIR: &str = ".state";

fn wrangler(tools: &Tools) -> Command {
    let mut cmd = Command::new(&tools.node);
    cmd.arg(&tools.wrangler)
        .current_dir(&tools.root)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false");
    cmd
}

fn build_all(tools: &Tools) -> Result<(), String> {
    for worker in ["orchestrator", "agents", "chat", "workspace"] {
        build::worker(tools, worker, false)?;
    }
    Ok(())
}

/// Where `cargo xtask dev` serves and keeps its state. The defaults are the README's; the
/// flags (`--port`, `--issuer-port`, `--state`) let the test suite run a second copy beside a
/// developer's (`tests/integration/dev_command.test.mjs`).
#[derive(Debug)]
pub struct DevOptions {
    port: String,
    /// The local development issuer's port (see `tools/dev_issuer.mjs`).
    issuer_port: String,
    state: String,
}

impl DevOptions {
    pub fn parse(args: &[String]) -> Result<DevOptions, String> {
        const USAGE: &str = "usage: cargo xtask dev [--port N] [--issuer-port N] [--state DIR]";
        let mut opts = DevOptions { port: "8787".into(), issuer_port: "8788".into(), state: STATE_DIR.into() };
        let mut rest = args.iter();
        while let Some(flag) = rest.next() {
            let (slot, is_port) = match flag.as_str() {
                "--port" => (&mut opts.port, true),
                "--issuer-port" => (&mut opts.issuer_port, true),
                "--state" => (&mut opts.state, false),
                other => return Err(format!("unknown option `{other}`; {USAGE}")),
            };
            let value = rest.next().ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
            if is_port && value.parse::<u16>().is_err() {
                return Err(format!("{flag}: `{value}` is not a port"));
            }
            *slot = value.clone();
        }
        Ok(opts)
    }
}

pub fn dev(opts: &DevOptions) -> Result<(), String> {
    let tools = install::all(Scope::Build)?;
    build_all(&tools)?;
    let state = opts.state.as_str();
    // CI=true keeps wrangler from asking for confirmation before applying migrations.
    status(wrangler(&tools).args(["d1", "migrations", "apply", "DB", "--local", "--persist-to", state]).env("CI", "true"))?;
    status(wrangler(&tools).args(["d1", "execute", "DB", "--local", "--persist-to", state, "--file", "xtask/sql/dev_seed.sql"]).env("CI", "true"))?;
    // The development issuer's key pair and the local secrets are created once in the state
    // folder; the worker is configured with the issuer's JWKS, exactly as it would be with Clerk's.
    let vars = dev_vars(&tools, opts)?;
    let mut issuer = node(&tools)
        .args(["tools/dev_issuer.mjs", "serve", "--state", state, "--port", &opts.issuer_port])
        .spawn()
        .map_err(|e| format!("starting the development issuer: {e}"))?;
    eprintln!("xtask: Parley is starting at http://127.0.0.1:{} (Ctrl-C to stop); you are signed in as the demo org's admin", opts.port);
    let mut cmd = wrangler(&tools);
    cmd.args([
        "dev",
        "-c",
        "wrangler.toml",
        "-c",
        "workers/agents/wrangler.toml",
        "-c",
        "workers/chat/wrangler.toml",
        "-c",
        "workers/workspace/wrangler.toml",
        "--ip",
        "127.0.0.1",
        "--port",
        &opts.port,
        "--persist-to",
        state,
        "--show-interactive-dev-session=false",
    ]);
    // `wrangler dev` gives `--var` to the first worker only. The others read the secrets their
    // wrangler.toml requires (`[secrets] required`, the chat worker's master key) from the
    // environment, as they would be checked for at `wrangler deploy`.
    for (key, value) in &vars {
        cmd.arg("--var").arg(format!("{key}:{value}"));
        cmd.env(key, value);
    }
    let result = status(&mut cmd);
    let _ = issuer.kill();
    result
}

/// The orchestrator's development settings, as `KEY=VALUE` lines from the issuer script.
fn dev_vars(tools: &Tools, opts: &DevOptions) -> Result<Vec<(String, String)>, String> {
    let out = node(tools)
        .args(["tools/dev_issuer.mjs", "vars", "--state", &opts.state, "--port", &opts.issuer_port])
        .output()
        .map_err(|e| format!("dev settings: {e}"))?;
    if !out.status.success() {
        return Err(format!("dev settings: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect())
}

/// `cargo xtask test [unit|integration|browser]...`: the named layers, or all of them.
pub fn test(layers: &[String]) -> Result<(), String> {
    let want = |name: &str| layers.is_empty() || layers.iter().any(|l| l == name);
    let tools = install::all(Scope::Test)?;
    if want("unit") {
        // Every crate but the worker shells, which only build for wasm32: new pure crates are
        // tested without touching this list.
        let shells = ["parley", "agents", "chat_worker", "workspace_worker", "durable_objects", "runtime_support", "tenancy_store"];
        let mut cmd = Command::new("cargo");
        cmd.args(["test", "--locked", "--workspace"]).current_dir(&tools.root);
        for shell in shells {
            cmd.args(["--exclude", shell]);
        }
        status(&mut cmd)?;
    }
    if want("integration") || want("browser") {
        build_all(&tools)?;
    }
    if want("integration") {
        node_tests(&tools, "tests/integration")?;
    }
    if want("browser") {
        node_tests(&tools, "tests/browser")?;
    }
    Ok(())
}

/// Runs the pinned wrangler with the given arguments (deploys, secrets, remote migrations).
pub fn wrangler_passthrough(args: &[String]) -> Result<(), String> {
    let tools = install::all(Scope::Build)?;
    status(wrangler(&tools).args(args))
}

pub fn bench() -> Result<(), String> {
    let tools = install::all(Scope::Build)?;
    build_all(&tools)?;
    status(node(&tools).arg("tests/bench/run.mjs"))
}

/// The restore script (`tools/restore.mjs`): list, verify and restore backups through the
/// admin API of a running app (the local one by default).
pub fn restore(args: &[String]) -> Result<(), String> {
    let tools = install::all(Scope::Build)?;
    status(node(&tools).arg("tools/restore.mjs").args(args))
}

fn node(tools: &Tools) -> Command {
    let mut cmd = Command::new(&tools.node);
    cmd.current_dir(&tools.root)
        .env("PARLEY_NODE", &tools.node)
        .env("PARLEY_WRANGLER", &tools.wrangler)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false");
    cmd
}

/// Node's test runner over one folder, one file at a time (each file starts its own stack).
fn node_tests(tools: &Tools, dir: &str) -> Result<(), String> {
    let mut files: Vec<String> = std::fs::read_dir(tools.root.join(dir))
        .map_err(|e| format!("{dir}: {e}"))?
        .flatten()
        .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
        .filter(|f| f.ends_with(".test.mjs"))
        .collect();
    files.sort();
    status(node(tools).args(["--test", "--test-concurrency=1", "--test-reporter=spec"]).args(&files))
}

#[cfg(test)]
mod tests {
    use super::DevOptions;

    fn parse(args: &[&str]) -> Result<DevOptions, String> {
        DevOptions::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn dev_options_default_to_the_readme_and_take_each_flag() {
        let d = parse(&[]).unwrap();
        assert_eq!((d.port.as_str(), d.issuer_port.as_str(), d.state.as_str()), ("8787", "8788", ".state"));
        let o = parse(&["--state", "/tmp/x", "--port", "9000", "--issuer-port", "9001"]).unwrap();
        assert_eq!((o.port.as_str(), o.issuer_port.as_str(), o.state.as_str()), ("9000", "9001", "/tmp/x"));
    }

    #[test]
    fn dev_options_refuse_what_they_do_not_know() {
        assert!(parse(&["--help"]).unwrap_err().starts_with("unknown option `--help`"));
        assert!(parse(&["--port=9000"]).unwrap_err().starts_with("unknown option"));
        assert!(parse(&["--port"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--port", "http"]).unwrap_err().contains("not a port"));
        assert!(parse(&["--issuer-port", "70000"]).unwrap_err().contains("not a port"));
    }
}
