//! The offline advisory database: what `centinela advisories import` writes and what
//! `audit deps` reads. The scanner never calls the network; users bring OSV exports
//! (zip or directory of JSON/YAML), a RustSec advisory-db checkout, or the Node.js
//! security WG's legacy npm advisories, and [`import`] normalises them into one
//! [`Db`].
//!
//! The store is one JSON file (by default `centinela-data/advisories.json`), not a
//! table in the `store` crate: the audit crate must not depend on `store` (the
//! dependency graph is core <- audit), the data is read whole for every scan (a few
//! thousand records, a few MB), is replaced wholesale per source on each import, and a
//! JSON file can be inspected, diffed and cached by CI as it is.

pub mod cvss;
pub mod import;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::deps::version::{self, Ecosystem, NpmRange, Version};
use crate::finding::Severity;

/// The on-disk format version; a file with another number is refused, not guessed.
pub const FORMAT: u32 = 1;

/// The whole local database.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Db {
    pub format: u32,
    /// Every import that contributed, newest last.
    pub sources: Vec<Source>,
    pub advisories: Vec<Advisory>,
}

/// What [`Db::import`] read.
#[derive(Debug)]
pub struct Imported {
    /// The formats seen (`osv`, `rustsec`, `npm-legacy`), joined with `+`.
    pub kind: String,
    /// The path read, made absolute.
    pub path: String,
    pub advisories: usize,
    /// Files that could not be read, with why.
    pub errors: Vec<(String, String)>,
}

/// One import: what was read, when, and how much it held.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Source {
    /// `osv`, `rustsec` or `npm-legacy`.
    pub kind: String,
    /// The path given to `advisories import` (made absolute).
    pub path: String,
    /// Seconds since the Unix epoch (UTC) of the import.
    pub imported_at: u64,
    /// The same as a calendar date (`YYYY-MM-DD`), for people.
    pub imported_date: String,
    pub advisories: usize,
    /// Files that could not be read (kept so `advisories status` can show them).
    #[serde(default)]
    pub skipped: usize,
    /// The newest record date in the data (`YYYY-MM-DD`): how current the data is,
    /// whatever day it was imported.
    #[serde(default)]
    pub newest_record: Option<String>,
}

/// One advisory, normalised from any of the input formats.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: String,
    /// `critical`, `high`, `medium` or `low`, when the source gives one (directly,
    /// or as a CVSS vector or score).
    #[serde(default)]
    pub severity: Option<String>,
    /// The CVSS vector, when given.
    #[serde(default)]
    pub cvss: Option<String>,
    /// RustSec's `informational` kind (`unmaintained`, `unsound`, `notice`): not a
    /// vulnerability as such, reported under its own rule.
    #[serde(default)]
    pub informational: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub withdrawn: bool,
    /// When the record was last changed (`YYYY-MM-DD`: OSV `modified`, RustSec
    /// `date`, npm `updated_at`), if it says.
    #[serde(default)]
    pub modified: Option<String>,
    /// The `kind` of the [`Source`] this came from.
    pub source: String,
    pub affected: Vec<Affected>,
}

/// The versions of one package an advisory covers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Affected {
    pub ecosystem: Ecosystem,
    pub package: String,
    #[serde(default)]
    pub ranges: Vec<Range>,
    /// Versions listed one by one (OSV `versions`).
    #[serde(default)]
    pub versions: Vec<String>,
}

/// A range in the form its source wrote it; each is evaluated by its own rules.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Range {
    /// OSV `SEMVER`/`ECOSYSTEM` events.
    Events { events: Vec<Event> },
    /// RustSec: affected unless a `patched` or `unaffected` requirement matches.
    CargoPatched {
        patched: Vec<String>,
        unaffected: Vec<String>,
    },
    /// npm legacy: an npm range of vulnerable versions, and one of patched ones.
    Npm {
        vulnerable: String,
        patched: Option<String>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// A package version that an advisory covers, with what to upgrade to.
#[derive(Clone, Debug)]
pub struct Hit<'a> {
    pub advisory: &'a Advisory,
    /// The smallest fixed version above the installed one, if any is known.
    pub fixed: Option<String>,
}

// === impl Db ===

/// Why the database file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no advisory database at {0}; import one with `centinela advisories import PATH`")]
    Missing(String),
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: advisory database format {found}, this build reads {FORMAT}; import again")]
    Format { path: String, found: u32 },
}

impl Db {
    pub fn load(path: &Path) -> Result<Self, DbError> {
        let shown = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DbError::Missing(shown))
            }
            Err(e) => {
                return Err(DbError::Read {
                    path: shown,
                    message: e.to_string(),
                })
            }
        };
        let db: Self = serde_json::from_slice(&bytes).map_err(|e| DbError::Read {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        if db.format != FORMAT {
            return Err(DbError::Format {
                path: shown,
                found: db.format,
            });
        }
        Ok(db)
    }

    /// Writes atomically (temporary file, then rename), so a scan never reads half
    /// a database written by a concurrent import.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, path)
    }

    /// Replaces what an earlier import of the same kind and path contributed, and
    /// drops duplicates of an id (RustSec native and its OSV form hold the same ids):
    /// the newest import wins.
    pub fn merge(&mut self, source: Source, advisories: Vec<Advisory>) {
        self.format = FORMAT;
        let tag = source_tag(&source);
        self.advisories.retain(|a| a.source != tag);
        let incoming: std::collections::HashSet<(String, String)> = advisories
            .iter()
            .flat_map(|a| {
                a.affected
                    .iter()
                    .map(move |af| (a.id.clone(), af.package.clone()))
            })
            .collect();
        self.advisories.retain(|a| {
            !a.affected
                .iter()
                .any(|af| incoming.contains(&(a.id.clone(), af.package.clone())))
        });
        self.advisories.extend(advisories.into_iter().map(|mut a| {
            a.source = tag.clone();
            a
        }));
        self.sources
            .retain(|s| !(s.kind == source.kind && s.path == source.path));
        self.sources.push(source);
    }

    /// Reads `path` (a zip export, a directory tree or one file) and merges what it
    /// holds as one source imported at `now`. Files that could not be read are
    /// returned, not fatal: the rest is imported.
    pub fn import(&mut self, path: &Path, now: u64) -> Result<Imported, String> {
        let abs = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let read = import::read(&abs)?;
        let newest_record = read
            .advisories
            .iter()
            .filter_map(|a| a.modified.clone())
            .max();
        let imported = Imported {
            kind: read.kind.clone(),
            path: abs.display().to_string(),
            advisories: read.advisories.len(),
            errors: read.errors,
        };
        self.merge(
            Source {
                kind: read.kind,
                path: imported.path.clone(),
                imported_at: now,
                imported_date: date_of(now),
                advisories: imported.advisories,
                skipped: imported.errors.len(),
                newest_record,
            },
            read.advisories,
        );
        Ok(imported)
    }

    /// Which ecosystems have any advisory (a lockfile of another one was not checked).
    pub fn ecosystems(&self) -> Vec<Ecosystem> {
        let mut out: Vec<Ecosystem> = self
            .advisories
            .iter()
            .flat_map(|a| a.affected.iter().map(|af| af.ecosystem))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// How current the data is: the source whose data is oldest, as (Unix seconds,
    /// what that date is). A source's date is its newest record's, so data exported
    /// long ago and imported today still counts as old; a source whose records carry
    /// no dates counts from its import.
    pub fn data_date(&self) -> Option<(u64, String)> {
        self.sources
            .iter()
            .map(
                |s| match s.newest_record.as_deref().and_then(unix_of_date) {
                    Some(t) => (
                        t,
                        format!("newest record of {} dated {}", s.path, date_of(t)),
                    ),
                    None => (
                        s.imported_at,
                        format!("{} imported {}", s.path, s.imported_date),
                    ),
                },
            )
            .min_by_key(|(t, _)| *t)
    }

    /// An index by (ecosystem, normalised name) for the scan.
    pub fn index(&self) -> Index<'_> {
        let mut map: std::collections::HashMap<(Ecosystem, String), Vec<(&Advisory, &Affected)>> =
            std::collections::HashMap::new();
        for a in self.advisories.iter().filter(|a| !a.withdrawn) {
            for af in &a.affected {
                map.entry((af.ecosystem, af.ecosystem.normalize_name(&af.package)))
                    .or_default()
                    .push((a, af));
            }
        }
        Index { map }
    }
}

fn source_tag(s: &Source) -> String {
    format!("{}:{}", s.kind, s.path)
}

/// Advisories by package, built once per scan.
#[derive(Debug)]
pub struct Index<'a> {
    map: std::collections::HashMap<(Ecosystem, String), Vec<(&'a Advisory, &'a Affected)>>,
}

impl<'a> Index<'a> {
    /// The advisories that cover `name` at `version`. Errors name a range that could
    /// not be read (the advisory is skipped, the rest still apply).
    pub fn lookup(&self, eco: Ecosystem, name: &str, version: &str) -> (Vec<Hit<'a>>, Vec<String>) {
        let mut hits = Vec::new();
        let mut errors = Vec::new();
        let Some(list) = self.map.get(&(eco, eco.normalize_name(name))) else {
            return (hits, errors);
        };
        let Some(v) = Version::parse(eco, version) else {
            errors.push(format!("{name} {version}: not a {eco} version"));
            return (hits, errors);
        };
        let mut seen = std::collections::HashSet::new();
        for (adv, af) in list {
            match affected(eco, af, &v) {
                Ok(Some(fixed)) => {
                    if seen.insert(adv.id.as_str()) {
                        hits.push(Hit {
                            advisory: adv,
                            fixed,
                        });
                    }
                }
                Ok(None) => {}
                Err(e) => errors.push(format!("{}: {e}", adv.id)),
            }
        }
        (hits, errors)
    }
}

/// `Some(fixed)` when `v` is affected (with the nearest fixed version, if known).
fn affected(eco: Ecosystem, af: &Affected, v: &Version) -> Result<Option<Option<String>>, String> {
    let mut hit = af
        .versions
        .iter()
        .any(|s| Version::parse(eco, s).as_ref() == Some(v));
    let mut fixes: Vec<Version> = Vec::new();
    for range in &af.ranges {
        match range {
            Range::Events { events } => {
                let (h, f) = eval_events(eco, events, v);
                hit |= h;
                fixes.extend(f);
            }
            Range::CargoPatched {
                patched,
                unaffected,
            } => {
                let Version::Semver(sv) = v else { continue };
                let mut safe = false;
                for req in patched.iter().chain(unaffected) {
                    safe |= version::cargo_req_matches(req, sv)?;
                }
                hit |= !safe;
                fixes.extend(
                    patched
                        .iter()
                        .filter_map(|r| version::cargo_req_floor(r))
                        .map(Version::Semver),
                );
            }
            Range::Npm {
                vulnerable,
                patched,
            } => {
                let Version::Semver(sv) = v else { continue };
                hit |= NpmRange::parse(vulnerable)?.matches(sv);
                if let Some(p) = patched {
                    if let Ok(r) = NpmRange::parse(p) {
                        fixes.extend(r.lower_bounds().into_iter().map(Version::Semver));
                    }
                }
            }
        }
    }
    if !hit {
        return Ok(None);
    }
    Ok(Some(
        version::nearest_above(v, &fixes).map(ToString::to_string),
    ))
}

/// OSV range evaluation: walk the events in version order; `introduced` at or below
/// `v` turns "affected" on, `fixed` at or below (or `last_affected` below) turns it off.
fn eval_events(eco: Ecosystem, events: &[Event], v: &Version) -> (bool, Vec<Version>) {
    let mut parsed: Vec<(u8, Option<Version>)> = Vec::new();
    let mut fixes = Vec::new();
    for e in events {
        match e {
            // "0" is OSV's "from the first version"; it parses as a version anyway
            // except in SemVer, so treat it as the bottom explicitly.
            Event::Introduced(s) if s == "0" => parsed.push((0, None)),
            Event::Introduced(s) => {
                if let Some(x) = Version::parse(eco, s) {
                    parsed.push((0, Some(x)));
                }
            }
            Event::Fixed(s) => {
                if let Some(x) = Version::parse(eco, s) {
                    fixes.push(x.clone());
                    parsed.push((1, Some(x)));
                }
            }
            Event::LastAffected(s) => {
                if let Some(x) = Version::parse(eco, s) {
                    parsed.push((2, Some(x)));
                }
            }
            Event::Limit(_) => {}
        }
    }
    parsed.sort_by(|a, b| match (&a.1, &b.1) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.compare(y).unwrap_or(std::cmp::Ordering::Equal),
    });
    let mut on = false;
    for (kind, at) in &parsed {
        let cmp = at.as_ref().and_then(|x| x.compare(v));
        match kind {
            0 if at.is_none() || cmp != Some(std::cmp::Ordering::Greater) => on = true,
            1 if cmp.is_some_and(|o| o != std::cmp::Ordering::Greater) => on = false,
            2 if cmp == Some(std::cmp::Ordering::Less) => on = false,
            _ => {}
        }
    }
    (on, fixes)
}

/// The severity the finding gets: the advisory's own, else from its CVSS vector, else
/// `None` (the caller decides; unknown is not the same as low).
pub fn severity_of(a: &Advisory) -> Option<Severity> {
    a.severity.as_deref().and_then(|s| s.parse().ok())
}

/// Today's date from Unix seconds (UTC), as `YYYY-MM-DD`.
pub fn date_of(unix: u64) -> String {
    let days = i64::try_from(unix / 86_400).unwrap_or(i64::MAX);
    let (y, m, d) = centinela_core::timefmt::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Unix seconds of midnight UTC of a `YYYY-MM-DD` date (any longer timestamp is
/// cut to its date), the inverse of [`date_of`].
pub fn unix_of_date(text: &str) -> Option<u64> {
    let d = text.get(..10)?;
    let mut parts = d.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let days = centinela_core::timefmt::days_from_civil(y, m, day);
    u64::try_from(days).ok().map(|d| d * 86_400)
}

#[cfg(test)]
mod tests;
