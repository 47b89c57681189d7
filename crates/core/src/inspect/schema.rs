//! JSON Schema for request bodies: a route may declare the shape its JSON bodies must
//! have (`[route.inspect] json_schema = '''{…}'''`), and a body that does not match is
//! refused before the upstream sees it — positive validation next to the attack
//! detectors' negative one.
//!
//! The schema is given inline in the configuration, so loading stays free of file and
//! network access, and the validator is built without reference resolution: a `$ref`
//! to another document cannot make the gateway fetch anything. Violations name the
//! place in the body (a JSON pointer) and the keyword that failed, never the value.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Violations reported per refused body, at most.
const MAX_VIOLATIONS: usize = 5;

/// A compiled schema, compared by its source.
#[derive(Clone)]
pub struct JsonSchema {
    source: Value,
    validator: Arc<jsonschema::Validator>,
}

/// One way a body failed its schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer to the offending place in the body (`""` is the whole body).
    pub at: String,
    /// The schema keyword that failed (`type`, `required`, `maxLength`, …).
    pub keyword: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.at.is_empty() { "/" } else { &self.at };
        write!(f, "{at}: fails \"{}\"", self.keyword)
    }
}

impl JsonSchema {
    /// Compiles schema text (JSON). The error says what is wrong with it.
    pub fn compile(text: &str) -> Result<Self, String> {
        let source: Value = serde_json::from_str(text)
            .map_err(|e| format!("json_schema is not valid JSON: {e}"))?;
        if !source.is_object() && !source.is_boolean() {
            return Err("json_schema must be a JSON object (a schema)".to_owned());
        }
        let validator = jsonschema::validator_for(&source)
            .map_err(|e| format!("json_schema is not a valid JSON Schema: {e}"))?;
        Ok(Self {
            source,
            validator: Arc::new(validator),
        })
    }

    /// `Ok` when `body` matches; otherwise the first few violations.
    pub fn check(&self, body: &Value) -> Result<(), Vec<Violation>> {
        if self.validator.is_valid(body) {
            return Ok(());
        }
        let found: Vec<Violation> = self
            .validator
            .iter_errors(body)
            .take(MAX_VIOLATIONS)
            .map(|e| Violation {
                at: e.instance_path().to_string(),
                keyword: e.kind().keyword().to_owned(),
            })
            .collect();
        if found.is_empty() {
            // is_valid and iter_errors disagree only if the library has a bug; refuse
            // rather than let the body through.
            Err(vec![Violation {
                at: String::new(),
                keyword: "schema".to_owned(),
            }])
        } else {
            Err(found)
        }
    }
}

impl PartialEq for JsonSchema {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for JsonSchema {}

impl fmt::Debug for JsonSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JsonSchema").field(&self.source).finish()
    }
}

impl<'de> Deserialize<'de> for JsonSchema {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::compile(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FEEDBACK: &str = r#"{
        "type": "object",
        "required": ["message"],
        "additionalProperties": false,
        "properties": {
            "message": {"type": "string", "maxLength": 2000},
            "rating": {"type": "integer", "minimum": 1, "maximum": 5}
        }
    }"#;

    #[test]
    fn matching_bodies_pass_and_others_name_place_and_keyword() {
        let s = JsonSchema::compile(FEEDBACK).expect("schema");
        assert!(s.check(&json!({"message": "hola", "rating": 5})).is_ok());
        let v = s
            .check(&json!({"message": "x", "rating": "<script>"}))
            .expect_err("wrong type");
        assert_eq!(v[0].at, "/rating");
        assert_eq!(v[0].keyword, "type");
        assert!(!v[0].to_string().contains("script"), "no value echoed");
        let v = s.check(&json!({"rating": 3})).expect_err("missing");
        assert_eq!(v[0].keyword, "required");
        let v = s
            .check(&json!({"message": "x", "$where": "1"}))
            .expect_err("extra key");
        assert_eq!(v[0].keyword, "additionalProperties");
        assert!(s.check(&json!(["message"])).is_err());
    }

    #[test]
    fn bad_schemas_are_refused_with_a_reason() {
        assert!(JsonSchema::compile("{not json").is_err_and(|e| e.contains("not valid JSON")));
        assert!(JsonSchema::compile("42").is_err_and(|e| e.contains("JSON object")));
        assert!(JsonSchema::compile(r#"{"type": "strnig"}"#)
            .is_err_and(|e| e.contains("not a valid JSON Schema")));
    }

    #[test]
    fn remote_references_are_not_fetched() {
        let r = JsonSchema::compile(r#"{"$ref": "http://169.254.169.254/latest/meta-data"}"#);
        assert!(r.is_err(), "a remote $ref must not resolve: {r:?}");
    }
}
