//! `cargo run --example summary_gallery -- OUT_DIR [STYLESHEET]`: the job summaries a person
//! reads, written by the library for a handful of scenarios, as `OUT_DIR/NAME.md` and as
//! `OUT_DIR/NAME.html`, the Markdown rendered the way GitHub renders it (GFM through comrak)
//! inside GitHub's own stylesheet. `scripts/screenshots.sh` screenshots the HTML pages with
//! headless Chromium into docs/screenshots/.
//!
//! The reports are built as `oidc-preflight check` builds them (expectations from the same
//! flags, trust documents, the signature verified against the embedded test key's JWKS), on
//! fixed times, so a picture changes only when the summary does.
// Tests and examples may unwrap and print (Cargo.toml's [lints] are for library code).
#![allow(
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

#[path = "../tests/support/provider.rs"]
mod provider;

use std::path::{Path, PathBuf};

use oidc_preflight::audit::{self, Options};
use oidc_preflight::claims;
use oidc_preflight::cli::{Cli, Command};
use oidc_preflight::diagnose::{self, Clock, Surface};
use oidc_preflight::report::Report;
use oidc_preflight::sink::summary;
use oidc_preflight::verify::{
    self, Jwks, KeySource, SignatureStatus, TrustedIssuers, VerifyOptions,
};
use oidc_preflight::Secret;
use provider::{test_key, Job};
use serde_json::{json, Value};

/// When the token was issued; the checks run ten seconds later, as in the snapshot tests.
const IAT: i64 = 1_800_000_000;
const GCP_POLICY_AUD: &str = "https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/octo-org";

struct Shot {
    name: &'static str,
    job: Job,
    /// Claims that differ from the job's.
    set: Vec<(&'static str, Value)>,
    /// `check` flags (trust-policy paths relative to the repository root).
    flags: Vec<String>,
}

fn flags(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn shots() -> Vec<Shot> {
    let env = |e: &str| Job {
        environment: Some(e.into()),
        ..Job::default()
    };
    vec![
        Shot {
            name: "environment-form",
            job: env("prod"),
            set: vec![("aud", json!("sts.amazonaws.com"))],
            flags: flags(&[
                "--provider",
                "aws",
                "--subject-pattern",
                "repo:octo-org/octo-repo:ref:refs/heads/main",
            ]),
        },
        Shot {
            name: "aws-policy-refuses",
            job: Job::default(),
            set: vec![("aud", json!("sts.amazonaws.com"))],
            flags: flags(&[
                "--audience",
                "sts.amazonaws.com",
                "--trust-policy",
                "examples/policies/aws-trust-policy.json",
            ]),
        },
        Shot {
            name: "gcp-condition-refuses",
            job: Job {
                repository: "fork-org/octo-repo".into(),
                ..Job::default()
            },
            set: vec![("aud", json!(GCP_POLICY_AUD))],
            flags: flags(&[
                "--audience",
                GCP_POLICY_AUD,
                "--trust-policy",
                "examples/policies/gcp-provider.json",
            ]),
        },
        Shot {
            name: "pypi-publisher-mismatch",
            job: Job::default(),
            set: vec![
                ("aud", json!("pypi")),
                (
                    "job_workflow_ref",
                    json!("octo-org/octo-repo/.github/workflows/build.yml@refs/heads/main"),
                ),
            ],
            flags: flags(&[
                "--audience",
                "pypi",
                "--trusted-publisher",
                "registry=pypi,repository=octo-org/octo-repo,workflow=deploy.yml",
            ]),
        },
        Shot {
            name: "passing",
            job: Job::default(),
            set: vec![("aud", json!("sts.amazonaws.com"))],
            flags: flags(&[
                "--provider",
                "aws",
                "--subject-pattern",
                "repo:octo-org/octo-repo:ref:refs/heads/*",
            ]),
        },
        Shot {
            name: "hostile-values",
            job: Job {
                git_ref: "refs/heads/security@evil.example|x`y<img src=x onerror=alert(1)>**b**"
                    .into(),
                environment: Some("prod</code></details><script>alert(1)</script>".into()),
                ..Job::default()
            },
            set: vec![
                ("aud", json!("sts.amazonaws.com")),
                (
                    "workflow",
                    json!("[click](javascript:alert(1)) www.evil.example"),
                ),
            ],
            flags: flags(&[
                "--provider",
                "aws",
                "--subject-pattern",
                "repo:octo-org/octo-repo:ref:refs/heads/main",
            ]),
        },
    ]
}

/// The report `check --jwks` builds for `shot`, at `IAT + 10`.
async fn report(shot: &Shot, root: &Path) -> Report {
    let mut args: Vec<String> = flags(&["oidc-preflight", "check", "-"]);
    args.extend(shot.flags.iter().cloned());
    let Some(Command::Check(check)) = Cli::parse_from_args(&args).unwrap().command else {
        unreachable!("a check command")
    };
    let expect = oidc_preflight::offline::expectations(&check.checks).unwrap();

    let mut map = shot.job.claims();
    map.insert("iat".into(), json!(IAT));
    map.insert("nbf".into(), json!(IAT - 5));
    map.insert("exp".into(), json!(IAT + 300));
    for (name, value) in &shot.set {
        map.insert((*name).into(), value.clone());
    }
    let token = test_key().sign(&Value::Object(map));
    let decoded = claims::decode(&token).unwrap();
    let now = IAT + 10;
    let mut analysis = diagnose::analyze(&decoded.claims, &expect, Clock { now, fresh: false });
    // Paths relative to the repository root, shown as a workflow names them.
    let policies =
        oidc_preflight::trust::load(&check.checks.trust_policies, Some(root), None).unwrap();
    oidc_preflight::trust::apply(&mut analysis, &policies);

    let jwks = Jwks::from_json(&test_key().jwks().to_string()).unwrap();
    let mut options = VerifyOptions::new(TrustedIssuers::github());
    options.keys = KeySource::Jwks(jwks);
    options.now = Some(now);
    // No request is made: the keys are given and the issuer is GitHub's.
    let client = oidc_preflight::request::http_client().unwrap();
    let result = verify::verify(&client, &Secret::new(token), &options).await;
    analysis.record_signature(&result, Surface::Check);
    let signature = SignatureStatus::of(&result);
    Report::finish(analysis, decoded.claims, signature, now, true)
}

fn audit_summary(root: &Path, set: &str) -> String {
    let dir = root.join("tests/fixtures/audit").join(set);
    let workflows =
        audit::load_workflows(&dir.join(".github/workflows"), ".github/workflows").unwrap();
    let documents = audit::load_documents(&["policies".to_owned()], Some(&dir), None).unwrap();
    let report = audit::audit(&workflows, &documents, &Options::new("octo-org/octo-repo")).unwrap();
    let mut out = Vec::new();
    audit::render::write_summary(&mut out, &report).unwrap();
    String::from_utf8(out).unwrap()
}

/// GitHub's Markdown: cmark-gfm with the extensions github.com enables (tables,
/// strikethrough, autolinks, the tag filter, task lists, footnotes) and raw HTML passed to its
/// sanitizer, which keeps the elements the summary writes (`code`, `em`, `br`, `wbr`,
/// `details`, `summary`).
fn render(markdown: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    // cmark-gfm's tag filter, which github.com runs; comrak marks it deprecated (to go in
    // 0.56) but 0.55 is the last release within this crate's rust-version.
    #[allow(deprecated)]
    {
        options.extension.tagfilter = true;
    }
    options.extension.tasklist = true;
    options.extension.footnotes = true;
    options.render.r#unsafe = true;
    comrak::markdown_to_html(markdown, &options)
}

/// A page like the job summary's card: GitHub's stylesheet, the content 980 px wide inside
/// 16 px of padding (1012 px: the width github.com gives Markdown in its 1012 px content
/// column), light theme.
fn page(title: &str, body: &str, stylesheet: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="{stylesheet}">
<style>
  html, body {{ margin: 0; background: #ffffff; }}
  .markdown-body {{ box-sizing: border-box; width: 1012px; padding: 16px; }}
</style></head>
<body><article class="markdown-body" data-color-mode="light" data-light-theme="light">
{body}</article>
<script>
  // Read by scripts/screenshots.sh (chromium --dump-dom) to shoot the page at its full height.
  addEventListener("load", () => {{
    document.body.dataset.height = Math.ceil(document.documentElement.scrollHeight);
    document.body.dataset.width = Math.ceil(document.documentElement.scrollWidth);
    // GitHub's stylesheet gives tables and code blocks their own horizontal scrollbar, so
    // content wider than the page is cut off there rather than widening the page: count them.
    // (A code block in a collapsed section is a snippet to copy, scrolled like any code.)
    const cut = [...document.querySelectorAll("table, pre")].filter(
      (e) => !e.closest("details:not([open])") && e.scrollWidth > e.clientWidth + 1);
    document.body.dataset.cut = cut.length;
  }});
</script></body></html>
"#
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: summary_gallery OUT_DIR [STYLESHEET]")?,
    );
    let stylesheet = args
        .next()
        .unwrap_or_else(|| "github-markdown-light.css".to_owned());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(&out)?;
    let mut pages = Vec::new();
    for shot in shots() {
        let report = report(&shot, root).await;
        let mut md = Vec::new();
        summary::write(&mut md, &report)?;
        pages.push((shot.name.to_owned(), String::from_utf8(md)?));
    }
    for set in ["monorepo", "release-tags"] {
        pages.push((format!("audit-{set}"), audit_summary(root, set)));
    }
    for (name, md) in pages {
        std::fs::write(out.join(format!("{name}.md")), &md)?;
        let html = page(&name, &render(&md), &stylesheet);
        std::fs::write(out.join(format!("{name}.html")), html)?;
        println!("{name}");
    }
    Ok(())
}
