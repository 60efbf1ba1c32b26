//! Building a worker with worker-build, using the tools installed by `install` instead of
//! letting worker-build download its own (it cannot reach GitHub here).

use crate::install::{status, Tools};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Directories whose sources go into a worker build.
const SOURCE_DIRS: &[&str] = &["src", "durable_objects", "crates", "workers/agents/src", "workers/chat/src", "workers/workspace/src", "r2_layout"];
const SOURCE_FILES: &[&str] = &["Cargo.toml", "Cargo.lock", "workers/agents/Cargo.toml", "workers/chat/Cargo.toml", "workers/workspace/Cargo.toml"];

pub fn worker_dir(root: &Path, name: &str) -> Result<PathBuf, String> {
    match name {
        "orchestrator" => Ok(root.to_path_buf()),
        "agents" => Ok(root.join("workers/agents")),
        "workspace" => Ok(root.join("workers/workspace")),
        "chat" => Ok(root.join("workers/chat")),
        other => Err(format!("unknown worker `{other}`; expected orchestrator, agents, chat or workspace")),
    }
}

/// Builds `name` unless the sources are exactly as they were when its output was last built.
/// The fingerprint is taken before the build starts, so a file saved during a build makes the
/// next invocation build again.
pub fn worker(tools: &Tools, name: &str, force: bool) -> Result<(), String> {
    let dir = worker_dir(&tools.root, name)?;
    let output = dir.join("build/worker/shim.mjs");
    let stamp = dir.join("build/.parley-source-fingerprint");
    let fingerprint = format!("{:016x}", source_fingerprint(&tools.root));
    if !force && output.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(fingerprint.as_str()) {
        return Ok(());
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
    )?;
    strip_names(tools, &dir.join("build/index_bg.wasm"))?;
    std::fs::write(&stamp, fingerprint).map_err(|e| format!("writing {}: {e}", stamp.display()))
}

/// Wasm features the Workers runtime supports; worker-build passes the same list to wasm-opt.
const WASM_FEATURES: &[&str] = &["mutable-globals", "sign-ext", "nontrapping-float-to-int", "bulk-memory", "multivalue", "reference-types", "exception-handling"];

/// Drops the wasm names section (about an eighth of each worker's gzip size) to stay within the
/// 300 KB budget (ADR 6). `PARLEY_KEEP_WASM_NAMES=1` keeps it, for readable profiles.
fn strip_names(tools: &Tools, wasm: &Path) -> Result<(), String> {
    if std::env::var_os("PARLEY_KEEP_WASM_NAMES").is_some() {
        return Ok(());
    }
    let mut cmd = Command::new(&tools.wasm_opt);
    cmd.arg(wasm).arg("-o").arg(wasm).args(["--strip-debug", "--strip-producers"]);
    for feature in WASM_FEATURES {
        cmd.arg(format!("--enable-{feature}"));
    }
    status(&mut cmd)
}

/// A hash of every source file's path, size and modification time.
fn source_fingerprint(root: &Path) -> u64 {
    let mut files: Vec<PathBuf> = SOURCE_FILES.iter().map(|f| root.join(f)).collect();
    for d in SOURCE_DIRS {
        walk(&root.join(d), &mut files);
    }
    files.sort();
    let mut h: u64 = 0xcbf29ce484222325;
    for f in files {
        let meta = std::fs::metadata(&f).ok();
        let modified = meta.as_ref().and_then(|m| m.modified().ok()).and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        let line = format!("{}|{}|{}\n", f.display(), meta.map_or(0, |m| m.len()), modified);
        for b in line.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
        }
    }
    h
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "toml") {
            files.push(path);
        }
    }
}
