//! Starting the `kauthn` binary on loopback for integration tests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A temporary directory removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("kauthn-cli-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
    pub(crate) fn join(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
    pub(crate) fn s(&self, f: &str) -> String {
        self.join(f).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kauthn")
}

/// A running `kauthn serve`, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    pub(crate) port: u16,
    pub(crate) stdout: String,
    pub(crate) stderr_file: PathBuf,
}

impl Server {
    /// Starts `kauthn serve --secure-port 0 <args>` and waits for its address.
    pub(crate) fn start(args: &[&str], log_dir: &Path) -> Server {
        let stderr_file = log_dir.join(format!(
            "stderr-{}.log",
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let mut child = Command::new(bin())
            .arg("serve")
            .args(["--secure-port", "0", "--bind-address", "127.0.0.1"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&stderr_file).unwrap()))
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                text.push_str(&line);
                text.push('\n');
                if let Some(url) = line.strip_prefix("kauthn: serving on ") {
                    let _ = tx.send((url.to_string(), text.clone()));
                }
            }
        });
        let (url, stdout) = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(x) => x,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "kauthn did not start; stderr:\n{}",
                    std::fs::read_to_string(&stderr_file).unwrap_or_default()
                );
            }
        };
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        Server {
            child,
            url,
            port,
            stdout,
            stderr_file,
        }
    }

    pub(crate) fn logs(&self) -> String {
        std::fs::read_to_string(&self.stderr_file).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a program is on PATH; prints a skip notice when not.
pub(crate) fn have(program: &str, what: &str) -> bool {
    let ok = Command::new(program)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        eprintln!("SKIP {what}: `{program}` is not installed");
    }
    ok
}

/// Runs curl; returns (HTTP status, body).
pub(crate) fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    let code = code.trim().parse().unwrap_or(0);
    if code == 0 {
        // No HTTP answer: say why.
        return (0, String::from_utf8_lossy(&out.stderr).to_string());
    }
    (code, body.to_string())
}

/// Runs a command; returns (success, stdout, stderr).
pub(crate) fn run(program: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(program).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Runs a command with a deadline; a command still running then is killed and reported
/// as failed. Returns (success, stdout, stderr).
pub(crate) fn run_timeout(
    program: &str,
    args: &[&str],
    timeout: Duration,
) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).to_string(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            );
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            return (
                false,
                String::from_utf8_lossy(&out.stdout).to_string(),
                format!(
                    "{program} timed out after {timeout:?}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Creates the development state (CA, serving certificate, users, token file) in
/// `dir/state` without starting a server, and returns its path.
pub(crate) fn dev_state(dir: &TempDir) -> PathBuf {
    let state = dir.join("state");
    // `authenticate` with no authenticator flags creates the state; its answer is unused.
    let _ = run(
        bin(),
        &[
            "authenticate",
            "--state-dir",
            &state.display().to_string(),
            "--token",
            "x",
        ],
    );
    assert!(
        state.join("apiserver.crt").is_file(),
        "no development state"
    );
    state
}

/// A kubeconfig for `server` trusting `ca` and sending `token`.
pub(crate) fn token_kubeconfig(
    dir: &TempDir,
    name: &str,
    server: &str,
    ca: &Path,
    token: &str,
) -> String {
    let path = dir.join(&format!("{name}.kubeconfig"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kauthn\n  cluster:\n    server: {server}\n    certificate-authority: {}\nusers:\n- name: {name}\n  user:\n    token: {token}\ncontexts:\n- name: {name}\n  context:\n    cluster: kauthn\n    user: {name}\ncurrent-context: {name}\n",
            ca.display()
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Whether python3 can import `module`; prints a skip notice when not.
pub(crate) fn have_python_module(module: &str, what: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIP {what}: the python `{module}` module is missing (pip install {module})");
    }
    ok
}
