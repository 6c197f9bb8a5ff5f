//! Command-line parsing, kept apart from the work so it can be tested.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Check the GitHub Actions OIDC token before your deploy step fails.
///
/// With no arguments, runs as the GitHub Action: reads the inputs (INPUT_*) and the runner's
/// token variables (ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN) from the
/// environment, fetches and masks the token, explains its claims, runs the checks and writes
/// step outputs and a job summary. Outside a runner (no GITHUB_ACTIONS) it says so and exits
/// 2: at a terminal, use `check` for a token you have or `predict` for a job's token.
///
/// Exit codes: 0 success, 1 a check failed, 2 bad input or usage, 3 no token could be
/// obtained, 4 the token is malformed.
#[derive(Debug, Parser)]
#[command(name = "oidc-preflight", version, about, long_about)]
pub struct Cli {
    /// What to do; without one, run the action.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
// The variants' docs are the `--help` text, where URLs are plain text, not links.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the action (the same as no arguments).
    Action,
    /// Check a token you have; fetches its issuer's keys unless given --jwks FILE or
    /// --no-verify.
    ///
    /// Reads the JWT (from a failed run, or minted by hand) from a file or standard input,
    /// decodes it, verifies its signature, runs the same checks as the action and prints the
    /// report. Never prints the token.
    ///
    /// By default it goes online: verification fetches the discovery document
    /// (ISSUER/.well-known/openid-configuration) and the JWKS it names, from the trusted issuer
    /// only: GitHub's own (https://token.actions.githubusercontent.com, its /ENTERPRISE-SLUG
    /// forms, https://token.actions.SUBDOMAIN.ghe.com), or the one `--issuer` names (GitHub
    /// Enterprise Server: https://HOST/_services/token). A token whose `iss` is not trusted
    /// fails, and nothing is fetched from it. A token that cannot be verified, or keys that
    /// cannot be fetched, fail the check too. To stay offline, pass the keys with `--jwks
    /// FILE`, or skip the signature with `--no-verify`.
    Check(Box<CheckArgs>),
    /// Predict the `sub` and `aud` GitHub will issue to a job, and check them, offline.
    ///
    /// Answers "what will my deploy job's token say?" before it runs.
    Predict(Box<PredictArgs>),
    /// Predict every job's token from the workflow files and check each against every trust
    /// document, offline.
    ///
    /// Reads `.github/workflows/*.yml|yaml`, finds each job that can request a token
    /// (`id-token: write`, `write-all`, jobs of reusable workflows whose callers grant it),
    /// predicts its token for each trigger and environment, and prints a matrix of job x
    /// trigger x document with the consumer's reason, and findings: jobs that will be
    /// refused, documents no job satisfies, trust that accepts pull requests, any branch,
    /// any repository or other owners. Exit 1 when a job will be refused or trust is
    /// dangerous.
    Audit(Box<AuditArgs>),
}

/// How to print the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable report.
    Text,
    /// One JSON object (findings, suggestions, snippets, claims).
    Json,
}

/// The checks, as the action's inputs.
#[derive(Debug, Clone, Args)]
pub struct CheckOptions {
    /// A pattern `sub` must match (AWS StringLike: `*`, `?`); repeat for alternatives.
    #[arg(long = "subject-pattern", value_name = "PATTERN")]
    pub subject_patterns: Vec<String>,
    /// A claim that must match, as `name=pattern`; repeat, all must hold.
    #[arg(long = "claim", value_name = "NAME=PATTERN")]
    pub claims: Vec<String>,
    /// The audience the consumer expects (default: the provider's).
    #[arg(long)]
    pub audience: Option<String>,
    /// The issuer the consumer is configured with. For `check` it is also the only issuer
    /// trusted: its keys verify the signature, and a token with another `iss` fails. Without
    /// it, `check` trusts GitHub's own issuers only.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Who consumes the token: aws, azure, gcp, pypi, crates-io, npm, vault.
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Check the token a job with this environment would get, predicted from this token.
    #[arg(long, value_name = "NAME")]
    pub job_environment: Option<String>,
    /// A registry's trusted publisher as entered on the registry, checked with that
    /// registry's rules: `registry=pypi,repository=OWNER/REPO,workflow=release.yml` and
    /// optionally `environment=NAME` and `owner-id=ID`.
    #[arg(long, value_name = "SPEC")]
    pub trusted_publisher: Option<String>,
    /// A trust policy document to evaluate (AWS IAM trust policy, Azure federated credential,
    /// GCP workload identity provider), or a directory of them; repeatable.
    #[arg(long = "trust-policy", value_name = "PATH")]
    pub trust_policies: Vec<String>,
    /// The documents' format: aws, azure, gcp, vault, or auto (detected per document).
    #[arg(long, default_value = "auto", value_name = "FORMAT")]
    pub trust_policy_format: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `oidc-preflight check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// File holding the JWT; `-` or nothing reads standard input.
    #[arg(value_name = "TOKEN_FILE")]
    pub token: Option<PathBuf>,
    /// Verify the signature with the keys in this JWKS file instead of fetching them from the
    /// trusted issuer (no network). The token's `iss` must still be trusted.
    #[arg(long, value_name = "FILE", conflicts_with = "no_verify")]
    pub jwks: Option<PathBuf>,
    /// Do not check the signature (no network at all); the report says `Signature: skipped`.
    #[arg(long)]
    pub no_verify: bool,
    /// The checks.
    #[command(flatten)]
    pub checks: CheckOptions,
}

/// `oidc-preflight predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// The repository, `OWNER/REPO`.
    #[arg(long)]
    pub repository: String,
    /// The git ref the job runs for.
    #[arg(long = "ref", default_value = "refs/heads/main", value_name = "REF")]
    pub git_ref: String,
    /// The triggering event (`push`, `pull_request`, `workflow_dispatch`, ...).
    #[arg(long, default_value = "push")]
    pub event: String,
    /// The job's `environment:`, if any.
    #[arg(long)]
    pub environment: Option<String>,
    /// A customized subject template, as in the OIDC customization API
    /// (e.g. `repo,context,job_workflow_ref`).
    #[arg(long, value_delimiter = ',', value_name = "KEYS")]
    pub include_claim_keys: Vec<String>,
    /// The owner's numeric id, for the immutable subject form (with --repository-id).
    #[arg(long, value_name = "ID")]
    pub owner_id: Option<String>,
    /// The repository's numeric id, for the immutable subject form (with --owner-id).
    #[arg(long, value_name = "ID")]
    pub repository_id: Option<String>,
    /// The workflow file name (for workflow_ref and job_workflow_ref).
    #[arg(long, default_value = "deploy.yml", value_name = "FILE")]
    pub workflow: String,
    /// The issuer, for enterprise slugs, GHE.com or GHES.
    #[arg(
        long = "token-issuer",
        default_value = "https://token.actions.githubusercontent.com",
        value_name = "URL"
    )]
    pub token_issuer: String,
    /// Any other claim value a template needs, as `name=value`; repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// The checks.
    #[command(flatten)]
    pub checks: CheckOptions,
}

/// `oidc-preflight audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// The directory of workflow files.
    #[arg(long, default_value = ".github/workflows", value_name = "DIR")]
    pub workflows: String,
    /// The repository, `OWNER/REPO`.
    #[arg(long)]
    pub repository: String,
    /// The owner's numeric id, for the immutable subject form (with --repository-id).
    #[arg(long, value_name = "ID")]
    pub owner_id: Option<String>,
    /// The repository's numeric id, for the immutable subject form (with --owner-id).
    #[arg(long, value_name = "ID")]
    pub repository_id: Option<String>,
    /// The repository's customized subject template (e.g. `repo,context,job_workflow_ref`).
    #[arg(long, value_delimiter = ',', value_name = "KEYS")]
    pub include_claim_keys: Vec<String>,
    /// Any other claim value the template needs, as `name=value`; repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// The repository's default branch (schedule and most events run there).
    #[arg(long, default_value = "main", value_name = "BRANCH")]
    pub default_branch: String,
    /// The audience every job requests (default: the one each document names, else its
    /// consumer's default).
    #[arg(long)]
    pub audience: Option<String>,
    /// The issuer, for enterprise slugs, GHE.com or GHES.
    #[arg(
        long = "token-issuer",
        default_value = "https://token.actions.githubusercontent.com",
        value_name = "URL"
    )]
    pub token_issuer: String,
    /// A trust policy document (AWS, Azure, GCP), or a directory of them; repeatable.
    #[arg(long = "trust-policy", value_name = "PATH")]
    pub trust_policies: Vec<String>,
    /// The documents' format: aws, azure, gcp, or auto (detected per document).
    #[arg(long, default_value = "auto", value_name = "FORMAT")]
    pub trust_policy_format: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

impl Cli {
    /// Parses arguments (the first item is the program name).
    pub fn parse_from_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_arguments_means_the_action() {
        assert!(Cli::parse_from_args(["oidc-preflight"])
            .unwrap()
            .command
            .is_none());
        assert!(Cli::parse_from_args(["oidc-preflight", "--bogus"]).is_err());
    }

    #[test]
    fn check_and_predict_parse() {
        let cli = Cli::parse_from_args([
            "oidc-preflight",
            "check",
            "t.jwt",
            "--subject-pattern",
            "a",
            "--subject-pattern",
            "b",
            "--claim",
            "environment=prod",
            "--format",
            "json",
        ])
        .unwrap();
        let Some(Command::Check(args)) = cli.command else {
            panic!("check expected")
        };
        assert_eq!(args.checks.subject_patterns, ["a", "b"]);
        assert_eq!(args.checks.format, Format::Json);
        let cli = Cli::parse_from_args([
            "oidc-preflight",
            "predict",
            "--repository",
            "o/r",
            "--include-claim-keys",
            "repo,context",
        ])
        .unwrap();
        let Some(Command::Predict(args)) = cli.command else {
            panic!("predict expected")
        };
        assert_eq!(args.include_claim_keys, ["repo", "context"]);
        assert_eq!(args.git_ref, "refs/heads/main");
    }
}
