//! The README and `docs/` link to each other and to the repository's files by relative paths;
//! a page that moves or a heading that is renamed would leave a link pointing nowhere, which
//! GitHub shows as a 404 or a jump to the top. This renders each page as GitHub does (comrak,
//! GFM, heading ids as GitHub makes them) and checks every relative link: the file exists, and
//! a `#fragment` names a heading of the Markdown file it points into.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// The repository root (this crate's manifest directory).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pages a person reads: README.md and every `docs/*.md`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.expect("a docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The page as GitHub renders it, headings with ids (GitHub prefixes them with
/// `user-content-` and strips that again in links; comrak's ids are the same without it).
/// comrak writes `<hN id="ID">` and appends a self-link `<a href="#ID" aria-label=…>` to each
/// heading, which `links` leaves out: only links the author wrote end in `">`.
fn html(markdown: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    options.extension.header_id_prefix = Some(String::new());
    comrak::markdown_to_html(markdown, &options)
}

/// The heading ids of a rendered page.
fn anchors(html: &str) -> HashSet<String> {
    let id = regex_lite::Regex::new(r#"<h[1-6] id="([^"]*)""#).expect("regex");
    id.captures_iter(html).map(|c| c[1].to_owned()).collect()
}

/// The link targets of a rendered page, HTML entities in them decoded.
fn links(html: &str) -> Vec<String> {
    let href = regex_lite::Regex::new(r#"<a href="([^"]*)"(?: title="[^"]*")?>"#).expect("regex");
    href.captures_iter(html)
        .map(|c| c[1].replace("&amp;", "&"))
        .collect()
}

/// The relative links of every page that do not resolve: (page, link, why).
fn broken_links() -> Vec<(String, String, String)> {
    let mut anchors_of: BTreeMap<PathBuf, HashSet<String>> = BTreeMap::new();
    let mut broken = Vec::new();
    let rendered: Vec<(PathBuf, String)> = pages()
        .into_iter()
        .map(|page| {
            let text = std::fs::read_to_string(&page).expect("page readable");
            (page, html(&text))
        })
        .collect();
    for (page, html) in &rendered {
        anchors_of.insert(page.canonicalize().expect("page path"), anchors(html));
    }
    for (page, html) in &rendered {
        let shown = page
            .strip_prefix(root())
            .unwrap_or(page)
            .display()
            .to_string();
        for link in links(html) {
            // Absolute URLs (https:, mailto:) are not this test's to check.
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap_or(Path::new(".")).join(path)
            };
            let Ok(target) = target.canonicalize() else {
                broken.push((shown.clone(), link.clone(), "no such file".into()));
                continue;
            };
            if fragment.is_empty() {
                continue;
            }
            if target.extension().is_some_and(|ext| ext == "md") {
                let known = match anchors_of.get(&target) {
                    Some(known) => known.clone(),
                    None => anchors(&html_of(&target)),
                };
                if !known.contains(fragment) {
                    broken.push((shown.clone(), link.clone(), "no such heading".into()));
                }
            }
        }
    }
    broken
}

fn html_of(path: &Path) -> String {
    html(&std::fs::read_to_string(path).expect("linked page readable"))
}

#[test]
fn every_relative_link_of_the_readme_and_docs_resolves() {
    let broken = broken_links();
    assert!(
        broken.is_empty(),
        "links that point nowhere:\n{}",
        broken
            .iter()
            .map(|(page, link, why)| format!("  {page}: ({link}) {why}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_docs_page_links_back_to_the_readme_and_the_readme_links_each_page() {
    let readme = html_of(&root().join("README.md"));
    let readme_links: HashSet<String> = links(&readme)
        .into_iter()
        .map(|l| l.split('#').next().unwrap_or_default().to_owned())
        .collect();
    for page in pages().into_iter().skip(1) {
        let name = page
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            readme_links.contains(&format!("docs/{name}")),
            "the README does not link docs/{name}"
        );
        assert!(
            links(&html_of(&page))
                .iter()
                .any(|l| l == "../README.md" || l.starts_with("../README.md#")),
            "docs/{name} does not link back to the README"
        );
    }
}

/// The checker itself: a link to a missing file or heading is found, a good one is not.
#[test]
fn the_link_checker_finds_a_missing_heading_and_file() {
    let page = html("# Title\n\n## A `code` heading\n\n[a](#a-code-heading) [b](#nope) [c](x.md)");
    let known = anchors(&page);
    assert!(known.contains("title") && known.contains("a-code-heading"));
    let found = links(&page);
    assert_eq!(found, ["#a-code-heading", "#nope", "x.md"]);
    assert!(!known.contains("nope"));
}
