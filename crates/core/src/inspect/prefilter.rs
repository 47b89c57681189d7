//! Which bytes a value contains, computed once per decoded form, so that detectors
//! that need a particular byte to match (`<` for tags, `:` for a URL scheme, `.` or
//! `/` for a path) can be skipped without scanning the value again.
//!
//! Most values in real traffic are words, numbers and spaces. Every detector gate
//! here is a *necessary* condition of that detector ever reporting (each gate says
//! which bytes every pattern of the detector contains), so skipping on a failed gate
//! never changes a verdict; it only saves the work.

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
#[derive(Debug)]
pub struct Patterns {
    ac: Option<aho_corasick::AhoCorasick>,
    /// The same automaton without the crate's prefilter, for short haystacks: on a
    /// header or a form value the prefilter's candidate search and restarts cost
    /// more than running the automaton over every byte (measured: 3 % of a JSON
    /// request's inspection), while on long ones it skips most of the input.
    ac_short: Option<aho_corasick::AhoCorasick>,
    pats: &'static [&'static str],
    ascii_ci: bool,
}

/// Haystacks shorter than this use [`Patterns`]' automaton without prefilter.
const SHORT_HAYSTACK: usize = 256;

impl Patterns {
    /// Compiles `pats`; with `ascii_ci`, patterns must be written in lower case.
    pub fn new(pats: &'static [&'static str], ascii_ci: bool) -> Self {
        let build = |prefilter: bool| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(ascii_ci)
                // Leftmost semantics let the crate use its SIMD literal searcher; for
                // a yes/no answer the match kind makes no difference.
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .prefilter(prefilter)
                .build(pats)
                .ok()
        };
        Self {
            ac: build(true),
            ac_short: build(false),
            pats,
            ascii_ci,
        }
    }

    fn automaton(&self, hay: &[u8]) -> Option<&aho_corasick::AhoCorasick> {
        if hay.len() < SHORT_HAYSTACK {
            self.ac_short.as_ref().or(self.ac.as_ref())
        } else {
            self.ac.as_ref()
        }
    }

    /// Whether any pattern occurs in `hay`.
    pub fn is_match(&self, hay: &[u8]) -> bool {
        match self.automaton(hay) {
            Some(ac) => ac.is_match(hay),
            // Building only fails past size limits these short lists never reach;
            // searching pattern by pattern gives the same answer, only slower.
            None => self.pats.iter().any(|p| {
                if self.ascii_ci {
                    find_ci(hay, p.as_bytes())
                } else {
                    memchr::memmem::find(hay, p.as_bytes()).is_some()
                }
            }),
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
