//! A strict emulation of what the GitHub runner does with a step's output: workflow command
//! parsing (v2 `::cmd props::data` after leading whitespace, and legacy `##[cmd props]data`
//! anywhere in a line), `stop-commands`, masking, and the `GITHUB_OUTPUT` file format.
//! Tests use it to prove that untrusted text never becomes a command; the demo uses it to show
//! the log as a workflow run would.
#![allow(dead_code)]

use std::collections::BTreeMap;

/// Commands the runner knows (actions/runner ActionCommandManager).
const REGISTERED: &[&str] = &[
    "stop-commands",
    "add-mask",
    "set-output",
    "save-state",
    "set-env",
    "add-path",
    "debug",
    "warning",
    "error",
    "notice",
    "group",
    "endgroup",
    "echo",
    "add-matcher",
    "remove-matcher",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    pub properties: BTreeMap<String, String>,
    pub data: String,
}

/// What the runner made of a step's output.
#[derive(Debug, Default)]
pub struct RunnerView {
    /// Every command processed (stop/resume included), in order.
    pub commands: Vec<Command>,
    /// Lines shown in the log, masks applied; annotations shown as `Error: ...` lines.
    pub log: Vec<String>,
    /// Registered secrets.
    pub masks: Vec<String>,
}

impl RunnerView {
    pub fn annotations(&self) -> Vec<&Command> {
        self.commands
            .iter()
            .filter(|c| matches!(c.name.as_str(), "error" | "warning" | "notice"))
            .collect()
    }

    /// Commands other than the ones the action is expected to emit.
    pub fn unexpected_commands(&self) -> Vec<&Command> {
        self.commands
            .iter()
            .filter(|c| {
                !matches!(
                    c.name.as_str(),
                    "add-mask"
                        | "error"
                        | "warning"
                        | "notice"
                        | "debug"
                        | "stop-commands"
                        | "resume"
                )
            })
            .collect()
    }

    pub fn log_text(&self) -> String {
        self.log.join("\n")
    }
}

fn unescape(text: &str, property: bool) -> String {
    let mut s = text.replace("%0D", "\r").replace("%0A", "\n");
    if property {
        s = s.replace("%3A", ":").replace("%2C", ",");
    }
    s.replace("%25", "%")
}

fn parse_v2(line: &str, registered: &[String]) -> Option<Command> {
    let line = line.trim_start();
    let rest = line.strip_prefix("::")?;
    let end = rest.find("::")?;
    let info = &rest[..end];
    let (name, props) = match info.find(' ') {
        Some(i) => (&info[..i], Some(&info[i + 1..])),
        None => (info, None),
    };
    if !registered.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return None;
    }
    let mut properties = BTreeMap::new();
    for prop in props
        .unwrap_or_default()
        .trim()
        .split(',')
        .filter(|p| !p.is_empty())
    {
        if let Some((k, v)) = prop.split_once('=') {
            if !k.is_empty() && !v.is_empty() {
                properties.insert(k.to_owned(), unescape(v, true));
            }
        }
    }
    Some(Command {
        name: name.to_owned(),
        properties,
        data: unescape(&rest[end + 2..], false),
    })
}

fn parse_v1(line: &str, registered: &[String]) -> Option<Command> {
    let start = line.find("##[")?;
    let rb = start + line[start..].find(']')?;
    let info = &line[start + 3..rb];
    let name = info.split(' ').next().unwrap_or_default();
    if !registered.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return None;
    }
    Some(Command {
        name: name.to_owned(),
        properties: BTreeMap::new(),
        data: line[rb + 1..].to_owned(),
    })
}

/// Processes a step's output (stdout and stderr interleaved or concatenated) line by line.
pub fn process(output: &str) -> RunnerView {
    let mut view = RunnerView::default();
    let mut registered: Vec<String> = REGISTERED.iter().map(|s| s.to_string()).collect();
    let mut stop_token: Option<String> = None;
    let mut raw_log = Vec::new();
    for line in output.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let parsed = parse_v2(line, &registered).or_else(|| parse_v1(line, &registered));
        let Some(cmd) = parsed else {
            raw_log.push(line.to_owned());
            continue;
        };
        if let Some(token) = &stop_token {
            if cmd.name.eq_ignore_ascii_case(token) {
                registered.retain(|r| r != token);
                stop_token = None;
                view.commands.push(Command {
                    name: "resume".into(),
                    ..cmd
                });
            } else {
                raw_log.push(line.to_owned());
            }
            continue;
        }
        match cmd.name.as_str() {
            "stop-commands" => {
                stop_token = Some(cmd.data.clone());
                registered.push(cmd.data.clone());
            }
            "add-mask" => view.masks.push(cmd.data.clone()),
            "error" | "warning" | "notice" => {
                let label = match cmd.name.as_str() {
                    "error" => "Error",
                    "warning" => "Warning",
                    _ => "Notice",
                };
                for (i, l) in cmd.data.split('\n').enumerate() {
                    raw_log.push(if i == 0 {
                        format!("{label}: {l}")
                    } else {
                        l.to_owned()
                    });
                }
            }
            "debug" => {}
            _ => {}
        }
        view.commands.push(cmd);
    }
    let mut masks = view.masks.clone();
    masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
    view.log = raw_log
        .into_iter()
        .map(|l| {
            masks
                .iter()
                .filter(|m| !m.is_empty())
                .fold(l, |acc, m| acc.replace(m.as_str(), "***"))
        })
        .collect();
    while view.log.last().is_some_and(|l| l.is_empty()) {
        view.log.pop();
    }
    view
}

/// Parses a `GITHUB_OUTPUT` file strictly, as the runner does: `name=value` lines, or
/// `name<<DELIMITER`, value lines, and a line that is exactly `DELIMITER`. Anything else is an
/// error with the runner's message.
pub fn parse_outputs(file: &str) -> Result<Vec<(String, String)>, String> {
    let mut outputs = Vec::new();
    let mut lines = file.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            if lines.peek().is_none() {
                break;
            }
            continue;
        }
        let heredoc = line.find("<<");
        let equals = line.find('=');
        match (heredoc, equals) {
            (Some(h), e) if e.is_none_or(|e| h < e) => {
                let name = &line[..h];
                let delimiter = &line[h + 2..];
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!("Invalid format '{line}'"));
                }
                let mut value = Vec::new();
                loop {
                    match lines.next() {
                        Some(l) if l == delimiter => break,
                        Some(l) => value.push(l),
                        None => {
                            return Err(format!(
                                "Invalid value. Matching delimiter not found '{delimiter}'"
                            ))
                        }
                    }
                }
                outputs.push((name.to_owned(), value.join("\n")));
            }
            (_, Some(e)) if e > 0 => outputs.push((line[..e].to_owned(), line[e + 1..].to_owned())),
            _ => return Err(format!("Invalid format '{line}'")),
        }
    }
    Ok(outputs)
}
