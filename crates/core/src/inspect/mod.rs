//! Request inspection: find injection, XSS, XXE and unsafe-deserialization payloads in
//! everything a request carries, and turn what was found into a verdict.
//!
//! The gateway calls [`inspect`] once per request with a [`Request`] (borrowed views of
//! method, path, query, headers and body) and the route's [`InspectPolicy`]. The flow:
//!
//! 1. [`extract`] splits the request into [`Input`]s — path segments, query and form
//!    parameters (names too), JSON keys and string values at any depth, XML text and
//!    attributes, multipart fields and file names, cookies, selected headers — while
//!    enforcing body discipline (the body must parse as its declared type, within
//!    the size/depth/count limits of [`Limits`]).
//! 2. Each value is inspected raw and in every distinct decoded form
//!    ([`decode::variants`]: percent/plus, HTML entities, `\u`/`\x` escapes, overlong
//!    UTF-8, NFKC, nested up to a bound, base64-wrapped text).
//! 3. Detectors ([`sqli`], [`xss`], [`cmdi`], [`traversal`], [`ssrf`], [`xxe`],
//!    [`deser`], [`nosql`], [`ldap`], [`ssi`], [`ssti`], [`crlf`], [`mail`],
//!    [`scanner`]) report [`Finding`]s with a severity; per-detector weights make an
//!    anomaly score, compared with the route's threshold. Exclusions drop findings
//!    for a parameter (how an operator fixes a false positive without turning a
//!    detector off for the whole route).
//!
//! Everything is linear in the request size: decoders and detectors are single
//! passes, nesting and counts are capped, and decoding rounds are bounded.

pub mod body;
pub mod cmdi;
pub mod corpus;
pub mod crlf;
pub mod decode;
pub mod deser;
pub mod ldap;
pub mod mail;
pub mod nosql;
pub mod prefilter;
pub mod scanner;
pub mod schema;
pub mod settings;
pub mod sqli;
pub mod ssi;
pub mod ssrf;
pub mod ssti;
pub mod traversal;
pub mod xss;
pub mod xxe;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use body::{extract, BodyError};
pub use settings::{Exclusion, InspectPolicy, Limits, Mode, SettingsError};

/// The detectors, as named in configuration, findings and audit events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detector {
    /// SQL injection ([`sqli`]).
    Sqli,
    /// Cross-site scripting ([`xss`]).
    Xss,
    /// OS command injection ([`cmdi`]).
    Cmdi,
    /// Path traversal and local/remote file inclusion ([`traversal`]).
    Traversal,
    /// Server-side request forgery to internal addresses ([`ssrf`]).
    Ssrf,
    /// XML external entities and DTDs ([`xxe`]).
    Xxe,
    /// Serialized-object markers ([`deser`]).
    Deser,
    /// NoSQL operator and server-side JavaScript injection ([`nosql`]).
    Nosql,
    /// LDAP filter injection ([`ldap`]).
    Ldap,
    /// Server-side and edge-side includes ([`ssi`]).
    Ssi,
    /// Server-side template injection and Log4j lookups ([`ssti`]).
    Ssti,
    /// CRLF / HTTP header injection and response splitting ([`crlf`]).
    Crlf,
    /// SMTP/IMAP command and mail header injection ([`mail`]).
    Mail,
    /// Attack tools and out-of-band callback domains ([`scanner`]).
    Scanner,
    /// Body discipline: the body does not parse as declared, or breaks a limit.
    Body,
}

impl Detector {
    /// Every detector, in a fixed order.
    pub const ALL: [Self; 15] = [
        Self::Sqli,
        Self::Xss,
        Self::Cmdi,
        Self::Traversal,
        Self::Ssrf,
        Self::Xxe,
        Self::Deser,
        Self::Nosql,
        Self::Ldap,
        Self::Ssi,
        Self::Ssti,
        Self::Crlf,
        Self::Mail,
        Self::Scanner,
        Self::Body,
    ];

    /// The configuration name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqli => "sqli",
            Self::Xss => "xss",
            Self::Cmdi => "cmdi",
            Self::Traversal => "traversal",
            Self::Ssrf => "ssrf",
            Self::Xxe => "xxe",
            Self::Deser => "deser",
            Self::Nosql => "nosql",
            Self::Ldap => "ldap",
            Self::Ssi => "ssi",
            Self::Ssti => "ssti",
            Self::Crlf => "crlf",
            Self::Mail => "mail",
            Self::Scanner => "scanner",
            Self::Body => "body",
        }
    }
}

impl fmt::Display for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the request a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A URL path segment (name is its index).
    Path,
    /// A query parameter value.
    Query,
    /// A query parameter name.
    QueryName,
    /// A urlencoded form field value.
    Form,
    /// A urlencoded form field name.
    FormName,
    /// A JSON string value (name is the path, e.g. `items[2].note`).
    Json,
    /// A JSON object key (name is the path of its object).
    JsonKey,
    /// XML element text or CDATA (name is the element path).
    XmlText,
    /// An XML attribute value (name is `element/@attr`).
    XmlAttr,
    /// A multipart field's content.
    Multipart,
    /// A multipart file name.
    MultipartFilename,
    /// A cookie value (name is the cookie name).
    Cookie,
    /// A header value (name is the lower-case header name).
    Header,
    /// A whole body that is not structured (text/plain, unknown types).
    Body,
}

impl Source {
    /// Whether `+` means a space in values from here.
    fn plus_is_space(self) -> bool {
        matches!(
            self,
            Self::Query | Self::QueryName | Self::Form | Self::FormName
        )
    }
}

/// One value to inspect and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// Where the value came from.
    pub source: Source,
    /// Parameter, key path, cookie or header name (empty when there is none).
    pub name: String,
    /// The value as received (percent-encoding and escapes still in place, except
    /// where the container format itself defines them, such as JSON strings).
    pub value: String,
}

/// Borrowed view of a request, as the gateway has it after reading the body.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Method (`GET`, `POST`…).
    pub method: &'a str,
    /// The path as received, still percent-encoded.
    pub path: &'a str,
    /// The query string without `?`, if any.
    pub query: Option<&'a str>,
    /// Header names and values. Names are matched case-insensitively.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body (possibly empty).
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Something a detector found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which detector.
    pub detector: Detector,
    /// Where the value came from.
    pub source: Source,
    /// The parameter/key/header name.
    pub name: String,
    /// Weighted score this finding contributes.
    pub score: u32,
    /// Short stable reason (`"union-select"`, `"event-handler"`…).
    pub reason: &'static str,
    /// A short, sanitised excerpt of the value (never the whole value; redacted for
    /// parameters that look like secrets).
    pub excerpt: String,
}

/// The decision for the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing reached the threshold.
    Pass,
    /// The score reached the threshold and the route blocks.
    Block,
    /// The score reached the threshold but the route is detect-only.
    DetectOnly,
}

/// The result of [`inspect`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The decision.
    pub verdict: Verdict,
    /// Anomaly score (sum of the findings' scores).
    pub score: u32,
    /// What was found, after exclusions.
    pub findings: Vec<Finding>,
}

/// Severities that detectors report (before per-detector weights). The scale
/// follows the anomaly-scoring idea of OWASP CRS: one critical finding alone
/// reaches the default threshold, a warning needs company.
pub mod severity {
    /// Certain enough to block on its own.
    pub const CRITICAL: u32 = 5;
    /// Suspicious; blocks together with another finding.
    pub const WARNING: u32 = 3;
}

/// One hit from a detector on one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Which detector.
    pub detector: Detector,
    /// Severity from [`severity`].
    pub severity: u32,
    /// Short stable reason.
    pub reason: &'static str,
}

/// Runs every detector on one value (raw and decoded forms) and returns the
/// strongest hit per detector. This is the whole per-value pipeline; [`inspect`]
/// adds extraction, exclusions and scoring around it.
pub fn inspect_value(value: &str, source: Source) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    let plus = source.plus_is_space();
    let raw_set = prefilter::ByteSet::of(value.as_bytes());
    let variants = decode::variants_set(value, plus, &raw_set);
    // The raw spelling is judged by every detector too, even where the application
    // always decodes (query, form): judging only the decoded forms was measured to
    // miss about 4 % of the SQL payload lists (and a few of the other families),
    // which the raw reading catches.
    let forms = std::iter::once(value).chain(variants.iter().map(String::as_str));
    for (i, form) in forms.enumerate() {
        let decoded = i > 0;
        // The raw form's byte set is already known.
        let set = if decoded {
            prefilter::ByteSet::of(form.as_bytes())
        } else {
            raw_set
        };
        check_form(form, source, decoded, &set, &mut hits);
    }
    hits
}

/// A value made only of letters (or only of digits) is one SQL token, and no single
/// token is an injection (the judge needs at least two pieces of evidence), so the
/// tokenizer is skipped for it: most JSON keys and many values are such words.
const ONE_SQL_WORD: prefilter::ByteSet = prefilter::ByteSet::from_bytes(b"aA_$");
const ONE_SQL_NUMBER: prefilter::ByteSet = prefilter::ByteSet::from_bytes(b"0");

/// The union of the gate bytes of every detector but SQL and deserialization:
/// xss `<:=(`.[-`, cmdi `;|&`$` CR LF `<{` (and `"(` for split script calls),
/// traversal `./\\:_` NUL, ssrf `:`, xxe `!<:+`, nosql `$.;|&=`, ldap `(:`, ssi `<`,
/// ssti `{<#`, crlf and mail CR LF, scanner `.`. A unit test checks each
/// detector's own gate is inside it.
const PATTERN_BYTES: prefilter::ByteSet =
    prefilter::ByteSet::from_bytes(b"<:=(`.[-;|&$\n\r{/\\_\0!+#\"");

fn check_form(
    form: &str,
    source: Source,
    decoded: bool,
    set: &prefilter::ByteSet,
    hits: &mut Vec<Hit>,
) {
    let mut add = |h: Option<Hit>| {
        if let Some(h) = h {
            match hits.iter_mut().find(|x| x.detector == h.detector) {
                Some(x) if x.severity >= h.severity => {}
                Some(x) => *x = h,
                None => hits.push(h),
            }
        }
    };
    // One pass to learn which bytes the form holds; each detector's gate is a byte
    // every one of its patterns needs, so most benign values skip most detectors.
    let set = *set;
    if !(set.is_subset(&ONE_SQL_WORD) || set.is_subset(&ONE_SQL_NUMBER)) {
        add(sqli_hit(form, &set));
    }
    add(deser::check_set(form, decoded, &set));
    // Every other detector needs one of these bytes (the union of their gates) or
    // a non-ASCII character (CRLF look-alikes): plain words and numbers stop here.
    if !set.intersects(&PATTERN_BYTES) && set.is_ascii() {
        return;
    }
    add(xss::check_set(form, &set));
    add(cmdi::check_set(form, &set));
    add(traversal::check_set(form, source == Source::Path, &set));
    if set.has(b':') {
        add(ssrf::check(form));
    }
    add(xxe::check_set(form, &set));
    add(nosql::check_set(form, source, &set));
    add(ldap::check_set(form, &set));
    add(ssi::check_set(form, &set));
    add(ssti::check_set(form, &set));
    add(crlf::check_set(form, &set));
    add(mail::check_set(form, &set));
    add(scanner::check_set(form, source, &set));
}

fn sqli_hit(form: &str, set: &prefilter::ByteSet) -> Option<Hit> {
    let m = sqli::detect_set(form, set)?;
    Some(Hit {
        detector: Detector::Sqli,
        severity: severity::CRITICAL,
        reason: match m.context {
            sqli::Context::Bare => "sql-syntax",
            sqli::Context::Single => "sql-syntax-single-quote",
            sqli::Context::Double => "sql-syntax-double-quote",
        },
    })
}

/// Inspects a whole request under a route's policy.
pub fn inspect(req: &Request<'_>, policy: &InspectPolicy) -> Report {
    let mut findings: Vec<Finding> = Vec::new();
    let push = |f: Finding, findings: &mut Vec<Finding>| {
        if !policy.is_excluded(f.detector, f.source, &f.name) {
            findings.push(f);
        }
    };
    // Values are inspected as extraction finds them (borrowed, not collected), and
    // their findings are appended after the body-level ones.
    let mut value_findings: Vec<Finding> = Vec::new();
    let errors = body::extract_each(req, policy, &mut |source, name, value| {
        if policy.is_excluded_all(source, name) {
            return;
        }
        let mut hits = inspect_value(value, source);
        // Tool names only mean something where a client names itself.
        if source == Source::Header && name == "user-agent" {
            if let Some(h) = scanner::user_agent(value) {
                if !hits.iter().any(|x| x.detector == Detector::Scanner) {
                    hits.push(h);
                }
            }
        }
        for hit in hits {
            let score = policy.weighted(hit.detector, hit.severity);
            if score == 0 || policy.is_excluded(hit.detector, source, name) {
                continue;
            }
            value_findings.push(Finding {
                detector: hit.detector,
                source,
                name: name.to_owned(),
                score,
                reason: hit.reason,
                excerpt: excerpt(name, value),
            });
        }
    });
    for err in &errors {
        let (detector, reason) = err.classify();
        let f = Finding {
            detector,
            source: Source::Body,
            name: String::new(),
            score: policy.weighted(detector, severity::CRITICAL),
            reason,
            excerpt: String::new(),
        };
        push(f, &mut findings);
    }
    if let Some(hit) = deser::check_bytes(req.body) {
        let f = Finding {
            detector: hit.detector,
            source: Source::Body,
            name: String::new(),
            score: policy.weighted(hit.detector, hit.severity),
            reason: hit.reason,
            excerpt: String::new(),
        };
        push(f, &mut findings);
    }
    findings.append(&mut value_findings);
    let score = findings
        .iter()
        .map(|f| f.score)
        .fold(0u32, u32::saturating_add);
    let verdict = if score >= policy.threshold {
        match policy.mode {
            Mode::Block => Verdict::Block,
            Mode::DetectOnly => Verdict::DetectOnly,
        }
    } else {
        Verdict::Pass
    };
    Report {
        verdict,
        score,
        findings,
    }
}

/// Longest excerpt kept in a finding, in characters.
const EXCERPT_CHARS: usize = 40;

/// A short printable excerpt for logs and audit events. Values of parameters whose
/// names suggest secrets are never echoed.
pub fn excerpt(name: &str, value: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if [
        "pass", "secret", "token", "auth", "key", "session", "cookie", "card", "cvv",
    ]
    .iter()
    .any(|s| lower.contains(s))
    {
        return "[redacted]".to_owned();
    }
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == EXCERPT_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.push('·');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
