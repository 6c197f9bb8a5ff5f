//! The bridge to the `cel` crate: compiling GCP's CEL expressions with positioned errors,
//! finding which `attribute.*` a condition reads, and converting claims to CEL values.

use crate::policy::PolicyError;
use cel::common::ast::{operators, EntryExpr, Expr, LiteralValue};
use cel::objects::{Key, Map};
use cel::{Context, IdedExpr, Program, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Bracket nesting refused before the CEL parser sees it: its generated parser recurses per
/// level before its own depth limit applies, and GCP expressions never nest this deep.
const MAX_NESTING: usize = 64;

/// A compiled expression with its source, for messages.
pub(super) struct Compiled {
    pub(super) source: String,
    program: Program,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Compiled").field(&self.source).finish()
    }
}

/// Compiles `source`; a syntax error names `location` and the line and column.
pub(super) fn compile(source: &str, location: &str) -> Result<Compiled, PolicyError> {
    check_nesting(source, location)?;
    match Program::compile(source) {
        Ok(program) => Ok(Compiled {
            source: source.to_owned(),
            program,
        }),
        Err(errors) => {
            let first = errors.errors.first();
            let (line, column) = first.map_or((1, 1), |e| e.pos);
            Err(PolicyError::Cel {
                location: location.to_owned(),
                line: usize::try_from(line).unwrap_or(1).max(1),
                column: usize::try_from(column).unwrap_or(1).max(1),
                message: first.map_or_else(|| "invalid expression".into(), |e| e.msg.clone()),
            })
        }
    }
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

impl Compiled {
    /// Runs the expression with the given variables bound.
    pub(super) fn execute(&self, variables: &[(&str, &Value)]) -> Result<Value, String> {
        let mut context = Context::default();
        for (name, value) in variables {
            context.add_variable_from_value(*name, (*value).clone());
        }
        self.program.execute(&context).map_err(|e| e.to_string())
    }

    /// The names `X` of every `attribute.X` and `attribute['X']` the expression reads.
    pub(super) fn attribute_references(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        collect_attributes(self.program.expression(), &mut names);
        names
    }
}

fn collect_attributes(expr: &IdedExpr, names: &mut BTreeSet<String>) {
    match &expr.expr {
        Expr::Select(select) => {
            if is_attribute(&select.operand) {
                names.insert(select.field.clone());
            }
            collect_attributes(&select.operand, names);
        }
        Expr::Call(call) => {
            if let (operators::INDEX | operators::OPT_INDEX, [operand, key]) =
                (call.func_name.as_str(), call.args.as_slice())
            {
                if let (true, Expr::Literal(LiteralValue::String(name))) =
                    (is_attribute(operand), &key.expr)
                {
                    names.insert(name.to_string());
                }
            }
            call.target
                .iter()
                .for_each(|t| collect_attributes(t, names));
            call.args.iter().for_each(|a| collect_attributes(a, names));
        }
        Expr::Comprehension(c) => {
            for part in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                collect_attributes(part, names);
            }
        }
        Expr::List(list) => list
            .elements
            .iter()
            .for_each(|e| collect_attributes(e, names)),
        Expr::Map(map) => map
            .entries
            .iter()
            .for_each(|e| collect_entry(&e.expr, names)),
        Expr::Struct(s) => s.entries.iter().for_each(|e| collect_entry(&e.expr, names)),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn collect_entry(entry: &EntryExpr, names: &mut BTreeSet<String>) {
    match entry {
        EntryExpr::MapEntry(e) => {
            collect_attributes(&e.key, names);
            collect_attributes(&e.value, names);
        }
        EntryExpr::StructField(f) => collect_attributes(&f.value, names),
    }
}

fn is_attribute(expr: &IdedExpr) -> bool {
    matches!(&expr.expr, Expr::Ident(name) if name == "attribute")
}

/// A JSON value (a claim) as a CEL value.
pub(super) fn from_json(value: &serde_json::Value) -> Value {
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
pub(super) fn map_value(entries: impl IntoIterator<Item = (String, Value)>) -> Value {
    let map: HashMap<Key, Value> = entries
        .into_iter()
        .map(|(k, v)| (Key::String(Arc::new(k)), v))
        .collect();
    Value::Map(Map { map: Arc::new(map) })
}

/// A CEL value for messages: strings raw, lists and scalars in CEL-like syntax.
pub(super) fn display(value: &Value) -> String {
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

/// The CEL type of a value in words, for messages.
pub(super) fn type_name(value: &Value) -> String {
    value.type_of().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(source: &str, assertion: serde_json::Value) -> Result<Value, String> {
        let assertion = from_json(&assertion);
        compile(source, "x")
            .map_err(|e| e.to_string())?
            .execute(&[("assertion", &assertion)])
    }

    #[test]
    fn evaluates_the_features_gcp_conditions_use() {
        let token = json!({
            "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
            "repository": "octo-org/octo-repo",
            "repository_owner": "octo-org",
            "ref": "refs/heads/main",
            "run_attempt": "1",
            "aud": ["a", "b"],
            "repository_id": 123,
        });
        let cases: &[(&str, Value)] = &[
            (
                "assertion.sub",
                Value::from("repo:octo-org/octo-repo:ref:refs/heads/main"),
            ),
            (
                "assertion.repository_owner == 'octo-org'",
                Value::Bool(true),
            ),
            ("assertion.repository_owner == 'other'", Value::Bool(false)),
            ("assertion.ref.startsWith('refs/heads/')", Value::Bool(true)),
            ("assertion.ref.endsWith('/main')", Value::Bool(true)),
            ("assertion.repository.contains('/')", Value::Bool(true)),
            (
                "assertion.repository in ['octo-org/octo-repo', 'x/y']",
                Value::Bool(true),
            ),
            ("'b' in assertion.aud", Value::Bool(true)),
            (
                "assertion.repository_owner == 'x' || assertion.ref == 'refs/heads/main'",
                Value::Bool(true),
            ),
            (
                "assertion.repository_owner == 'octo-org' && assertion.ref == 'refs/tags/v1'",
                Value::Bool(false),
            ),
            (
                "assertion.repository + '@' + assertion.ref",
                Value::from("octo-org/octo-repo@refs/heads/main"),
            ),
            (
                "assertion.ref.matches('^refs/heads/(main|release/.*)$')",
                Value::Bool(true),
            ),
            ("has(assertion.environment)", Value::Bool(false)),
            (
                "assertion['repository_owner'] == 'octo-org'",
                Value::Bool(true),
            ),
            ("assertion.repository_id == 123", Value::Bool(true)),
            ("size(assertion.aud) == 2", Value::Bool(true)),
            ("assertion.aud.exists(a, a == 'b')", Value::Bool(true)),
            ("!(assertion.ref == 'refs/heads/dev')", Value::Bool(true)),
        ];
        for (source, want) in cases {
            assert_eq!(run(source, token.clone()).as_ref(), Ok(want), "{source}");
        }
        assert!(run("assertion.environment == 'prod'", token.clone()).is_err());
        assert!(run("assertion.ref.matches('(')", token).is_err());
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
            match compile(source, "attributeCondition") {
                Err(PolicyError::Cel { line, column, .. }) => {
                    assert!(line >= 1 && column >= 1, "{source:?}")
                }
                other => panic!("{source:?}: {other:?}"),
            }
        }
        match compile("assertion.a == 'b' &&\n  assertion.c ==", "c") {
            Err(PolicyError::Cel { line, column, .. }) => assert_eq!((line, column), (2, 17)),
            other => panic!("{other:?}"),
        }
        let deep = format!("{}1{}", "(".repeat(3000), ")".repeat(3000));
        assert!(matches!(
            compile(&deep, "c"),
            Err(PolicyError::Cel { column: 65, .. })
        ));
        // Brackets inside strings do not count.
        assert!(compile(&format!("'{}' == 'x'", "(".repeat(100)), "c").is_ok());
    }

    #[test]
    fn finds_attribute_references() {
        let compiled = compile(
            "attribute.repository_owner == 'o' && attribute['env'] in ['a'] && \
             assertion.x.exists(v, v == attribute.team) && has(attribute.flag) && \
             google.subject != '' && {'k': attribute.k}.k == 'x'",
            "c",
        )
        .unwrap();
        let names: Vec<String> = compiled.attribute_references().into_iter().collect();
        assert_eq!(names, ["env", "flag", "k", "repository_owner", "team"]);
    }

    #[test]
    fn displays_values() {
        assert_eq!(display(&Value::from("raw `text`")), "raw `text`");
        assert_eq!(
            display(&from_json(&json!(["a", 1, true, null]))),
            "[a, 1, true, null]"
        );
        assert_eq!(type_name(&Value::Int(1)), "int");
    }
}
