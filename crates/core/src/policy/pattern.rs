//! Route path patterns: literal segments, `{name}` for one segment, and a final
//! `{*name}` for the rest of the path. Matching works on the decoded segments of a
//! canonical path ([`super::NormalPath`]), so an escape cannot smuggle a `/` into a
//! parameter and a parameter is always exactly one segment.

use std::fmt;

use super::CasePolicy;

/// One piece of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Param(String),
    Rest(String),
}

/// A parsed path pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    pieces: Vec<Piece>,
}

/// Why a pattern is malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// Not starting with `/`.
    #[error("a path pattern starts with '/', e.g. \"/api/customers/{{id}}\"")]
    NotAbsolute,
    /// `{` without `}` or a name with odd characters.
    #[error("bad parameter \"{0}\": write {{name}} or {{*name}} with letters, digits and '_'")]
    BadParam(String),
    /// The same name twice.
    #[error("parameter \"{0}\" appears twice")]
    DuplicateParam(String),
    /// `{*rest}` not last.
    #[error("{{*{0}}} must be the last segment")]
    RestNotLast(String),
    /// A literal that normalisation would change (`..`, `%`, empty segments, `;`).
    #[error("segment \"{0}\" would never match a normalised path; write the plain, decoded form")]
    NotCanonical(String),
}

fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Pattern {
    /// Parses a pattern. With [`CasePolicy::Insensitive`] literals are lower-cased, as
    /// request paths will be.
    pub fn parse(source: &str, case: CasePolicy) -> Result<Self, PatternError> {
        let rest = source.strip_prefix('/').ok_or(PatternError::NotAbsolute)?;
        let mut pieces = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let raw: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.trim_end_matches('/').split('/').collect()
        };
        let count = raw.len();
        for (i, seg) in raw.into_iter().enumerate() {
            if let Some(inner) = seg.strip_prefix('{') {
                let inner = inner
                    .strip_suffix('}')
                    .ok_or_else(|| PatternError::BadParam(seg.to_owned()))?;
                let (is_rest, name) = match inner.strip_prefix('*') {
                    Some(n) => (true, n),
                    None => (false, inner),
                };
                if !valid_name(name) {
                    return Err(PatternError::BadParam(seg.to_owned()));
                }
                if names.iter().any(|n| n == name) {
                    return Err(PatternError::DuplicateParam(name.to_owned()));
                }
                names.push(name.to_owned());
                if is_rest {
                    if i + 1 != count {
                        return Err(PatternError::RestNotLast(name.to_owned()));
                    }
                    pieces.push(Piece::Rest(name.to_owned()));
                } else {
                    pieces.push(Piece::Param(name.to_owned()));
                }
            } else {
                if seg.is_empty()
                    || seg == "."
                    || seg == ".."
                    || seg.contains(['%', ';', '\\', '{', '}'])
                {
                    return Err(PatternError::NotCanonical(seg.to_owned()));
                }
                let lit = match case {
                    CasePolicy::Sensitive => seg.to_owned(),
                    CasePolicy::Insensitive => seg.to_lowercase(),
                };
                pieces.push(Piece::Literal(lit));
            }
        }
        Ok(Self {
            source: source.to_owned(),
            pieces,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The parameter names, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Param(n) | Piece::Rest(n) => Some(n.as_str()),
            Piece::Literal(_) => None,
        })
    }

    /// The captured parameters if the segments match.
    pub fn matches(&self, segments: &[String]) -> Option<Vec<(String, String)>> {
        let mut params = Vec::new();
        let mut i = 0;
        for piece in &self.pieces {
            match piece {
                Piece::Rest(name) => {
                    params.push((name.clone(), segments.get(i..)?.join("/")));
                    return Some(params);
                }
                Piece::Literal(l) => {
                    if segments.get(i)? != l {
                        return None;
                    }
                }
                Piece::Param(name) => params.push((name.clone(), segments.get(i)?.clone())),
            }
            i += 1;
        }
        (i == segments.len()).then_some(params)
    }

    /// True when every path this pattern matches is also matched by `earlier`: a
    /// route with this pattern after one with `earlier` (same host and methods) can
    /// never be reached.
    pub fn is_shadowed_by(&self, earlier: &Self) -> bool {
        let mut i = 0;
        for piece in &earlier.pieces {
            match piece {
                Piece::Rest(_) => return true,
                Piece::Param(_) => match self.pieces.get(i) {
                    Some(Piece::Literal(_) | Piece::Param(_)) => {}
                    _ => return false,
                },
                Piece::Literal(l) => match self.pieces.get(i) {
                    Some(Piece::Literal(m)) if m == l => {}
                    _ => return false,
                },
            }
            i += 1;
        }
        i == self.pieces.len()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn pat(p: &str) -> Pattern {
        Pattern::parse(p, CasePolicy::Sensitive).expect("pattern")
    }

    #[test]
    fn matching_and_captures() {
        let p = pat("/api/customers/{id}");
        assert_eq!(
            p.matches(&segs("/api/customers/18")),
            Some(vec![("id".to_owned(), "18".to_owned())])
        );
        assert_eq!(p.matches(&segs("/api/customers")), None);
        assert_eq!(p.matches(&segs("/api/customers/18/x")), None);
        assert_eq!(pat("/").matches(&[]), Some(vec![]));
        let r = pat("/static/{*file}");
        assert_eq!(
            r.matches(&segs("/static/css/site.css")),
            Some(vec![("file".to_owned(), "css/site.css".to_owned())])
        );
        assert_eq!(
            r.matches(&segs("/static")),
            Some(vec![("file".to_owned(), String::new())])
        );
        assert_eq!(r.matches(&segs("/other")), None);
    }

    #[test]
    fn malformed_patterns() {
        let e = |p: &str| Pattern::parse(p, CasePolicy::Sensitive).err();
        assert_eq!(e("api"), Some(PatternError::NotAbsolute));
        assert_eq!(e("/a/{id"), Some(PatternError::BadParam("{id".into())));
        assert_eq!(e("/a/{i-d}"), Some(PatternError::BadParam("{i-d}".into())));
        assert_eq!(
            e("/a/{id}/{id}"),
            Some(PatternError::DuplicateParam("id".into()))
        );
        assert_eq!(e("/a/{*r}/b"), Some(PatternError::RestNotLast("r".into())));
        assert_eq!(e("/a/../b"), Some(PatternError::NotCanonical("..".into())));
        assert_eq!(e("/a//b"), Some(PatternError::NotCanonical(String::new())));
        assert_eq!(e("/a/%41"), Some(PatternError::NotCanonical("%41".into())));
    }

    #[test]
    fn shadowing() {
        assert!(pat("/api/customers/{id}").is_shadowed_by(&pat("/api/{*rest}")));
        assert!(pat("/api/customers/18").is_shadowed_by(&pat("/api/customers/{id}")));
        assert!(!pat("/api/customers/{id}").is_shadowed_by(&pat("/api/customers/18")));
        assert!(!pat("/api/customers").is_shadowed_by(&pat("/api/customers/{id}")));
        assert!(pat("/api/x").is_shadowed_by(&pat("/api/x")));
    }
}
