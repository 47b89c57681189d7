//! Per-route inspection settings: mode, anomaly threshold, detector weights,
//! exclusions and body limits, as plain data the config file deserializes into.
//!
//! Why the defaults are what they are:
//! - `mode = "block"`: a gateway that only watches does not meet the seed's "check
//!   and clean user input"; detect-only is for rolling out on an existing service.
//! - `threshold = 5`: one critical finding (a parsed SQL injection, a DOCTYPE in XML,
//!   a script tag) blocks alone; warnings (a lone `../`, a shell metacharacter next
//!   to a command name) need a second finding. Scores are the detector's severity
//!   times the weight in percent.
//! - Limits: 1 MiB bodies, 32 levels of JSON/XML nesting and 1,000 inputs cover
//!   ordinary APIs and forms with room to spare, and bound the work per request.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Detector, Source};

/// Block or only report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Requests over the threshold are refused.
    #[default]
    Block,
    /// Requests over the threshold are logged and forwarded.
    DetectOnly,
}

/// Inspection settings for one route.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InspectPolicy {
    /// Block or detect-only.
    pub mode: Mode,
    /// Anomaly score at which the verdict is reached.
    pub threshold: u32,
    /// Weight per detector in percent (default 100; 0 turns a detector off).
    pub weights: BTreeMap<Detector, u32>,
    /// Findings to ignore, per parameter.
    pub exclusions: Vec<Exclusion>,
    /// Content types the route accepts for bodies (essence only, e.g.
    /// `application/json`). Empty means any type the inspector understands.
    pub accepts: Vec<String>,
    /// Headers inspected in addition to `User-Agent`, `Referer`, `Cookie` and every
    /// `X-*` header (lower-case names).
    pub headers: Vec<String>,
    /// Size, depth and count limits.
    pub limits: Limits,
    /// The schema JSON bodies must match (inline JSON text in the configuration).
    pub json_schema: Option<super::schema::JsonSchema>,
}

impl Default for InspectPolicy {
    fn default() -> Self {
        Self {
            mode: Mode::Block,
            threshold: 5,
            weights: BTreeMap::new(),
            exclusions: Vec::new(),
            accepts: Vec::new(),
            headers: Vec::new(),
            limits: Limits::default(),
            json_schema: None,
        }
    }
}

/// Ignore some detectors (or all) for a parameter.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    /// Parameter, JSON path, cookie or header name; a trailing `*` matches a prefix
    /// (`"profile.bio*"`).
    pub parameter: String,
    /// Restrict to one kind of source (e.g. only the `q` *query* parameter).
    #[serde(default)]
    pub source: Option<Source>,
    /// Detectors to ignore; empty means all of them.
    #[serde(default)]
    pub detectors: Vec<Detector>,
}

impl Exclusion {
    fn matches(&self, source: Source, name: &str) -> bool {
        if self.source.is_some_and(|s| s != source) {
            return false;
        }
        match self.parameter.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => self.parameter == name,
        }
    }
}

/// Limits applied while extracting inputs.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest body inspected; a larger one is a body-discipline finding.
    pub max_body_bytes: usize,
    /// Most inputs taken from one request; more is a finding.
    pub max_inputs: usize,
    /// Deepest JSON nesting.
    pub max_json_depth: usize,
    /// Deepest XML nesting.
    pub max_xml_depth: usize,
    /// Whether a JSON object may repeat a key (parsers disagree on which one wins,
    /// which is a classic way to smuggle a value past a check).
    pub allow_duplicate_keys: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_inputs: 1000,
            max_json_depth: 32,
            max_xml_depth: 32,
            allow_duplicate_keys: false,
        }
    }
}

/// Problems `config check` reports for inspection settings.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// A threshold of zero would block every request.
    #[error("inspection threshold must be at least 1")]
    ZeroThreshold,
    /// Every weight is zero or the threshold cannot be reached by any finding.
    #[error(
        "inspection threshold {threshold} cannot be reached: the highest possible score is {max}"
    )]
    Unreachable {
        /// The threshold.
        threshold: u32,
        /// The highest score the weights allow.
        max: u32,
    },
    /// An exclusion with an empty parameter name.
    #[error("exclusion #{index} has an empty parameter name")]
    EmptyExclusion {
        /// Position in the list (from 0).
        index: usize,
    },
    /// An exclusion whose pattern is only `*`: use a zero weight instead.
    #[error("exclusion #{index} matches every parameter; set the detector weight to 0 instead")]
    ExcludesEverything {
        /// Position in the list (from 0).
        index: usize,
    },
    /// A content type in `accepts` that is not `type/subtype`.
    #[error("accepts entry {0:?} is not a media type like \"application/json\"")]
    BadMediaType(String),
    /// A limit of zero.
    #[error("inspection limit {0} must be greater than 0")]
    ZeroLimit(&'static str),
}

impl InspectPolicy {
    /// Checks the settings; returns every problem, not just the first.
    pub fn validate(&self) -> Result<(), Vec<SettingsError>> {
        let mut errs = Vec::new();
        if self.threshold == 0 {
            errs.push(SettingsError::ZeroThreshold);
        }
        let max = Detector::ALL
            .iter()
            .map(|d| self.weighted(*d, super::severity::CRITICAL))
            .fold(0u32, u32::saturating_add);
        if self.threshold > 0 && max < self.threshold {
            errs.push(SettingsError::Unreachable {
                threshold: self.threshold,
                max,
            });
        }
        for (index, e) in self.exclusions.iter().enumerate() {
            if e.parameter.is_empty() {
                errs.push(SettingsError::EmptyExclusion { index });
            } else if e.parameter == "*" {
                errs.push(SettingsError::ExcludesEverything { index });
            }
        }
        for a in &self.accepts {
            let ok = a
                .split_once('/')
                .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty() && !s.contains('/'));
            if !ok {
                errs.push(SettingsError::BadMediaType(a.clone()));
            }
        }
        let l = &self.limits;
        for (v, name) in [
            (l.max_body_bytes, "max_body_bytes"),
            (l.max_inputs, "max_inputs"),
            (l.max_json_depth, "max_json_depth"),
            (l.max_xml_depth, "max_xml_depth"),
        ] {
            if v == 0 {
                errs.push(SettingsError::ZeroLimit(name));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// A severity scaled by the detector's weight.
    pub fn weighted(&self, d: Detector, severity: u32) -> u32 {
        let w = self.weights.get(&d).copied().unwrap_or(100);
        severity.saturating_mul(w) / 100
    }

    /// Whether a finding by `d` on this input is excluded.
    pub fn is_excluded(&self, d: Detector, source: Source, name: &str) -> bool {
        self.exclusions.iter().any(|e| {
            (e.detectors.is_empty() || e.detectors.contains(&d)) && e.matches(source, name)
        })
    }

    /// Whether every detector is excluded for this input (so it need not be
    /// inspected at all).
    pub fn is_excluded_all(&self, source: Source, name: &str) -> bool {
        self.exclusions
            .iter()
            .any(|e| e.detectors.is_empty() && e.matches(source, name))
    }
}
