//! Which part of a false attribute condition refused the token: the `&&`, `||`, `!` and `? :`
//! tree is walked with the same values the condition ran with, down to the clauses that made
//! it false, and each clause is given with the claims it reads beside the token's values
//! (`assertion.repository_owner == 'Octo-Org'`: assertion.repository_owner is `octo-org`).
//! Runs on the CEL worker thread, after the condition gave `false`.

use cel::common::ast::{operators, Expr, IdedExpr};
use cel::{Context, Value};

/// At most this many clauses are named; a condition with more false clauses is summarised.
const MAX_CLAUSES: usize = 8;

/// One clause that decided the condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Clause {
    /// The clause in CEL, printed from the parsed condition (spacing normalised).
    pub(super) text: String,
    /// What the clause gave: `false`, or `true` for the operand of a `!` or the branch
    /// selector of a `? :` that chose a constant.
    pub(super) gave: bool,
    /// Each claim or attribute the clause reads, with the token's value (`None`: absent).
    pub(super) values: Vec<(String, Option<String>)>,
    /// `(literal, value)` when a literal in the clause equals the value read except for case.
    pub(super) case_only: Option<(String, String)>,
    /// Whether the clause is the whole condition (then only its values add anything).
    pub(super) whole: bool,
}

/// The clauses that made `expr` (which gave `false`) false.
pub(super) fn false_clauses(expr: &IdedExpr, context: &Context) -> Vec<Clause> {
    let mut out = Vec::new();
    walk(expr, false, context, &mut out);
    out.truncate(MAX_CLAUSES);
    let whole = print(expr);
    for clause in &mut out {
        clause.whole = !clause.gave && clause.text == whole;
    }
    out
}

fn evaluates_to(expr: &IdedExpr, context: &Context, want: bool) -> bool {
    matches!(Value::resolve(expr, context), Ok(Value::Bool(b)) if b == want)
}

/// Collects why `expr` gave `gave`.
fn walk(expr: &IdedExpr, gave: bool, context: &Context, out: &mut Vec<Clause>) {
    if out.len() >= MAX_CLAUSES {
        return;
    }
    if let Expr::Call(call) = &expr.expr {
        let args = &call.args;
        match (call.func_name.as_str(), args.as_slice()) {
            // `a && b` is false where an operand is false; `a || b` is true where one is true.
            (operators::LOGICAL_AND, _) if !gave => {
                for arg in args.iter().filter(|a| evaluates_to(a, context, false)) {
                    walk(arg, false, context, out);
                }
                return;
            }
            (operators::LOGICAL_OR, _) if gave => {
                for arg in args.iter().filter(|a| evaluates_to(a, context, true)) {
                    walk(arg, true, context, out);
                }
                return;
            }
            // `a || b` is false when every operand is; `a && b` true when every operand is.
            (operators::LOGICAL_OR | operators::LOGICAL_AND, _) => {
                for arg in args {
                    walk(arg, gave, context, out);
                }
                return;
            }
            (operators::LOGICAL_NOT, [operand]) => return walk(operand, !gave, context, out),
            (operators::CONDITIONAL, [test, yes, no]) => {
                let chose_yes = evaluates_to(test, context, true);
                let branch = if chose_yes { yes } else { no };
                // A constant branch (`has(x) ? ... : false`): the selector decided.
                if matches!(branch.expr, Expr::Literal(_)) {
                    return walk(test, chose_yes, context, out);
                }
                return walk(branch, gave, context, out);
            }
            _ => {}
        }
    }
    out.push(leaf(expr, gave, context));
}

fn leaf(expr: &IdedExpr, gave: bool, context: &Context) -> Clause {
    let mut paths = Vec::new();
    collect_paths(expr, &mut paths);
    let mut values: Vec<(String, Option<String>)> = Vec::new();
    // `has(assertion.x)` says only whether `x` is there.
    if let Expr::Select(select) = &expr.expr {
        if select.test {
            let path = format!("{}.{}", print(&select.operand), select.field);
            values.push((path, gave.then(|| "present".to_owned())));
        }
    }
    for path in paths {
        let text = print(path);
        if values.iter().any(|(t, _)| *t == text) {
            continue;
        }
        let value = Value::resolve(path, context).ok().map(|v| shown(&v));
        values.push((text, value));
    }
    Clause {
        text: print(expr),
        gave,
        values,
        case_only: if gave { None } else { case_only(expr, context) },
        whole: false,
    }
}

/// A path into the token: `assertion.x`, `attribute.x`, `google.x`, `assertion['x']`, and
/// selections below them.
fn is_path(expr: &IdedExpr) -> bool {
    match &expr.expr {
        Expr::Ident(name) => matches!(name.as_str(), "assertion" | "attribute" | "google"),
        Expr::Select(select) => !select.test && is_path(&select.operand),
        Expr::Call(call) if call.func_name == operators::INDEX => {
            matches!(call.args.as_slice(), [target, key] if is_path(target) && matches!(key.expr, Expr::Literal(_)))
        }
        _ => false,
    }
}

/// The longest paths in `expr` (not the bare `assertion`).
fn collect_paths<'e>(expr: &'e IdedExpr, out: &mut Vec<&'e IdedExpr>) {
    if is_path(expr) && !matches!(expr.expr, Expr::Ident(_)) {
        out.push(expr);
        return;
    }
    for child in children(expr) {
        collect_paths(child, out);
    }
}

fn children(expr: &IdedExpr) -> Vec<&IdedExpr> {
    match &expr.expr {
        Expr::Call(call) => call.target.iter().map(|t| &**t).chain(&call.args).collect(),
        Expr::Select(select) => vec![&*select.operand],
        Expr::List(list) => list.elements.iter().collect(),
        Expr::Comprehension(c) => vec![&c.iter_range, &c.loop_step],
        _ => Vec::new(),
    }
}

/// `(literal, value)` when the clause compares a claim with a string literal (`==`, `in`,
/// `startsWith`, `endsWith`, `contains`) that holds once case is ignored.
fn case_only(expr: &IdedExpr, context: &Context) -> Option<(String, String)> {
    let Expr::Call(call) = &expr.expr else {
        return None;
    };
    let string = |e: &IdedExpr| match Value::resolve(e, context) {
        Ok(Value::String(s)) => Some(s.to_string()),
        _ => None,
    };
    let literal = |e: &IdedExpr| match &e.expr {
        Expr::Literal(_) => string(e),
        _ => None,
    };
    let fold = |s: &str| s.to_lowercase();
    match (
        call.func_name.as_str(),
        call.target.as_deref(),
        call.args.as_slice(),
    ) {
        (operators::EQUALS, None, [a, b]) => {
            let (lit, value) = match (literal(a), literal(b)) {
                (Some(lit), None) => (lit, string(b)?),
                (None, Some(lit)) => (lit, string(a)?),
                _ => return None,
            };
            (fold(&lit) == fold(&value)).then_some((lit, value))
        }
        (operators::IN, None, [needle, list]) => {
            let value = string(needle)?;
            let Expr::List(items) = &list.expr else {
                return None;
            };
            items
                .elements
                .iter()
                .filter_map(literal)
                .find(|lit| fold(lit) == fold(&value))
                .map(|lit| (lit, value))
        }
        (name @ ("startsWith" | "endsWith" | "contains"), Some(target), [arg]) => {
            let (value, lit) = (string(target)?, literal(arg)?);
            let (v, l) = (fold(&value), fold(&lit));
            let holds = match name {
                "startsWith" => v.starts_with(&l),
                "endsWith" => v.ends_with(&l),
                _ => v.contains(&l),
            };
            holds.then_some((lit, value))
        }
        _ => None,
    }
}

/// A value as the message shows it: strings and lists of strings as CEL would print them.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(shown).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => format!("{u}u"),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Map(_) => "a map".into(),
        other => format!("{}", other.type_of()),
    }
}

/// A CEL string literal, single-quoted.
fn quoted(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn infix(name: &str) -> Option<&'static str> {
    Some(match name {
        operators::EQUALS => "==",
        operators::NOT_EQUALS => "!=",
        operators::LESS => "<",
        operators::LESS_EQUALS => "<=",
        operators::GREATER => ">",
        operators::GREATER_EQUALS => ">=",
        operators::ADD => "+",
        operators::SUBSTRACT => "-",
        operators::MULTIPLY => "*",
        operators::DIVIDE => "/",
        operators::MODULO => "%",
        operators::LOGICAL_AND => "&&",
        operators::LOGICAL_OR => "||",
        operators::IN => "in",
        _ => return None,
    })
}

/// An operand, in parentheses when it is itself an operator expression.
fn operand(expr: &IdedExpr) -> String {
    let text = print(expr);
    match &expr.expr {
        Expr::Call(call)
            if infix(&call.func_name).is_some() || call.func_name == operators::CONDITIONAL =>
        {
            format!("({text})")
        }
        _ => text,
    }
}

/// The expression in CEL syntax. Macros (`exists`, `all`, ...) were expanded by the parser;
/// they are printed with the macro's name guessed from its shape and the body elided.
pub(super) fn print(expr: &IdedExpr) -> String {
    match &expr.expr {
        Expr::Ident(name) => name.clone(),
        Expr::Literal(_) => match Value::resolve(expr, &Context::default()) {
            Ok(Value::String(s)) => quoted(&s),
            Ok(Value::Bytes(_)) => "b'…'".into(),
            Ok(value) => shown(&value),
            Err(_) => "…".into(),
        },
        Expr::Select(select) if select.test => {
            format!("has({}.{})", print(&select.operand), select.field)
        }
        Expr::Select(select) => format!("{}.{}", operand(&select.operand), select.field),
        Expr::List(list) => {
            let items: Vec<String> = list.elements.iter().map(print).collect();
            format!("[{}]", items.join(", "))
        }
        Expr::Map(_) | Expr::Struct(_) => "{…}".into(),
        Expr::Comprehension(c) => format!(
            "{}.{}({}, …)",
            operand(&c.iter_range),
            macro_name(c),
            c.iter_var
        ),
        Expr::Unspecified => "…".into(),
        Expr::Call(call) => {
            let name = call.func_name.as_str();
            match (name, call.target.as_deref(), call.args.as_slice()) {
                (_, None, [a, b]) if infix(name).is_some() => {
                    format!(
                        "{} {} {}",
                        operand(a),
                        infix(name).unwrap_or(name),
                        operand(b)
                    )
                }
                (operators::LOGICAL_NOT, None, [a]) => format!("!{}", operand(a)),
                (operators::NEGATE, None, [a]) => format!("-{}", operand(a)),
                (operators::INDEX, None, [a, b]) => format!("{}[{}]", operand(a), print(b)),
                (operators::CONDITIONAL, None, [t, y, n]) => {
                    format!("{} ? {} : {}", operand(t), operand(y), operand(n))
                }
                (_, target, args) => {
                    let args: Vec<String> = args.iter().map(print).collect();
                    match target {
                        Some(target) => format!("{}.{name}({})", operand(target), args.join(", ")),
                        None => format!("{name}({})", args.join(", ")),
                    }
                }
            }
        }
    }
}

/// Which macro a comprehension came from, by the shape the parser gives each.
fn macro_name(c: &cel::common::ast::ComprehensionExpr) -> &'static str {
    let init = Value::resolve(&c.accu_init, &Context::default());
    match init {
        Ok(Value::Bool(false)) => operators::EXISTS,
        Ok(Value::Bool(true)) => operators::ALL,
        Ok(Value::Int(_)) => operators::EXISTS_ONE,
        _ => match &c.loop_step.expr {
            Expr::Call(call) if call.func_name == operators::CONDITIONAL => operators::FILTER,
            _ => operators::MAP,
        },
    }
}
