//! Lockfile readers: each turns one file into the packages it pins, transitive ones
//! included, with the scope (dev, optional) the lockfile states and the line of the
//! entry for the report.
//!
//! Formats: Cargo.lock; npm package-lock.json / npm-shrinkwrap.json v1 (nested
//! `dependencies`) and v2/v3 (flat `packages`); yarn.lock classic (v1) and berry
//! (YAML, `__metadata`); pnpm-lock.yaml 5.x, 6.x and 9.x; pinned requirements*.txt;
//! poetry.lock; Pipfile.lock; uv.lock. An unknown format version is an error for that
//! file, never a silent empty result.

use serde_json::Value;

use super::version::Ecosystem;

/// Which part of the dependency graph a package belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Normal,
    Dev,
    Optional,
    /// Only needed by dev dependencies, and optional there (npm `devOptional`).
    DevOptional,
}

impl Scope {
    pub fn label(self) -> Option<&'static str> {
        match self {
            Self::Normal => None,
            Self::Dev => Some("dev"),
            Self::Optional => Some("optional"),
            Self::DevOptional => Some("dev, optional"),
        }
    }

    fn from_flags(dev: bool, optional: bool) -> Self {
        match (dev, optional) {
            (false, false) => Self::Normal,
            (true, false) => Self::Dev,
            (false, true) => Self::Optional,
            (true, true) => Self::DevOptional,
        }
    }
}

/// One pinned package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub scope: Scope,
    /// 1-based line of the entry (1 when the format gives no better place).
    pub line: u32,
}

/// The lockfile kinds, recognised by file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Cargo,
    NpmLock,
    Yarn,
    Pnpm,
    Requirements,
    Poetry,
    Pipfile,
    Uv,
}

impl Kind {
    pub fn of(file_name: &str) -> Option<Self> {
        Some(match file_name {
            "Cargo.lock" => Self::Cargo,
            "package-lock.json" | "npm-shrinkwrap.json" => Self::NpmLock,
            "yarn.lock" => Self::Yarn,
            "pnpm-lock.yaml" => Self::Pnpm,
            "poetry.lock" => Self::Poetry,
            "Pipfile.lock" => Self::Pipfile,
            "uv.lock" => Self::Uv,
            n if n.ends_with(".txt") && n.contains("requirements") => Self::Requirements,
            _ => return None,
        })
    }

    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Self::Cargo => Ecosystem::Crates,
            Self::NpmLock | Self::Yarn | Self::Pnpm => Ecosystem::Npm,
            Self::Requirements | Self::Poetry | Self::Pipfile | Self::Uv => Ecosystem::PyPi,
        }
    }
}

/// Parses `text` as a lockfile of `kind`; `file_name` marks requirements files named
/// for development (`requirements-dev.txt`, `test-requirements.txt`) as dev scope.
pub fn parse(kind: Kind, file_name: &str, text: &str) -> Result<Vec<Package>, String> {
    let mut out = match kind {
        Kind::Cargo => cargo(text),
        Kind::NpmLock => npm(text),
        Kind::Yarn => yarn(text),
        Kind::Pnpm => pnpm(text),
        Kind::Requirements => requirements(text, file_name),
        Kind::Poetry => poetry(text),
        Kind::Pipfile => pipfile(text),
        Kind::Uv => uv(text),
    }?;
    out.sort_by(|a, b| (&a.name, &a.version, a.scope).cmp(&(&b.name, &b.version, b.scope)));
    // The same name and version reached twice (npm nests copies): report it once, in
    // its most "production" scope.
    out.dedup_by(|b, a| a.name == b.name && a.version == b.version);
    Ok(out)
}

/// The 1-based line where `needle` first occurs, for formats read through a parser
/// that keeps no positions.
fn line_of(text: &str, needle: &str) -> u32 {
    text.find(needle)
        .map(|at| u32::try_from(text[..at].matches('\n').count() + 1).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

fn pkg(eco: Ecosystem, name: &str, version: &str, scope: Scope, line: u32) -> Package {
    Package {
        ecosystem: eco,
        name: name.to_string(),
        version: version.to_string(),
        scope,
        line,
    }
}

// === Cargo ===

fn cargo(text: &str) -> Result<Vec<Package>, String> {
    let doc: toml::Value = toml::from_str(text).map_err(|e| format!("not a Cargo.lock: {e}"))?;
    if let Some(v) = doc.get("version").and_then(toml::Value::as_integer) {
        if !(1..=4).contains(&v) {
            return Err(format!("unknown Cargo.lock version {v}"));
        }
    }
    let mut out = Vec::new();
    for p in doc
        .get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(version)) = (
            p.get("name").and_then(toml::Value::as_str),
            p.get("version").and_then(toml::Value::as_str),
        ) else {
            continue;
        };
        // No `source`: a workspace or path crate, not something from a registry.
        if p.get("source").is_none() {
            continue;
        }
        let line = line_of(text, &format!("name = \"{name}\"\nversion = \"{version}\""));
        out.push(pkg(Ecosystem::Crates, name, version, Scope::Normal, line));
    }
    Ok(out)
}

// === npm ===

fn npm(text: &str) -> Result<Vec<Package>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let version = doc
        .get("lockfileVersion")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    if !(1..=3).contains(&version) {
        return Err(format!("unknown package-lock lockfileVersion {version}"));
    }
    let mut out = Vec::new();
    if let Some(packages) = doc.get("packages").and_then(Value::as_object) {
        for (path, p) in packages {
            // "" is the project itself; `link` entries point at workspace folders.
            if path.is_empty() || p.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let Some(idx) = path.rfind("node_modules/") else {
                continue;
            };
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&path[idx + "node_modules/".len()..]);
            let Some(ver) = p.get("version").and_then(Value::as_str) else {
                continue;
            };
            let flag = |k: &str| p.get(k).and_then(Value::as_bool) == Some(true);
            let scope = if flag("devOptional") {
                Scope::DevOptional
            } else {
                Scope::from_flags(flag("dev"), flag("optional"))
            };
            let line = line_of(text, &format!("\"{path}\": {{"));
            out.push(pkg(Ecosystem::Npm, name, ver, scope, line));
        }
    } else if let Some(deps) = doc.get("dependencies").and_then(Value::as_object) {
        npm_v1(text, deps, &mut out);
    }
    Ok(out)
}

fn npm_v1(text: &str, deps: &serde_json::Map<String, Value>, out: &mut Vec<Package>) {
    for (name, d) in deps {
        if let Some(ver) = d.get("version").and_then(Value::as_str) {
            // Git or file dependencies carry a URL as version: not a registry release.
            if !ver.contains(':') && !ver.contains('/') {
                let flag = |k: &str| d.get(k).and_then(Value::as_bool) == Some(true);
                let line = line_of(text, &format!("\"{name}\": {{\n"));
                out.push(pkg(
                    Ecosystem::Npm,
                    name,
                    ver,
                    Scope::from_flags(flag("dev"), flag("optional")),
                    line,
                ));
            }
        }
        if let Some(nested) = d.get("dependencies").and_then(Value::as_object) {
            npm_v1(text, nested, out);
        }
    }
}

// === yarn ===

/// yarn.lock, both classic (`version "1.2.3"`) and berry (`version: 1.2.3`): a block
/// starts with a non-indented line of specifiers ending in `:`.
fn yarn(text: &str) -> Result<Vec<Package>, String> {
    let berry = text.contains("__metadata:");
    if !berry && !text.contains("# yarn lockfile v1") && !text.trim().is_empty() {
        return Err("neither a yarn v1 nor a yarn berry lockfile".into());
    }
    let mut out = Vec::new();
    let mut current: Option<(String, u32)> = None;
    for (i, line) in text.lines().enumerate() {
        let lineno = u32::try_from(i + 1).unwrap_or(u32::MAX);
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            current = None;
            let head = line.trim_end_matches(':');
            let first = head.split(", ").next().unwrap_or(head).trim_matches('"');
            if first == "__metadata" {
                continue;
            }
            // `@scope/name@^1`, `name@npm:^1`: the name ends at the last `@` that
            // is not the first character.
            let Some(at) = first.get(1..).and_then(|s| s.find('@')).map(|p| p + 1) else {
                continue;
            };
            let spec = &first[at + 1..];
            // Workspace members and patches are not registry packages.
            if spec.starts_with("workspace:")
                || spec.starts_with("link:")
                || spec.starts_with("portal:")
                || spec.starts_with("file:")
            {
                continue;
            }
            current = Some((first[..at].to_string(), lineno));
            continue;
        }
        let t = line.trim();
        if let (Some((name, at)), Some(rest)) = (&current, t.strip_prefix("version")) {
            let ver = rest.trim_start_matches(':').trim().trim_matches('"');
            if ver.ends_with("-use.local") {
                continue;
            }
            out.push(pkg(Ecosystem::Npm, name, ver, Scope::Normal, *at));
            current = None;
        }
    }
    Ok(out)
}

// === pnpm ===

fn yaml_doc(text: &str) -> Result<yaml_rust2::Yaml, String> {
    let docs =
        yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    docs.into_iter()
        .next()
        .ok_or_else(|| "empty YAML document".to_string())
}

fn pnpm(text: &str) -> Result<Vec<Package>, String> {
    use yaml_rust2::Yaml;
    let doc = yaml_doc(text)?;
    let version = match &doc["lockfileVersion"] {
        Yaml::Real(s) | Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        _ => return Err("pnpm-lock.yaml without lockfileVersion".into()),
    };
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if !(5..=9).contains(&major) {
        return Err(format!("unknown pnpm lockfileVersion {version}"));
    }
    // v9 has no `dev` flag on packages: a package is dev when only the importers'
    // devDependencies reach it. Approximate with the direct ones, which is what the
    // importer section states.
    let mut dev_direct = std::collections::HashSet::new();
    let mut prod_direct = std::collections::HashSet::new();
    let importers: Vec<&Yaml> = match doc["importers"].as_hash() {
        Some(h) => h.values().collect(),
        None => vec![&doc],
    };
    for imp in importers {
        for (section, dev) in [
            ("devDependencies", true),
            ("dependencies", false),
            ("optionalDependencies", false),
        ] {
            if let Some(h) = imp[section].as_hash() {
                let set = if dev {
                    &mut dev_direct
                } else {
                    &mut prod_direct
                };
                for k in h.keys().filter_map(Yaml::as_str) {
                    set.insert(k.to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    let Some(packages) = doc["packages"].as_hash() else {
        return Ok(out);
    };
    for (key, p) in packages {
        let Some(key) = key.as_str() else { continue };
        let Some((name, ver)) = pnpm_key(key, major) else {
            continue;
        };
        let dev = match p["dev"].as_bool() {
            Some(d) => d,
            None => dev_direct.contains(&name) && !prod_direct.contains(&name),
        };
        let optional = p["optional"].as_bool() == Some(true);
        let line = line_of(text, key);
        out.push(pkg(
            Ecosystem::Npm,
            &name,
            &ver,
            Scope::from_flags(dev, optional),
            line,
        ));
    }
    Ok(out)
}

/// `/name/1.2.3` (v5), `/name@1.2.3` (v6), `name@1.2.3` (v9), `@scope/name...`, with
/// a peer-dependency suffix (`_peer@1` or `(peer@1)`) dropped.
fn pnpm_key(key: &str, major: u32) -> Option<(String, String)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    let k = k.split('(').next().unwrap_or(k);
    let (name, ver) = if major < 6 {
        let idx = k.rfind('/')?;
        (&k[..idx], &k[idx + 1..])
    } else {
        let at = k.get(1..)?.find('@')? + 1;
        (&k[..at], &k[at + 1..])
    };
    let ver = ver.split('_').next().unwrap_or(ver);
    if name.is_empty() || ver.is_empty() || ver.contains(':') {
        return None;
    }
    Some((name.to_string(), ver.to_string()))
}

// === Python ===

fn requirements(text: &str, file_name: &str) -> Result<Vec<Package>, String> {
    let lower = file_name.to_ascii_lowercase();
    let dev = ["dev", "test", "lint", "doc", "ci"]
        .iter()
        .any(|w| lower.contains(w));
    let scope = if dev { Scope::Dev } else { Scope::Normal };
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or(raw).trim();
        let line = line.trim_end_matches('\\').trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        let spec = line.split(';').next().unwrap_or(line).trim();
        // Only exact pins (`==`, `===`) say which version is installed.
        let Some((name, ver)) = spec.split_once("===").or_else(|| spec.split_once("==")) else {
            continue;
        };
        let name = name.split('[').next().unwrap_or(name).trim();
        let ver = ver
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches(',');
        if name.is_empty() || ver.is_empty() || ver.contains('*') || ver.contains(',') {
            continue;
        }
        let lineno = u32::try_from(i + 1).unwrap_or(u32::MAX);
        out.push(pkg(Ecosystem::PyPi, name, ver, scope, lineno));
    }
    Ok(out)
}

fn poetry(text: &str) -> Result<Vec<Package>, String> {
    let doc: toml::Value = toml::from_str(text).map_err(|e| format!("not a poetry.lock: {e}"))?;
    let mut out = Vec::new();
    for p in doc
        .get("package")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(version)) = (
            p.get("name").and_then(toml::Value::as_str),
            p.get("version").and_then(toml::Value::as_str),
        ) else {
            continue;
        };
        // Poetry < 1.5 writes `category = "dev"`; Poetry 2 writes `groups`.
        let groups: Vec<&str> = p
            .get("groups")
            .and_then(toml::Value::as_array)
            .map(|a| a.iter().filter_map(toml::Value::as_str).collect())
            .unwrap_or_default();
        let dev = p.get("category").and_then(toml::Value::as_str) == Some("dev")
            || (!groups.is_empty() && !groups.contains(&"main"));
        let optional = p.get("optional").and_then(toml::Value::as_bool) == Some(true);
        let line = line_of(text, &format!("name = \"{name}\"\nversion = \"{version}\""));
        out.push(pkg(
            Ecosystem::PyPi,
            name,
            version,
            Scope::from_flags(dev, optional),
            line,
        ));
    }
    Ok(out)
}

fn pipfile(text: &str) -> Result<Vec<Package>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let spec = doc
        .pointer("/_meta/pipfile-spec")
        .and_then(Value::as_i64)
        .unwrap_or(6);
    if spec > 6 {
        return Err(format!("unknown Pipfile.lock pipfile-spec {spec}"));
    }
    let mut out = Vec::new();
    for (section, scope) in [("default", Scope::Normal), ("develop", Scope::Dev)] {
        for (name, d) in doc
            .get(section)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(ver) = d
                .get("version")
                .and_then(Value::as_str)
                .and_then(|v| v.strip_prefix("=="))
            else {
                continue;
            };
            let line = line_of(text, &format!("\"{name}\": {{"));
            out.push(pkg(Ecosystem::PyPi, name, ver, scope, line));
        }
    }
    Ok(out)
}

/// uv.lock: packages plus a dependency graph. Scope comes from reachability: what the
/// workspace members reach through `dependencies` is normal, what only their
/// `optional-dependencies` or `dev-dependencies` reach is optional or dev.
fn uv(text: &str) -> Result<Vec<Package>, String> {
    let doc: toml::Value = toml::from_str(text).map_err(|e| format!("not a uv.lock: {e}"))?;
    if let Some(v) = doc.get("version").and_then(toml::Value::as_integer) {
        if v != 1 {
            return Err(format!("unknown uv.lock version {v}"));
        }
    }
    let packages: Vec<&toml::Value> = doc
        .get("package")
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let name_of = |p: &toml::Value| {
        p.get("name")
            .and_then(toml::Value::as_str)
            .map(str::to_string)
    };
    let is_member = |p: &toml::Value| {
        p.get("source")
            .and_then(toml::Value::as_table)
            .is_some_and(|s| {
                s.contains_key("editable")
                    || s.contains_key("virtual")
                    || s.contains_key("workspace")
            })
    };
    let deps_of = |p: &toml::Value, key: &str| -> Vec<String> {
        let mut names = Vec::new();
        match p.get(key) {
            Some(toml::Value::Array(a)) => names.extend(a.iter().filter_map(|d| {
                d.get("name")
                    .and_then(toml::Value::as_str)
                    .map(str::to_string)
            })),
            Some(toml::Value::Table(t)) => {
                for group in t.values().filter_map(toml::Value::as_array) {
                    names.extend(group.iter().filter_map(|d| {
                        d.get("name")
                            .and_then(toml::Value::as_str)
                            .map(str::to_string)
                    }));
                }
            }
            _ => {}
        }
        names
    };
    let by_name: std::collections::HashMap<String, &toml::Value> = packages
        .iter()
        .filter_map(|p| name_of(p).map(|n| (n, *p)))
        .collect();
    let reach = |starts: Vec<String>| {
        let mut seen = std::collections::HashSet::new();
        let mut stack = starts;
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone()) {
                if let Some(p) = by_name.get(&n) {
                    stack.extend(deps_of(p, "dependencies"));
                }
            }
        }
        seen
    };
    let members: Vec<&&toml::Value> = packages.iter().filter(|p| is_member(p)).collect();
    let normal = reach(
        members
            .iter()
            .flat_map(|p| deps_of(p, "dependencies"))
            .collect(),
    );
    let optional = reach(
        members
            .iter()
            .flat_map(|p| deps_of(p, "optional-dependencies"))
            .collect(),
    );
    let dev = reach(
        members
            .iter()
            .flat_map(|p| deps_of(p, "dev-dependencies"))
            .collect(),
    );
    let mut out = Vec::new();
    for p in &packages {
        if is_member(p) {
            continue;
        }
        let (Some(name), Some(version)) =
            (name_of(p), p.get("version").and_then(toml::Value::as_str))
        else {
            continue;
        };
        let scope = if members.is_empty() || normal.contains(&name) {
            Scope::Normal
        } else {
            Scope::from_flags(
                dev.contains(&name),
                optional.contains(&name) && !dev.contains(&name),
            )
        };
        let line = line_of(text, &format!("name = \"{name}\"\nversion = \"{version}\""));
        out.push(pkg(Ecosystem::PyPi, &name, version, scope, line));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
