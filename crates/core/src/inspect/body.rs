//! Splits a request into the values to inspect, and enforces body discipline: a body
//! must parse as its declared Content-Type, within limits on size, nesting, number of
//! inputs and (for JSON) duplicate keys.
//!
//! Parsers here are iterative or depth-capped so that hostile nesting cannot exhaust
//! the stack, and every loop advances through the input, so work is linear.

use std::borrow::Cow;
use std::collections::HashSet;

use quick_xml::events::Event;
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

use super::settings::InspectPolicy;
use super::{Detector, Input, Request, Source};

/// Why a body (or the request as a whole) was refused before detection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than the limit.
    #[error("body of {0} bytes exceeds the inspection limit")]
    TooLarge(usize),
    /// More inputs than the limit (parameter flooding hides payloads and costs time).
    #[error("request carries more than {0} inputs")]
    TooManyInputs(usize),
    /// The Content-Type is not one the route accepts.
    #[error("content type {0:?} is not accepted here")]
    NotAccepted(String),
    /// The body does not parse as JSON.
    #[error("body is not valid JSON: {0}")]
    BadJson(String),
    /// JSON nested deeper than the limit.
    #[error("JSON nesting deeper than {0}")]
    JsonTooDeep(usize),
    /// A JSON object repeats a key.
    #[error("JSON object repeats key {0:?}")]
    DuplicateKey(String),
    /// The body does not parse as XML.
    #[error("body is not well-formed XML: {0}")]
    BadXml(String),
    /// XML nested deeper than the limit.
    #[error("XML nesting deeper than {0}")]
    XmlTooDeep(usize),
    /// The XML body declares a DTD or entities (XXE, billion laughs).
    #[error("XML body declares a DOCTYPE or entities")]
    XmlDoctype,
    /// The XML body asks its parser to fetch a schema from a URL
    /// (`xsi:schemaLocation`, `noNamespaceSchemaLocation`, `xs:import`): the same
    /// outbound request and file read as an external entity.
    #[error("XML body points its parser at an external schema")]
    XmlExternalSchema,
    /// A multipart body that is malformed or lacks its boundary.
    #[error("malformed multipart body: {0}")]
    BadMultipart(&'static str),
    /// A urlencoded body that is not text.
    #[error("form body is not text")]
    BadForm,
}

impl BodyError {
    /// Which detector reports this error, and the stable reason.
    pub fn classify(&self) -> (Detector, &'static str) {
        match self {
            Self::XmlDoctype => (Detector::Xxe, "xml-doctype"),
            Self::XmlExternalSchema => (Detector::Xxe, "xml-external-schema"),
            Self::TooLarge(_) => (Detector::Body, "body-too-large"),
            Self::TooManyInputs(_) => (Detector::Body, "too-many-inputs"),
            Self::NotAccepted(_) => (Detector::Body, "content-type-not-accepted"),
            Self::BadJson(_) => (Detector::Body, "invalid-json"),
            Self::JsonTooDeep(_) => (Detector::Body, "json-too-deep"),
            Self::DuplicateKey(_) => (Detector::Body, "json-duplicate-key"),
            Self::BadXml(_) => (Detector::Body, "invalid-xml"),
            Self::XmlTooDeep(_) => (Detector::Body, "xml-too-deep"),
            Self::BadMultipart(_) => (Detector::Body, "invalid-multipart"),
            Self::BadForm => (Detector::Body, "invalid-form"),
        }
    }
}

/// What [`extract`] found.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Values to inspect.
    pub inputs: Vec<Input>,
    /// Body-discipline violations.
    pub errors: Vec<BodyError>,
}

/// Where extraction sends each value: counts them against the limit and records
/// body-discipline errors. Values go straight to the callback, so inspecting a
/// request copies no value that turns out benign.
pub(crate) struct Collector<'f> {
    count: usize,
    errors: Vec<BodyError>,
    f: &'f mut dyn FnMut(Source, &str, &str),
}

impl Collector<'_> {
    /// Hands an input over unless the count limit is reached (then records the
    /// error once).
    fn push(&mut self, max: usize, source: Source, name: &str, value: &str) -> bool {
        if self.count >= max {
            if !self
                .errors
                .iter()
                .any(|e| matches!(e, BodyError::TooManyInputs(_)))
            {
                self.errors.push(BodyError::TooManyInputs(max));
            }
            return false;
        }
        // Empty values carry nothing to detect.
        if !value.is_empty() {
            self.count += 1;
            (self.f)(source, name, value);
        }
        true
    }
}

/// Headers inspected on every route besides `X-*`.
const DEFAULT_HEADERS: &[&str] = &["user-agent", "referer", "origin"];

/// Headers that are `X-*` but carry the gateway's or a proxy's own data.
const SKIP_HEADERS: &[&str] = &["x-request-id", "x-forwarded-proto", "x-forwarded-port"];

/// Extracts every input from the request under the route's limits.
pub fn extract(req: &Request<'_>, policy: &InspectPolicy) -> Extracted {
    let mut inputs = Vec::new();
    let errors = extract_each(req, policy, &mut |source, name, value| {
        inputs.push(Input {
            source,
            name: name.to_owned(),
            value: value.to_owned(),
        });
    });
    Extracted { inputs, errors }
}

/// Like [`extract`], but hands each input to `f` as it is found (borrowed, nothing
/// copied) and returns only the body-discipline errors. This is what
/// [`super::inspect`] uses.
pub fn extract_each(
    req: &Request<'_>,
    policy: &InspectPolicy,
    f: &mut dyn FnMut(Source, &str, &str),
) -> Vec<BodyError> {
    let lim = &policy.limits;
    let max = lim.max_inputs;
    let mut ex = Collector {
        count: 0,
        errors: Vec::new(),
        f,
    };
    let ex = &mut ex;

    for (i, seg) in req.path.split('/').enumerate() {
        if !seg.is_empty() && !ex.push(max, Source::Path, &i.to_string(), seg) {
            break;
        }
    }
    if let Some(q) = req.query {
        urlencoded(q, Source::Query, Source::QueryName, max, ex);
    }
    for (name, value) in req.headers {
        let lname = name.to_ascii_lowercase();
        if lname == "cookie" {
            for part in value.split(';') {
                let (n, v) = part.split_once('=').unwrap_or(("", part));
                if !ex.push(max, Source::Cookie, n.trim(), v.trim()) {
                    break;
                }
            }
        } else if (DEFAULT_HEADERS.contains(&lname.as_str())
            || (lname.starts_with("x-") && !SKIP_HEADERS.contains(&lname.as_str()))
            || policy
                .headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&lname)))
            && !ex.push(max, Source::Header, &lname, value)
        {
            break;
        }
    }
    if !req.body.is_empty() {
        body(req, policy, ex);
    }
    std::mem::take(&mut ex.errors)
}

/// The media type without parameters, lower-cased.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn body(req: &Request<'_>, policy: &InspectPolicy, ex: &mut Collector<'_>) {
    let lim = &policy.limits;
    if req.body.len() > lim.max_body_bytes {
        ex.errors.push(BodyError::TooLarge(req.body.len()));
        return;
    }
    let ct = req.header("content-type").unwrap_or("");
    let ess = essence(ct);
    if !policy.accepts.is_empty() && !policy.accepts.iter().any(|a| a.eq_ignore_ascii_case(&ess)) {
        ex.errors.push(BodyError::NotAccepted(ess.clone()));
    }
    let max = lim.max_inputs;
    if ess == "application/x-www-form-urlencoded" {
        match std::str::from_utf8(req.body) {
            Ok(s) => urlencoded(s, Source::Form, Source::FormName, max, ex),
            // Latin-1 forms exist (the CSIC shop); percent-encoding keeps them ASCII,
            // so raw high bytes here are not a browser's doing.
            Err(_) => ex.errors.push(BodyError::BadForm),
        }
    } else if ess == "application/json" || ess.ends_with("+json") {
        json(req.body, policy, ex);
    } else if ess == "application/xml" || ess == "text/xml" || ess.ends_with("+xml") {
        xml(req.body, policy, ex);
    } else if ess == "multipart/form-data" {
        multipart(req.body, ct, policy, ex);
    } else {
        // Unknown or textual bodies are inspected whole; binary is looked at only
        // for serialized-object markers (the detectors are text based, so lossy
        // conversion keeps the ASCII parts they need).
        let text = String::from_utf8_lossy(req.body);
        ex.push(max, Source::Body, "", &text);
    }
}

fn urlencoded(s: &str, vsrc: Source, nsrc: Source, max: usize, ex: &mut Collector<'_>) {
    for pair in s.split('&') {
        if pair.is_empty() {
            continue;
        }
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        // Names are reported decoded (that is how operators write exclusions), and
        // inspected raw like values.
        let name = super::decode::percent(n, true);
        if !ex.push(max, nsrc, &name, n) || !ex.push(max, vsrc, &name, v) {
            return;
        }
    }
}

// === JSON ===

/// Walks a JSON document collecting keys and string values with their paths,
/// rejecting depth over the limit and duplicate keys.
struct JsonWalk<'a, 'c> {
    path: String,
    depth: usize,
    max_depth: usize,
    dup_ok: bool,
    max: usize,
    ex: &'a mut Collector<'c>,
}

struct Node<'w, 'a, 'c>(&'w mut JsonWalk<'a, 'c>);

impl<'de> DeserializeSeed<'de> for Node<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        let w = self.0;
        if !w.ex.push(w.max, Source::Json, &w.path, v) {
            return Err(E::custom("too many inputs"));
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let w = self.0;
        w.enter()?;
        let base = w.path.len();
        let mut i = 0usize;
        loop {
            w.path.truncate(base);
            // Written into the path buffer itself, digit by digit: no string and no
            // formatting machinery per element.
            push_index(&mut w.path, i);
            if seq.next_element_seed(Node(w))?.is_none() {
                break;
            }
            i += 1;
        }
        w.path.truncate(base);
        w.depth -= 1;
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let w = self.0;
        w.enter()?;
        let base = w.path.len();
        let mut seen = SeenKeys::default();
        // Keys are borrowed from the body when they hold no escapes (the usual
        // case), so an object costs no allocation per key.
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !w.dup_ok && seen.contains(&key) {
                return Err(A::Error::custom(format!("duplicate key {key:?}")));
            }
            if !w.ex.push(w.max, Source::JsonKey, &w.path, &key) {
                return Err(A::Error::custom("too many inputs"));
            }
            w.path.truncate(base);
            if base > 0 {
                w.path.push('.');
            }
            w.path.push_str(&key);
            map.next_value_seed(Node(w))?;
            if !w.dup_ok {
                seen.insert(key);
            }
        }
        w.path.truncate(base);
        w.depth -= 1;
        Ok(())
    }
}

/// Appends `[i]` to a JSON path.
fn push_index(path: &mut String, i: usize) {
    let mut digits = [0u8; 20];
    let mut n = i;
    let mut k = digits.len();
    loop {
        k -= 1;
        // `n % 10` is below 10, so the cast cannot truncate.
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    path.push('[');
    for &d in &digits[k..] {
        path.push(char::from(d));
    }
    path.push(']');
}

/// Reads a JSON object key, borrowed from the input when it can be.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Keys already seen in one JSON object. Objects in requests are small, and a
/// linear scan of a few keys beats hashing each one; past [`SeenKeys::LINEAR`] keys
/// it switches to a hash set so a 100,000-key object stays linear.
#[derive(Default)]
struct SeenKeys<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> SeenKeys<'de> {
    const LINEAR: usize = 16;

    fn contains(&self, k: &str) -> bool {
        match &self.many {
            Some(set) => set.contains(k),
            None => self.few.iter().any(|x| x == k),
        }
    }

    fn insert(&mut self, k: Cow<'de, str>) {
        if let Some(set) = &mut self.many {
            set.insert(k);
        } else if self.few.len() < Self::LINEAR {
            self.few.push(k);
        } else {
            let mut set: HashSet<Cow<'de, str>> = self.few.drain(..).collect();
            set.insert(k);
            self.many = Some(set);
        }
    }
}

impl JsonWalk<'_, '_> {
    fn enter<E: serde::de::Error>(&mut self) -> Result<(), E> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(E::custom("too deep"));
        }
        Ok(())
    }
}

fn json(body: &[u8], policy: &InspectPolicy, ex: &mut Collector<'_>) {
    let lim = &policy.limits;
    let mut walk = JsonWalk {
        path: String::new(),
        depth: 0,
        max_depth: lim.max_json_depth,
        dup_ok: lim.allow_duplicate_keys,
        max: lim.max_inputs,
        ex,
    };
    // A body that is valid UTF-8 as a whole (checked in one fast pass) is parsed as
    // text, so its strings are not validated again one by one; anything else goes
    // through the byte parser, which reports where the bad bytes are.
    let res = match std::str::from_utf8(body) {
        Ok(text) => walk_json(serde_json::Deserializer::from_str(text), &mut walk),
        Err(_) => walk_json(serde_json::Deserializer::from_slice(body), &mut walk),
    };
    if let Err(e) = res {
        let msg = e.to_string();
        let err = if msg.starts_with("too deep") || msg.starts_with("recursion limit") {
            BodyError::JsonTooDeep(lim.max_json_depth)
        } else if let Some(rest) = msg.strip_prefix("duplicate key ") {
            BodyError::DuplicateKey(
                rest.split(" at line")
                    .next()
                    .unwrap_or("")
                    .trim_matches('"')
                    .to_owned(),
            )
        } else if msg.starts_with("too many inputs") {
            // Already recorded by `push`.
            return;
        } else {
            BodyError::BadJson(msg)
        };
        ex.errors.push(err);
    }
}

fn walk_json<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    walk: &mut JsonWalk<'_, '_>,
) -> Result<(), serde_json::Error> {
    Node(walk).deserialize(&mut de).and_then(|()| de.end())
}

// === XML ===

fn xml(body: &[u8], policy: &InspectPolicy, ex: &mut Collector<'_>) {
    let lim = &policy.limits;
    let max = lim.max_inputs;
    // quick-xml never resolves DTDs or external entities; it hands us a DocType
    // event, which is refused outright.
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    loop {
        let ev = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => {
                ex.errors.push(BodyError::BadXml(e.to_string()));
                return;
            }
        };
        if !matches!(ev, Event::Text(_) | Event::GeneralRef(_))
            && !flush_text(&mut text, &stack, max, ex)
        {
            return;
        }
        match ev {
            Event::DocType(_) => {
                ex.errors.push(BodyError::XmlDoctype);
                return;
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let lname = name.to_ascii_lowercase();
                if lname.ends_with(":include") || lname == "include" {
                    // XInclude pulls in files just like an external entity.
                    ex.errors.push(BodyError::XmlDoctype);
                }
                let schema_element = lname.ends_with(":import") || lname.ends_with(":redefine");
                for attr in e.attributes().with_checks(false).flatten() {
                    let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
                    let val = String::from_utf8_lossy(&attr.value).into_owned();
                    let lkey = key.to_ascii_lowercase();
                    let remote = val.contains("://") || val.trim_start().starts_with("//");
                    if remote
                        && (lkey.ends_with("schemalocation")
                            || (schema_element && lkey == "schemalocation"))
                        && !ex
                            .errors
                            .iter()
                            .any(|e| matches!(e, BodyError::XmlExternalSchema))
                    {
                        ex.errors.push(BodyError::XmlExternalSchema);
                    }
                    let n = format!("{}/@{}", stack.join("/"), key);
                    if !ex.push(max, Source::XmlAttr, &n, &val) {
                        return;
                    }
                }
                if matches!(ev, Event::Start(_)) {
                    stack.push(name);
                    if stack.len() > lim.max_xml_depth {
                        ex.errors.push(BodyError::XmlTooDeep(lim.max_xml_depth));
                        return;
                    }
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            // One text node arrives as several events: text, then each `&name;` or
            // `&#N;` reference, then more text. They are put back together, the
            // references left encoded (the decoders see through them like any HTML
            // entity), so `&lt;script&gt;` is inspected as one value.
            Event::Text(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                text.push('&');
                text.push_str(&String::from_utf8_lossy(&r));
                text.push(';');
            }
            Event::CData(t) => {
                let raw = String::from_utf8_lossy(&t);
                if !ex.push(max, Source::XmlText, &stack.join("/"), &raw) {
                    return;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        ex.errors
            .push(BodyError::BadXml("unclosed element".to_owned()));
    }
}

/// Inspects the text gathered since the last element boundary, if any. False when the
/// input limit is reached.
fn flush_text(text: &mut String, stack: &[String], max: usize, ex: &mut Collector<'_>) -> bool {
    let value = text.trim();
    let ok = value.is_empty() || ex.push(max, Source::XmlText, &stack.join("/"), value);
    text.clear();
    ok
}

// === multipart ===

fn multipart(body: &[u8], ct: &str, policy: &InspectPolicy, ex: &mut Collector<'_>) {
    let max = policy.limits.max_inputs;
    let Some(boundary) = ct.split(';').find_map(|p| {
        let p = p.trim();
        p.strip_prefix("boundary=")
            .or_else(|| p.strip_prefix("BOUNDARY="))
    }) else {
        ex.errors.push(BodyError::BadMultipart("no boundary"));
        return;
    };
    let boundary = boundary.trim_matches('"');
    if boundary.is_empty() || boundary.len() > 200 {
        ex.errors.push(BodyError::BadMultipart("bad boundary"));
        return;
    }
    let delim = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delim.as_bytes());
    let mut parts = finder.find_iter(body).peekable();
    let Some(first) = parts.next() else {
        ex.errors
            .push(BodyError::BadMultipart("boundary not found"));
        return;
    };
    let mut start = first + delim.len();
    let mut closed = false;
    for next in parts {
        let part = &body[start..next];
        start = next + delim.len();
        let part = part
            .strip_prefix(b"\r\n")
            .or_else(|| part.strip_prefix(b"\n"))
            .unwrap_or(part);
        let part = part
            .strip_suffix(b"\r\n")
            .or_else(|| part.strip_suffix(b"\n"))
            .unwrap_or(part);
        let (head, content) = match memchr::memmem::find(part, b"\r\n\r\n") {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => match memchr::memmem::find(part, b"\n\n") {
                Some(i) => (&part[..i], &part[i + 2..]),
                None => {
                    ex.errors
                        .push(BodyError::BadMultipart("part without headers"));
                    return;
                }
            },
        };
        let head = String::from_utf8_lossy(head);
        let mut name = String::new();
        let mut filename = None;
        let mut part_ct = String::new();
        for line in head.lines() {
            let (h, v) = line.split_once(':').unwrap_or((line, ""));
            if h.trim().eq_ignore_ascii_case("content-disposition") {
                for p in v.split(';') {
                    let p = p.trim();
                    if let Some(n) = p.strip_prefix("name=") {
                        name = n.trim_matches('"').to_owned();
                    } else if let Some(f) = p.strip_prefix("filename=") {
                        filename = Some(f.trim_matches('"').to_owned());
                    }
                }
            } else if h.trim().eq_ignore_ascii_case("content-type") {
                part_ct = essence(v);
            }
        }
        if !ex.push(max, Source::FormName, &name, &name) {
            return;
        }
        if let Some(f) = &filename {
            if !ex.push(max, Source::MultipartFilename, &name, f) {
                return;
            }
        }
        // File contents of binary types are not text to inspect, but serialized
        // objects are exactly that: keep the lossy text for the deser markers.
        let text = String::from_utf8_lossy(content);
        let _ = part_ct;
        if !ex.push(max, Source::Multipart, &name, &text) {
            return;
        }
        if body[start..].starts_with(b"--") {
            closed = true;
            break;
        }
    }
    if !closed {
        ex.errors
            .push(BodyError::BadMultipart("missing closing boundary"));
    }
}
