//! The layout rules of docs/ARCHITECTURE.md, checked on the source itself:
//! no import cycle between files of `src/`, a service reaches another only
//! through the owner's `mod.rs`, and no file outgrows the size budget.
//!
//! An edge A → B exists when file A names a path (in a `use` or inline) that
//! resolves into file B; `mod x;` is not an edge, `pub use x::…` is. Code
//! under `#[cfg(test)]` is ignored: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

/// Lines of non-test code a file may have.
const LINE_BUDGET: usize = 400;
const SERVICES: [&str; 4] = ["kms", "csms", "vpcep", "iam"];

type ModPath = Vec<String>;

struct Source {
    file: PathBuf,
    module: ModPath,
    ast: syn::File,
    text: String,
}

fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path != src.join("main.rs")
                && !is_test_file(&path)
            {
                let text = std::fs::read_to_string(&path).unwrap();
                let ast = syn::parse_file(&text)
                    .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
                out.push(Source {
                    module: module_of(&src, &path),
                    file: path,
                    ast,
                    text,
                });
            }
        }
    }
    out.sort_by(|a, b| a.module.cmp(&b.module));
    out
}

/// Test modules kept in files of their own (`tests.rs`, `#[path = "x_tests.rs"]`).
fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name == "tests.rs" || name.ends_with("_tests.rs")
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .map(|m| m.path().is_ident("test"))
                .unwrap_or(false)
    })
}

/// Every path a file names, as written (first segment `crate`, `super`, `self` or a name).
#[derive(Default)]
struct Paths(Vec<ModPath>);

impl Paths {
    fn use_tree(&mut self, prefix: &mut ModPath, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.0.push(full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                full.push(r.ident.to_string());
                self.0.push(full);
            }
            syn::UseTree::Glob(_) => self.0.push(prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if is_cfg_test(attrs) {
            return;
        }
        if let syn::Item::Use(u) = item {
            self.use_tree(&mut Vec::new(), &u.tree);
            return;
        }
        syn::visit::visit_item(self, item);
    }

    // A `#[macro_export]` macro is named at the crate root wherever it is
    // defined, so its invocation path says nothing about the file it lives in.
    fn visit_macro(&mut self, _: &'ast syn::Macro) {}

    // `pub(crate)` and `pub(super)` name a scope, not a dependency.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.0
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }
}

/// The file a path lands in: the longest known module that prefixes it.
fn resolve(
    from: &ModPath,
    path: &ModPath,
    modules: &BTreeSet<ModPath>,
    children: &BTreeMap<ModPath, BTreeSet<String>>,
) -> Option<ModPath> {
    let first = path.first()?;
    let mut abs: ModPath = match first.as_str() {
        "crate" => Vec::new(),
        "self" => from.clone(),
        "super" => {
            let mut base = from.clone();
            let mut rest = path.as_slice();
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            return longest_known(base, modules);
        }
        name if children.get(from).is_some_and(|c| c.contains(name)) => from.clone(),
        _ => return None,
    };
    let skip = usize::from(matches!(first.as_str(), "crate" | "self"));
    abs.extend(path.iter().skip(skip).cloned());
    longest_known(abs, modules)
}

fn longest_known(mut abs: ModPath, modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    loop {
        if modules.contains(&abs) {
            return Some(abs);
        }
        abs.pop()?;
    }
}

fn edges(sources: &[Source]) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let modules: BTreeSet<ModPath> = sources.iter().map(|s| s.module.clone()).collect();
    let mut children: BTreeMap<ModPath, BTreeSet<String>> = BTreeMap::new();
    for m in &modules {
        if let Some((last, parent)) = m.split_last() {
            children
                .entry(parent.to_vec())
                .or_default()
                .insert(last.clone());
        }
    }
    let mut graph = BTreeMap::new();
    for s in sources {
        let mut paths = Paths::default();
        paths.visit_file(&s.ast);
        let targets: BTreeSet<ModPath> = paths
            .0
            .iter()
            .filter_map(|p| resolve(&s.module, p, &modules, &children))
            .filter(|t| *t != s.module)
            .collect();
        graph.insert(s.module.clone(), targets);
    }
    graph
}

/// Strongly connected components with more than one member (Tarjan).
fn cycles(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'g ModPath, (usize, usize)>,
        stack: Vec<&'g ModPath>,
        on_stack: BTreeSet<&'g ModPath>,
        found: Vec<Vec<ModPath>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g ModPath) {
            let n = self.index.len();
            self.index.insert(v, (n, n));
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.index[w].1.min(self.index[v].1);
                    self.index.get_mut(v).unwrap().1 = low;
                } else if self.on_stack.contains(w) {
                    let low = self.index[w].0.min(self.index[v].1);
                    self.index.get_mut(v).unwrap().1 = low;
                }
            }
            if self.index[v].0 == self.index[v].1 {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.found
}

fn show(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

#[test]
fn no_import_cycle_between_files() {
    let found = cycles(&edges(&sources()));
    let text: Vec<String> = found
        .iter()
        .map(|c| c.iter().map(show).collect::<Vec<_>>().join(" <-> "))
        .collect();
    assert!(text.is_empty(), "import cycles:\n{}", text.join("\n"));
}

#[test]
fn services_meet_only_at_each_others_mod_rs() {
    let mut wrong = Vec::new();
    for (from, targets) in edges(&sources()) {
        let Some(own) = from.first().filter(|s| SERVICES.contains(&s.as_str())) else {
            continue;
        };
        for to in targets {
            if let Some(other) = to.first().filter(|s| SERVICES.contains(&s.as_str())) {
                if other != own && to.len() > 1 {
                    wrong.push(format!("{} -> {}", show(&from), show(&to)));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "a service may use another only through the owner's mod.rs:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_file_outgrows_the_line_budget() {
    let mut big = Vec::new();
    for s in sources() {
        let lines = s
            .text
            .lines()
            .take_while(|l| !l.starts_with("#[cfg(test)]"))
            .count();
        if lines > LINE_BUDGET {
            big.push(format!("{} ({lines} lines)", s.file.display()));
        }
    }
    assert!(
        big.is_empty(),
        "over {LINE_BUDGET} lines before the tests:\n{}",
        big.join("\n")
    );
}

#[test]
fn the_checker_sees_a_cycle_when_there_is_one() {
    let a: ModPath = vec!["a".into()];
    let b: ModPath = vec!["b".into()];
    let c: ModPath = vec!["c".into()];
    let graph = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone(), c.clone()])),
        (c.clone(), BTreeSet::new()),
    ]);
    assert_eq!(cycles(&graph), vec![vec![a, b]]);
}

#[test]
fn paths_resolve_to_the_longest_known_module() {
    let modules: BTreeSet<ModPath> = [
        vec![],
        vec!["kms".into()],
        vec!["kms".into(), "store".into()],
    ]
    .into_iter()
    .collect();
    let children = BTreeMap::from([(
        vec!["kms".to_string()],
        BTreeSet::from(["store".to_string()]),
    )]);
    let from = vec!["kms".to_string()];
    let p = |s: &str| s.split("::").map(String::from).collect::<ModPath>();
    assert_eq!(
        resolve(&from, &p("store::load"), &modules, &children),
        Some(p("kms::store"))
    );
    assert_eq!(
        resolve(&p("kms::store"), &p("super::KmsBody"), &modules, &children),
        Some(p("kms"))
    );
    assert_eq!(
        resolve(&from, &p("serde::Serialize"), &modules, &children),
        None
    );
}
