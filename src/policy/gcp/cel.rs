//! The bridge to the `cel` crate: checking GCP's CEL expressions with positioned errors,
//! finding which `attribute.*` a condition reads, and running mappings and condition against
//! the token's claims.
//!
//! All CEL work runs on a scoped worker thread with a large stack. The crate's generated
//! parser and its interpreter recurse once per nesting level and per chained operator; in a
//! debug build a few dozen levels exhaust a default 2 MiB thread stack, and a stack overflow
//! aborts the process. The stack is reserved, not committed, so only the depth actually used
//! costs memory. The worker also contains a panic inside the crate. Only plain Rust data
//! crosses the thread boundary; the caller still sees a synchronous function.
//!
//! Evaluating one document's expressions has a deadline, [`DEADLINE`]: GCP does not wait for
//! a slow condition either, so running out of time refuses the token
//! ([`Failure::TimedOut`]). Our `matches` checks the clock on every call and fails once time
//! is up (and the run is reported as timed out even if CEL's `||` or `exists` absorbed that
//! error); an evaluation that is slow without calling `matches` is abandoned by the caller,
//! which stops waiting for the worker a little after the deadline.

use crate::policy::PolicyError;
use cel::common::ast::{operators, EntryExpr, Expr, LiteralValue};
use cel::objects::{Key, Map};
use cel::{Context, IdedExpr, Program, Value};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one document's mappings and condition may take together. Real conditions take
/// microseconds; a hostile one (nested comprehensions around `.matches()`) could otherwise
/// run for most of an hour.
pub(crate) const DEADLINE: Duration = Duration::from_secs(2);

/// How much longer than [`DEADLINE`] the caller waits for the worker before abandoning it:
/// time for a worker that noticed the deadline in `matches` to unwind and report.
const JOIN_GRACE: Duration = Duration::from_secs(1);

/// Compiled `matches` patterns kept per run; a condition that builds a new pattern for each
/// element beyond this compiles the rest without caching (and is still under the deadline).
const REGEX_CACHE_ENTRIES: usize = 256;

/// Worker stack: enough for the longest expressions GCP accepts (4096 characters of chained
/// operators) in a debug build, with a wide margin.
const STACK_SIZE: usize = 256 << 20;

/// Bracket nesting refused before the CEL parser sees it; GCP expressions never nest this deep.
const MAX_NESTING: usize = 32;

/// Comprehensions (`exists`, `all`, `map`, `filter`) nested deeper than this are refused:
/// each level can multiply the work and the size of values, so a short expression could
/// otherwise run for hours or exhaust memory.
const MAX_COMPREHENSION_NESTING: usize = 2;

/// An expression known to parse, with the names `X` of the `attribute.X` it reads.
#[derive(Debug, Clone)]
pub(super) struct Checked {
    pub(super) source: String,
    pub(super) attributes: BTreeSet<String>,
    /// Whether it reads the token at all (`assertion`, `attribute` or `google`).
    pub(super) reads_token: bool,
}

/// A CEL result as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Evaluated {
    /// A string, as mapped attributes normally are.
    String(String),
    /// A boolean, as a condition must give.
    Bool(bool),
    /// Anything else, by CEL type name and display form.
    Other {
        /// CEL's name for the type (`int`, `list`, ...).
        type_name: String,
        /// The value in a CEL-like form.
        shown: String,
    },
}

/// Why an expression failed on this token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EvalError {
    /// CEL's error, as the interpreter words it.
    pub(super) message: String,
    /// The key of CEL's `no such key` error: a claim (or attribute) the token does not have.
    pub(super) missing_key: Option<String>,
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for EvalError {
    fn from(message: String) -> Self {
        EvalError {
            message,
            missing_key: None,
        }
    }
}

/// The results of one provider's mappings (in the order given) and condition.
#[derive(Debug)]
pub(super) struct Run {
    pub(super) mappings: Vec<Result<Evaluated, EvalError>>,
    /// `None` when there is no condition or a mapping failed, so the condition never ran.
    pub(super) condition: Option<Result<Evaluated, EvalError>>,
    /// When the condition gave `false`: the clauses that made it false.
    pub(super) clauses: Vec<super::explain::Clause>,
}

/// Why a run gave no results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    /// The worker could not start or the interpreter panicked.
    Crashed,
    /// The expressions did not finish within [`DEADLINE`].
    TimedOut,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Crashed => f.write_str("the CEL interpreter failed on these expressions"),
            Failure::TimedOut => write!(
                f,
                "the expressions did not finish within {} s",
                DEADLINE.as_secs_f64()
            ),
        }
    }
}

/// The state of one run on its worker thread: the deadline and the compiled patterns.
#[derive(Default)]
struct Budget {
    deadline: Option<Instant>,
    /// Set once `matches` saw the deadline pass.
    expired: bool,
    regexes: HashMap<String, Result<Arc<regex::Regex>, String>>,
    /// How many patterns were compiled (tests count them).
    compiled: usize,
    /// Whether time was up when the mappings and condition had run, before a false condition
    /// was explained: the explanation never turns a result into a timeout.
    timed_out_before_explaining: Option<bool>,
}

/// Whether the run's time is up (and `matches` saw it).
fn out_of_time() -> bool {
    BUDGET.with(|b| {
        let b = b.borrow();
        b.expired || b.deadline.is_some_and(|d| Instant::now() > d)
    })
}

thread_local! {
    // Thread-local because the cel crate takes plain functions; each run has a fresh worker.
    static BUDGET: RefCell<Budget> = RefCell::default();
}

/// Runs `work` on the worker thread. `None` when the thread could not start or panicked.
fn on_worker<T: Send>(work: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("oidc-preflight-cel".into())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, work)
            .ok()?
            .join()
            .ok()
    })
}

/// Why an expression is refused at parse time.
enum Refusal {
    /// A syntax error at a (line, column), both from 1.
    Syntax((isize, isize), String),
    /// Comprehensions nest too deeply.
    TooComplex,
}

/// Checks that `source` parses; a syntax error names `location` and the line and column.
pub(super) fn check(source: &str, location: &str) -> Result<Checked, PolicyError> {
    check_nesting(source, location)?;
    let refusal = match on_worker(|| parse_here(source)) {
        Some(Ok((attributes, reads_token))) => {
            return Ok(Checked {
                source: source.to_owned(),
                attributes,
                reads_token,
            })
        }
        Some(Err(refusal)) => refusal,
        None => Refusal::Syntax((1, 1), "the CEL parser failed on this expression".into()),
    };
    match refusal {
        Refusal::Syntax((line, column), message) => Err(PolicyError::Cel {
            location: location.to_owned(),
            line: usize::try_from(line).unwrap_or(1).max(1),
            column: usize::try_from(column).unwrap_or(1).max(1),
            message,
        }),
        Refusal::TooComplex => Err(PolicyError::invalid(
            location,
            format!(
                "comprehensions (exists, all, map, filter) nested deeper than \
                 {MAX_COMPREHENSION_NESTING} levels are not evaluated"
            ),
        )),
    }
}

/// Parses on the current thread: the attributes read and whether it reads the token at all, or
/// why the expression is refused.
fn parse_here(source: &str) -> Result<(BTreeSet<String>, bool), Refusal> {
    let program = Program::compile(source).map_err(|errors| {
        let first = errors.errors.first();
        Refusal::Syntax(
            first.map_or((1, 1), |e| e.pos),
            first.map_or_else(|| "invalid expression".into(), |e| e.msg.clone()),
        )
    })?;
    if comprehension_depth(program.expression()) > MAX_COMPREHENSION_NESTING {
        return Err(Refusal::TooComplex);
    }
    let mut names = BTreeSet::new();
    collect_attributes(program.expression(), &mut names);
    let references = program.references();
    let reads_token = ["assertion", "attribute", "google"]
        .iter()
        .any(|name| references.has_variable(name));
    Ok((names, reads_token))
}

fn check_nesting(source: &str, location: &str) -> Result<(), PolicyError> {
    let mut depth = 0usize;
    let (mut line, mut column) = (1, 0);
    let mut quote: Option<char> = None;
    for c in source.chars() {
        column += 1;
        match (quote, c) {
            (_, '\n') => (line, column) = (line + 1, 0),
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err(PolicyError::Cel {
                location: location.to_owned(),
                line,
                column,
                message: format!("brackets nested deeper than {MAX_NESTING} levels"),
            });
        }
    }
    Ok(())
}

/// Evaluates the `(target, source)` mappings over `assertion` (the claims), then, when they
/// all succeed, the condition over `assertion`, `attribute` and `google`.
/// Gives up after [`DEADLINE`] (see the module comment).
pub(super) fn run(
    mappings: &[(&str, &str)],
    condition: Option<&str>,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<Run, Failure> {
    run_within(mappings, condition, claims, DEADLINE)
}

fn run_within(
    mappings: &[(&str, &str)],
    condition: Option<&str>,
    claims: &serde_json::Map<String, serde_json::Value>,
    limit: Duration,
) -> Result<Run, Failure> {
    // Owned copies: an abandoned worker outlives this call, so it cannot borrow.
    let mappings: Vec<(String, String)> = mappings
        .iter()
        .map(|(t, s)| ((*t).to_owned(), (*s).to_owned()))
        .collect();
    let condition = condition.map(str::to_owned);
    let claims = claims.clone();
    let deadline = Instant::now() + limit;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("oidc-preflight-cel".into())
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let result = run_here(&mappings, condition.as_deref(), &claims, deadline);
            // The caller may have stopped waiting; then nobody needs the result.
            let _ = sender.send(result);
        })
        .map_err(|_| Failure::Crashed)?;
    match receiver.recv_timeout(limit + JOIN_GRACE) {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Failure::TimedOut),
        // The worker panicked before sending.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(Failure::Crashed),
    }
}

fn run_here(
    mappings: &[(String, String)],
    condition: Option<&str>,
    claims: &serde_json::Map<String, serde_json::Value>,
    deadline: Instant,
) -> Result<Run, Failure> {
    BUDGET.with(|b| {
        *b.borrow_mut() = Budget {
            deadline: Some(deadline),
            ..Budget::default()
        }
    });
    let run = evaluate_all(mappings, condition, claims);
    let expired = BUDGET
        .with(|b| b.borrow().timed_out_before_explaining)
        .unwrap_or_else(out_of_time);
    if expired {
        return Err(Failure::TimedOut);
    }
    Ok(run)
}

fn evaluate_all(
    mappings: &[(String, String)],
    condition: Option<&str>,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Run {
    let assertion = from_json(&serde_json::Value::Object(claims.clone()));
    let mut attribute = Vec::new();
    let mut google = Vec::new();
    let mut results = Vec::new();
    for (target, source) in mappings {
        let result = execute(source, &[("assertion", &assertion)]).map(|(value, _)| value);
        if let Ok(value) = &result {
            if let Some(name) = target.strip_prefix("attribute.") {
                attribute.push((name.to_owned(), value.clone()));
            } else if let Some(name) = target.strip_prefix("google.") {
                google.push((name.to_owned(), value.clone()));
            }
        }
        results.push(result.map(|v| plain(&v)));
    }
    let mut clauses = Vec::new();
    let condition = condition
        .filter(|_| results.iter().all(Result::is_ok))
        .map(|source| {
            let attribute = map_value(attribute);
            let google = map_value(google);
            let variables = [
                ("assertion", &assertion),
                ("attribute", &attribute),
                ("google", &google),
            ];
            execute(source, &variables).map(|(value, ran)| {
                let late = out_of_time();
                BUDGET.with(|b| b.borrow_mut().timed_out_before_explaining = Some(late));
                if value == Value::Bool(false) && !late {
                    clauses = super::explain::false_clauses(ran.0.expression(), &ran.1);
                    // Out of time while explaining: the result stands, unexplained.
                    if out_of_time() {
                        clauses.clear();
                    }
                }
                plain(&value)
            })
        });
    Run {
        mappings: results,
        condition,
        clauses,
    }
}

/// A compiled program and the context it ran in, for explaining its result.
struct Ran(Program, Context<'static, 'static>);

fn execute(source: &str, variables: &[(&str, &Value)]) -> Result<(Value, Ran), EvalError> {
    let program = Program::compile(source).map_err(|e| EvalError::from(e.to_string()))?;
    let mut context = Context::default();
    // Registered by hand: ours has the pattern cache, the deadline and RE2's semantics.
    // Only the stdlib's overloads can conflict, and `matches` is not one of them here.
    context
        .add_function("matches", matches)
        .map_err(|e| EvalError::from(e.to_string()))?;
    context
        .add_function("extract", extract)
        .map_err(|e| EvalError::from(e.to_string()))?;
    for (name, value) in variables {
        context.add_variable_from_value(*name, (*value).clone());
    }
    match program.execute(&context) {
        Ok(value) => Ok((value, Ran(program, context))),
        Err(error) => Err(EvalError {
            message: error.to_string(),
            missing_key: match error {
                cel::ExecutionError::NoSuchKey(key) => Some(key.to_string()),
                _ => None,
            },
        }),
    }
}

/// Largest compiled pattern accepted by `matches`: far above any real condition, small enough
/// that a hostile policy cannot make one evaluation take long.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// CEL's `string.matches(regex)`, also callable as `matches(string, regex)`: true when the
/// pattern matches anywhere in the string, as in RE2 (GCP's engine; `RE2::PartialMatch` in
/// cel-cpp). The pattern is RE2 syntax, rewritten for the `regex` crate with RE2's meaning
/// ([`super::re2`]). It replaces the cel crate's own `matches`, which would compile the pattern
/// on every call, with no deadline and the crate's Unicode `\d`, `\w`, `\s`.
fn matches(
    cel::extractors::This(this): cel::extractors::This<Arc<String>>,
    pattern: Arc<String>,
) -> Result<bool, cel::ExecutionError> {
    let compiled = BUDGET
        .with(|b| {
            let mut budget = b.borrow_mut();
            if budget.deadline.is_some_and(|d| Instant::now() > d) {
                budget.expired = true;
                return Err(Failure::TimedOut.to_string());
            }
            if let Some(cached) = budget.regexes.get(pattern.as_str()) {
                return cached.clone();
            }
            // Compiling is what made a `.matches()` in a comprehension slow: once per pattern.
            budget.compiled += 1;
            let compiled = super::re2::translate(&pattern)
                .and_then(|translated| {
                    regex::RegexBuilder::new(&translated)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .nest_limit(MAX_NESTING as u32)
                        .build()
                        .map_err(|e| e.to_string())
                })
                .map(Arc::new)
                .map_err(|e| format!("'{pattern}' is not a valid regex: {e}"));
            if budget.regexes.len() < REGEX_CACHE_ENTRIES {
                budget.regexes.insert(pattern.to_string(), compiled.clone());
            }
            compiled
        })
        .map_err(|message| cel::ExecutionError::function_error("matches", message))?;
    Ok(compiled.is_match(&this))
}

/// GCP's CEL extension `string.extract(template)`: the text between the template's prefix and
/// suffix around `{name}`, e.g. `'repo:o/r:ref:refs/heads/main'.extract('/heads/{branch}')` is
/// `main`; the empty string when the prefix, or a non-empty suffix after it, is not found; an
/// empty suffix takes the rest of the string. Source: "Attribute mappings", `extract`
/// (<https://cloud.google.com/iam/docs/workload-identity-federation#mapping>). The page gives
/// examples, not edge cases: the first occurrence of the prefix, then of the suffix after it,
/// is this project's reading, and a template without `{...}` is refused here.
fn extract(
    cel::extractors::This(this): cel::extractors::This<Arc<String>>,
    template: Arc<String>,
) -> Result<Value, cel::ExecutionError> {
    let refused = || {
        cel::ExecutionError::function_error(
            "extract",
            format!("the template '{template}' has no {{name}} placeholder"),
        )
    };
    let open = template.find('{').ok_or_else(refused)?;
    let close = template[open..]
        .find('}')
        .map(|c| open + c)
        .ok_or_else(refused)?;
    let (prefix, suffix) = (&template[..open], &template[close + 1..]);
    let found = this.find(prefix).and_then(|start| {
        let rest = &this[start + prefix.len()..];
        match suffix {
            "" => Some(rest),
            suffix => rest.find(suffix).map(|end| &rest[..end]),
        }
    });
    Ok(Value::String(Arc::new(
        found.unwrap_or_default().to_owned(),
    )))
}

/// The names of the `attribute.X` and `attribute['X']` that `expr` reads.
fn collect_attributes(expr: &IdedExpr, names: &mut BTreeSet<String>) {
    if let Some(name) = attribute_read(expr) {
        names.insert(name);
    }
    for child in children(expr) {
        collect_attributes(child, names);
    }
}

/// How deeply comprehensions nest in `expr`.
fn comprehension_depth(expr: &IdedExpr) -> usize {
    let inner = children(expr)
        .into_iter()
        .map(comprehension_depth)
        .max()
        .unwrap_or(0);
    inner + usize::from(matches!(expr.expr, Expr::Comprehension(_)))
}

/// `X` when `expr` is `attribute.X` or `attribute['X']`.
fn attribute_read(expr: &IdedExpr) -> Option<String> {
    match &expr.expr {
        Expr::Select(select) if is_attribute(&select.operand) => Some(select.field.clone()),
        Expr::Call(call)
            if [operators::INDEX, operators::OPT_INDEX].contains(&&*call.func_name) =>
        {
            match call.args.as_slice() {
                [operand, key] if is_attribute(operand) => match &key.expr {
                    Expr::Literal(LiteralValue::String(name)) => Some(name.to_string()),
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
    }
}

fn entry_children(entry: &EntryExpr) -> Vec<&IdedExpr> {
    match entry {
        EntryExpr::MapEntry(e) => vec![&e.key, &e.value],
        EntryExpr::StructField(f) => vec![&f.value],
    }
}

fn children(expr: &IdedExpr) -> Vec<&IdedExpr> {
    match &expr.expr {
        Expr::Select(select) => vec![&select.operand],
        Expr::Call(call) => call.target.iter().map(|t| &**t).chain(&call.args).collect(),
        Expr::Comprehension(c) => {
            vec![
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ]
        }
        Expr::List(list) => list.elements.iter().collect(),
        Expr::Map(map) => map
            .entries
            .iter()
            .flat_map(|e| entry_children(&e.expr))
            .collect(),
        Expr::Struct(s) => s
            .entries
            .iter()
            .flat_map(|e| entry_children(&e.expr))
            .collect(),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Vec::new(),
    }
}

fn is_attribute(expr: &IdedExpr) -> bool {
    matches!(&expr.expr, Expr::Ident(name) if name == "attribute")
}

/// A JSON value (a claim) as a CEL value.
fn from_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::Int)
            .or_else(|| n.as_u64().map(Value::UInt))
            .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN))),
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(from_json).collect()))
        }
        serde_json::Value::Object(map) => {
            map_value(map.iter().map(|(k, v)| (k.clone(), from_json(v))))
        }
    }
}

/// A CEL map with string keys.
fn map_value(entries: impl IntoIterator<Item = (String, Value)>) -> Value {
    let map: HashMap<Key, Value> = entries
        .into_iter()
        .map(|(k, v)| (Key::String(Arc::new(k)), v))
        .collect();
    Value::Map(Map { map: Arc::new(map) })
}

/// A CEL value for messages: strings raw, lists and scalars in CEL-like syntax.
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => format!("{u}u"),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::List(items) => {
            let shown: Vec<String> = items.iter().map(display).collect();
            format!("[{}]", shown.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// A CEL value as plain data.
fn plain(value: &Value) -> Evaluated {
    match value {
        Value::String(s) => Evaluated::String(s.to_string()),
        Value::Bool(b) => Evaluated::Bool(*b),
        other => Evaluated::Other {
            type_name: other.type_of().to_string(),
            shown: display(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(source: &str, claims: &serde_json::Value) -> Result<Evaluated, String> {
        let claims = claims.as_object().cloned().unwrap_or_default();
        let run = run(&[("attribute.x", source)], None, &claims).map_err(|e| e.to_string())?;
        run.mappings
            .into_iter()
            .next()
            .unwrap_or(Err("no result".to_owned().into()))
            .map_err(|e| e.message)
    }

    #[test]
    fn evaluates_the_features_gcp_conditions_use() {
        let token = json!({
            "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
            "repository": "octo-org/octo-repo",
            "repository_owner": "octo-org",
            "ref": "refs/heads/main",
            "aud": ["a", "b"],
            "repository_id": 123,
        });
        let yes = Evaluated::Bool(true);
        let no = Evaluated::Bool(false);
        let text = |s: &str| Evaluated::String(s.into());
        let cases: &[(&str, Evaluated)] = &[
            (
                "assertion.sub",
                text("repo:octo-org/octo-repo:ref:refs/heads/main"),
            ),
            ("assertion.repository_owner == 'octo-org'", yes.clone()),
            ("assertion.repository_owner == 'other'", no.clone()),
            ("assertion.ref.startsWith('refs/heads/')", yes.clone()),
            ("assertion.ref.endsWith('/main')", yes.clone()),
            ("assertion.repository.contains('/')", yes.clone()),
            (
                "assertion.repository in ['octo-org/octo-repo', 'x/y']",
                yes.clone(),
            ),
            ("'b' in assertion.aud", yes.clone()),
            (
                "assertion.repository_owner == 'x' || assertion.ref == 'refs/heads/main'",
                yes.clone(),
            ),
            (
                "assertion.repository_owner == 'octo-org' && assertion.ref == 'refs/tags/v1'",
                no.clone(),
            ),
            (
                "assertion.repository + '@' + assertion.ref",
                text("octo-org/octo-repo@refs/heads/main"),
            ),
            (
                "assertion.ref.matches('^refs/heads/(main|release/.*)$')",
                yes.clone(),
            ),
            ("has(assertion.environment)", no.clone()),
            ("assertion['repository_owner'] == 'octo-org'", yes.clone()),
            ("assertion.repository_id == 123", yes.clone()),
            ("size(assertion.aud) == 2", yes.clone()),
            ("assertion.aud.exists(a, a == 'b')", yes.clone()),
            ("!(assertion.ref == 'refs/heads/dev')", yes.clone()),
            (
                "assertion.aud",
                Evaluated::Other {
                    type_name: "list".into(),
                    shown: "[a, b]".into(),
                },
            ),
            (
                "assertion.repository_id",
                Evaluated::Other {
                    type_name: "int".into(),
                    shown: "123".into(),
                },
            ),
        ];
        for (source, want) in cases {
            assert_eq!(eval(source, &token).as_ref(), Ok(want), "{source}");
        }
        assert!(eval("assertion.environment == 'prod'", &token).is_err());
        assert!(eval("assertion.ref.matches('(')", &token).is_err());
    }

    #[test]
    fn matches_follows_re2() {
        let token = json!({"ref": "refs/heads/main", "repository": "octo-org/octo-repo"});
        let yes = Evaluated::Bool(true);
        let no = Evaluated::Bool(false);
        for (source, want) in [
            // Unanchored: a match anywhere counts, as in RE2.
            ("assertion.ref.matches('heads')", &yes),
            ("assertion.ref.matches('^heads')", &no),
            ("matches(assertion.ref, '^refs/heads/ma.n$')", &yes),
            ("assertion.repository.matches('(?i)^OCTO-ORG/')", &yes),
            ("assertion.repository.matches('^octo-org/(web|api)$')", &no),
            // RE2's Unicode classes, and its ASCII `\\w`.
            ("assertion.ref.matches('^\\\\p{L}+/')", &yes),
            ("'Größe'.matches('^\\\\w+$')", &no),
            ("'GRÖSSE'.matches('(?i)^gröSSe$')", &yes),
        ] {
            assert_eq!(eval(source, &token).as_ref(), Ok(want), "{source}");
        }
        for source in [
            "assertion.ref.matches('\\\\p{Alphabetic}')",
            "assertion.ref.matches('a{1001}')",
        ] {
            let err = eval(source, &token).expect_err(source);
            assert!(err.contains("is not a valid regex"), "{source}: {err}");
        }
        assert!(eval("assertion.ref.matches(1)", &token).is_err());
    }

    #[test]
    fn extract_takes_the_text_between_prefix_and_suffix() {
        let token = json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/feature/x"});
        let text = |s: &str| Ok(Evaluated::String(s.into()));
        for (source, want) in [
            // GCP's documented branch mapping: up to the next `/`.
            ("assertion.sub.extract('/heads/{branch}/')", text("feature")),
            // No suffix: the rest of the string.
            (
                "assertion.sub.extract('/heads/{branch}')",
                text("feature/x"),
            ),
            (
                "assertion.sub.extract('repo:{repo}:')",
                text("octo-org/octo-repo"),
            ),
            (
                "assertion.sub.extract('{all}')",
                text("repo:octo-org/octo-repo:ref:refs/heads/feature/x"),
            ),
            // Not found: the empty string, not an error.
            ("assertion.sub.extract('/tags/{tag}')", text("")),
            ("assertion.sub.extract('/heads/{b}:')", text("")),
            ("'a:b:c'.extract(':{x}:')", text("b")),
            ("'héllo wörld'.extract('é{x}ö')", text("llo w")),
        ] {
            assert_eq!(eval(source, &token), want, "{source}");
        }
        for source in [
            "assertion.sub.extract('/heads/')",
            "assertion.sub.extract('{x')",
            "assertion.sub.extract(1)",
        ] {
            assert!(eval(source, &token).is_err(), "{source}");
        }
    }

    #[test]
    fn the_condition_sees_mapped_attributes_and_google() {
        let claims = json!({"sub": "s", "repository_owner": "o"});
        let claims = claims.as_object().cloned().unwrap_or_default();
        let mappings = [
            ("google.subject", "assertion.sub"),
            ("attribute.owner", "assertion.repository_owner"),
        ];
        let condition = "attribute.owner == 'o' && google.subject == 's'";
        let run = run(&mappings, Some(condition), &claims).unwrap();
        assert_eq!(run.condition, Some(Ok(Evaluated::Bool(true))));
        let failing = [("google.subject", "assertion.missing")];
        let run = super::run(&failing, Some("true"), &claims).unwrap();
        assert!(run.mappings[0].is_err());
        assert_eq!(run.condition, None);
    }

    #[test]
    fn syntax_errors_have_positions_and_never_panic() {
        let cases = [
            "assertion.sub ==",
            "assertion.sub == 'x",
            "(assertion.sub",
            "assertion..sub",
            "",
            "   ",
            "'a' +",
            "1 2",
            "assertion.sub == \"x\" &&& true",
            "[1, 2",
            "{'a': }",
            "\u{0}",
            "assertion.é == 1 ;",
        ];
        for source in cases {
            match check(source, "attributeCondition") {
                Err(PolicyError::Cel { line, column, .. }) => {
                    assert!(line >= 1 && column >= 1, "{source:?}")
                }
                other => panic!("{source:?}: {other:?}"),
            }
        }
        match check("assertion.a == 'b' &&\n  assertion.c ==", "c") {
            Err(PolicyError::Cel { line, column, .. }) => assert_eq!((line, column), (2, 17)),
            other => panic!("{other:?}"),
        }
        let deep = format!("{}1{}", "(".repeat(3000), ")".repeat(3000));
        assert!(matches!(
            check(&deep, "c"),
            Err(PolicyError::Cel { column: 33, .. })
        ));
        // Brackets inside strings do not count.
        assert!(check(&format!("'{}' == 'x'", "(".repeat(100)), "c").is_ok());
    }

    #[test]
    fn long_chains_do_not_overflow_the_stack() {
        // The longest expressions GCP accepts, built to recurse as deeply as possible.
        let claims = serde_json::Map::new();
        let sources = [
            format!("{}1 == 2", "1+".repeat(2045)),
            format!("{}true", "!".repeat(4092)),
            format!("''{}", ".size()".repeat(584)),
            format!("{}1{}", "(".repeat(32), ")".repeat(32)),
            format!("{}true", "true&&".repeat(681)),
        ];
        for source in &sources {
            assert!(source.len() <= 4096);
            let checked = check(source, "c");
            let result = run(
                &[("google.subject", source.as_str())],
                Some(source.as_str()),
                &claims,
            );
            assert!(checked.is_ok() || result.is_ok(), "{}", &source[..20]);
        }
    }

    #[test]
    fn nested_comprehensions_are_refused() {
        assert!(check("assertion.aud.exists(a, a == 'x')", "c").is_ok());
        assert!(check("[1, 2].all(x, [3].exists(y, x != y))", "c").is_ok());
        let bomb = "[[1].map(a, [a + a].map(b, [b + b].map(c, c + c)))]";
        match check(bomb, "c") {
            Err(PolicyError::Invalid { message, .. }) => {
                assert!(message.starts_with("comprehensions"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn finds_attribute_references() {
        let checked = check(
            "attribute.repository_owner == 'o' && attribute['env'] in ['a'] && \
             assertion.x.exists(v, v == attribute.team) && has(attribute.flag) && \
             google.subject != '' && {'k': attribute.k}.k == 'x'",
            "c",
        )
        .unwrap();
        let names: Vec<String> = checked.attributes.into_iter().collect();
        assert_eq!(names, ["env", "flag", "k", "repository_owner", "team"]);
    }

    /// Two nested comprehensions over `n` numbers around a `.matches()` whose pattern is slow
    /// to compile and quick to reject with (`^x` fails at the first character).
    fn slow_to_compile_condition(n: usize) -> String {
        let list = (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        format!(
            "[{list}].all(i, [{list}].all(j, \
             !assertion.sub.matches('^x((a|b|c|d|e|f|g|h){{1,100}}.){{1,9}}$')))"
        )
    }

    #[test]
    fn a_pattern_is_compiled_once_per_run() {
        let claims = json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main"});
        let claims = claims.as_object().cloned().unwrap_or_default();
        let source = format!(
            "{} && assertion.sub.matches('heads') && !assertion.sub.matches('^x')",
            slow_to_compile_condition(3)
        );
        // On this thread, so that the budget can be read afterwards.
        let mappings = [("attribute.x".to_owned(), source)];
        let deadline = Instant::now() + Duration::from_secs(600);
        let run = run_here(&mappings, None, &claims, deadline).unwrap();
        assert_eq!(run.mappings[0], Ok(Evaluated::Bool(true)));
        assert_eq!(BUDGET.with(|b| b.borrow().compiled), 3);
    }

    #[test]
    fn a_condition_slow_to_compile_finishes_in_time() {
        // 10,000 `matches` calls: compiled per call this took about 50 s in a debug build;
        // compiled once, a small fraction of the deadline.
        let source = slow_to_compile_condition(100);
        assert!(source.len() <= 4096);
        let claims = json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main"});
        let started = Instant::now();
        assert_eq!(eval(&source, &claims), Ok(Evaluated::Bool(true)));
        // A hang guard, not a speed test.
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn running_out_of_time_is_a_failure_even_when_cel_absorbs_the_error() {
        let claims = json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main"});
        let claims = claims.as_object().cloned().unwrap_or_default();
        // A new pattern per element defeats the cache; `|| true` would turn a `matches`
        // error into true if the run did not remember that time ran out.
        let list = (0..40).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let source = format!(
            "[{list}].all(i, [{list}].all(j, assertion.sub.matches('^(x|y){{1,200}}' + string(i) + '-' + string(j)) || true))"
        );
        let started = Instant::now();
        let result = run_within(
            &[("attribute.x", &source)],
            None,
            &claims,
            Duration::from_millis(50),
        );
        assert_eq!(result.unwrap_err(), Failure::TimedOut);
        // A hang guard, not a speed test: the caller waits at most the limit and the grace.
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn explaining_a_false_condition_never_turns_it_into_a_timeout() {
        let claims = json!({"sub": "repo:octo-org/octo-repo:ref:refs/heads/main"});
        let claims = claims.as_object().cloned().unwrap_or_default();
        // `false &&` makes the condition false at once; explaining it evaluates the other
        // operand, which compiles a new pattern per element and runs out of time.
        let list = (0..40).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let source = format!(
            "false && [{list}].all(i, [{list}].all(j, assertion.sub.matches('^(x|y){{1,200}}' + string(i) + '-' + string(j)) || true))"
        );
        let run = run_within(&[], Some(&source), &claims, Duration::from_millis(300)).unwrap();
        assert_eq!(run.condition, Some(Ok(Evaluated::Bool(false))));
        assert!(run.clauses.is_empty(), "{:?}", run.clauses);
    }

    #[test]
    fn a_worker_slow_outside_matches_is_abandoned() {
        // No `matches` call to check the clock: the caller stops waiting.
        let items: Vec<String> = (0..3000).map(|i| format!("v{i}")).collect();
        let claims = json!({"aud": items});
        let claims = claims.as_object().cloned().unwrap_or_default();
        let source = "assertion.aud.all(a, assertion.aud.all(b, a + b != 'x'))";
        let started = Instant::now();
        let result = run_within(&[("attribute.x", source)], None, &claims, Duration::ZERO);
        assert_eq!(result.unwrap_err(), Failure::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn displays_values() {
        assert_eq!(display(&Value::from("raw `text`")), "raw `text`");
        assert_eq!(
            display(&from_json(&json!(["a", 1, true, null]))),
            "[a, 1, true, null]"
        );
    }
}
