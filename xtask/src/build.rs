//! Building a worker with worker-build, using the tools installed by `install` instead of
//! letting worker-build download its own (it cannot reach GitHub here).

use crate::install::{status, Tools};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Directories whose sources go into a worker build.
const SOURCE_DIRS: &[&str] = &["src", "durable_objects", "crates", "workers/agents/src", "workers/workspace/src", "r2_layout"];
const SOURCE_FILES: &[&str] = &["Cargo.toml", "Cargo.lock", "workers/agents/Cargo.toml", "workers/workspace/Cargo.toml"];

pub fn worker_dir(root: &Path, name: &str) -> Result<PathBuf, String> {
    match name {
        "orchestrator" => Ok(root.to_path_buf()),
        "agents" => Ok(root.join("workers/agents")),
        "workspace" => Ok(root.join("workers/workspace")),
        other => Err(format!("unknown worker `{other}`; expected orchestrator, agents or workspace")),
    }
}

/// Builds `name` unless its output is newer than every source file.
pub fn worker(tools: &Tools, name: &str, force: bool) -> Result<(), String> {
    let dir = worker_dir(&tools.root, name)?;
    let output = dir.join("build/worker/shim.mjs");
    let built_at = std::fs::metadata(&output).and_then(|m| m.modified()).ok();
    if !force {
        if let Some(built_at) = built_at {
            if newest_source(&tools.root) <= built_at {
                return Ok(());
            }
        }
    }
    eprintln!("xtask: building the {name} worker");
    status(
        Command::new(&tools.worker_build)
            .arg("--release")
            .current_dir(&dir)
            .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
            .env("ESBUILD_BIN", &tools.esbuild)
            .env("WASM_OPT_BIN", &tools.wasm_opt)
            .env("CARGO_TARGET_DIR", tools.root.join("target")),
    )
}

fn newest_source(root: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for f in SOURCE_FILES {
        newest = newest.max(modified(&root.join(f)));
    }
    for d in SOURCE_DIRS {
        walk(&root.join(d), &mut newest);
    }
    newest
}

fn walk(dir: &Path, newest: &mut SystemTime) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, newest);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "toml") {
            *newest = (*newest).max(modified(&path));
        }
    }
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
}
