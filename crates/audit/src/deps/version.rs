//! Versions and version ranges, each ecosystem by its own rules: SemVer for crates.io
//! (with Cargo's requirement syntax, as RustSec writes `patched`), SemVer with npm's
//! range syntax for npm (`^`, `~`, x-ranges, hyphen ranges, `||`), and PEP 440 for
//! PyPI (epochs, pre, post and dev releases, through `pep440_rs`).
//!
//! Comparing a PyPI version by SemVer rules (or the reverse) gives wrong answers in
//! both directions, so a [`Version`] always knows its ecosystem and two versions of
//! different ecosystems never compare.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A package ecosystem, named as OSV names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Ecosystem {
    #[serde(rename = "crates.io")]
    Crates,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "PyPI")]
    PyPi,
}

impl Ecosystem {
    pub const ALL: [Self; 3] = [Self::Crates, Self::Npm, Self::PyPi];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Crates => "crates.io",
            Self::Npm => "npm",
            Self::PyPi => "PyPI",
        }
    }

    /// The OSV ecosystem string, if it is one of ours (`PyPI`, `npm`, `crates.io`).
    pub fn from_osv(s: &str) -> Option<Self> {
        // OSV allows a `:suffix` (e.g. `Debian:12`); ours have none, but tolerate it.
        let base = s.split(':').next().unwrap_or(s);
        match base {
            "crates.io" => Some(Self::Crates),
            "npm" => Some(Self::Npm),
            "PyPI" | "pypi" => Some(Self::PyPi),
            _ => None,
        }
    }

    /// Package names as the ecosystem compares them: PyPI names are case-insensitive
    /// and treat `-`, `_` and `.` alike (PEP 503); npm and crates.io are exact.
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Self::PyPi => {
                let mut out = String::with_capacity(name.len());
                let mut last_sep = false;
                for c in name.trim().chars() {
                    if matches!(c, '-' | '_' | '.') {
                        if !last_sep {
                            out.push('-');
                        }
                        last_sep = true;
                    } else {
                        out.push(c.to_ascii_lowercase());
                        last_sep = false;
                    }
                }
                out
            }
            Self::Crates | Self::Npm => name.trim().to_string(),
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed version of one ecosystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Version {
    Semver(semver::Version),
    Pep440(pep440_rs::Version),
}

impl Version {
    /// Parses `s` by the rules of `eco`; `None` when it is not a version there.
    pub fn parse(eco: Ecosystem, s: &str) -> Option<Self> {
        match eco {
            Ecosystem::Crates | Ecosystem::Npm => parse_semver_loose(s).map(Self::Semver),
            Ecosystem::PyPi => pep440_rs::Version::from_str(s.trim())
                .ok()
                .map(Self::Pep440),
        }
    }

    /// Ordering within one ecosystem; `None` across ecosystems.
    pub fn compare(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Self::Semver(a), Self::Semver(b)) => Some(a.cmp(b)),
            (Self::Pep440(a), Self::Pep440(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    fn lt(&self, other: &Self) -> bool {
        self.compare(other) == Some(Ordering::Less)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Semver(v) => v.fmt(f),
            Self::Pep440(v) => v.fmt(f),
        }
    }
}

/// SemVer as npm reads it: an optional `v` or `=`, and missing minor/patch as zero
/// (`1.2` is `1.2.0`), which lockfiles and old advisories both contain.
fn parse_semver_loose(s: &str) -> Option<semver::Version> {
    let s = s
        .trim()
        .trim_start_matches('=')
        .trim_start_matches('v')
        .trim();
    if let Ok(v) = semver::Version::parse(s) {
        return Some(v);
    }
    // Split off pre-release/build, pad the numeric core to three parts.
    let cut = s.find(['-', '+']).unwrap_or(s.len());
    let (core, rest) = s.split_at(cut);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.parse::<u64>().is_err()) {
        return None;
    }
    let mut padded = parts.join(".");
    for _ in parts.len()..3 {
        padded.push_str(".0");
    }
    semver::Version::parse(&format!("{padded}{rest}")).ok()
}

// === npm ranges ===

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

#[derive(Clone, Debug)]
struct Comparator {
    op: Op,
    version: semver::Version,
}

impl Comparator {
    fn matches(&self, v: &semver::Version) -> bool {
        match self.op {
            Op::Lt => v < &self.version,
            Op::Le => v <= &self.version,
            Op::Gt => v > &self.version,
            Op::Ge => v >= &self.version,
            Op::Eq => v == &self.version,
        }
    }
}

/// An npm range (`>=1.2.0 <1.4.0 || ^2.0.1`): a union of intersections.
#[derive(Clone, Debug)]
pub struct NpmRange {
    sets: Vec<Vec<Comparator>>,
}

/// A partial version `1`, `1.2`, `1.2.x`, `*`: the parts given, `None` for wildcards.
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: String,
}

fn parse_partial(s: &str) -> Result<Partial, String> {
    let s = s.trim().trim_start_matches('v').trim_start_matches('=');
    let s = s.split('+').next().unwrap_or(s);
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, p.to_string()),
        None => (s, String::new()),
    };
    let mut nums = [None, None, None];
    for (i, part) in core.split('.').enumerate() {
        if i >= 3 {
            return Err(format!("bad version `{s}`"));
        }
        nums[i] = match part {
            "x" | "X" | "*" | "" => None,
            n => Some(n.parse::<u64>().map_err(|_| format!("bad version `{s}`"))?),
        };
        if nums[i].is_none() {
            break;
        }
    }
    Ok(Partial {
        major: nums[0],
        minor: nums[1],
        patch: nums[2],
        pre,
    })
}

fn ver(major: u64, minor: u64, patch: u64, pre: &str) -> semver::Version {
    let mut v = semver::Version::new(major, minor, patch);
    if !pre.is_empty() {
        v.pre = semver::Prerelease::new(pre).unwrap_or(semver::Prerelease::EMPTY);
    }
    v
}

/// The smallest version above every release of `major.minor.patch` lines: `x.y.z-0`.
fn floor(major: u64, minor: u64, patch: u64) -> semver::Version {
    ver(major, minor, patch, "0")
}

impl NpmRange {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut sets = Vec::new();
        for alt in s.split("||") {
            sets.push(parse_set(alt)?);
        }
        Ok(Self { sets })
    }

    pub fn matches(&self, v: &semver::Version) -> bool {
        self.sets.iter().any(|set| set.iter().all(|c| c.matches(v)))
    }

    /// The lowest bounds of the range (`>=` or `=` comparators): for "patched in"
    /// ranges, those are the releases that fixed something.
    pub fn lower_bounds(&self) -> Vec<semver::Version> {
        self.sets
            .iter()
            .filter_map(|set| {
                set.iter()
                    .find(|c| matches!(c.op, Op::Ge | Op::Eq | Op::Gt))
                    .map(|c| c.version.clone())
            })
            .collect()
    }
}

fn parse_set(s: &str) -> Result<Vec<Comparator>, String> {
    let s = s.trim();
    if let Some((lo, hi)) = s.split_once(" - ") {
        let mut out = desugar(">=", lo.trim())?;
        out.extend(desugar_hyphen_upper(hi.trim())?);
        return Ok(out);
    }
    // Join operators written apart from their version (`>= 1.2.3`).
    let mut tokens: Vec<String> = Vec::new();
    let mut pending = String::new();
    for tok in s.split_whitespace() {
        if tok
            .chars()
            .all(|c| matches!(c, '<' | '>' | '=' | '~' | '^'))
        {
            pending.push_str(tok);
            continue;
        }
        tokens.push(format!("{pending}{tok}"));
        pending.clear();
    }
    let mut out = Vec::new();
    for tok in tokens {
        let tok = tok.trim_end_matches(',');
        let op_len = tok
            .find(|c: char| !matches!(c, '<' | '>' | '=' | '~' | '^'))
            .unwrap_or(tok.len());
        let (op, rest) = tok.split_at(op_len);
        out.extend(desugar(op, rest)?);
    }
    Ok(out)
}

fn desugar_hyphen_upper(s: &str) -> Result<Vec<Comparator>, String> {
    let p = parse_partial(s)?;
    Ok(match (p.major, p.minor, p.patch) {
        (None, _, _) => vec![],
        (Some(ma), None, _) => vec![Comparator {
            op: Op::Lt,
            version: floor(ma + 1, 0, 0),
        }],
        (Some(ma), Some(mi), None) => vec![Comparator {
            op: Op::Lt,
            version: floor(ma, mi + 1, 0),
        }],
        (Some(ma), Some(mi), Some(pa)) => vec![Comparator {
            op: Op::Le,
            version: ver(ma, mi, pa, &p.pre),
        }],
    })
}

fn desugar(op: &str, rest: &str) -> Result<Vec<Comparator>, String> {
    let p = parse_partial(rest)?;
    let c = |op, version| Comparator { op, version };
    let (Some(ma), mi, pa) = (p.major, p.minor, p.patch) else {
        // `*`, `x`, or an empty range: any version (but `<*` matches nothing).
        return Ok(match op {
            "<" | ">" => vec![
                c(Op::Lt, semver::Version::new(0, 0, 0)),
                c(Op::Gt, semver::Version::new(0, 0, 0)),
            ],
            _ => vec![],
        });
    };
    let full = |pre: &str| ver(ma, mi.unwrap_or(0), pa.unwrap_or(0), pre);
    Ok(match op {
        "" | "=" | "==" => match (mi, pa) {
            (Some(_), Some(_)) => vec![c(Op::Eq, full(&p.pre))],
            (Some(m), None) => vec![c(Op::Ge, full("")), c(Op::Lt, floor(ma, m + 1, 0))],
            (None, _) => vec![c(Op::Ge, full("")), c(Op::Lt, floor(ma + 1, 0, 0))],
        },
        "~" | "~>" => match mi {
            Some(m) => vec![c(Op::Ge, full(&p.pre)), c(Op::Lt, floor(ma, m + 1, 0))],
            None => vec![c(Op::Ge, full("")), c(Op::Lt, floor(ma + 1, 0, 0))],
        },
        "^" => {
            let upper = match (ma, mi, pa) {
                (0, Some(0), Some(p)) => floor(0, 0, p + 1),
                (0, Some(0), None) => floor(0, 1, 0),
                (0, Some(m), _) => floor(0, m + 1, 0),
                (0, None, _) => floor(1, 0, 0),
                (m, _, _) => floor(m + 1, 0, 0),
            };
            vec![c(Op::Ge, full(&p.pre)), c(Op::Lt, upper)]
        }
        ">=" => vec![c(Op::Ge, full(&p.pre))],
        "<=" => match (mi, pa) {
            (Some(_), Some(_)) => vec![c(Op::Le, full(&p.pre))],
            (Some(m), None) => vec![c(Op::Lt, floor(ma, m + 1, 0))],
            (None, _) => vec![c(Op::Lt, floor(ma + 1, 0, 0))],
        },
        ">" => match (mi, pa) {
            (Some(_), Some(_)) => vec![c(Op::Gt, full(&p.pre))],
            (Some(m), None) => vec![c(Op::Ge, ver(ma, m + 1, 0, ""))],
            (None, _) => vec![c(Op::Ge, ver(ma + 1, 0, 0, ""))],
        },
        "<" => vec![c(
            Op::Lt,
            if mi.is_some() && pa.is_some() {
                full(&p.pre)
            } else {
                full("0")
            },
        )],
        other => return Err(format!("unknown range operator `{other}`")),
    })
}

// === Cargo requirements ===

/// Whether `v` matches a Cargo requirement (`>= 1.2.3, < 1.3`, `^0.4`). Comparators
/// are applied by plain SemVer ordering: an advisory "unaffected below 1.0.0" must
/// cover `1.0.0-rc.1`, which `semver::VersionReq`'s pre-release rule would not say.
pub fn cargo_req_matches(req: &str, v: &semver::Version) -> Result<bool, String> {
    let parsed = semver::VersionReq::parse(req).map_err(|e| format!("`{req}`: {e}"))?;
    for c in &parsed.comparators {
        let op = match c.op {
            semver::Op::Exact => "=",
            semver::Op::Greater => ">",
            semver::Op::GreaterEq => ">=",
            semver::Op::Less => "<",
            semver::Op::LessEq => "<=",
            semver::Op::Tilde => "~",
            // Cargo's bare requirement is a caret requirement.
            semver::Op::Caret => "^",
            _ => "",
        };
        let mut partial = c.major.to_string();
        if let Some(m) = c.minor {
            partial.push_str(&format!(".{m}"));
            if let Some(p) = c.patch {
                partial.push_str(&format!(".{p}"));
                if !c.pre.is_empty() {
                    partial.push_str(&format!("-{}", c.pre));
                }
            }
        }
        if !desugar(op, &partial)?.iter().all(|cmp| cmp.matches(v)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The lowest version each comparator set of a Cargo requirement lets through (the
/// release that fixed the problem, for a `patched` entry).
pub fn cargo_req_floor(req: &str) -> Option<semver::Version> {
    let parsed = semver::VersionReq::parse(req).ok()?;
    parsed
        .comparators
        .iter()
        .filter(|c| {
            matches!(
                c.op,
                semver::Op::GreaterEq | semver::Op::Exact | semver::Op::Caret | semver::Op::Tilde
            )
        })
        .map(|c| {
            let mut v = semver::Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0));
            v.pre = c.pre.clone();
            v
        })
        .next()
}

/// Sorts versions of one ecosystem and gives the smallest above `v`.
pub fn nearest_above<'a>(
    v: &Version,
    candidates: impl IntoIterator<Item = &'a Version>,
) -> Option<&'a Version> {
    candidates
        .into_iter()
        .filter(|c| v.lt(c))
        .min_by(|a, b| a.compare(b).unwrap_or(Ordering::Equal))
}

#[cfg(test)]
mod tests;
