//! The vocabulary every scanner reports in: rules (stable id, default severity, title,
//! explanation, remediation, OWASP category), severities, locations and findings.
//!
//! A rule is static data, declared once next to the check that raises it, so the id,
//! text and category of a finding never drift between the text, JSON and SARIF output
//! (SARIF lists each rule once in `tool.driver.rules` and results point at it).

use std::fmt;

use serde::Serialize;

// === Severity ===

/// How bad a finding is. Ordered, so `--fail-on` compares with `>=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Self; 5] = [
        Self::Critical,
        Self::High,
        Self::Medium,
        Self::Low,
        Self::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// SARIF `level`: GitHub code scanning shows `error`, `warning` and `note`.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Self::Critical | Self::High => "error",
            Self::Medium => "warning",
            Self::Low | Self::Info => "note",
        }
    }

    /// The `security-severity` property GitHub reads (a CVSS-like score) to place an
    /// alert in its own critical/high/medium/low bands.
    pub fn security_score(self) -> &'static str {
        match self {
            Self::Critical => "9.5",
            Self::High => "8.0",
            Self::Medium => "5.5",
            Self::Low => "3.0",
            Self::Info => "0.0",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Self::Info),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            _ => Err(crate::Error::Usage(format!(
                "unknown severity `{s}` (expected info, low, medium, high or critical)"
            ))),
        }
    }
}

// === OWASP ===

/// The OWASP Top 10 category of a rule. The user's security plan follows the 2017
/// list (it names XXE and deserialization as their own measures), so that list is the
/// primary key; the 2021 category is given alongside for tools that expect it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Owasp {
    A1Injection,
    A2BrokenAuthentication,
    A3SensitiveDataExposure,
    A4Xxe,
    A5BrokenAccessControl,
    A6SecurityMisconfiguration,
    A7Xss,
    A8InsecureDeserialization,
    A9VulnerableComponents,
    A10InsufficientLogging,
}

impl Owasp {
    pub const ALL: [Self; 10] = [
        Self::A1Injection,
        Self::A2BrokenAuthentication,
        Self::A3SensitiveDataExposure,
        Self::A4Xxe,
        Self::A5BrokenAccessControl,
        Self::A6SecurityMisconfiguration,
        Self::A7Xss,
        Self::A8InsecureDeserialization,
        Self::A9VulnerableComponents,
        Self::A10InsufficientLogging,
    ];

    /// Short code, e.g. `A6:2017`.
    pub fn code(self) -> &'static str {
        match self {
            Self::A1Injection => "A1:2017",
            Self::A2BrokenAuthentication => "A2:2017",
            Self::A3SensitiveDataExposure => "A3:2017",
            Self::A4Xxe => "A4:2017",
            Self::A5BrokenAccessControl => "A5:2017",
            Self::A6SecurityMisconfiguration => "A6:2017",
            Self::A7Xss => "A7:2017",
            Self::A8InsecureDeserialization => "A8:2017",
            Self::A9VulnerableComponents => "A9:2017",
            Self::A10InsufficientLogging => "A10:2017",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::A1Injection => "Injection",
            Self::A2BrokenAuthentication => "Broken Authentication",
            Self::A3SensitiveDataExposure => "Sensitive Data Exposure",
            Self::A4Xxe => "XML External Entities (XXE)",
            Self::A5BrokenAccessControl => "Broken Access Control",
            Self::A6SecurityMisconfiguration => "Security Misconfiguration",
            Self::A7Xss => "Cross-Site Scripting (XSS)",
            Self::A8InsecureDeserialization => "Insecure Deserialization",
            Self::A9VulnerableComponents => "Using Components with Known Vulnerabilities",
            Self::A10InsufficientLogging => "Insufficient Logging & Monitoring",
        }
    }

    /// The nearest category of the 2021 list.
    pub fn code_2021(self) -> &'static str {
        match self {
            Self::A1Injection | Self::A7Xss => "A03:2021",
            Self::A2BrokenAuthentication => "A07:2021",
            Self::A3SensitiveDataExposure => "A02:2021",
            Self::A4Xxe | Self::A6SecurityMisconfiguration => "A05:2021",
            Self::A5BrokenAccessControl => "A01:2021",
            Self::A8InsecureDeserialization => "A08:2021",
            Self::A9VulnerableComponents => "A06:2021",
            Self::A10InsufficientLogging => "A09:2021",
        }
    }
}

impl fmt::Display for Owasp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

impl Serialize for Owasp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

// === Rule ===

/// One check, as documentation: what it looks for, why it matters, how to fix it.
/// Ids are stable (`K8S-001`, `MYSQL-003`, ...): suppressions, SARIF baselines and CI
/// allow-lists refer to them, so an id is never reused for another meaning.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    pub explanation: &'static str,
    pub remediation: &'static str,
    pub owasp: Owasp,
}

// === Location ===

/// Where a finding is: a place in a file (1-based line and column), or a live target
/// (a database server, a URL), with the object inside it (a Kubernetes object and
/// container, a MySQL account, a header or cookie).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// A file path as given on the command line (or `-` for stdin), or a target URL.
    pub artifact: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The object within the artifact, e.g. `Deployment default/web, container app`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

impl Location {
    pub fn file(path: impl Into<String>, line: u32, column: u32) -> Self {
        Self {
            artifact: path.into(),
            line: Some(line),
            column: Some(column),
            object: None,
        }
    }

    pub fn target(uri: impl Into<String>) -> Self {
        Self {
            artifact: uri.into(),
            line: None,
            column: None,
            object: None,
        }
    }

    #[must_use]
    pub fn with_object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }

    /// True when the artifact is a file (it has a line), so SARIF gives a region.
    pub fn is_file(&self) -> bool {
        self.line.is_some()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.artifact)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(object) = &self.object {
            write!(f, " ({object})")?;
        }
        Ok(())
    }
}

// === Finding ===

/// One instance of a rule at one location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    /// Usually the rule's; a check may raise it for a worse variant (say `unconfined`
    /// rather than a missing profile) without needing a second id.
    pub severity: Severity,
    pub location: Location,
    /// What was found here, specifically (the title says what the rule is about).
    pub message: String,
}

impl Finding {
    pub fn new(rule: &'static Rule, location: Location, message: impl Into<String>) -> Self {
        Self {
            rule,
            severity: rule.severity,
            location,
            message: message.into(),
        }
    }

    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}
