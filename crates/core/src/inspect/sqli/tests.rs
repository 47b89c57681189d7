//! Unit tests for the SQL tokenizer and judge: attacks with bypass variants, and
//! benign look-alikes that must pass.
use super::*;

#[test]
fn tokenizer_basics() {
    let toks: Vec<Tok> = Lexer::new(b"1' OR 'a'='a'-- x", None)
        .map(|t| t.tok)
        .collect();
    assert_eq!(toks[0], Tok::Num { hex: false });
    assert_eq!(toks[1], Tok::Str { closed: true });
    let toks: Vec<Tok> = Lexer::new(b"/*!50000UNION*/ SELECT @@version", None)
        .map(|t| t.tok)
        .collect();
    assert_eq!(
        toks,
        vec![
            Tok::Kw(Kw::Union),
            Tok::Kw(Kw::Select),
            Tok::Var { sys: true }
        ]
    );
    let toks: Vec<Tok> = Lexer::new(b"0x41 x'41' `t` \\N", None)
        .map(|t| t.tok)
        .collect();
    assert_eq!(
        toks,
        vec![
            Tok::Num { hex: true },
            Tok::Num { hex: true },
            Tok::Word,
            Tok::Kw(Kw::Literal)
        ]
    );
}

#[test]
fn attacks_and_bypasses() {
    for s in [
        "1 OR 1=1",
        "1' OR '1'='1",
        "admin'--",
        "admin' #",
        "' or 1",
        "1 UNION SELECT username, password FROM users",
        "-1 uNiOn/**/sElEcT 1,2,3",
        "1 /*!50000UNION*/ /*!50000SELECT*/ 1,2",
        "1\tUNION\nSELECT\r1",
        "1;DROP TABLE users",
        "1'; EXEC xp_cmdshell('dir')--",
        "1 AND SLEEP(5)",
        "1' AND extractvalue(1,concat(0x7e,version()))-- -",
        "x') OR ('a'='a",
        "1 order by 5--",
        "1 into outfile '/tmp/x'",
        "0 div 1 union#foo\nselect#bar\n1,2,current_user",
        "\" or \"\"=\"",
        "1 AND 1=1",
        "1' waitfor delay '0:0:5'--",
    ] {
        assert!(is_sqli(s), "missed: {s}");
    }
}

#[test]
fn benign_look_alikes() {
    for s in [
        "O'Brien",
        "Mary O'Brien and John O'Neil",
        "I'd like to select the best option or the cheapest one",
        "Please select a size: small or large",
        "union of two sets",
        "drop me a line; I'll update you",
        "7 AND A HALF",
        "10 OR LESS",
        "WHERE IS GEORGE",
        "Rock 'n' roll",
        "El niño comió canción; ¿qué tal?",
        "Añadir al carrito",
        "if (a && b) { return x; }",
        "call me at 555-1234",
        "Apt is gated; call when you get here, and we'll come down to get it.",
        "3 BY 5 RECIPE CARDS",
        "It's 5 o'clock",
        "Dancin' like a robot on fire",
    ] {
        assert!(
            detect(s).is_none(),
            "false positive: {s} -> {:?}",
            detect(s)
        );
    }
}

#[test]
fn short_breakouts_and_statement_syntax() {
    for s in [
        // Leaving the literal, an operator, reopening it for the closing quote.
        "'%'",
        "' = '",
        "A' <> 'B",
        "aa'LIKE'0",
        "'NOT REGEXP'",
        "A' SOUNDS LIKE 'B",
        // A numeric expression, then the rest of the query commented away.
        "1--",
        "-1 --",
        "1 /*",
        " ( 'a' OR 1 )  --",
        "limit 0,1--",
        // Keyword operators before a parenthesis, lock clauses, statement bodies.
        "1001 RLIKE (-1) UNION SELECT 1 FROM CREDIT_CARDS",
        "1' IN BOOLEAN MODE) RLIKE (SELECT 1)#",
        "1 into outfile ('asd')",
        "1 AND 1 NOT LIKE 0",
        "-1.for update union select table_name from information_schema.tables limit 1",
        "1; delete quick from foo",
        "1;load xml local infile \"foo\"",
        "'begin declare @s varchar (8000);set @s = 1",
        "x'; use master; exec xp_cmdshell 'dir'--",
        "'; shutdown; ",
        "'<=>'",
        "(1) group by (1) union select 1--",
        "case when 2 then 3 end",
        "id having (1 or 1)",
        "1 - ANY(SELECT 1,2)",
        "-2 order select 1/*",
        "1- union(select table_name from information_schema.tables limit 1,1)",
        "FOO WAITFOR DELAY '0:0:5'--",
        "-97 union select null version()--",
        // Junk before the payload proper: judged again from the keyword.
        "9999' (select count(*) from sysusers as sys1,sysusers as sys2,sysusers as sys3) '9999",
        "-1--\n (union( select id from users limit 1,1))",
        "(select like('abcdefg',upper(hex(randomblob(150000000)))))",
        "select 'foo' from bar where",
        "1\0UNION\0SELECT\x002--",
        "1; EXECUTE AS LOGIN 'root'; GO xp_cmdshell 'whoami.exe' ; REVERT ;",
        "1'--sp_password",
        "select @version \"foo\" -- junk",
        "' - ( BINARY BINARY ( 'b') )  --",
        "1';declare @x int;shutdown",
        "SELECT\"table_name\"FROM[information_schema].[tables]",
        "' or MATCH username AGAINST ('+admin -a' IN BOOLEAN MODE); -- -a",
        "1\u{a0}UNION\u{a0}SELECT\u{a0}2--",
    ] {
        assert!(is_sqli(s), "missed: {s}");
    }
}

#[test]
fn quoted_symbols_and_lists_in_prose() {
    for s in [
        // `"` is the inch sign and the quotation mark.
        "SMALL \"&\" SIGN",
        "\"LIKE\" STAMP",
        "36\"+X+48\"+FRAME",
        "poem 'if'",
        "1,1--",
        "*/*",
        "close the door; open from 9",
        "use with care",
        "if you want, call me",
        "Chapter 1 -- intro",
        "Please select pair #1",
        "1 or 2 people",
        "in case when you arrive then call",
        "We will select from the menu",
        "Check the union; select a plan",
        "Please execute the plan",
        "SCRAPBOOK PAPER PACK (8.5X11\"-300 DPI) --",
        "a perfect match",
        "John \"Johnny\" Smith",
        "see [note 1] below",
    ] {
        assert!(
            detect(s).is_none(),
            "false positive: {s} -> {:?}",
            detect(s)
        );
    }
}

#[test]
fn pathological_inputs_are_linear() {
    // 1 MB of quotes, of parentheses and of comment openers: one pass each.
    for unit in ["'", "(", "/*", "--", "\\", "1 OR ", "@@", "0x"] {
        let s = unit.repeat((1 << 20) / unit.len());
        let _ = detect(&s);
    }
}

#[test]
fn mssql_batches_and_versioned_comments() {
    for s in [
        "3;/* a */ DECLARE @c varchar(255);/* b */SELECT @c='ping '+master.sys.fn_varbintohexstr(convert(varbinary,SYSTEM_USER));/*x*/ EXEC Master.dbo.xp_cmdshell @c",
        "1; DECLARE @x nvarchar(4000); SET @x = 'sel'+'ect 1'; EXEC(@x)",
        "'; declare @q int; exec master..xp_dirtree '//x/y'--",
        "1 /*!50000union*/ /*!50000select*/ 1,2,3",
        "/*!UNiOn*/ /*!SeLEct*/ ",
        "/*!UNiOn*/ /*!SeLEct*/+",
        "-1 /*!12345UNION SELECT*/ password FROM users",
        "1'; exec sp_executesql N'select 1'--",
    ] {
        assert!(is_sqli(s), "missed: {s}");
    }
}

#[test]
fn prose_that_resembles_statements() {
    for s in [
        "exec noun",
        "D'or 1st parfume",
        "D'or+1st+parfume",
        "declare your income",
        "I declare @home that we won",
        "10px or 2em",
        "delete",
        "update",
        "drop",
        "show",
        "print",
        "begin",
        "call",
    ] {
        assert!(
            detect(s).is_none(),
            "false positive: {s} -> {:?}",
            detect(s)
        );
    }
}

#[test]
fn inert_values_skip_the_judge() {
    for s in [
        "Valor+n%C3%BAmero+3+de+la+b%C3%BAsqueda",
        "Calle de Alcalá 42, 3º B",
        "SKU-00001",
        "+34 912 345 678",
        "maria.obrien",
        "10px 2em",
        "1st-class/2nd-class",
        "gift wrap, or leave at the door",
        // One operator word is worth at most two points, even in its best shape.
        "1 or 1",
        "1 xor 1",
        "2.5dOR 1",
    ] {
        assert!(inert(s), "should be inert: {s}");
        assert_eq!(detect_ungated(s), None, "{s}");
    }
    // Two reach the threshold: the allowance stops at one.
    assert!(detect_ungated("1 or 1 or 1").is_some());
    for s in [
        "1 or 1 or 1",
        "bread and butter or jam",
        "1or 1and 1",
        "1 union select 1",
        "1union",
        "1e5union",
        "1Dunion",
        "0.Dunion",
        // Found by the `sqli` fuzz target: `0.` `D` `DO`.
        "\0 \0\0\u{0}0.DDO\0 \0\0\u{0}0.DDO\u{11}\0\0\u{0}0.DDO\0 \0\0\u{0}0.DD",
        "1.5e+3and or",
        "0x41+0x42+0x43",
        "1 --",
        "xp_cmdshell",
        "union\u{a0}select",
        "a'b",
        "sleep(5)",
        "@@version",
        "1 div 2",
    ] {
        assert!(!inert(s), "should not be inert: {s}");
    }
}

/// The shortcut is only sound if the full judge never matches a value it calls
/// inert. Random values built from keyword fragments, digit-letter joins, hex
/// prefixes, separators and an occasional evidence byte check that.
#[test]
fn inert_never_hides_a_match() {
    use rand::{Rng, SeedableRng};
    const PIECES: &[&str] = &[
        "union",
        "select",
        "or",
        "and",
        "xor",
        "eqv",
        "IMP",
        "sleep",
        "xp_cmdshell",
        "sp_who",
        "information_schema",
        "sysobjects",
        "exec",
        "declare",
        "order",
        "by",
        "from",
        "null",
        "true",
        "case",
        "when",
        "then",
        "end",
        "1",
        "0",
        "42",
        "0x",
        "0b",
        "x",
        "e",
        "e5",
        "d",
        "F",
        "a",
        "ab",
        "foo",
        "ñ",
        "\u{a0}",
        "_",
        "$",
        " ",
        "+",
        "-",
        ".",
        ",",
        "/",
        "%",
        "^",
        "~",
        ":",
        "?",
        "{",
        "}",
        "]",
        "'",
        "\"",
        "(",
        ")",
        "=",
        "#",
        "--",
        "/*",
        "@",
        ";",
        "|",
        "&",
        "!",
        "<",
        ">",
        "*",
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let (mut inert_seen, mut matched_seen) = (0u32, 0u32);
    for _ in 0..60_000 {
        let n = rng.gen_range(1..16);
        let s: String = (0..n)
            .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
            .collect();
        let m = detect_ungated(&s);
        if inert(&s) {
            inert_seen += 1;
            assert!(m.is_none(), "inert but a match: {s:?} -> {m:?}");
        }
        if m.is_some() {
            matched_seen += 1;
            assert_eq!(detect(&s), m, "gated and full detection differ on {s:?}");
        }
    }
    // The generator must exercise both sides, or the test proves nothing.
    assert!(
        inert_seen > 2_000,
        "only {inert_seen} inert values generated"
    );
    assert!(
        matched_seen > 2_000,
        "only {matched_seen} matches generated"
    );
}

#[test]
fn every_resume_word_passes_the_letter_gate() {
    // `resume_words_walked` skips values with neither a `c` nor a `u`; the search
    // has no such gate, so the comparison below also checks it on real values.
    for w in RESUME_WORDS {
        assert!(w.contains('c') || w.contains('u'), "{w}");
    }
}

#[test]
fn resume_words_searched_where_the_walk_finds_them() {
    use rand::{Rng, SeedableRng};
    const PIECES: &[&str] = &[
        "union", "UNION", "Select", "select", "declare", "EXEC", "exec", "execute", "unions",
        "reunion", "sel", "ect", "1", "0x", "é", "_", "$", " ", "'", "\"", "(", ")", ",", "--",
        "/*", "*/", ";", "=", "@", "#", "or", "1=1", "from", "users", "char(", "\n",
    ];
    let starts = |s: &str, searched: bool| {
        let mut out = Vec::new();
        let f = |p: usize| {
            out.push(p);
            true
        };
        if searched {
            resume_words_searched(s.as_bytes(), f);
        } else {
            resume_words_walked(s.as_bytes(), f);
        }
        out
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x7e5);
    let mut found = 0usize;
    let mut gated = 0usize;
    for round in 0..40_000 {
        let n = rng.gen_range(1..24);
        let mut s: String = (0..n)
            .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
            .collect();
        // Every other value long enough for the prefiltered, lower-casing search.
        if round % 2 == 1 {
            s = format!("{} {s}", "note, ".repeat(50));
        }
        let walked = starts(&s, false);
        found += walked.len();
        gated += usize::from(!s.bytes().any(|c| matches!(c | 0x20, b'c' | b'u')));
        assert_eq!(starts(&s, true), walked, "{s:?}");
    }
    assert!(found > 10_000, "only {found} resume words generated");
    assert!(
        gated > 1_000,
        "only {gated} values without c or u generated"
    );
    // Both ways stop when asked to.
    let s = "x union select declare exec";
    for searched in [false, true] {
        let mut seen = 0;
        let f = |_| {
            seen += 1;
            seen < 2
        };
        if searched {
            resume_words_searched(s.as_bytes(), f);
        } else {
            resume_words_walked(s.as_bytes(), f);
        }
        assert_eq!(seen, 2);
    }
}

#[test]
fn number_suffixes_and_selectless_unions() {
    for s in [
        "1DUNION SELECT 2",
        "1fUNION SELECT 2",
        "-6374 union 1,2,3,4,5--",
        "9 UNION 1,2,3",
        "-747 select union 1,2,3,4,5,6/*",
        "1' select union 1,2,3,4,5,6/*",
    ] {
        assert!(is_sqli(s), "missed: {s}");
    }
    for s in [
        "2 union 3",
        "1d",
        "5 days",
        "3f or 4f",
        "12dB",
        "please select union members",
        "the information_schema docs",
        "O'Brien select the blue one please",
        "d'accord, select union members first",
    ] {
        assert!(
            detect(s).is_none(),
            "false positive: {s} -> {:?}",
            detect(s)
        );
    }
}

#[test]
fn lexer_quirks_and_lost_plus_signs() {
    for s in [
        // Backslashes splitting tokens, stray comment terminators, nested comments.
        "\\1UNION SELECT 2",
        "1=\\1AND\\1=\\1;",
        "SELECT 1FROM[t]WHERE\\1=\\1AND\\1=\\1",
        "1 union/*/**/*/select a, b from c",
        "*/ union select 1,2,3--",
        // A sigil before a function, ODBC escapes, an empty hex prefix.
        "-1' and substring(@version(),1,1)=5--",
        "{ts 1}UNION SELECT 2",
        "{fn 1} or 1=1",
        "SELECT 0xUNION SELECT 2",
        // `+` turned into spaces by form decoding.
        "1 or 1=(select top 1 cast(name as nvarchar) ':' cast(pass as nvarchar) from t)--",
        "(select top 1 @@version db_name() from sysobjects)",
        "X AND CHAR(124) USER CHAR(124)=0",
        "19 version() LIMIT 1,1",
        "x' find_in_set(a, 'b') and '1",
    ] {
        assert!(is_sqli(s), "missed: {s}");
    }
    for s in [
        "C:\\Users\\me\\Documents\\report (final).doc",
        "use \\ or / as separators",
        "{name} and {value} or {other}",
        "{ts 1}",
        "x*/y",
        "see chapter 3 (page 12) 'quoted' or not",
        "I paid 19 dollars (tax) or so",
        "type 2 char(s) or more",
        "ping @john (see above) or @mary",
        "0xford or oxford",
        "price (USD) 12 or 0x1F 0x20",
    ] {
        assert!(
            detect(s).is_none(),
            "false positive: {s} -> {:?}",
            detect(s)
        );
    }
}

#[test]
fn dialect_operators_labels_and_stripped_keywords() {
    for s in [
        // MS Access's logical operators.
        "foo' Eqv StrComp(name, 0x12 0x34,0) Imp 'a",
        // A T-SQL label, then a jump to it.
        "1'; again: goto again -- -a",
        // A FROM stripped before a catalog name.
        "select 1,2,3 table_name information_schema.tables--",
        // Cut off after a function as the first column of a subquery.
        "(select substr(login,",
    ] {
        assert!(is_sqli(s), "missed: {s}");
    }
    for s in [
        "the imp's hat or the elf's",
        "Joe's; TODO: goto page 3",
        "it's fine; note: do this",
        "select the information_schema docs",
        "(select one",
    ] {
        assert!(
            detect(s).is_none(),
            "false positive: {s} -> {:?}",
            detect(s)
        );
    }
}
