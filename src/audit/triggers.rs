//! Each trigger as the refs a run of it can have: the refs its filters name, a representative
//! of each glob they hold, and, where a run can be for a ref nobody named (no filter,
//! `workflow_dispatch`), a made-up ref marked unnamed.
//!
//! Sources: GitHub docs, "Events that trigger workflows"
//! (<https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows>:
//! `GITHUB_REF` of each event; `schedule`, `workflow_run`, `repository_dispatch`, `issues`
//! and most other events run on the default branch; `pull_request` on
//! `refs/pull/N/merge`; `pull_request_target` on the base branch; `release` on the release's
//! tag) and "Workflow syntax" (`on.push.branches`/`tags`: defining only branches or only tags
//! runs for that kind of ref only; `*` matches no `/`, `**` does).

use github_actions_models::workflow::event::{
    BranchFilters, Events, OptionalBody, PullRequest, Push, TagFilters,
};

/// The branch name an unnamed-branch run is checked with: no real branch is called this, so
/// a document that accepts it accepts any branch.
pub const ANY_BRANCH: &str = "audit-probe/any-branch";

/// The tag an unnamed-tag run is checked with.
pub const ANY_TAG: &str = "audit-probe-any-tag";

/// One way a job can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The event name (`event_name`).
    pub event: String,
    /// The ref (`ref`).
    pub git_ref: String,
    /// True when the ref stands for refs nobody named ([`ANY_BRANCH`], [`ANY_TAG`]).
    pub unnamed: bool,
}

/// The runs of a workflow's triggers, the notes on what stands for what, and the triggers
/// the audit does not know.
#[derive(Debug, Default)]
pub struct Runs {
    /// Every run, in trigger order.
    pub runs: Vec<Run>,
    /// Where a representative stands for more refs than it names.
    pub notes: Vec<String>,
    /// Trigger names that are no event the audit knows.
    pub unknown: Vec<String>,
}

/// Events whose runs are for the default branch.
const ON_DEFAULT_BRANCH: &[&str] = &[
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "delete",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "gollum",
    "image_version",
    "issue_comment",
    "issues",
    "label",
    "milestone",
    "page_build",
    "project",
    "project_card",
    "project_column",
    "public",
    "registry_package",
    "repository_dispatch",
    "schedule",
    "status",
    "watch",
    "workflow_run",
];

/// Events on a pull request's merge ref.
const ON_PULL_REQUEST_REF: &[&str] = &[
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
];

/// The runs of `triggers` (the `on:` keys as written), with `events` the typed model of them.
pub fn runs(triggers: &[String], events: &Events, default_branch: &str) -> Runs {
    let mut out = Runs::default();
    let branch = |name: &str| format!("refs/heads/{name}");
    for trigger in triggers {
        let t = trigger.as_str();
        let mut push = |event: &str, git_ref: String, unnamed: bool| {
            out.runs.push(Run {
                event: event.to_owned(),
                git_ref,
                unnamed,
            })
        };
        match t {
            "push" => {
                let filters = match &events.push {
                    OptionalBody::Body(p) => Some(p),
                    _ => None,
                };
                push_runs(filters, default_branch, &mut out);
            }
            "pull_request_target" => {
                // The base branch's ref: the filter names base branches.
                let bases = match &events.pull_request_target {
                    OptionalBody::Body(PullRequest {
                        branch_filters: Some(BranchFilters::Branches(b)),
                        ..
                    }) => b
                        .iter()
                        .filter(|p| !p.starts_with('!'))
                        .map(|p| representative(p))
                        .collect(),
                    _ => vec![default_branch.to_owned()],
                };
                for b in bases {
                    push(t, branch(&b), false);
                }
            }
            "workflow_dispatch" => {
                push(t, branch(default_branch), false);
                push(t, branch(ANY_BRANCH), true);
                out.notes.push(
                    "workflow_dispatch runs for any branch or tag the person who starts it chooses"
                        .to_owned(),
                );
            }
            "release" => {
                push(t, "refs/tags/v1.0.0".to_owned(), false);
                out.notes.push(
                    "release runs for the release's tag, which no workflow names: checked as `v1.0.0`"
                        .to_owned(),
                );
            }
            "merge_group" => push(
                t,
                branch(&format!(
                    "gh-readonly-queue/{default_branch}/pr-1-{}",
                    "0".repeat(40)
                )),
                false,
            ),
            "create" => {
                push(t, branch(ANY_BRANCH), true);
                push(t, format!("refs/tags/{ANY_TAG}"), true);
            }
            "workflow_call" => {}
            t if ON_PULL_REQUEST_REF.contains(&t) => push(t, "refs/pull/1/merge".to_owned(), false),
            t if ON_DEFAULT_BRANCH.contains(&t) => push(t, branch(default_branch), false),
            _ => out.unknown.push(trigger.clone()),
        }
    }
    out
}

fn push_runs(filters: Option<&Push>, default_branch: &str, out: &mut Runs) {
    let (branches, tags) = match filters {
        None => (None, None),
        Some(p) => (p.branch_filters.as_ref(), p.tag_filters.as_ref()),
    };
    // Only one kind of filter: runs for that kind of ref only.
    let want_branches = branches.is_some() || tags.is_none();
    let want_tags = tags.is_some() || branches.is_none();
    let mut add = |git_ref: String, unnamed: bool| {
        out.runs.push(Run {
            event: "push".to_owned(),
            git_ref,
            unnamed,
        })
    };
    if want_branches {
        match branches {
            Some(BranchFilters::Branches(patterns)) => {
                for p in patterns.iter().filter(|p| !p.starts_with('!')) {
                    add(format!("refs/heads/{}", representative(p)), false);
                    note_glob(p, "branches", &mut out.notes);
                }
            }
            Some(BranchFilters::BranchesIgnore(ignored)) => {
                if !ignored.iter().any(|p| glob(p, default_branch)) {
                    add(format!("refs/heads/{default_branch}"), false);
                }
                if !ignored.iter().any(|p| glob(p, ANY_BRANCH)) {
                    add(format!("refs/heads/{ANY_BRANCH}"), true);
                }
            }
            None => {
                add(format!("refs/heads/{default_branch}"), false);
                add(format!("refs/heads/{ANY_BRANCH}"), true);
            }
        }
    }
    if want_tags {
        match tags {
            Some(TagFilters::Tags(patterns)) => {
                for p in patterns.iter().filter(|p| !p.starts_with('!')) {
                    add(format!("refs/tags/{}", representative(p)), false);
                    note_glob(p, "tags", &mut out.notes);
                }
            }
            Some(TagFilters::TagsIgnore(ignored)) => {
                if !ignored.iter().any(|p| glob(p, ANY_TAG)) {
                    add(format!("refs/tags/{ANY_TAG}"), true);
                }
            }
            None => add(format!("refs/tags/{ANY_TAG}"), true),
        }
    }
}

fn note_glob(pattern: &str, kind: &str, notes: &mut Vec<String>) {
    if is_glob(pattern) {
        notes.push(format!(
            "push {kind} filter `{pattern}` admits refs nobody named: checked as `{}`",
            representative(pattern)
        ));
    }
}

fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '+'])
}

/// One ref a filter pattern admits: `*` and `**` as `1`, `?` as `1`, a class as its first
/// character, `+` dropped (`v*` is `v1`, `release/**` is `release/1`).
pub fn representative(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                out.push('1');
            }
            '?' => out.push('1'),
            '+' => {}
            '[' => {
                let first = chars.next().unwrap_or('1');
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                }
                out.push(first);
            }
            c => out.push(c),
        }
    }
    out
}

/// GitHub's filter glob, enough to tell whether an ignore pattern covers a ref: `*` any run
/// without `/`, `**` any run, `?` one character; everything else literal.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) if rest.first() == Some(&'*') => {
                (0..=t.len()).any(|i| go(&rest[1..], &t[i..]))
            }
            Some(('*', rest)) => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != '/')
                .any(|i| go(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(yaml: &str) -> (Vec<String>, Events) {
        let value: yaml_serde::Value = yaml_serde::from_str(yaml).unwrap();
        let names = value
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        (names, yaml_serde::from_str(yaml).unwrap())
    }

    fn refs(yaml: &str) -> Vec<(String, bool)> {
        let (names, ev) = events(yaml);
        runs(&names, &ev, "main")
            .runs
            .into_iter()
            .map(|r| (format!("{} {}", r.event, r.git_ref), r.unnamed))
            .collect()
    }

    #[test]
    fn push_filters_name_their_refs() {
        assert_eq!(
            refs("push:\n  branches: [main, 'release/**']\n"),
            [
                ("push refs/heads/main".into(), false),
                ("push refs/heads/release/1".into(), false)
            ]
        );
        assert_eq!(
            refs("push:\n  tags: ['v*']\n"),
            [("push refs/tags/v1".into(), false)]
        );
        let all = refs("push:\n");
        assert!(all.contains(&(format!("push refs/heads/{ANY_BRANCH}"), true)));
        assert!(all.contains(&(format!("push refs/tags/{ANY_TAG}"), true)));
        assert!(all.contains(&("push refs/heads/main".into(), false)));
    }

    #[test]
    fn unknown_triggers_are_named() {
        let (names, ev) = events("pull_request:\nnot_an_event:\n");
        let r = runs(&names, &ev, "main");
        assert_eq!(r.unknown, ["not_an_event"]);
        assert_eq!(r.runs[0].git_ref, "refs/pull/1/merge");
    }

    #[test]
    fn globs_follow_github() {
        assert!(glob("release/*", "release/1"));
        assert!(!glob("release/*", "release/a/b"));
        assert!(glob("release/**", "release/a/b"));
        assert!(glob("v?", "v1"));
        assert!(!glob("main", "mainx"));
        assert_eq!(representative("v[0-9]+.*"), "v0.1");
    }
}
