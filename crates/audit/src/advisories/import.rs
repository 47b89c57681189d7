//! Readers for the advisory formats `advisories import` accepts: OSV records (JSON or
//! YAML, one per file, in a directory or a zip export), RustSec advisory-db Markdown
//! files with TOML front matter, and the Node.js security WG's legacy npm JSON.
//!
//! Every file is read on its own: a corrupt one is counted and named, and the import
//! goes on. Only crates.io, npm and PyPI records are kept (the ecosystems whose
//! lockfiles `audit deps` reads).

use std::io::Read as _;
use std::path::Path;

use serde_json::Value;

use super::{cvss, Advisory, Affected, Event, Range};
use crate::deps::version::Ecosystem;

/// Files bigger than this are not advisories; refusing them bounds memory.
const MAX_FILE: u64 = 8 * 1024 * 1024;

/// What one import produced.
#[derive(Debug, Default)]
pub struct Imported {
    pub advisories: Vec<Advisory>,
    /// The formats seen (`osv`, `rustsec`, `npm-legacy`), joined with `+`.
    pub kind: String,
    /// Files that could not be read, with why.
    pub errors: Vec<(String, String)>,
}

/// Reads a zip export, one file, or a directory tree.
pub fn read(path: &Path) -> Result<Imported, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Imported::default();
    let mut kinds: Vec<&'static str> = Vec::new();
    if meta.is_file()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        read_zip(path, &mut out, &mut kinds)?;
    } else if meta.is_file() {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => one(&shown, &text, true, &mut out, &mut kinds),
            Err(e) => out.errors.push((shown, e.to_string())),
        }
    } else {
        // Links are not followed, so a symlink loop cannot make the walk endless.
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.errors.push((path.display().to_string(), e.to_string()));
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let p = entry.path();
            let shown = p.display().to_string();
            let Some(ext) = p.extension().and_then(|e| e.to_str()) else {
                continue;
            };
            if !matches!(ext, "json" | "yaml" | "yml" | "md") {
                continue;
            }
            // RustSec keeps crate advisories under `crates/`; `rust/` holds the
            // toolchain's own, which no lockfile lists.
            let in_crates = p.components().any(|c| c.as_os_str() == "crates");
            if ext == "md" && !in_crates {
                continue;
            }
            if entry.metadata().map(|m| m.len()).unwrap_or(0) > MAX_FILE {
                out.errors
                    .push((shown, "larger than 8 MiB, not an advisory".into()));
                continue;
            }
            match std::fs::read_to_string(p) {
                Ok(text) => one(&shown, &text, false, &mut out, &mut kinds),
                Err(e) => out.errors.push((shown, e.to_string())),
            }
        }
    }
    kinds.sort_unstable();
    kinds.dedup();
    out.kind = if kinds.is_empty() {
        "none".into()
    } else {
        kinds.join("+")
    };
    Ok(out)
}

fn read_zip(path: &Path, out: &mut Imported, kinds: &mut Vec<&'static str>) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", path.display()))?;
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                out.errors
                    .push((format!("{}#{i}", path.display()), e.to_string()));
                continue;
            }
        };
        let name = format!("{}!{}", path.display(), entry.name());
        if !entry.is_file() || !entry.name().ends_with(".json") {
            continue;
        }
        if entry.size() > MAX_FILE {
            out.errors
                .push((name, "larger than 8 MiB, not an advisory".into()));
            continue;
        }
        let mut text = String::new();
        // `take` bounds what a lying size header could make us inflate.
        if let Err(e) = (&mut entry).take(MAX_FILE).read_to_string(&mut text) {
            out.errors.push((name, e.to_string()));
            continue;
        }
        one(&name, &text, true, out, kinds);
    }
    Ok(())
}

/// Reads one file's text; `strict` reports a file that is no advisory at all (given
/// by name, or inside an export) rather than skipping it as a stray file of a tree.
fn one(name: &str, text: &str, strict: bool, out: &mut Imported, kinds: &mut Vec<&'static str>) {
    let result = if name.ends_with(".md") {
        rustsec(text).map(|a| (a, "rustsec"))
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        yaml_value(text).and_then(|v| osv(&v)).map(|a| (a, "osv"))
    } else {
        match serde_json::from_str::<Value>(text) {
            Ok(v) if v.get("module_name").is_some() => npm_legacy(&v).map(|a| (a, "npm-legacy")),
            Ok(v) if v.get("affected").is_some() || v.get("id").is_some() => {
                osv(&v).map(|a| (a, "osv"))
            }
            Ok(_) if !strict => return,
            Ok(_) => Err("neither an OSV record nor an npm advisory".into()),
            Err(e) => Err(format!("invalid JSON: {e}")),
        }
    };
    match result {
        Ok((Some(a), kind)) => {
            kinds.push(kind);
            out.advisories.push(a);
        }
        // A valid record for an ecosystem we do not scan.
        Ok((None, kind)) => kinds.push(kind),
        Err(e) => out.errors.push((name.to_string(), e)),
    }
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn band(label: &str) -> Option<String> {
    match label.to_ascii_lowercase().as_str() {
        "critical" => Some("critical".into()),
        "high" => Some("high".into()),
        "moderate" | "medium" => Some("medium".into()),
        "low" => Some("low".into()),
        _ => None,
    }
}

fn from_vector(vector: &str) -> Option<String> {
    cvss::base_score(vector)
        .and_then(cvss::severity)
        .map(|s| s.as_str().to_string())
}

/// One OSV record; `Ok(None)` when none of its packages is in our ecosystems.
pub fn osv(v: &Value) -> Result<Option<Advisory>, String> {
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .ok_or("OSV record without `id`")?;
    let affected_in = v
        .get("affected")
        .and_then(Value::as_array)
        .ok_or("OSV record without `affected`")?;
    let mut affected = Vec::new();
    let mut informational = None;
    let mut cvss_vec = None;
    for af in affected_in {
        let pkg = af.get("package");
        let (Some(eco), Some(name)) = (
            pkg.and_then(|p| p.get("ecosystem")).and_then(Value::as_str),
            pkg.and_then(|p| p.get("name")).and_then(Value::as_str),
        ) else {
            continue;
        };
        let Some(eco) = Ecosystem::from_osv(eco) else {
            continue;
        };
        let mut ranges = Vec::new();
        for r in af
            .get("ranges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // GIT ranges are commits, not versions a lockfile states.
            let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
            if kind != "SEMVER" && kind != "ECOSYSTEM" {
                continue;
            }
            let mut events = Vec::new();
            for e in r
                .get("events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(obj) = e.as_object() else { continue };
                for (k, val) in obj {
                    let s = match val {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => continue,
                    };
                    events.push(match k.as_str() {
                        "introduced" => Event::Introduced(s),
                        "fixed" => Event::Fixed(s),
                        "last_affected" => Event::LastAffected(s),
                        _ => Event::Limit(s),
                    });
                }
            }
            ranges.push(Range::Events { events });
        }
        let db = af.get("database_specific");
        if let Some(i) = db
            .and_then(|d| d.get("informational"))
            .and_then(Value::as_str)
        {
            informational = Some(i.to_string());
        }
        if let Some(c) = db.and_then(|d| d.get("cvss")).and_then(Value::as_str) {
            cvss_vec = Some(c.to_string());
        }
        affected.push(Affected {
            ecosystem: eco,
            package: name.to_string(),
            ranges,
            versions: str_list(af.get("versions")),
        });
    }
    if affected.is_empty() {
        return Ok(None);
    }
    for s in v
        .get("severity")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(score) = s.get("score").and_then(Value::as_str) {
            if score.starts_with("CVSS:3") {
                cvss_vec = Some(score.to_string());
            }
        }
    }
    let severity = cvss_vec.as_deref().and_then(from_vector).or_else(|| {
        v.get("database_specific")
            .and_then(|d| d.get("severity"))
            .and_then(Value::as_str)
            .and_then(band)
    });
    let summary = v
        .get("summary")
        .and_then(Value::as_str)
        .or_else(|| v.get("details").and_then(Value::as_str))
        .map(first_line)
        .unwrap_or_default();
    let url = v
        .get("references")
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter()
                .find(|r| r.get("type").and_then(Value::as_str) == Some("ADVISORY"))
                .or_else(|| refs.first())
        })
        .and_then(|r| r.get("url"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Some(Advisory {
        id: id.to_string(),
        aliases: str_list(v.get("aliases")),
        summary,
        severity,
        cvss: cvss_vec,
        informational,
        url,
        withdrawn: v.get("withdrawn").is_some_and(|w| !w.is_null()),
        modified: date_field(v, &["modified", "published"]),
        source: String::new(),
        affected,
    }))
}

/// The date part (`YYYY-MM-DD`) of the first of `keys` that holds a timestamp.
fn date_field(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .and_then(|t| t.get(..10))
        .filter(|d| super::unix_of_date(d).is_some())
        .map(str::to_string)
}

fn first_line(s: &str) -> String {
    let line = s.trim().lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(200).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

/// One RustSec advisory-db file: TOML front matter in a ```toml fence, then Markdown
/// whose first `#` heading is the title.
pub fn rustsec(text: &str) -> Result<Option<Advisory>, String> {
    let body = text.trim_start();
    let rest = body
        .strip_prefix("```toml")
        .ok_or("no ```toml front matter")?;
    let end = rest.find("\n```").ok_or("unterminated front matter")?;
    let front: toml::Value =
        toml::from_str(&rest[..end]).map_err(|e| format!("front matter: {e}"))?;
    let adv = front.get("advisory").ok_or("no [advisory] table")?;
    let get = |k: &str| adv.get(k).and_then(toml::Value::as_str);
    let id = get("id").ok_or("advisory without id")?;
    let package = get("package").ok_or("advisory without package")?;
    let list = |t: Option<&toml::Value>, k: &str| -> Vec<String> {
        t.and_then(|t| t.get(k))
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let versions = front.get("versions");
    let patched = list(versions, "patched");
    let unaffected = list(versions, "unaffected");
    for req in patched.iter().chain(&unaffected) {
        semver::VersionReq::parse(req).map_err(|e| format!("version requirement `{req}`: {e}"))?;
    }
    let title = rest[end..]
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    let cvss_vec = get("cvss").map(str::to_string);
    Ok(Some(Advisory {
        id: id.to_string(),
        aliases: list(Some(adv), "aliases"),
        summary: title,
        severity: cvss_vec.as_deref().and_then(from_vector),
        cvss: cvss_vec,
        informational: get("informational").map(str::to_string),
        url: get("url").map(str::to_string),
        withdrawn: adv.get("withdrawn").is_some(),
        modified: get("date").map(str::to_string),
        source: String::new(),
        affected: vec![Affected {
            ecosystem: Ecosystem::Crates,
            package: package.to_string(),
            ranges: vec![Range::CargoPatched {
                patched,
                unaffected,
            }],
            versions: Vec::new(),
        }],
    }))
}

/// One legacy npm advisory of the Node.js security WG (`vuln/npm/*.json`).
pub fn npm_legacy(v: &Value) -> Result<Option<Advisory>, String> {
    let name = v
        .get("module_name")
        .and_then(Value::as_str)
        .ok_or("no module_name")?;
    let vulnerable = v
        .get("vulnerable_versions")
        .and_then(Value::as_str)
        .ok_or("no vulnerable_versions")?;
    crate::deps::version::NpmRange::parse(vulnerable)?;
    let num = match v.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => return Err("no id".into()),
    };
    let cvss_vec = v
        .get("cvss_vector")
        .and_then(Value::as_str)
        .map(str::to_string);
    let severity = cvss_vec.as_deref().and_then(from_vector).or_else(|| {
        v.get("cvss_score")
            .and_then(Value::as_f64)
            .and_then(cvss::severity)
            .map(|s| s.as_str().to_string())
    });
    Ok(Some(Advisory {
        id: format!("NSWG-ECO-{num}"),
        aliases: str_list(v.get("cves")),
        summary: v
            .get("title")
            .and_then(Value::as_str)
            .map(first_line)
            .unwrap_or_default(),
        severity,
        cvss: cvss_vec,
        informational: None,
        url: str_list(v.get("references")).into_iter().next(),
        withdrawn: false,
        modified: date_field(v, &["updated_at", "created_at"]),
        source: String::new(),
        affected: vec![Affected {
            ecosystem: Ecosystem::Npm,
            package: name.to_string(),
            ranges: vec![Range::Npm {
                vulnerable: vulnerable.to_string(),
                patched: v
                    .get("patched_versions")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }],
            versions: Vec::new(),
        }],
    }))
}

/// YAML to the JSON model, so OSV YAML (as PyPA publishes it) goes through [`osv`].
fn yaml_value(text: &str) -> Result<Value, String> {
    let docs =
        yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    let doc = docs.into_iter().next().ok_or("empty YAML file")?;
    Ok(to_json(doc))
}

fn to_json(y: yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        // Versions like `1.10` are written unquoted and YAML reads them as numbers;
        // keep their text, not a float that would turn `1.10` into `1.1`.
        Yaml::Real(s) | Yaml::String(s) => Value::String(s),
        Yaml::Integer(i) => Value::String(i.to_string()),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Array(a) => Value::Array(a.into_iter().map(to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.into_iter()
                .filter_map(|(k, v)| match k {
                    Yaml::String(k) | Yaml::Real(k) => Some((k, to_json(v))),
                    Yaml::Integer(i) => Some((i.to_string(), to_json(v))),
                    _ => None,
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}
