//! Reading a document's text into a JSON value, from JSON or YAML, with positioned errors,
//! and typed access to its fields with errors that name the field.

use super::PolicyError;
use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};
use yaml_rust2::Yaml;

/// Deeper nesting than any real provider document; bounds recursion when the value is
/// dropped or walked (serde_json applies the same limit to JSON).
const MAX_DEPTH: usize = 128;

/// Parses JSON, with the line and column of a syntax error.
pub(super) fn parse_json(text: &str) -> Result<Value, PolicyError> {
    serde_json::from_str(text).map_err(|e| PolicyError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

/// Parses JSON when the text looks like JSON, YAML otherwise. Every JSON document is YAML
/// too, but serde_json's errors are clearer for JSON.
pub(super) fn parse_json_or_yaml(text: &str) -> Result<Value, PolicyError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        parse_json(text)
    } else {
        parse_yaml(text)
    }
}

/// Parses a single YAML document into a JSON value.
pub(super) fn parse_yaml(text: &str) -> Result<Value, PolicyError> {
    // Events are pulled one by one rather than through `Parser::load`, which recurses once per
    // nesting level and so overflows the stack on deeply nested input before any limit of
    // ours could apply.
    let mut parser = Parser::new_from_str(text);
    let mut builder = YamlBuilder::default();
    loop {
        let (event, marker) = parser
            .next_token()
            .map_err(|e| yaml_error(e.marker(), e.info()))?;
        if event == Event::StreamEnd {
            break;
        }
        builder
            .handle(event)
            .map_err(|message| yaml_error(&marker, &message))?;
    }
    match builder.documents.len() {
        1 => Ok(builder.documents.pop().unwrap_or(Value::Null)),
        0 => Err(whole_document_error("the document is empty")),
        _ => Err(whole_document_error(
            "the text holds several YAML documents, pass one",
        )),
    }
}

fn yaml_error(marker: &Marker, message: &str) -> PolicyError {
    PolicyError::Yaml {
        line: marker.line(),
        // yaml-rust2 counts columns from 0 (its own Display adds 1).
        column: marker.col() + 1,
        message: message.to_owned(),
    }
}

fn whole_document_error(message: &str) -> PolicyError {
    PolicyError::Yaml {
        line: 1,
        column: 1,
        message: message.to_owned(),
    }
}

/// Builds JSON values from YAML events. Aliases are refused rather than expanded: expanding
/// them lets a few lines grow exponentially ("billion laughs"), and no cloud CLI emits them.
#[derive(Default)]
struct YamlBuilder {
    documents: Vec<Value>,
    /// Open collections; a mapping keeps its pending key.
    stack: Vec<(Value, Option<String>)>,
}

impl YamlBuilder {
    fn handle(&mut self, event: Event) -> Result<(), String> {
        match event {
            Event::Alias(_) => Err("YAML aliases are not supported".into()),
            Event::Scalar(text, style, _, _) => self.push(scalar(text, style)),
            Event::SequenceStart(..) => self.open(Value::Array(Vec::new())),
            Event::MappingStart(..) => self.open(Value::Object(Map::new())),
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some((value, _)) => self.push(value),
                None => Err("unbalanced collection end".into()),
            },
            _ => Ok(()),
        }
    }

    fn open(&mut self, value: Value) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        self.stack.push((value, None));
        Ok(())
    }

    fn push(&mut self, value: Value) -> Result<(), String> {
        let Some((parent, pending_key)) = self.stack.last_mut() else {
            self.documents.push(value);
            return Ok(());
        };
        match parent {
            Value::Array(items) => items.push(value),
            Value::Object(map) => match pending_key.take() {
                Some(key) => {
                    if map.insert(key.clone(), value).is_some() {
                        return Err(format!("duplicate key `{key}`"));
                    }
                }
                None => *pending_key = Some(key_text(value)?),
            },
            _ => return Err("a scalar cannot hold values".into()),
        }
        Ok(())
    }
}

fn key_text(key: Value) -> Result<String, String> {
    match key {
        Value::String(s) => Ok(s),
        Value::Array(_) | Value::Object(_) => Err("mapping keys must be scalars".into()),
        other => Ok(other.to_string()),
    }
}

/// Types a scalar with YAML 1.2 core schema rules; quoted scalars stay strings.
fn scalar(text: String, style: TScalarStyle) -> Value {
    if style != TScalarStyle::Plain {
        return Value::String(text);
    }
    match Yaml::from_str(&text) {
        Yaml::Integer(i) => Value::Number(i.into()),
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or(Value::String(text), Value::Number),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Null => Value::Null,
        _ => Value::String(text),
    }
}

/// A JSON object being read, with the path used in error messages.
pub(super) struct Fields<'a> {
    pub(super) map: &'a Map<String, Value>,
    pub(super) location: String,
}

impl<'a> Fields<'a> {
    /// Views `value` as an object, or fails naming `location`.
    pub(super) fn of(value: &'a Value, location: impl Into<String>) -> Result<Self, PolicyError> {
        let location = location.into();
        match value {
            Value::Object(map) => Ok(Fields { map, location }),
            other => Err(PolicyError::invalid(
                describe_location(&location),
                format!("expected an object, found {}", kind(other)),
            )),
        }
    }

    /// The path of a field of this object.
    pub(super) fn path(&self, key: &str) -> String {
        join(&self.location, key)
    }

    /// An optional string field; `null` counts as absent.
    pub(super) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, PolicyError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(key, "a string", other)),
        }
    }

    /// A required string field.
    pub(super) fn str(&self, key: &str) -> Result<&'a str, PolicyError> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    /// An optional list of strings; a single string counts as a list of one, as IAM allows.
    pub(super) fn opt_strings(&self, key: &str) -> Result<Option<Vec<String>>, PolicyError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(PolicyError::invalid(
                        format!("{}[{i}]", self.path(key)),
                        format!("expected a string, found {}", kind(other)),
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Some),
            Some(other) => Err(self.wrong_type(key, "a string or an array of strings", other)),
        }
    }

    /// An optional boolean field.
    pub(super) fn opt_bool(&self, key: &str) -> Result<Option<bool>, PolicyError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong_type(key, "true or false", other)),
        }
    }

    pub(super) fn missing(&self, key: &str) -> PolicyError {
        PolicyError::invalid(self.path(key), "required field is missing")
    }

    pub(super) fn wrong_type(&self, key: &str, expected: &str, found: &Value) -> PolicyError {
        PolicyError::invalid(
            self.path(key),
            format!("expected {expected}, found {}", kind(found)),
        )
    }
}

/// `a.b`, or `b` at the top level.
pub(super) fn join(location: &str, key: &str) -> String {
    if location.is_empty() {
        key.to_owned()
    } else {
        format!("{location}.{key}")
    }
}

fn describe_location(location: &str) -> &str {
    if location.is_empty() {
        "the document"
    } else {
        location
    }
}

/// A JSON type in words, for error messages.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_becomes_json() {
        let text = "name: projects/1/x\ndisabled: false\nstate: ACTIVE\ncount: 3\n\
                    quoted: 'true'\nempty:\noidc:\n  allowedAudiences:\n  - a\n  - b\n";
        assert_eq!(
            parse_yaml(text).unwrap(),
            json!({"name": "projects/1/x", "disabled": false, "state": "ACTIVE", "count": 3,
                   "quoted": "true", "empty": null, "oidc": {"allowedAudiences": ["a", "b"]}})
        );
    }

    #[test]
    fn yaml_errors_have_positions_and_no_panics() {
        let cases: &[(&str, usize)] = &[
            ("a: [1, 2\n", 2),
            ("a: 1\na: 2\n", 2),
            ("x: &a [1]\ny: *a\n", 2),
            ("", 1),
            ("a: 1\n---\nb: 2\n", 1),
            ("key: \"unterminated\n", 1),
            ("? [a]\n: 1\n", 1),
        ];
        for (text, line) in cases {
            match parse_yaml(text) {
                Err(PolicyError::Yaml { line: got, .. }) => assert_eq!(got, *line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse_yaml(&deep).is_err());
        let deep_block: String = (0..300).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        assert!(parse_yaml(&deep_block).is_err());
    }

    #[test]
    fn json_errors_have_positions() {
        match parse_json("{\n  \"a\": [1,\n}") {
            Err(PolicyError::Json { line, column, .. }) => assert_eq!((line, column), (3, 1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fields_name_the_path_on_errors() {
        let value = json!({"a": 1, "b": ["x", 2], "c": "s"});
        let fields = Fields::of(&value, "Statement[0]").unwrap();
        assert_eq!(fields.opt_str("c").unwrap(), Some("s"));
        assert_eq!(
            fields.str("a").unwrap_err().to_string(),
            "Statement[0].a: expected a string, found a number"
        );
        assert_eq!(
            fields.opt_strings("b").unwrap_err().to_string(),
            "Statement[0].b[1]: expected a string, found a number"
        );
        assert_eq!(
            fields.str("z").unwrap_err().to_string(),
            "Statement[0].z: required field is missing"
        );
        assert_eq!(
            Fields::of(&json!(1), "").err().map(|e| e.to_string()),
            Some("the document: expected an object, found a number".into())
        );
    }
}
