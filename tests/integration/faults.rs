//! Faults at the token endpoint and at the key server, as one table: each row is a server
//! behaviour, the inputs, and what the action must do about it: exit status, message and hint,
//! how many requests it makes, and how long it may take.
//!
//! wiremock plays every fault it can (statuses, bodies, headers, redirects); a raw loopback
//! listener plays the ones it cannot: a reset in the middle of a response, a server that
//! accepts and never answers, a body that trickles, a body that never ends. All rows run
//! concurrently, each against its own servers, so the table costs about as long as its
//! slowest row (a 2 s deadline), not the sum.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oidc_preflight::ExitStatus;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::common::{
    assert_request_token_only_masked, assert_token_only_masked, run_table, run_with,
};
use crate::provider::{test_key, Job, Provider, REQUEST_TOKEN};

/// What one connection to the raw listener gets, after the listener read the request head.
#[derive(Clone)]
enum Conn {
    /// Writes these bytes, then resets the connection (RST, not a clean close).
    ResetAfter(Vec<u8>),
    /// Writes these bytes, then closes the connection cleanly.
    CloseAfter(Vec<u8>),
    /// Never answers; holds the connection until the client gives up (at most 15 s).
    Silent,
    /// Writes a head announcing a body, then one body byte per `every`, at most `bytes`.
    Trickle { every: Duration, bytes: usize },
    /// Writes a head without a length, then `bytes` of body as fast as the client reads.
    Flood { bytes: usize },
    /// A complete `200` answer with this JSON body.
    Respond(String),
}

/// A loopback listener that plays `script[i]` to the i-th connection (the last entry repeats),
/// on its own thread. It stops accepting after 20 s or when dropped.
struct RawServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    sent: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl RawServer {
    fn start(script: Vec<Conn>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let server = RawServer {
            addr: listener.local_addr().expect("address"),
            requests: Arc::default(),
            sent: Arc::default(),
            stop: Arc::default(),
        };
        let (requests, sent, stop) = (
            server.requests.clone(),
            server.sent.clone(),
            server.stop.clone(),
        );
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut index = 0;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(20) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let conn = script[index.min(script.len() - 1)].clone();
                        index += 1;
                        let (requests, sent) = (requests.clone(), sent.clone());
                        std::thread::spawn(move || serve(stream, conn, &requests, &sent));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

fn serve(stream: std::net::TcpStream, conn: Conn, requests: &AtomicUsize, sent: &AtomicUsize) {
    let mut stream = stream;
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
    // Read the request head, so that the count is of requests, not of connections.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    requests.fetch_add(1, Ordering::Relaxed);
    let mut write = |bytes: &[u8]| -> bool {
        let ok = stream.write_all(bytes).is_ok();
        if ok {
            sent.fetch_add(bytes.len(), Ordering::Relaxed);
        }
        ok
    };
    match conn {
        Conn::ResetAfter(bytes) => {
            write(&bytes);
            let _ = reset_on_close(&stream);
        }
        Conn::CloseAfter(bytes) => {
            write(&bytes);
            let _ = stream.shutdown(Shutdown::Both);
        }
        Conn::Silent => {
            // Until the client closes (read returns 0 or fails) or the read timeout.
            let _ = stream.read(&mut byte);
        }
        Conn::Trickle { every, bytes } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                bytes * 2
            );
            if write(head.as_bytes()) {
                for _ in 0..bytes {
                    std::thread::sleep(every);
                    if !write(b" ") {
                        break;
                    }
                }
            }
        }
        Conn::Flood { bytes } => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"value\":\"";
            let chunk = vec![b'a'; 64 * 1024];
            if write(head.as_bytes()) {
                for _ in 0..bytes / chunk.len() {
                    if !write(&chunk) {
                        break;
                    }
                }
            }
        }
        Conn::Respond(body) => {
            write(http_200(&body).as_bytes());
        }
    }
}

/// Sets SO_LINGER to zero, so that closing the socket resets the connection (RST) instead of
/// ending it cleanly. std's setter is unstable, so a tokio handle on a duplicate descriptor of
/// the same socket sets it; tokio deprecates it because a non-zero linger blocks on close,
/// which a zero one does not.
fn reset_on_close(stream: &std::net::TcpStream) -> std::io::Result<()> {
    let clone = stream.try_clone()?;
    clone.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let _guard = runtime.enter();
    let socket = tokio::net::TcpStream::from_std(clone)?;
    #[allow(deprecated)]
    socket.set_linger(Some(Duration::ZERO))
}

fn http_200(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// How the token endpoint behaves.
enum Endpoint {
    /// wiremock answers these first, in order (each so many times, `None` always), then issues
    /// real tokens.
    Http(Vec<(ResponseTemplate, Option<u64>)>),
    /// The raw listener, scripted per connection; `Conn::Respond` bodies get a real token.
    Raw(Vec<Conn>),
    /// Nothing listens on the port.
    Refused,
    /// A 302 to another origin on loopback, which issues a token to anyone.
    RedirectElsewhere,
}

/// How the issuer's discovery document and JWKS are served (the token's `iss` is the
/// provider, so the action verifies against them by default).
enum Keys {
    /// As the provider serves them.
    Served,
    /// The discovery document answers these first, then as served.
    Discovery(Vec<(ResponseTemplate, Option<u64>)>),
    /// The JWKS answers these first, then as served.
    Jwks(Vec<(ResponseTemplate, Option<u64>)>),
    /// The issuer is a loopback port nothing listens on.
    Unreachable,
    /// The discovery document names a JWKS on the raw listener, which never answers.
    SilentJwks,
}

struct Case {
    name: &'static str,
    endpoint: Endpoint,
    keys: Keys,
    inputs: &'static [(&'static str, &'static str)],
    exit: ExitStatus,
    /// Fragments of the message, found in the log or on stderr.
    message: &'static [&'static str],
    /// A fragment of the hint.
    hint: Option<&'static str>,
    /// Requests the token endpoint receives.
    token_requests: RangeInclusive<usize>,
    /// Requests for the discovery document and for the JWKS, when the row is about them.
    key_requests: Option<(usize, usize)>,
    /// The `signature` output, when outputs are written.
    signature: Option<&'static str>,
    /// A served value that must be masked and never shown.
    secret: Option<&'static str>,
    min: Duration,
    max: Duration,
}

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Defaults shared by most rows; each row overrides what it is about.
fn row(name: &'static str, endpoint: Endpoint) -> Case {
    Case {
        name,
        endpoint,
        keys: Keys::Served,
        inputs: &[],
        exit: ExitStatus::NoToken,
        message: &[],
        hint: None,
        token_requests: 1..=1,
        key_requests: None,
        signature: None,
        secret: None,
        min: Duration::ZERO,
        // Far inside the default 30 s deadline: no deadline spent, no long wait. The slack
        // is for a loaded two-core machine running the rest of the suite alongside.
        max: ms(3000),
    }
}

/// The bound for a row that spends a deadline of `secs`: the deadline, plus the slack of
/// setting up the run (the HTTP client loads the root certificates before the clock of the
/// deadline starts) on a loaded machine.
const fn deadline(secs: u64) -> Duration {
    Duration::from_millis(secs * 1000 + 1000)
}

fn status(code: u16) -> ResponseTemplate {
    ResponseTemplate::new(code)
}

fn message(code: u16, text: &str) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({ "message": text }))
}

fn body(json: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json)
}

const TRANSIENT_HINT: &str = "raise the `timeout` and `max-attempts` inputs";
const NOT_GITHUB_HINT: &str = "did not answer like GitHub's token service";

fn cases() -> Vec<Case> {
    use Endpoint::{Http, Raw};
    let success = ExitStatus::Success;
    let partial_body = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2000\r\n\r\n{}",
        r#"{"value":"eyJ"#
    )
    .into_bytes();
    vec![
        // Connection-level faults.
        Case {
            inputs: &[("max-attempts", "3"), ("timeout", "5")],
            message: &["no token after 3 attempt(s)", "Connection refused"],
            hint: Some(TRANSIENT_HINT),
            token_requests: 0..=0,
            ..row("connection refused", Endpoint::Refused)
        },
        Case {
            inputs: &[("max-attempts", "3")],
            message: &["no token after 3 attempt(s)"],
            hint: Some(TRANSIENT_HINT),
            token_requests: 3..=3,
            ..row(
                "connection reset mid-headers, every time",
                Raw(vec![Conn::ResetAfter(
                    b"HTTP/1.1 200 OK\r\ncontent-le".to_vec(),
                )]),
            )
        },
        Case {
            exit: success,
            message: &["Attempt 1 to get the token failed", "retrying in"],
            token_requests: 2..=2,
            signature: Some("valid"),
            ..row(
                "connection closed mid-body, then a full answer",
                Raw(vec![
                    Conn::CloseAfter(partial_body),
                    Conn::Respond(String::new()),
                ]),
            )
        },
        Case {
            inputs: &[("timeout", "2"), ("max-attempts", "5")],
            message: &[
                "no token after 1 attempt(s)",
                "no complete answer within 2.0 s",
            ],
            hint: Some(TRANSIENT_HINT),
            min: ms(1900),
            max: deadline(2),
            ..row("no answer until the deadline", Raw(vec![Conn::Silent]))
        },
        Case {
            inputs: &[("timeout", "2"), ("max-attempts", "5")],
            message: &[
                "no token after 1 attempt(s)",
                "no complete answer within 2.0 s",
            ],
            hint: Some(TRANSIENT_HINT),
            min: ms(1900),
            max: deadline(2),
            ..row(
                "a body trickling a byte per 200 ms past the deadline",
                Raw(vec![Conn::Trickle {
                    every: ms(200),
                    bytes: 25,
                }]),
            )
        },
        // Statuses retrying cannot fix: one request, GitHub's message and a hint.
        Case {
            inputs: &[("max-attempts", "5")],
            message: &["HTTP 400: Bad audience"],
            hint: Some("check the `audience` input"),
            ..row("400", Http(vec![(message(400, "Bad audience"), None)]))
        },
        Case {
            inputs: &[("max-attempts", "5")],
            message: &["HTTP 401: Token expired"],
            hint: Some("the job may no longer be running"),
            ..row("401", Http(vec![(message(401, "Token expired"), None)]))
        },
        Case {
            inputs: &[("max-attempts", "5")],
            message: &["HTTP 403: OIDC is disabled by the organization policy"],
            hint: Some("retrying fails the same way"),
            ..row(
                "403 with GitHub's JSON message",
                Http(vec![(
                    message(403, "OIDC is disabled by the organization policy"),
                    None,
                )]),
            )
        },
        Case {
            inputs: &[("max-attempts", "5")],
            message: &["HTTP 404: Not found"],
            hint: Some("GitHub Enterprise Server"),
            ..row("404", Http(vec![(message(404, "Not found"), None)]))
        },
        // Transient statuses: retried with backoff, Retry-After honoured, within the limits.
        Case {
            exit: success,
            message: &["Attempt 2 to get the token failed", "(HTTP 429)"],
            token_requests: 3..=3,
            signature: Some("valid"),
            ..row(
                "429 without Retry-After twice, then a token",
                Http(vec![(status(429), Some(2))]),
            )
        },
        Case {
            exit: success,
            message: &["retrying in 1.0 s"],
            token_requests: 2..=2,
            signature: Some("valid"),
            min: ms(950),
            ..row(
                "429 with Retry-After: 1, then a token",
                Http(vec![(
                    status(429).insert_header("retry-after", "1"),
                    Some(1),
                )]),
            )
        },
        Case {
            inputs: &[("timeout", "5")],
            message: &[
                "no token after 1 attempt(s)",
                "HTTP 429 (Retry-After 120 s is beyond the deadline)",
            ],
            hint: Some(TRANSIENT_HINT),
            // Neither the 120 s asked for nor the 5 s deadline is waited.
            max: ms(2000),
            ..row(
                "429 with Retry-After beyond the deadline",
                Http(vec![(
                    status(429).insert_header("retry-after", "120"),
                    None,
                )]),
            )
        },
        Case {
            exit: success,
            message: &["(HTTP 500)"],
            token_requests: 3..=3,
            signature: Some("valid"),
            ..row(
                "500 twice, then a token",
                Http(vec![(status(500), Some(2))]),
            )
        },
        Case {
            inputs: &[("max-attempts", "2")],
            message: &["no token after 2 attempt(s)", "HTTP 500"],
            hint: Some(TRANSIENT_HINT),
            token_requests: 2..=2,
            ..row("500 until max-attempts", Http(vec![(status(500), None)]))
        },
        Case {
            inputs: &[("max-attempts", "2")],
            message: &["no token after 2 attempt(s)", "HTTP 502"],
            hint: Some(TRANSIENT_HINT),
            token_requests: 2..=2,
            ..row("502 until max-attempts", Http(vec![(status(502), None)]))
        },
        Case {
            inputs: &[("timeout", "2"), ("max-attempts", "20")],
            message: &["HTTP 503"],
            hint: Some(TRANSIENT_HINT),
            token_requests: 3..=19,
            max: deadline(2),
            ..row("503 until the deadline", Http(vec![(status(503), None)]))
        },
        Case {
            exit: success,
            message: &["(HTTP 503)"],
            token_requests: 3..=3,
            signature: Some("valid"),
            ..row(
                "503 twice, then a token",
                Http(vec![(status(503), Some(2))]),
            )
        },
        Case {
            inputs: &[("max-attempts", "3")],
            message: &["no token after 3 attempt(s)", "HTTP 504"],
            hint: Some(TRANSIENT_HINT),
            token_requests: 3..=3,
            ..row("504 until max-attempts", Http(vec![(status(504), None)]))
        },
        // Redirects.
        Case {
            exit: success,
            message: &["Verdict: claims printed; nothing was checked (the signature verified)"],
            signature: Some("valid"),
            ..row(
                "redirect to another origin (no bearer header there)",
                Endpoint::RedirectElsewhere,
            )
        },
        Case {
            message: &["refusing to follow a redirect to plain http"],
            hint: Some("does not redirect"),
            ..row(
                "redirect to plain http on another host",
                Http(vec![(
                    status(302).insert_header("location", "http://runner.example/idtoken"),
                    None,
                )]),
            )
        },
        // Bodies that are not a token.
        Case {
            message: &["the token endpoint's response is not JSON"],
            hint: Some(NOT_GITHUB_HINT),
            ..row(
                "malformed JSON",
                Http(vec![(
                    status(200).set_body_string("{\"value\": \"abc"),
                    None,
                )]),
            )
        },
        Case {
            message: &["has no `value` field"],
            hint: Some(NOT_GITHUB_HINT),
            ..row(
                "JSON without `value`",
                Http(vec![(body(json!({"token": "x.y.z"})), None)]),
            )
        },
        Case {
            message: &["returned an empty `value`"],
            hint: Some(NOT_GITHUB_HINT),
            ..row(
                "`value` empty",
                Http(vec![(body(json!({"value": ""})), None)]),
            )
        },
        Case {
            message: &["`value` field is not a string"],
            hint: Some(NOT_GITHUB_HINT),
            ..row(
                "`value` not a string",
                Http(vec![(body(json!({"value": {"jwt": "a.b.c"}})), None)]),
            )
        },
        Case {
            exit: ExitStatus::Malformed,
            message: &["the token is not a JWT: it has 1 dot-separated part(s)"],
            hint: Some("three base64url parts"),
            secret: Some("not-a-jwt-but-maybe-a-secret"),
            ..row(
                "`value` not a JWT",
                Http(vec![(
                    body(json!({"value": "not-a-jwt-but-maybe-a-secret"})),
                    None,
                )]),
            )
        },
        Case {
            exit: ExitStatus::Malformed,
            message: &["its payload is not JSON"],
            hint: Some("three base64url parts"),
            secret: Some("e30.bm90IGpzb24gc2VjcmV0.c2ln"),
            ..row(
                "`value` whose payload is not JSON",
                Http(vec![(
                    body(json!({"value": "e30.bm90IGpzb24gc2VjcmV0.c2ln"})),
                    None,
                )]),
            )
        },
        Case {
            message: &["larger than 262144 bytes"],
            hint: Some(NOT_GITHUB_HINT),
            ..row(
                "a 4 MiB body with Content-Length",
                Http(vec![(
                    status(200)
                        .set_body_string(format!("{{\"value\":\"{}\"}}", "a".repeat(4 << 20))),
                    None,
                )]),
            )
        },
        Case {
            message: &["larger than 262144 bytes"],
            hint: Some(NOT_GITHUB_HINT),
            ..row(
                "an endless body without Content-Length (read stops at the cap)",
                Raw(vec![Conn::Flood { bytes: FLOOD }]),
            )
        },
        // The key server, which the action asks by default to verify the signature.
        Case {
            exit: success,
            message: &["Signature: valid"],
            signature: Some("valid"),
            key_requests: Some((3, 1)),
            keys: Keys::Discovery(vec![(status(503), Some(2))]),
            ..row("discovery 503 twice, then served", Http(vec![]))
        },
        Case {
            exit: success,
            message: &["Signature: valid"],
            signature: Some("valid"),
            key_requests: Some((1, 2)),
            keys: Keys::Jwks(vec![(status(503), Some(1))]),
            ..row("JWKS 503 once, then served", Http(vec![]))
        },
        Case {
            exit: ExitStatus::CheckFailed,
            message: &["could not fetch the JWKS", "HTTP 404"],
            hint: Some("the issuer does not publish this document"),
            signature: Some("invalid"),
            key_requests: Some((1, 1)),
            keys: Keys::Jwks(vec![(status(404), None)]),
            ..row("JWKS 404 (not retried)", Http(vec![]))
        },
        Case {
            exit: ExitStatus::CheckFailed,
            message: &["the discovery document at", "is not valid: not JSON"],
            hint: Some("did not answer like an OpenID provider"),
            signature: Some("invalid"),
            key_requests: Some((1, 0)),
            keys: Keys::Discovery(vec![(status(200).set_body_string("<html>"), None)]),
            ..row("discovery document is not JSON", Http(vec![]))
        },
        Case {
            exit: ExitStatus::CheckFailed,
            inputs: &[("timeout", "3")],
            message: &[
                "Signature could not be verified",
                "could not fetch the discovery document",
            ],
            hint: Some("verify-signature: false"),
            signature: Some("invalid"),
            keys: Keys::Unreachable,
            max: deadline(3),
            ..row("key server unreachable", Http(vec![]))
        },
        Case {
            exit: success,
            inputs: &[("timeout", "3"), ("verify-signature", "false")],
            message: &[
                "Verdict: claims printed; nothing was checked (the signature was not verified)",
            ],
            signature: Some("skipped"),
            keys: Keys::Unreachable,
            ..row(
                "key server unreachable, verify-signature: false",
                Http(vec![]),
            )
        },
        Case {
            exit: ExitStatus::CheckFailed,
            inputs: &[("timeout", "2")],
            message: &["could not fetch the JWKS", "no complete answer within"],
            hint: Some("raise its `timeout` input"),
            signature: Some("invalid"),
            keys: Keys::SilentJwks,
            min: ms(1900),
            max: deadline(2),
            ..row("JWKS never answers", Http(vec![]))
        },
    ]
}

/// What the endless body offers; the client must stop reading long before.
const FLOOD: usize = 32 << 20;

/// A token for `job` signed by the provider's key with the provider as issuer.
fn signed_token(provider: &Provider) -> String {
    let mut claims = Job::default().claims();
    claims.insert("iss".into(), json!(provider.server.uri()));
    claims.insert("aud".into(), json!("https://github.com/octo-org"));
    test_key().sign(&Value::Object(claims))
}

/// Mounts `answers` on `path`, in order, ahead of the provider's own documents.
async fn script(provider: &Provider, on: &str, answers: &[(ResponseTemplate, Option<u64>)]) {
    // Equal priorities: wiremock tries mocks in the order they were mounted.
    for (response, times) in answers {
        let mut mock = Mock::given(method("GET"))
            .and(path(on))
            .respond_with(response.clone())
            .with_priority(1);
        if let Some(n) = times {
            mock = mock.up_to_n_times(*n);
        }
        mock.mount(&provider.server).await;
    }
}

/// Runs one row; `Err` lists every expectation it missed.
async fn run_case(case: Case) -> Result<(), String> {
    let provider = Provider::start().await;
    let job = match case.keys {
        Keys::Unreachable => Job {
            issuer: Some(format!("http://{}", refused_address())),
            ..Job::default()
        },
        _ => Job::default(),
    };
    let mut raw_jwks = None;
    match &case.keys {
        Keys::Served | Keys::Unreachable => {}
        Keys::Discovery(answers) => {
            script(&provider, "/.well-known/openid-configuration", answers).await
        }
        Keys::Jwks(answers) => script(&provider, "/.well-known/jwks", answers).await,
        Keys::SilentJwks => {
            let silent = RawServer::start(vec![Conn::Silent]);
            let uri = provider.server.uri();
            Mock::given(method("GET"))
                .and(path("/.well-known/openid-configuration"))
                .respond_with(body(
                    json!({"issuer": uri, "jwks_uri": silent.url("/jwks")}),
                ))
                .with_priority(1)
                .mount(&provider.server)
                .await;
            raw_jwks = Some(silent);
        }
    }
    let mut raw = None;
    let mut elsewhere = None;
    let mut vars: Vec<(String, String)> = Vec::new();
    match &case.endpoint {
        Endpoint::Http(answers) => {
            for (response, times) in answers {
                provider.answer(response.clone(), *times).await;
            }
            provider.issue_tokens_for(&job).await;
            vars = provider.runner_env();
        }
        Endpoint::Raw(conns) => {
            provider.serve_keys().await;
            let token = signed_token(&provider);
            let conns = conns
                .iter()
                .map(|c| match c {
                    Conn::Respond(_) => Conn::Respond(json!({ "value": token }).to_string()),
                    other => other.clone(),
                })
                .collect();
            let server = RawServer::start(conns);
            vars.push((
                "ACTIONS_ID_TOKEN_REQUEST_URL".into(),
                server.url("/idtoken?api-version=2.0"),
            ));
            vars.push((
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                REQUEST_TOKEN.into(),
            ));
            raw = Some(server);
        }
        Endpoint::Refused => {
            let url = format!("http://{}/idtoken?api-version=2.0", refused_address());
            vars.push(("ACTIONS_ID_TOKEN_REQUEST_URL".into(), url));
            vars.push((
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN".into(),
                REQUEST_TOKEN.into(),
            ));
        }
        Endpoint::RedirectElsewhere => {
            provider.serve_keys().await;
            let other = Provider::start().await;
            Mock::given(path_regex(".*"))
                .respond_with(body(json!({ "value": signed_token(&provider) })))
                .mount(&other.server)
                .await;
            // Another port on loopback is another origin, as another host would be.
            let target = format!("{}/elsewhere?api-version=2.0", other.server.uri());
            provider
                .answer(status(302).insert_header("location", target.as_str()), None)
                .await;
            vars = provider.runner_env();
            elsewhere = Some(other);
        }
    }
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = run_with(None, case.inputs, &extra).await;

    let mut failures = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    expect(
        run.status == case.exit,
        format!("exit {:?}, want {:?}", run.status, case.exit),
    );
    let text = format!("{}\n{}\n{}", run.stdout, run.stderr, run.view.log_text());
    for fragment in case.message {
        expect(
            text.contains(fragment),
            format!("no `{fragment}` in the log or stderr"),
        );
    }
    if let Some(hint) = case.hint {
        expect(text.contains(hint), format!("no hint `{hint}`"));
    }
    let token_requests = match (&case.endpoint, &raw) {
        (_, Some(server)) => server.requests.load(Ordering::Relaxed),
        (Endpoint::Refused, _) => 0,
        _ => provider.token_requests().await,
    };
    expect(
        case.token_requests.contains(&token_requests),
        format!(
            "{token_requests} token requests, want {:?}",
            case.token_requests
        ),
    );
    // One progress line per retried attempt, and the count in the error is the real one.
    if !matches!(case.endpoint, Endpoint::Refused) && token_requests > 0 {
        let progress = run.stdout.matches("; retrying in ").count();
        expect(
            progress == token_requests - 1,
            format!("{progress} progress lines for {token_requests} requests"),
        );
        if run.stderr.contains("no token after ") {
            let said = format!("no token after {token_requests} attempt(s)");
            expect(
                run.stderr.contains(&said),
                format!("stderr does not say `{said}`"),
            );
        }
    }
    if let Some((discovery, jwks)) = case.key_requests {
        let received = provider
            .server
            .received_requests()
            .await
            .unwrap_or_default();
        let count = |p: &str| received.iter().filter(|r| r.url.path() == p).count();
        let got = (
            count("/.well-known/openid-configuration"),
            count("/.well-known/jwks"),
        );
        expect(
            got == (discovery, jwks),
            format!("key requests {got:?}, want {:?}", (discovery, jwks)),
        );
    }
    if let Some(silent) = &raw_jwks {
        expect(
            silent.requests.load(Ordering::Relaxed) == 1,
            "the silent JWKS was not asked exactly once".into(),
        );
    }
    expect(
        run.elapsed >= case.min && run.elapsed <= case.max,
        format!(
            "took {:?}, want {:?}..={:?}",
            run.elapsed, case.min, case.max
        ),
    );
    expect(
        run.output("signature") == case.signature,
        format!(
            "signature output {:?}, want {:?}",
            run.output("signature"),
            case.signature
        ),
    );
    let failed = !matches!(case.exit, ExitStatus::Success | ExitStatus::CheckFailed);
    expect(
        !failed || run.outputs.is_empty(),
        "outputs written although the token could not be had".into(),
    );
    if failed {
        // One error annotation, titled for the failure.
        let title = match case.exit {
            ExitStatus::Malformed => "Malformed OIDC token",
            _ => "OIDC token request failed",
        };
        let annotations: Vec<_> = run
            .view
            .annotations()
            .iter()
            .map(|a| (a.name.clone(), a.properties.get("title").cloned()))
            .collect();
        expect(
            annotations == [("error".to_owned(), Some(title.to_owned()))],
            format!("annotations {annotations:?}"),
        );
    }
    expect(
        run.view.unexpected_commands().is_empty(),
        format!("unexpected commands {:?}", run.view.unexpected_commands()),
    );
    // Secrets: the request token is only ever masked; a token (or a malformed value) only
    // on its mask line.
    assert_request_token_only_masked(&run, REQUEST_TOKEN);
    if let Some(token) = run
        .output("token")
        .map(str::to_owned)
        .or(case.secret.map(str::to_owned))
    {
        assert_token_only_masked(&run, &token);
    }
    if let Some(other) = &elsewhere {
        let received = other.server.received_requests().await.unwrap_or_default();
        expect(
            received.len() == 1,
            format!("{} requests at the redirect target", received.len()),
        );
        expect(
            received
                .iter()
                .all(|r| !r.headers.contains_key("authorization")),
            "the bearer header followed the redirect to another origin".into(),
        );
    }
    if let (Some(server), Endpoint::Raw(conns)) = (&raw, &case.endpoint) {
        if conns.iter().any(|c| matches!(c, Conn::Flood { .. })) {
            let sent = server.sent.load(Ordering::Relaxed);
            expect(
                sent < FLOOD / 2,
                format!("the client read {sent} bytes of an endless body"),
            );
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}", case.name, failures.join("; ")))
    }
}

/// A loopback `host:port` where nothing listens, so connecting is refused.
///
/// A port freed on 127.0.0.1 is not enough: rows run concurrently, and another row's server
/// can be given the same port a moment later (it happened: the "unreachable" key server
/// answered with valid keys). No test server binds 127.0.0.2, which Linux routes to the
/// loopback interface like all of 127/8; systems that only configure 127.0.0.1 fall back to it.
fn refused_address() -> String {
    ["127.0.0.2:0", "127.0.0.1:0"]
        .iter()
        .find_map(|addr| TcpListener::bind(addr).and_then(|l| l.local_addr()).ok())
        .map(|a| a.to_string())
        .expect("a free loopback port")
}

/// Rows run at once. Each run builds an HTTP client (loading the system's root certificates),
/// which costs tens of milliseconds of CPU: with every row at once on two cores the time
/// bounds would measure that queue instead of the action.
const WORKERS: usize = 6;

#[test]
fn fault_matrix() {
    // The signing key is made once per process; make it before any row's clock starts.
    let _ = test_key();
    let mut cases = cases();
    let total = cases.len();
    // Longest rows first, so the table takes about as long as its longest row.
    cases.sort_by_key(|c| std::cmp::Reverse(c.max));
    let failures = run_table(cases, WORKERS, run_case);
    assert!(
        failures.is_empty(),
        "{} of {total} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Rows in the fault matrix, and how many of them check the token (they got one, or a served
/// value) besides the request token: for the record in docs/reliability.md.
pub fn fault_counts() -> (usize, usize) {
    let cases = cases();
    let with_token = cases
        .iter()
        .filter(|c| {
            matches!(c.exit, ExitStatus::Success | ExitStatus::CheckFailed) || c.secret.is_some()
        })
        .count();
    (cases.len(), with_token)
}
