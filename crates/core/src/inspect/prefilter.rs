//! Which bytes a value contains, computed once per decoded form, so that detectors
//! that need a particular byte to match (`<` for tags, `:` for a URL scheme, `.` or
//! `/` for a path) can be skipped without scanning the value again.
//!
//! Most values in real traffic are words, numbers and spaces. Every detector gate
//! here is a *necessary* condition of that detector ever reporting (each gate says
//! which bytes every pattern of the detector contains), so skipping on a failed gate
//! never changes a verdict; it only saves the work.

use std::ops::Range;

/// Which kinds of byte a value holds: each ASCII punctuation character, NUL, tab,
/// LF and CR exactly, and coarser classes for the rest (other controls, space,
/// digits, upper-case, lower-case, non-ASCII). So [`ByteSet::has`] is exact for
/// the bytes detectors gate on (punctuation and line breaks) and says "some byte of
/// the same class" for letters and digits, which is still a valid gate: it can
/// only let more values through, never fewer.
///
/// Building it is one table lookup and one OR per byte, with no data dependency
/// between bytes, so it runs at several bytes per cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByteSet(u64);

/// ASCII punctuation, one bit each (bits 0..32).
const PUNCT: &[u8; 32] = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The class bit of every byte value.
static CLASS: [u64; 256] = class_table();

const fn class_table() -> [u64; 256] {
    let mut t = [0u64; 256];
    let mut c = 0usize;
    while c < 256 {
        t[c] = class_bit(c as u8);
        c += 1;
    }
    t
}

const fn class_bit(c: u8) -> u64 {
    let mut i = 0;
    while i < PUNCT.len() {
        if PUNCT[i] == c {
            return 1 << i;
        }
        i += 1;
    }
    1 << match c {
        0 => 32,
        b'\t' => 33,
        b'\n' => 34,
        b'\r' => 35,
        b' ' => 37,
        b'0'..=b'9' => 38,
        b'A'..=b'Z' => 39,
        b'a'..=b'z' => 40,
        0x80..=0xff => 41,
        _ => 36,
    }
}

/// The non-ASCII class bit.
const NON_ASCII: u64 = 1 << 41;

impl ByteSet {
    /// The classes of the bytes in `b`. One pass, no allocation.
    pub fn of(b: &[u8]) -> Self {
        // Four accumulators let the lookups of neighbouring bytes overlap.
        let mut acc = [0u64; 4];
        let mut chunks = b.chunks_exact(4);
        for ch in &mut chunks {
            acc[0] |= CLASS[usize::from(ch[0])];
            acc[1] |= CLASS[usize::from(ch[1])];
            acc[2] |= CLASS[usize::from(ch[2])];
            acc[3] |= CLASS[usize::from(ch[3])];
        }
        for &c in chunks.remainder() {
            acc[0] |= CLASS[usize::from(c)];
        }
        Self(acc[0] | acc[1] | acc[2] | acc[3])
    }

    /// The set of the classes of `bytes`.
    pub const fn from_bytes(bytes: &[u8]) -> Self {
        let mut m = 0u64;
        let mut i = 0;
        while i < bytes.len() {
            m |= class_bit(bytes[i]);
            i += 1;
        }
        Self(m)
    }

    /// Whether a byte of `c`'s class is in the set (exactly `c` for punctuation,
    /// NUL, tab, LF and CR).
    pub fn has(&self, c: u8) -> bool {
        self.0 & CLASS[usize::from(c)] != 0
    }

    /// Whether the two sets share a class.
    pub fn intersects(&self, other: &Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether every class in this set is also in `other` (with letters and digits
    /// as classes: `of(b"abc").is_subset(&from_bytes(b"a"))` holds).
    pub fn is_subset(&self, other: &Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether every byte is ASCII.
    pub fn is_ascii(&self) -> bool {
        self.0 & NON_ASCII == 0
    }
}

/// ASCII case-insensitive substring search for a short lower-case `needle`, without
/// lower-casing a copy of `hay`. Candidates are found with memchr on both cases of
/// the needle's first byte; each is compared over at most `needle.len()` bytes, and
/// needles here are short constants, so the search is linear in `hay`.
pub fn find_ci(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    let last_start = hay.len() - needle.len();
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut i = 0;
    while i <= last_start {
        let Some(off) = memchr::memchr2(lo, up, &hay[i..=last_start]) else {
            return false;
        };
        let p = i + off;
        if hay[p + 1..p + needle.len()].eq_ignore_ascii_case(rest) {
            return true;
        }
        i = p + 1;
    }
    false
}

/// Whether `hay` has a `.` directly followed by a letter or digit, as every file name
/// with an extension and every domain name has (`win.ini`, `oast.me`); a full stop
/// in prose is followed by a blank or ends the text.
pub fn has_dotted_name(hay: &[u8]) -> bool {
    memchr::memchr_iter(b'.', hay).any(|p| hay.get(p + 1).is_some_and(u8::is_ascii_alphanumeric))
}

/// A fixed list of literal patterns searched in one pass (Aho-Corasick), optionally
/// ignoring ASCII case. Build it once (in a `LazyLock`) and share it.
///
/// Long haystacks are searched case-sensitively, for lists that ignore case as a
/// lower-cased copy: the crate gives a case-insensitive automaton no SIMD search
/// (only a byte-frequency prefilter, whose "rare" bytes are common in prose), and
/// its own prefilter choice on a case-sensitive one can be that same byte search, so
/// the packed (Teddy) searcher is used directly where the CPU has it.
#[derive(Debug)]
pub struct Patterns {
    /// For long haystacks, where the CPU supports it: the SIMD packed searcher.
    packed: Option<aho_corasick::packed::Searcher>,
    /// For long haystacks otherwise: the automaton with the crate's prefilter.
    long: Option<aho_corasick::AhoCorasick>,
    /// For short haystacks: the automaton without prefilter, ignoring case when
    /// asked, over the haystack itself. On a header or a form value a prefilter's
    /// candidate search and restarts cost more than running the automaton over
    /// every byte (measured: 3 % of a JSON request's inspection).
    short: Option<aho_corasick::AhoCorasick>,
    pats: &'static [&'static str],
    ascii_ci: bool,
}

/// Haystacks shorter than this use [`Patterns`]' automaton without prefilter.
pub const SHORT_HAYSTACK: usize = 256;

impl Patterns {
    /// Compiles `pats`; with `ascii_ci`, patterns must be written in lower case.
    pub fn new(pats: &'static [&'static str], ascii_ci: bool) -> Self {
        debug_assert!(
            !ascii_ci
                || pats
                    .iter()
                    .all(|p| !p.bytes().any(|c| c.is_ascii_uppercase()))
        );
        // Leftmost-first everywhere, so that every path reports the same matches
        // (see [`Patterns::each_match`]).
        let build = |prefilter: bool, ci: bool| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(ci)
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .prefilter(prefilter)
                .build(pats)
                .ok()
        };
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(pats)
            .build();
        Self {
            packed,
            long: build(true, false),
            short: build(false, ascii_ci),
            pats,
            ascii_ci,
        }
    }

    /// Whether any pattern occurs in `hay`.
    pub fn is_match(&self, hay: &[u8]) -> bool {
        // The automaton's own yes/no search on short haystacks: it stops at the
        // first match state and skips the set-up of an iterator, which on a
        // header-sized value costs about as much as the search.
        if let (true, Some(ac)) = (hay.len() < SHORT_HAYSTACK, &self.short) {
            return ac.is_match(hay);
        }
        let mut any = false;
        self.each_match(hay, |_| {
            any = true;
            false
        });
        any
    }

    /// Calls `f` with the byte range of each match in `hay`, left to right, without
    /// overlaps (where several patterns match at one position, the first listed
    /// wins), until `f` returns false.
    pub fn each_match(&self, hay: &[u8], f: impl FnMut(Range<usize>) -> bool) {
        if hay.len() < SHORT_HAYSTACK {
            if let Some(ac) = &self.short {
                return feed(ac.find_iter(hay).map(|m| m.range()), f);
            }
            return self.each_match_slowly(hay, f);
        }
        // Lower-casing keeps every byte where it was, so the ranges hold for `hay`.
        let lowered;
        let hay = if self.ascii_ci {
            lowered = hay.to_ascii_lowercase();
            &lowered[..]
        } else {
            hay
        };
        if let Some(p) = &self.packed {
            return feed(p.find_iter(hay).map(|m| m.range()), f);
        }
        if let Some(ac) = &self.long {
            return feed(ac.find_iter(hay).map(|m| m.range()), f);
        }
        self.each_match_slowly(hay, f)
    }

    /// [`Patterns::each_match`] without automata, trying each pattern at each
    /// position: the same matches, slower. Building only fails past size limits
    /// these short lists never reach.
    fn each_match_slowly(&self, hay: &[u8], mut f: impl FnMut(Range<usize>) -> bool) {
        let mut i = 0;
        while i < hay.len() {
            let at = &hay[i..];
            let found = self.pats.iter().find(|p| {
                at.get(..p.len()).is_some_and(|w| {
                    if self.ascii_ci {
                        w.eq_ignore_ascii_case(p.as_bytes())
                    } else {
                        w == p.as_bytes()
                    }
                })
            });
            match found {
                Some(p) if !p.is_empty() => {
                    if !f(i..i + p.len()) {
                        return;
                    }
                    i += p.len();
                }
                _ => i += 1,
            }
        }
    }

    /// The list as it is searched when no automaton could be built: for tests,
    /// which check that every path finds the same matches.
    #[cfg(test)]
    fn without_automata(pats: &'static [&'static str], ascii_ci: bool) -> Self {
        Self {
            packed: None,
            long: None,
            short: None,
            pats,
            ascii_ci,
        }
    }
}

/// Hands `matches` to `f` until it returns false.
fn feed(matches: impl Iterator<Item = Range<usize>>, mut f: impl FnMut(Range<usize>) -> bool) {
    for r in matches {
        if !f(r) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pattern_lists() {
        let p = Patterns::new(&["/etc/passwd", "win.ini"], true);
        assert!(p.is_match(b"..\\WIN.INI"));
        assert!(!p.is_match(b"etc/pass"));
        let p = Patterns::new(&["union", "select"], true);
        assert!(p.is_match(b"x UNION all Select"));
        // Long haystacks take the prefiltered automaton, short ones the other.
        let long = format!("{}Select", "x".repeat(SHORT_HAYSTACK));
        assert!(p.is_match(long.as_bytes()) && !p.is_match("x".repeat(300).as_bytes()));
        let p = Patterns::new(&["ysoserial"], false);
        assert!(p.is_match(b"x ysoserial y") && !p.is_match(b"YSOSERIAL"));
    }

    fn matches(p: &Patterns, hay: &[u8]) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        p.each_match(hay, |r| {
            out.push(r);
            true
        });
        out
    }

    #[test]
    fn matches_in_order_short_and_long_alike() {
        const PATS: &[&str] = &["union", "select", "sel"];
        for ci in [true, false] {
            let p = Patterns::new(PATS, ci);
            let fallback = Patterns::without_automata(PATS, ci);
            let mut no_simd = Patterns::new(PATS, ci);
            no_simd.packed = None;
            for pad in [0, SHORT_HAYSTACK] {
                let x = "x".repeat(pad);
                let hay = format!("{x}a UNION select Sel unionselect");
                let off = pad + 2;
                let want: Vec<Range<usize>> = if ci {
                    vec![
                        off..off + 5,
                        off + 6..off + 12,
                        off + 13..off + 16,
                        off + 17..off + 22,
                        off + 22..off + 28,
                    ]
                } else {
                    vec![off + 6..off + 12, off + 17..off + 22, off + 22..off + 28]
                };
                assert_eq!(matches(&p, hay.as_bytes()), want, "ci={ci} pad={pad}");
                assert_eq!(
                    matches(&fallback, hay.as_bytes()),
                    want,
                    "fallback ci={ci} pad={pad}"
                );
                assert_eq!(
                    matches(&no_simd, hay.as_bytes()),
                    want,
                    "no packed searcher, ci={ci} pad={pad}"
                );
            }
        }
        // Stopping early.
        let p = Patterns::new(&["a"], false);
        let mut n = 0;
        p.each_match(b"aaaa", |_| {
            n += 1;
            n < 2
        });
        assert_eq!(n, 2);
    }

    use super::*;

    #[test]
    fn dotted_names() {
        assert!(has_dotted_name(b"see win.ini") && has_dotted_name(b"x.1"));
        assert!(!has_dotted_name(b"It was right. Thanks.") && !has_dotted_name(b""));
    }

    #[test]
    fn case_insensitive_find() {
        assert!(find_ci(b"x DOCUMENT.Cookie", b"document.cookie"));
        assert!(find_ci(b"expression(", b"expression("));
        assert!(!find_ci(b"expressio", b"expression("));
        assert!(!find_ci(b"", b"a"));
        assert!(find_ci(b"aaab", b"ab"));
        assert!(find_ci(b"ab", b""));
    }

    #[test]
    fn membership() {
        let s = ByteSet::of(b"a<b\xff\0");
        assert!(s.has(b'<') && s.has(0) && s.has(0xff) && s.has(b'a'));
        assert!(!s.has(b'>') && !s.has(b'\n') && !s.has(b'A') && !s.is_ascii());
        // Every punctuation byte is its own class.
        for &c in PUNCT {
            let one = ByteSet::of(&[c]);
            assert_eq!(PUNCT.iter().filter(|&&d| one.has(d)).count(), 1);
        }
        assert!(s.intersects(&ByteSet::from_bytes(b"x<")));
        assert!(!s.intersects(&ByteSet::from_bytes(b"XYZ>")));
        assert!(ByteSet::of(b"plain words 123").is_ascii());
    }
}
