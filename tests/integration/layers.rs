//! The layer rule written in `src/lib.rs`'s module docs, checked against the sources: every
//! `crate::` path outside tests and comments must name a module of a lower layer.

use std::collections::BTreeMap;
use std::path::Path;

/// The table in lib.rs: module -> layer.
fn layers(lib: &str) -> BTreeMap<String, usize> {
    let mut layers = BTreeMap::new();
    for line in lib.lines() {
        let Some(row) = line.strip_prefix("//! | ") else {
            continue;
        };
        let cells: Vec<&str> = row.split(" | ").collect();
        let Ok(layer) = cells[0].trim().parse::<usize>() else {
            continue;
        };
        for module in cells[1].split(',') {
            layers.insert(module.trim().trim_matches('`').to_owned(), layer);
        }
    }
    layers
}

/// The modules a source file names through `crate::`, outside comments and the test module.
fn uses(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let path = regex_lite::Regex::new(r"crate::([a-z_]+)").unwrap();
    let group = regex_lite::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let mut found = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        found.extend(path.captures_iter(line).map(|c| c[1].to_owned()));
    }
    // `use crate::{a::X, b};` over one or more lines.
    let uncommented: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for c in group.captures_iter(&uncommented) {
        for part in c[1].split(',') {
            let name: String = part
                .trim()
                .chars()
                .take_while(|ch| ch.is_ascii_lowercase() || *ch == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

fn module_of(path: &Path, src: &Path) -> String {
    let relative = path.strip_prefix(src).unwrap();
    let first = relative
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layers = layers(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    assert!(layers.len() >= 20, "the table in lib.rs: {layers:?}");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(file, &src);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&own) = layers.get(&module) else {
            violations.push(format!(
                "{}: module `{module}` is in no layer",
                file.display()
            ));
            continue;
        };
        for used in uses(&std::fs::read_to_string(file).unwrap()) {
            if used == module {
                continue;
            }
            match layers.get(&used) {
                Some(&layer) if layer < own => {}
                Some(&layer) => violations.push(format!(
                    "{}: `{module}` (layer {own}) uses `{used}` (layer {layer})",
                    file.display()
                )),
                None => violations.push(format!(
                    "{}: `{module}` uses `crate::{used}`, which is in no layer",
                    file.display()
                )),
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_checker_sees_uses_in_paths_and_groups() {
    let found = uses(
        "use crate::a::X;\nuse crate::{b::Y, c};\n// crate::d in a comment\nfn f() { crate::e::g() }\n#[cfg(test)]\nuse crate::z;",
    );
    assert_eq!(found, ["a", "e", "b", "c"]);
}
