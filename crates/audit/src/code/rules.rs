//! The rules of `audit code` (`CODE-0xx`). Ids are stable: never renumber, only add.

use crate::finding::Rule;

rule!(SQL_BUILT, "CODE-001", High, A1Injection,
    "SQL built from strings",
    "A query text is assembled with an f-string, `%`, `+`, `.format` or a template literal that includes a variable, then executed: whoever controls the variable controls the query.",
    "Pass values as parameters (`cursor.execute(\"... WHERE id = %s\", (id,))`, `connection.query('... WHERE id = ?', [id])`, `text(\"... :id\").bindparams(id=...)`); never format them into the SQL text.");
rule!(XXE, "CODE-002", High, A4Xxe,
    "XML parser resolves external entities or DTDs",
    "A parser that expands entities or loads DTDs lets a document read local files, reach internal hosts (SSRF) or exhaust memory (billion laughs).",
    "Disable entity resolution and DTD loading (`lxml.etree.XMLParser(resolve_entities=False, no_network=True)`, `defusedxml`, libxmljs without `noent`, fast-xml-parser without `processEntities`).");
rule!(DESERIALIZATION, "CODE-003", Critical, A8InsecureDeserialization,
    "Unsafe deserialization or code evaluation of data",
    "pickle, dill, shelve, jsonpickle, marshal, `yaml.load` without a safe loader, node-serialize, `eval`/`exec`/`Function`/`vm` run code chosen by whoever wrote the data.",
    "Use a data-only format (JSON with a schema, `yaml.safe_load`); never evaluate received text as code.");
rule!(XSS, "CODE-004", High, A7Xss,
    "Unescaped data written into HTML",
    "innerHTML/outerHTML/insertAdjacentHTML/document.write, React `dangerouslySetInnerHTML`, `Markup`/`mark_safe`, Jinja2 `autoescape=False`, a template's `|safe` on a variable or `{% autoescape off %}` block, or `res.send` of request data put markup from data into the page, where it runs as script.",
    "Write text, not markup (`textContent`, JSX children, autoescaping templates); when HTML is needed, sanitise it with a maintained sanitiser (DOMPurify, bleach).");
rule!(COMMAND, "CODE-005", Critical, A1Injection,
    "Shell command built from data",
    "A command line assembled from a variable and run through a shell (`shell=True`, `os.system`, `os.popen`, `child_process.exec`) lets the variable add its own commands.",
    "Run the program directly with an argument list (`subprocess.run([prog, arg])`, `execFile(prog, [arg])`), without a shell.");
rule!(TLS_VERIFY_OFF, "CODE-006", High, A3SensitiveDataExposure,
    "TLS certificate verification disabled",
    "`verify=False` or `rejectUnauthorized: false` accepts any certificate, so anyone on the path can read and change the traffic.",
    "Keep verification on; to trust a private CA, pass its certificate (`verify=\"/path/ca.pem\"`, `ca: fs.readFileSync(...)`).");
rule!(JWT_NO_VERIFY, "CODE-007", Critical, A2BrokenAuthentication,
    "JWT signature not verified",
    "Decoding a token with signature verification off (or accepting the `none` algorithm) lets anyone forge identities.",
    "Verify the signature with an explicit list of expected algorithms (`jwt.decode(t, key, algorithms=[\"HS256\"])`, `jwt.verify(t, key, { algorithms: ['RS256'] })`).");
rule!(WEAK_PASSWORD_HASH, "CODE-008", High, A2BrokenAuthentication,
    "Password hashed with MD5 or SHA-1",
    "Fast unsalted hashes are cracked at billions of guesses per second; a leaked table gives up most passwords.",
    "Hash passwords with Argon2id, scrypt or bcrypt (`argon2-cffi`, `bcrypt`, Node's `crypto.scrypt`).");
rule!(HARDCODED_SECRET, "CODE-009", Medium, A3SensitiveDataExposure,
    "Hard-coded secret",
    "A password, key or token written in the source is shared with everyone who can read the repository and cannot be rotated without a release.",
    "Read it from the environment or a secret store at run time, and rotate the exposed value.");

pub static RULES: &[&Rule] = &[
    &SQL_BUILT,
    &XXE,
    &DESERIALIZATION,
    &XSS,
    &COMMAND,
    &TLS_VERIFY_OFF,
    &JWT_NO_VERIFY,
    &WEAK_PASSWORD_HASH,
    &HARDCODED_SECRET,
];
