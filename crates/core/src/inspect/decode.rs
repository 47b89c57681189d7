//! Decoders that turn a raw input value into the forms an application might see.
//!
//! An attacker hides a payload behind whatever transformation the target applies
//! before using the value: percent-encoding (once or twice), `+` for space, HTML
//! entities, JavaScript/C escapes, overlong UTF-8, fullwidth Unicode, base64. The
//! detectors therefore look at the raw value *and* at each distinct decoded form.
//!
//! Every function here is a single left-to-right pass over its input, and the
//! number of rounds is bounded ([`MAX_ROUNDS`]), so decoding is linear in the input.

use std::borrow::Cow;

use base64::Engine as _;

use super::prefilter::ByteSet;
use unicode_normalization::UnicodeNormalization as _;

/// How many times the whole decode pipeline is re-applied to peel nested encodings
/// (`%2527` -> `%27` -> `'`). Three rounds cover every double/triple encoding seen in
/// the corpora; more only costs time on benign input.
pub const MAX_ROUNDS: usize = 3;

/// Percent-decodes `%XX` and IIS-style `%uXXXX`; with `plus`, `+` becomes a space.
///
/// Invalid escapes are kept literally (that is what most servers do). Decoded bytes
/// are turned back into text by [`bytes_to_text`], so overlong UTF-8 and Latin-1
/// bytes (`%F1` in the CSIC shop data) become the characters a lenient server sees.
pub fn percent(input: &str, plus: bool) -> Cow<'_, str> {
    let b = input.as_bytes();
    if !b.iter().any(|&c| c == b'%' || (plus && c == b'+')) {
        return Cow::Borrowed(input);
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if i + 2 < b.len() {
                if let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
            }
            if i + 5 < b.len() && (b[i + 1] == b'u' || b[i + 1] == b'U') {
                if let Some(cp) = hex_n(&b[i + 2..i + 6]) {
                    push_char(&mut out, cp);
                    i += 6;
                    continue;
                }
            }
            out.push(c);
        } else if plus && c == b'+' {
            out.push(b' ');
        } else {
            out.push(c);
        }
        i += 1;
    }
    // Valid UTF-8 (the usual case) becomes the String without a copy.
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(bytes_to_text(e.as_bytes()).into_owned()),
    }
}

/// Decodes HTML character references: `&lt;`, `&#60;`, `&#x3c;`, with or without the
/// trailing `;` (browsers accept `&#60` and `&lt` in attribute values).
pub fn html_entities(input: &str) -> Cow<'_, str> {
    if !input.as_bytes().contains(&b'&') {
        return Cow::Borrowed(input);
    }
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b[i] != b'&' {
            i += 1;
            continue;
        }
        let (decoded, used) = entity_at(&b[i + 1..]);
        if let Some(ch) = decoded {
            out.push_str(&input[last..i]);
            out.push(ch);
            i += 1 + used;
            last = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&input[last..]);
    Cow::Owned(out)
}

/// Named entities worth knowing: the ones that spell markup and quoting. Unknown
/// names are left alone rather than guessed.
const NAMED: &[(&str, char)] = &[
    ("lt", '<'),
    ("gt", '>'),
    ("amp", '&'),
    ("quot", '"'),
    ("apos", '\''),
    ("sol", '/'),
    ("bsol", '\\'),
    ("colon", ':'),
    ("semi", ';'),
    ("lpar", '('),
    ("rpar", ')'),
    ("equals", '='),
    ("tab", '\t'),
    ("newline", '\n'),
    ("nbsp", ' '),
    ("grave", '`'),
    ("lbrack", '['),
    ("rbrack", ']'),
    ("lcub", '{'),
    ("rcub", '}'),
    ("period", '.'),
    ("comma", ','),
    ("excl", '!'),
    ("num", '#'),
    ("plus", '+'),
    ("percnt", '%'),
];

/// Parses one entity after the `&`; returns the character and how many bytes it used.
fn entity_at(b: &[u8]) -> (Option<char>, usize) {
    if b.first() == Some(&b'#') {
        let (hex, start) = match b.get(1) {
            Some(b'x' | b'X') => (true, 2),
            _ => (false, 1),
        };
        let mut j = start;
        let mut v: u32 = 0;
        // Leading zeros are legal and used for evasion (`&#0000060`); cap the digits
        // we accumulate so the value cannot overflow.
        while j < b.len() && j < start + 12 {
            let d = if hex {
                hex_val(b[j]).map(u32::from)
            } else {
                (b[j] as char).to_digit(10)
            };
            match d {
                Some(d) => {
                    v = v
                        .saturating_mul(if hex { 16 } else { 10 })
                        .saturating_add(d)
                }
                None => break,
            }
            j += 1;
        }
        if j == start {
            return (None, 0);
        }
        if b.get(j) == Some(&b';') {
            j += 1;
        }
        return (char::from_u32(v).or(Some('\u{FFFD}')), j);
    }
    let mut j = 0;
    while j < b.len() && j < 10 && b[j].is_ascii_alphabetic() {
        j += 1;
    }
    if j == 0 {
        return (None, 0);
    }
    let name = &b[..j];
    for (n, ch) in NAMED {
        if name.eq_ignore_ascii_case(n.as_bytes()) {
            let used = if b.get(j) == Some(&b';') { j + 1 } else { j };
            return (Some(*ch), used);
        }
    }
    (None, 0)
}

/// Decodes backslash escapes used by JavaScript, JSON, CSS and C string literals:
/// `\uXXXX`, `\u{X..}`, `\xXX`, and octal `\NNN`. Other backslashes are kept.
pub fn backslash(input: &str) -> Cow<'_, str> {
    if !input.as_bytes().contains(&b'\\') {
        return Cow::Borrowed(input);
    }
    let b = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let n = b[i + 1];
            if (n == b'u' || n == b'U') && i + 5 < b.len() {
                if let Some(cp) = hex_n(&b[i + 2..i + 6]) {
                    push_char(&mut out, cp);
                    i += 6;
                    continue;
                }
            }
            if n == b'u' && b.get(i + 2) == Some(&b'{') {
                let mut j = i + 3;
                let mut v: u32 = 0;
                while j < b.len() && j < i + 10 {
                    match hex_val(b[j]) {
                        Some(d) => v = v * 16 + u32::from(d),
                        None => break,
                    }
                    j += 1;
                }
                if j > i + 3 && b.get(j) == Some(&b'}') {
                    push_char(&mut out, v);
                    i = j + 1;
                    continue;
                }
            }
            if (n == b'x' || n == b'X') && i + 3 < b.len() {
                if let (Some(h), Some(l)) = (hex_val(b[i + 2]), hex_val(b[i + 3])) {
                    out.push(h << 4 | l);
                    i += 4;
                    continue;
                }
            }
            if (b'0'..=b'3').contains(&n)
                && i + 3 < b.len()
                && (b'0'..=b'7').contains(&b[i + 2])
                && (b'0'..=b'7').contains(&b[i + 3])
            {
                out.push((n - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(bytes_to_text(&out).into_owned())
}

/// Compatibility normalisation (NFKC) plus removal of invisible format characters.
///
/// NFKC folds fullwidth `＜ｓｃｒｉｐｔ＞` and other compatibility forms to ASCII. Zero-width
/// and bidi controls are dropped because browsers and SQL engines ignore or mangle
/// them, while a byte-level matcher would be split by them.
pub fn unicode(input: &str) -> Cow<'_, str> {
    if input.is_ascii() {
        return Cow::Borrowed(input);
    }
    if let Some(done) = latin1_nfkc(input) {
        return done;
    }
    // Most non-ASCII text (accented Latin, CJK) is already NFKC; the quick check
    // answers that in one pass without building the normalised copy.
    if unicode_normalization::is_nfkc_quick(input.chars())
        == unicode_normalization::IsNormalized::Yes
        && !input.chars().any(is_invisible)
    {
        return Cow::Borrowed(input);
    }
    let s = unicode_full(input);
    if s == input {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(s)
    }
}

/// [`unicode`] without its shortcuts: the full normalisation of every input. For
/// tests and fuzzing, which check that the shortcuts never change the result.
#[doc(hidden)]
pub fn unicode_full(input: &str) -> String {
    // Invisibles go first so that what they separated can compose, which also makes
    // this function idempotent (see `variants`).
    input.chars().filter(|&c| !is_invisible(c)).nfkc().collect()
}

/// What [`unicode`] makes of the character whose two-byte UTF-8 form is `lead`, `n`:
/// for a Latin-1 character (`lead` `C2` or `C3`), `Some(None)` when it stays as it
/// is and `Some(Some(text))` when NFKC replaces it; `None` when only the full
/// normalisation can say (the C1 controls, the spacing diacritics `¨ ¯ ´ ¸`, which
/// decompose into a space and a combining mark, and everything past U+00FF).
fn latin1_fold(lead: u8, n: u8) -> Option<Option<&'static str>> {
    Some(match (lead, n) {
        // U+00C0..U+00FF: accented letters, `×`, `÷`.
        (0xC3, 0x80..=0xBF) => None,
        (
            0xC2,
            0xA1..=0xA7 | 0xA9 | 0xAB | 0xAC | 0xAE | 0xB0 | 0xB1 | 0xB6 | 0xB7 | 0xBB | 0xBF,
        ) => None,
        // The compatibility characters that fold to plain text: `3º B`, `1ª planta`,
        // `m²`, a no-break space. The soft hyphen is invisible and goes.
        (0xC2, 0xA0) => Some(" "),
        (0xC2, 0xAA) => Some("a"),
        (0xC2, 0xAD) => Some(""),
        (0xC2, 0xB2) => Some("2"),
        (0xC2, 0xB3) => Some("3"),
        (0xC2, 0xB5) => Some("\u{3BC}"),
        (0xC2, 0xB9) => Some("1"),
        (0xC2, 0xBA) => Some("o"),
        (0xC2, 0xBC) => Some("1\u{2044}4"),
        (0xC2, 0xBD) => Some("1\u{2044}2"),
        (0xC2, 0xBE) => Some("3\u{2044}4"),
        _ => return None,
    })
}

/// [`unicode`] for text whose non-ASCII characters are all Latin-1 letters and
/// signs (Spanish, French or German text, the common case), from one byte scan
/// instead of a normalisation check: NFKC leaves the letters alone and folds the
/// few compatibility signs to text that nothing around them composes with (there
/// is no combining mark in such text). `None` for any other text.
fn latin1_nfkc(input: &str) -> Option<Cow<'_, str>> {
    let b = input.as_bytes();
    let mut folds = false;
    let mut i = 0;
    while i < b.len() {
        if b[i] < 0x80 {
            i += 1;
            continue;
        }
        folds |= latin1_fold(b[i], *b.get(i + 1)?)?.is_some();
        i += 2;
    }
    if !folds {
        return Some(Cow::Borrowed(input));
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.bytes().position(|c| c >= 0x80) {
        out.push_str(&rest[..at]);
        let pair = rest.as_bytes();
        match latin1_fold(pair[at], pair[at + 1]).flatten() {
            Some(text) => out.push_str(text),
            None => out.push_str(&rest[at..at + 2]),
        }
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

/// Zero-width, bidi and soft-hyphen characters that renderers and databases drop.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Decodes a value that is entirely base64 (standard or URL-safe alphabet, padding
/// optional) when the result is mostly printable text. Used to see through
/// base64-wrapped payloads; binary results are ignored because they carry no
/// textual attack and would only produce noise.
pub fn base64_text(input: &str) -> Option<String> {
    let t = input.trim();
    if t.len() < 8 || t.len() % 4 == 1 {
        return None;
    }
    let body = t.trim_end_matches('=');
    if !body
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_'))
    {
        return None;
    }
    // Plain words and numbers are valid base64 too; real encodings of text mix cases
    // or digits, so demand some variety before spending time decoding.
    let has_upper = body.bytes().any(|c| c.is_ascii_uppercase());
    let has_lower = body.bytes().any(|c| c.is_ascii_lowercase());
    if !(has_upper && has_lower) {
        return None;
    }
    let bytes = base64_bytes(body)?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    if printable * 10 < text.chars().count() * 9 {
        return None;
    }
    Some(text.to_owned())
}

/// Raw base64 decoding with either alphabet and no padding requirement.
pub fn base64_bytes(body: &str) -> Option<Vec<u8>> {
    let body = body.trim_end_matches('=');
    let engine = if body.bytes().any(|c| c == b'-' || c == b'_') {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    engine.decode(body).ok()
}

/// Bytes one of which a decoding round needs (`%XX`, `&…;`, `\u`, `+`).
const ESCAPES: ByteSet = ByteSet::from_bytes(b"%&\\+");

/// What a whole-base64 value may hold (letters, digits, the two alphabets' extra
/// characters, padding, and blanks around it).
const BASE64: ByteSet = ByteSet::from_bytes(b"aA0+/-_= \t\r\n");

/// [`variants`] with the byte set of `raw` already computed: a value with nothing to
/// decode (no escape character, pure ASCII, not base64-shaped) returns at once,
/// without a pass per decoder.
pub fn variants_set(raw: &str, plus: bool, set: &ByteSet) -> Vec<String> {
    if !set.is_ascii() || set.intersects(&ESCAPES) {
        return variants(raw, plus);
    }
    // Pure ASCII with nothing to unescape: no decoding round changes it, and only a
    // base64 reading is left. That needs one run of the alphabet (blanks only around
    // it), both letter cases and at least 8 bytes, the same preconditions as
    // [`base64_text`], checked here from the set before any pass over the value.
    let mut out = Vec::new();
    let base64_shaped = raw.len() >= 8
        && set.is_subset(&BASE64)
        && set.has(b'A')
        && set.has(b'a')
        && !raw
            .trim()
            .bytes()
            .any(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'));
    if base64_shaped {
        base64_forms(raw, &mut out);
    }
    out
}

/// The text inside a base64 value, and its own decoding if it is escaped too.
fn base64_forms(raw: &str, out: &mut Vec<String>) {
    if let Some(b) = base64_text(raw) {
        // A base64 payload can itself be percent-encoded or escaped.
        let inner = one_round(&b, false).into_owned();
        if inner != b {
            out.push(inner);
        }
        out.push(b);
    }
}

/// Applies every decoder in a fixed order, repeatedly, and returns each distinct form
/// produced (the raw value is not included). `plus` says whether `+` means space,
/// which is true for query strings and form bodies only.
pub fn variants(raw: &str, plus: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur: Cow<'_, str> = Cow::Borrowed(raw);
    for _ in 0..MAX_ROUNDS {
        let next = one_round(&cur, plus);
        let Cow::Owned(next) = next else { break };
        if next == cur.as_ref() || out.contains(&next) {
            break;
        }
        // Another round changes nothing when no decoder has anything to decode
        // (the Unicode step is idempotent), so stop without running it.
        let settled = !next
            .bytes()
            .any(|c| c == b'%' || c == b'&' || c == b'\\' || (plus && c == b'+'));
        if settled {
            out.push(next);
            break;
        }
        out.push(next.clone());
        cur = Cow::Owned(next);
    }
    // Outside query strings and forms `+` is a plus sign, but a value that also
    // holds `%XX` escapes was form-encoded by whoever sent it (`%27+or+1%3D1`): it is
    // inspected as form-decoded too.
    // The same holds for a form that only appears after a round of decoding
    // (`%2B%2F%2A%21%2555NiOn` -> `+/*!%55NiOn`): the first form, raw or decoded,
    // that mixes `+` with escapes is form-decoded as well.
    if !plus {
        let form = std::iter::once(raw)
            .chain(out.iter().map(String::as_str))
            .find(|f| f.contains('+') && has_escape(f))
            .map(str::to_owned);
        if let Some(form) = form {
            for v in variants(&form, true) {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
    }
    base64_forms(raw, &mut out);
    out
}

/// True when `s` holds at least one `%XX` escape.
fn has_escape(s: &str) -> bool {
    s.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// One pass of every decoder; borrowed when nothing changed.
fn one_round(s: &str, plus: bool) -> Cow<'_, str> {
    let a = percent(s, plus);
    let b = match html_entities(&a) {
        Cow::Borrowed(_) => a,
        Cow::Owned(o) => Cow::Owned(o),
    };
    let c = match backslash(&b) {
        Cow::Borrowed(_) => b,
        Cow::Owned(o) => Cow::Owned(o),
    };
    match unicode(&c) {
        Cow::Borrowed(_) => c,
        Cow::Owned(o) => Cow::Owned(o),
    }
}

/// Turns decoded bytes into text the way a lenient server would: valid UTF-8 as is,
/// overlong encodings (`C0 AE` for `.`) to the character they spell, and any other
/// byte as its Latin-1 character.
pub fn bytes_to_text(b: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(b) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(b.len() + 8);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            out.push(c as char);
            i += 1;
            continue;
        }
        let len = match c {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 0,
        };
        if len > 0 && i + len <= b.len() && b[i + 1..i + len].iter().all(|&x| x & 0xC0 == 0x80) {
            let mut cp = u32::from(c) & (0x7F >> len);
            for &x in &b[i + 1..i + len] {
                cp = cp << 6 | u32::from(x & 0x3F);
            }
            // Overlong forms decode to their code point on purpose: the point is to
            // see what a non-validating decoder downstream would see.
            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
            i += len;
            continue;
        }
        out.push(char::from(c));
        i += 1;
    }
    Cow::Owned(out)
}

fn push_char(out: &mut Vec<u8>, cp: u32) {
    let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn hex_n(b: &[u8]) -> Option<u32> {
    b.iter()
        .try_fold(0u32, |acc, &c| hex_val(c).map(|d| acc * 16 + u32::from(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_plus_and_iis() {
        assert_eq!(percent("a%20b+c", true), "a b c");
        assert_eq!(percent("a+b", false), "a+b");
        assert_eq!(percent("%u003cscript", false), "<script");
        assert_eq!(percent("100%", false), "100%");
        assert_eq!(percent("%zz%4", false), "%zz%4");
        assert_eq!(percent("A%F1adir", false), "Añadir");
    }

    #[test]
    fn overlong_utf8() {
        assert_eq!(percent("%c0%ae%c0%ae/", false), "../");
        assert_eq!(percent("%e0%80%ae", false), ".");
    }

    #[test]
    fn entities() {
        assert_eq!(html_entities("&lt;a&gt;"), "<a>");
        assert_eq!(html_entities("&#x6A;&#0000097;&#118"), "jav");
        assert_eq!(html_entities("AT&T &unknown;"), "AT&T &unknown;");
        assert_eq!(html_entities("&Tab;"), "\t");
    }

    #[test]
    fn escapes() {
        assert_eq!(backslash(r"\u003cx\x3e\u{41}\101"), "<x>AA");
        assert_eq!(backslash(r"C:\path\n"), r"C:\path\n");
    }

    #[test]
    fn nfkc_and_invisibles() {
        // The Latin-1 fast path agrees with the full normalisation.
        for s in [
            "canción ¿qué? ¡sí! «ñandú» × ÷ Müller Ç",
            "a\u{A0}b",
            "x²",
            "ª",
            "soft\u{AD}hyphen",
        ] {
            let full = unicode_full(s);
            assert_eq!(unicode(s), full.as_str(), "{s}");
            assert!(latin1_nfkc(s).is_some(), "{s}");
        }
        // Every Latin-1 character, alone and between letters, digits and other
        // Latin-1 characters: the fast path either declines or agrees exactly.
        let mut taken = 0;
        for cp in 0x80..=0xFFu32 {
            let c = char::from_u32(cp).unwrap_or('?');
            for s in [
                format!("{c}"),
                format!("a{c}b"),
                format!("3{c} B"),
                format!("\u{e9}{c}\u{f1}{c}"),
                format!("{c}\u{ba}{c}"),
            ] {
                let full = unicode_full(&s);
                if let Some(fast) = latin1_nfkc(&s) {
                    taken += 1;
                    assert_eq!(fast, full.as_str(), "U+{cp:04X} in {s:?}");
                }
                assert_eq!(unicode(&s), full.as_str(), "U+{cp:04X} in {s:?}");
            }
        }
        // The C1 controls and the four spacing diacritics are the only declines.
        assert_eq!(taken, (96 - 4) * 5);
        assert_eq!(
            unicode("Calle de Alcal\u{e1} 42, 3\u{ba} B"),
            "Calle de Alcal\u{e1} 42, 3o B"
        );
        assert_eq!(unicode("＜ｓｃｒｉｐｔ＞"), "<script>");
        assert_eq!(unicode("se\u{200B}lect"), "select");
        assert_eq!(unicode("canción"), "canción");
    }

    #[test]
    fn form_encoded_values_outside_forms() {
        // A JSON or header value that was form-encoded by its sender.
        let v = variants("%27+or+1%3D1+--", false);
        assert!(v.iter().any(|x| x == "' or 1=1 --"), "{v:?}");
        // A plus sign with no escapes stays a plus sign.
        assert!(variants("C++ and 1+1", false).is_empty());
    }

    #[test]
    fn nested_rounds_are_bounded() {
        let v = variants("%252527", false);
        assert_eq!(
            v,
            vec!["%2527".to_owned(), "%27".to_owned(), "'".to_owned()]
        );
        // Ten levels deep: only MAX_ROUNDS are peeled.
        let mut s = "'".to_owned();
        for _ in 0..10 {
            s = s.replace('%', "%25").replace('\'', "%27");
        }
        assert_eq!(variants(&s, false).len(), MAX_ROUNDS);
    }

    #[test]
    fn the_byte_set_shortcut_agrees_with_the_full_pipeline() {
        for s in [
            "plain words",
            "SKU-00001",
            "customer",
            "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            "  PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==  ",
            "PHNj cmlw",
            "a%27b",
            "x&lt;y",
            "María",
            "1+1",
            "YWxlcnQoMSk",
        ] {
            for plus in [false, true] {
                let set = ByteSet::of(s.as_bytes());
                assert_eq!(variants_set(s, plus, &set), variants(s, plus), "{s}");
            }
        }
    }

    #[test]
    fn base64_payloads() {
        assert_eq!(
            base64_text("PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==").as_deref(),
            Some("<script>alert(1)</script>")
        );
        assert_eq!(base64_text("hello"), None);
        assert_eq!(base64_text("abcdefgh"), None);
    }
}
