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

/// The runner's unescaping of command data (`property`: of a property value), in its order:
/// `%0D`, `%0A`, then (properties) `%3A`, `%2C`, and `%25` last.
pub fn unescape(text: &str, property: bool) -> String {
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
                // A mask longer than the line cannot occur in it; skipping it saves building a
                // searcher for a long token on every short line.
                .fold(l, |acc, m| {
                    if m.len() > acc.len() {
                        acc
                    } else {
                        acc.replace(m.as_str(), "***")
                    }
                })
        })
        .collect();
    while view.log.last().is_some_and(|l| l.is_empty()) {
        view.log.pop();
    }
    view
}

/// The line ends the runner's `ReadLine` recognizes (actions/runner FileCommandManager.cs):
/// `\n` everywhere, and `\r\n` too on Windows runners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnds {
    Lf,
    CrLf,
}

/// The runner's `ReadLine`: the next line from `index` and the line end that closed it (`None`
/// at the end of the text without a line end).
fn read_line<'a>(
    text: &'a str,
    index: &mut usize,
    ends: LineEnds,
) -> Option<(&'a str, Option<&'static str>)> {
    if *index >= text.len() {
        return None;
    }
    let start = *index;
    let Some(lf) = text[start..].find('\n').map(|i| start + i) else {
        *index = text.len();
        return Some((&text[start..], None));
    };
    if ends == LineEnds::CrLf && lf > start && text.as_bytes()[lf - 1] == b'\r' {
        *index = lf + 1;
        return Some((&text[start..lf - 1], Some("\r\n")));
    }
    *index = lf + 1;
    Some((&text[start..lf], Some("\n")))
}

/// Parses a `GITHUB_OUTPUT` file as the runner's `EnvFileKeyValuePairs` does with the given line
/// ends: empty lines skipped; `NAME=VALUE` when the first `=` comes before the first `<<`;
/// otherwise `NAME<<DELIMITER`, the value being the raw text up to the line end before the
/// first line equal to the delimiter. Errors carry the runner's messages. Stricter than the
/// runner in one place: an empty name (the runner's check for it never fires) is an error.
pub fn parse_outputs_as(file: &str, ends: LineEnds) -> Result<Vec<(String, String)>, String> {
    let mut outputs = Vec::new();
    let mut index = 0;
    while let Some((line, _)) = read_line(file, &mut index, ends) {
        if line.is_empty() {
            continue;
        }
        let heredoc = line.find("<<");
        let equals = line.find('=');
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                if e == 0 {
                    return Err(format!("Invalid format '{line}'. Name must not be empty"));
                }
                outputs.push((line[..e].to_owned(), line[e + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!(
                        "Invalid format '{line}'. Name must not be empty and delimiter must not be empty"
                    ));
                }
                let start = index;
                let mut end = index;
                loop {
                    match read_line(file, &mut index, ends) {
                        Some((l, _)) if l == delimiter => break,
                        Some((_, Some(newline))) => end = index - newline.len(),
                        Some((_, None)) => {
                            return Err("Invalid value. EOF marker missing new line.".to_owned())
                        }
                        None => {
                            return Err(format!(
                                "Invalid value. Matching delimiter not found '{delimiter}'"
                            ))
                        }
                    }
                }
                outputs.push((name.to_owned(), file[start..end.max(start)].to_owned()));
            }
            _ => return Err(format!("Invalid format '{line}'")),
        }
    }
    Ok(outputs)
}

/// Parses a `GITHUB_OUTPUT` file strictly: as the runner reads it on Linux (`\n` line ends)
/// and on Windows (`\r\n` too), failing unless both readings succeed and agree. Docker actions
/// run on Linux only; demanding agreement is the stricter interpretation, so a value that
/// would change meaning on another runner fails here.
pub fn parse_outputs(file: &str) -> Result<Vec<(String, String)>, String> {
    let lf = parse_outputs_as(file, LineEnds::Lf)?;
    let crlf = parse_outputs_as(file, LineEnds::CrLf)?;
    if lf != crlf {
        return Err(format!(
            "the outputs read differently with CRLF line ends: {lf:?} (LF) vs {crlf:?} (CRLF)"
        ));
    }
    Ok(lf)
}
