//! The composite action (action.yml) and its binary resolver (scripts/resolve-binary.sh), run
//! through the composite stand-in against a loopback release server: a pinned download runs
//! the check end to end; altered, truncated and failed downloads leave nothing executable;
//! transient failures retry within bounds and fall through; the tool cache is verified again;
//! an unreleased checkout builds from source; without cargo the error lists the options.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::composite::{Action, CompositeRun};
use crate::provider::{Job, Provider, REQUEST_TOKEN};

const VERSION: &str = "9.8.7";

/// How the release server answers one request.
#[derive(Clone)]
enum Answer {
    Asset(Vec<u8>),
    Status(u16),
    /// Reads the request and closes the connection without a response.
    Close,
    /// Announces the whole asset and closes after half of it.
    Truncated(Vec<u8>),
    /// Sends the headers, then nothing for longer than the resolver waits.
    Silent(Duration),
}

/// A loopback HTTP server for release assets. Answers come from a script, one per request,
/// the last repeated; it stops when dropped.
struct ReleaseServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl ReleaseServer {
    fn start(script: Vec<Answer>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (requests.clone(), stop.clone());
        let served = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            // Bounded: at most 200 connections or the test's lifetime, whichever ends first.
            while !stopped.load(Ordering::Relaxed) && served.load(Ordering::Relaxed) < 200 {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let n = served.fetch_add(1, Ordering::Relaxed);
                        let answer = script[n.min(script.len() - 1)].clone();
                        let seen = seen.clone();
                        std::thread::spawn(move || serve(stream, answer, &seen));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            port,
            requests,
            stop,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for ReleaseServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(mut stream: TcpStream, answer: Answer, seen: &Mutex<Vec<String>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let line = head.lines().next().unwrap_or_default().to_owned();
    seen.lock().unwrap().push(line);
    let header = |len: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
    };
    let _ = match answer {
        Answer::Asset(bytes) => stream
            .write_all(header(bytes.len()).as_bytes())
            .and_then(|_| stream.write_all(&bytes)),
        Answer::Status(code) => stream.write_all(
            format!("HTTP/1.1 {code} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
        Answer::Close => Ok(()),
        Answer::Truncated(bytes) => stream
            .write_all(header(bytes.len()).as_bytes())
            .and_then(|_| stream.write_all(&bytes[..bytes.len() / 2])),
        Answer::Silent(wait) => {
            let _ = stream.write_all(header(10).as_bytes());
            std::thread::sleep(wait);
            Ok(())
        }
    };
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn binary_bytes() -> Vec<u8> {
    std::fs::read(env!("CARGO_BIN_EXE_oidc-preflight")).unwrap()
}

fn sha256(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

/// This machine in the runner's words and the release's target name.
fn platform() -> (&'static str, &'static str, &'static str) {
    match std::env::consts::ARCH {
        "aarch64" => ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
        _ => ("Linux", "X64", "x86_64-unknown-linux-musl"),
    }
}

/// A copy of the action as the runner unpacks it: action.yml, scripts/, the source the digest
/// covers, and a manifest written by `manifest`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let action = dir.path().join("action");
        copy_tree(&repo().join("src"), &action.join("src"));
        copy_tree(&repo().join("scripts"), &action.join("scripts"));
        for file in ["Cargo.toml", "Cargo.lock", "action.yml"] {
            std::fs::copy(repo().join(file), action.join(file)).unwrap();
        }
        std::fs::create_dir_all(action.join("dist")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        std::fs::create_dir_all(dir.path().join("toolcache")).unwrap();
        let fixture = Self { dir };
        fixture.manifest("version unreleased\n");
        fixture
    }

    fn action(&self) -> PathBuf {
        self.dir.path().join("action")
    }

    fn tool_cache(&self) -> PathBuf {
        self.dir.path().join("toolcache")
    }

    fn cached_release(&self) -> PathBuf {
        self.tool_cache()
            .join("oidc-preflight")
            .join(VERSION)
            .join(platform().2)
    }

    fn digest(&self) -> String {
        let out = std::process::Command::new("bash")
            .arg(self.action().join("scripts/source-digest.sh"))
            .arg(self.action())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn manifest(&self, text: &str) {
        std::fs::write(self.action().join("dist/manifest.txt"), text).unwrap();
    }

    /// A release manifest for this tree, pinning `pinned` as this platform's asset.
    fn release(&self, pinned: &str) {
        let target = platform().2;
        self.manifest(&format!(
            "# test release\nversion {VERSION}\nsource-sha256 {}\nasset {target} oidc-preflight-{target} {pinned}\nasset other-target oidc-preflight-other 00\n",
            self.digest()
        ));
    }

    /// The job's environment: PATH (without cargo unless `cargo_dir` is given), the runner's
    /// variables, the provider's token variables.
    fn env(
        &self,
        base: &str,
        cargo_dir: Option<&Path>,
        provider: Option<&Provider>,
    ) -> Vec<(String, String)> {
        let (os, arch, _) = platform();
        let mut path: Vec<String> = std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .filter(|dir| !Path::new(dir).join("cargo").exists())
            .map(str::to_owned)
            .collect();
        if let Some(dir) = cargo_dir {
            path.insert(0, dir.display().to_string());
        }
        let work = self.dir.path().join("work");
        let mut env = vec![
            ("PATH".to_owned(), path.join(":")),
            ("HOME".to_owned(), self.dir.path().display().to_string()),
            ("RUNNER_OS".to_owned(), os.to_owned()),
            ("RUNNER_ARCH".to_owned(), arch.to_owned()),
            (
                "RUNNER_TOOL_CACHE".to_owned(),
                self.tool_cache().display().to_string(),
            ),
            (
                "GITHUB_ACTION_PATH".to_owned(),
                self.action().display().to_string(),
            ),
            ("GITHUB_WORKSPACE".to_owned(), work.display().to_string()),
            (
                "GITHUB_STEP_SUMMARY".to_owned(),
                work.join("summary.md").display().to_string(),
            ),
            (
                "OIDC_PREFLIGHT_TEST_DOWNLOAD_BASE".to_owned(),
                base.to_owned(),
            ),
            (
                "OIDC_PREFLIGHT_TEST_DOWNLOAD_TIMEOUT".to_owned(),
                // The asset is the 100 MB debug binary: 2 s was too short on a loaded
                // 2-core machine (a retried "altered" download); silence lasts longer.
                "5".to_owned(),
            ),
            ("OIDC_PREFLIGHT_TEST_BACKOFF".to_owned(), "0".to_owned()),
        ];
        if let Some(provider) = provider {
            env.extend(provider.runner_env());
        }
        env
    }

    fn run(&self, env: &[(String, String)], with: &[(&str, &str)]) -> CompositeRun {
        let action = Action::load(&self.action().join("action.yml"));
        action.run(env, with, &self.dir.path().join("work"))
    }

    /// Every file under the tool cache that anyone could execute.
    fn executables(&self) -> Vec<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let mut found = Vec::new();
        let mut stack = vec![self.tool_cache()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if entry.metadata().unwrap().permissions().mode() & 0o111 != 0 {
                    found.push(path);
                }
            }
        }
        found
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn source(run: &CompositeRun) -> &str {
    run.step_outputs
        .get("binary")
        .and_then(|o| o.get("source"))
        .map(String::as_str)
        .unwrap_or_default()
}

async fn provider() -> Provider {
    let provider = Provider::start().await;
    provider.issue_tokens_for(&Job::default()).await;
    provider
}

#[tokio::test(flavor = "multi_thread")]
async fn pinned_download_runs_the_check_and_later_jobs_use_the_verified_cache() {
    let fixture = Fixture::new();
    let bytes = binary_bytes();
    let server = ReleaseServer::start(vec![Answer::Asset(bytes.clone())]);
    fixture.release(&sha256(Path::new(env!("CARGO_BIN_EXE_oidc-preflight"))));
    let provider = provider().await;
    let env = fixture.env(&server.base(), None, Some(&provider));
    let with = [
        ("audience", "sts.amazonaws.com"),
        (
            "subject-pattern",
            "repo:octo-org/octo-repo:ref:refs/heads/main",
        ),
    ];
    let run = tokio::task::block_in_place(|| fixture.run(&env, &with));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(source(&run), "download");
    let target = platform().2;
    assert_eq!(
        server.requests(),
        [format!("GET /v{VERSION}/oidc-preflight-{target} HTTP/1.1")]
    );
    // The check ran end to end, and the action's outputs are the binary's.
    assert_eq!(run.outputs["matched"], "true");
    assert_eq!(run.outputs["audience"], "sts.amazonaws.com");
    assert_eq!(
        run.outputs["subject"],
        "repo:octo-org/octo-repo:ref:refs/heads/main"
    );
    let token = &run.outputs["token"];
    assert_eq!(token.split('.').count(), 3);
    assert!(run.stdout.contains(&format!("::add-mask::{REQUEST_TOKEN}")));
    assert_eq!(
        run.stdout.matches(token.as_str()).count(),
        1,
        "only the mask line"
    );
    let installed = fixture.cached_release().join("oidc-preflight");
    assert_eq!(std::fs::read(&installed).unwrap(), bytes);
    assert_eq!(fixture.executables(), std::slice::from_ref(&installed));

    // A later job on the same runner: no request, and the cached bytes are checked again.
    let again = tokio::task::block_in_place(|| fixture.run(&env, &with));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(source(&again), "cache");
    assert_eq!(server.requests().len(), 1, "a cache hit makes no request");

    // A cached binary that no longer matches its pin is removed and fetched again.
    std::fs::write(&installed, b"#!/bin/sh\necho tampered\n").unwrap();
    let repaired = tokio::task::block_in_place(|| fixture.run(&env, &with));
    assert_eq!(repaired.code, 0, "{}", repaired.stderr);
    assert_eq!(source(&repaired), "download");
    assert!(repaired.stderr.contains("does not match its checksum"));
    assert_eq!(std::fs::read(&installed).unwrap(), bytes);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn altered_truncated_and_failing_downloads_leave_nothing_executable() {
    let bytes = binary_bytes();
    let pin = sha256(Path::new(env!("CARGO_BIN_EXE_oidc-preflight")));
    let mut altered = bytes.clone();
    altered[1000] ^= 1;
    // (answer, requests expected: a checksum mismatch is final, transport failures retry)
    let rows: Vec<(&str, Answer, usize)> = vec![
        ("altered", Answer::Asset(altered), 1),
        ("truncated", Answer::Truncated(bytes.clone()), 3),
        ("404", Answer::Status(404), 3),
        ("500", Answer::Status(500), 3),
        ("closed without answer", Answer::Close, 3),
        ("silent", Answer::Silent(Duration::from_secs(6)), 3),
    ];
    for (name, answer, expected) in rows {
        let fixture = Fixture::new();
        fixture.release(&pin);
        let server = ReleaseServer::start(vec![answer]);
        let started = Instant::now();
        let run = fixture.run(&fixture.env(&server.base(), None, None), &[]);
        let elapsed = started.elapsed();
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert_eq!(server.requests().len(), expected, "{name}: {}", run.stderr);
        assert!(
            fixture.executables().is_empty(),
            "{name}: {:?}",
            fixture.executables()
        );
        assert!(
            run.stderr
                .contains("could not be downloaded, and cargo is not available"),
            "{name}: {}",
            run.stderr
        );
        // Hang guard only: three attempts of at most 2 s each.
        assert!(elapsed < Duration::from_secs(30), "{name}: {elapsed:?}");
        assert!(
            !run.stdout.contains("::add-mask::"),
            "{name}: the binary never ran"
        );
    }
}

#[test]
fn a_transient_failure_is_retried_and_then_succeeds() {
    let fixture = Fixture::new();
    fixture.release(&sha256(Path::new(env!("CARGO_BIN_EXE_oidc-preflight"))));
    let server = ReleaseServer::start(vec![
        Answer::Status(503),
        Answer::Close,
        Answer::Asset(binary_bytes()),
    ]);
    // The check itself fails (no token variables): the binary ran, which is what counts here.
    let run = fixture.run(&fixture.env(&server.base(), None, None), &[]);
    assert_eq!(source(&run), "download", "{}", run.stderr);
    assert_eq!(server.requests().len(), 3);
    assert!(run.stderr.contains("attempt 1 of 3 failed"));
}

/// A stand-in for cargo that checks the arguments the resolver gives the real one and puts
/// the test's binary where `cargo build --profile action --target-dir DIR` would.
fn fake_cargo(dir: &Path) -> PathBuf {
    let bin = dir.join("fake-cargo");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/usr/bin/env bash
set -euo pipefail
if [[ "${{1:-}}" == --version ]]; then echo "cargo 1.95.0 (fake)"; exit 0; fi
# Build scripts and proc macros run inside the real cargo: they must not see the job's
# OIDC request credentials.
if [[ -n "${{ACTIONS_ID_TOKEN_REQUEST_TOKEN+set}}${{ACTIONS_ID_TOKEN_REQUEST_URL+set}}" ]]; then
  echo "cargo sees the OIDC request credentials" >&2; exit 101
fi
printf '%s\n' "$*" >>"{log}"
[[ "$1" == build && "$2" == --locked && "$3" == --profile && "$4" == action &&
   "$5" == --manifest-path && "$7" == --target-dir && $# == 8 ]] || {{ echo "unexpected: $*" >&2; exit 101; }}
[[ -f "$6" ]] || {{ echo "no manifest at $6" >&2; exit 101; }}
mkdir -p "$8/action"
cp "{real}" "$8/action/oidc-preflight"
"#,
        log = dir.join("cargo.log").display(),
        real = env!("CARGO_BIN_EXE_oidc-preflight"),
    );
    let path = bin.join("cargo");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn an_unreleased_checkout_builds_from_source_once() {
    let fixture = Fixture::new();
    let server = ReleaseServer::start(vec![Answer::Status(500)]);
    let cargo = fake_cargo(fixture.dir.path());
    let mut env = fixture.env(&server.base(), Some(&cargo), None);
    // What a job with `id-token: write` has in every step, the resolver's included.
    env.push((
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN".to_owned(),
        REQUEST_TOKEN.to_owned(),
    ));
    env.push((
        "ACTIONS_ID_TOKEN_REQUEST_URL".to_owned(),
        "http://127.0.0.1:9/token".to_owned(),
    ));
    let run = fixture.run(&env, &[]);
    assert_eq!(source(&run), "build", "{}", run.stderr);
    assert!(run.stderr.contains("not a release"));
    let log = std::fs::read_to_string(fixture.dir.path().join("cargo.log")).unwrap();
    let action = fixture.action();
    assert_eq!(
        log.trim(),
        format!(
            "build --locked --profile action --manifest-path {}/Cargo.toml --target-dir {}/oidc-preflight/build",
            action.display(),
            fixture.tool_cache().display()
        )
    );
    assert!(
        server.requests().is_empty(),
        "an unreleased tree downloads nothing"
    );
    // The next job reuses the build.
    let again = fixture.run(&env, &[]);
    assert_eq!(source(&again), "cache", "{}", again.stderr);
    let log = std::fs::read_to_string(fixture.dir.path().join("cargo.log")).unwrap();
    assert_eq!(log.lines().count(), 1, "built once");

    // A manifest for other source (a branch after a release) is not this tree's release.
    let stale = Fixture::new();
    stale.manifest(&format!(
        "version {VERSION}\nsource-sha256 {}\nasset {t} oidc-preflight-{t} {}\n",
        "0".repeat(64),
        "1".repeat(64),
        t = platform().2
    ));
    let cargo = fake_cargo(stale.dir.path());
    let run = stale.run(&stale.env(&server.base(), Some(&cargo), None), &[]);
    assert_eq!(source(&run), "build", "{}", run.stderr);
    assert!(server.requests().is_empty());
}

#[test]
fn without_cargo_the_error_lists_every_way_to_get_the_binary() {
    let fixture = Fixture::new();
    let server = ReleaseServer::start(vec![Answer::Status(500)]);
    let run = fixture.run(&fixture.env(&server.base(), None, None), &[]);
    assert_eq!(run.code, 1);
    let annotation = run
        .stdout
        .lines()
        .find(|l| l.starts_with("::error title=oidc-preflight could not be started::"))
        .unwrap_or_else(|| panic!("an error annotation: {}", run.stdout));
    for option in [
        "@v1",
        "`binary` input",
        "tool cache",
        "install Rust (cargo)",
    ] {
        assert!(annotation.contains(option), "{option}: {annotation}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn an_unsupported_platform_names_the_supported_ones() {
    let fixture = Fixture::new();
    for (os, arch) in [("Linux", "ARM"), ("Linux", "X86"), ("FreeBSD", "X64")] {
        let mut env = fixture.env("http://127.0.0.1:9", None, None);
        for (name, value) in env.iter_mut() {
            match name.as_str() {
                "RUNNER_OS" => *value = os.to_owned(),
                "RUNNER_ARCH" => *value = arch.to_owned(),
                _ => {}
            }
        }
        let run = fixture.run(&env, &[]);
        assert_eq!(run.code, 2, "{os} {arch}");
        assert!(
            run.stderr.contains(&format!(
                "no oidc-preflight binary is built for {os} {arch}"
            )) && run
                .stderr
                .contains("Linux (X64, ARM64), macOS (X64, ARM64), Windows (X64, ARM64)"),
            "{}",
            run.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_input_is_used_as_given_and_checked() {
    let fixture = Fixture::new();
    fixture.release(&"2".repeat(64));
    let server = ReleaseServer::start(vec![Answer::Status(500)]);
    let provider = provider().await;
    let env = fixture.env(&server.base(), None, Some(&provider));
    let real = env!("CARGO_BIN_EXE_oidc-preflight");
    let with = [
        ("binary", real),
        ("subject-pattern", "repo:octo-org/octo-repo:*"),
    ];
    let run = tokio::task::block_in_place(|| fixture.run(&env, &with));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(source(&run), "input");
    assert_eq!(run.outputs["matched"], "true");
    assert!(server.requests().is_empty());

    for (given, why) in [
        ("/nonexistent/oidc-preflight", "which is not a file"),
        ("/bin/true", "does not run as oidc-preflight"),
    ] {
        let run = fixture.run(&env, &[("binary", given)]);
        assert_eq!(run.code, 2, "{given}");
        assert!(run.stderr.contains(why), "{given}: {}", run.stderr);
    }
}

#[test]
fn the_download_base_is_https_or_loopback_only() {
    let fixture = Fixture::new();
    fixture.release(&"3".repeat(64));
    for base in [
        "http://example.com",
        "ftp://127.0.0.1",
        "http://127.0.0.1.evil.example",
        "http://127.0.0.1:80@evil.example/",
        "https://user@evil.example/",
    ] {
        let run = fixture.run(&fixture.env(base, None, None), &[]);
        assert_eq!(run.code, 2, "{base}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("must be https, or http to a loopback address"),
            "{base}: {}",
            run.stderr
        );
        assert!(fixture.executables().is_empty(), "{base}");
    }
}

#[test]
fn every_input_and_output_is_wired_through_the_composite_steps() {
    let action = Action::load(&repo().join("action.yml"));
    let run_step = action
        .steps
        .iter()
        .find(|s| s.id == "run")
        .expect("a step with id `run`");
    for (input, _) in &action.inputs {
        if input == "binary" {
            continue;
        }
        let variable = oidc_preflight::config::input_variable(input);
        let passed = run_step
            .env
            .iter()
            .find(|(name, _)| *name == variable)
            .unwrap_or_else(|| panic!("{input} is not passed as {variable}"));
        assert_eq!(passed.1, format!("${{{{ inputs.{input} }}}}"));
    }
    assert_eq!(
        run_step
            .env
            .iter()
            .filter(|(n, _)| n.starts_with("INPUT_"))
            .count(),
        action.inputs.len() - 1,
        "no INPUT_ variable for an input that does not exist"
    );
    for (output, value) in &action.outputs {
        assert_eq!(*value, format!("${{{{ steps.run.outputs.{output} }}}}"));
    }
}
