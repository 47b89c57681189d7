//! The rules of `audit https`: `HTTPS-00x` TLS, `-01x` certificate, `-02x` headers,
//! `-03x` cookies, `-04x` CORS, `-05x` plain HTTP. Ids are stable.

use crate::finding::Rule;

rule!(OLD_TLS, "HTTPS-001", High, A3SensitiveDataExposure,
    "TLS 1.0 or 1.1 accepted",
    "TLS 1.0 and 1.1 are deprecated (RFC 8996): they rely on SHA-1/MD5 constructions and CBC modes with known attacks.",
    "Accept only TLS 1.2 and 1.3.");
rule!(
    NO_TLS13,
    "HTTPS-002",
    Low,
    A3SensitiveDataExposure,
    "TLS 1.3 not offered",
    "TLS 1.3 removes legacy algorithms and encrypts more of the handshake.",
    "Enable TLS 1.3 in the server or terminating proxy."
);
rule!(WEAK_CIPHER, "HTTPS-003", High, A3SensitiveDataExposure,
    "Weak cipher suite accepted",
    "The server agrees to a suite without forward secrecy, with a broken cipher (RC4, 3DES, NULL, EXPORT) or with CBC mode.",
    "Offer only ECDHE with AES-GCM or ChaCha20-Poly1305 (and the TLS 1.3 suites).");
rule!(CERT_EXPIRY, "HTTPS-010", Critical, A3SensitiveDataExposure,
    "Certificate expired or expiring",
    "An expired certificate trains users to click through warnings; one about to expire is an outage waiting to happen.",
    "Renew the certificate, and automate renewal (ACME) with monitoring of the expiry date.");
rule!(CERT_NAME, "HTTPS-011", High, A3SensitiveDataExposure,
    "Certificate does not match the host",
    "No subject alternative name of the certificate matches the host name, so clients cannot authenticate the server.",
    "Issue a certificate whose subjectAltName lists this host name.");
rule!(CERT_UNTRUSTED, "HTTPS-012", High, A3SensitiveDataExposure,
    "Certificate chain not trusted",
    "The chain does not verify against the trusted roots (self-signed, unknown CA, missing intermediate), so clients must disable verification to connect.",
    "Serve a certificate from a trusted CA with its full intermediate chain (or pass the private CA with --ca-file).");
rule!(CERT_WEAK_KEY, "HTTPS-013", High, A3SensitiveDataExposure,
    "Weak certificate key",
    "RSA keys under 2048 bits (or EC keys under 256 bits) can be factored or attacked with feasible resources.",
    "Use RSA 2048+ (3072 preferred) or ECDSA P-256/P-384 or Ed25519.");
rule!(
    CERT_SHA1,
    "HTTPS-014",
    Medium,
    A3SensitiveDataExposure,
    "Certificate signed with SHA-1 or MD5",
    "Chosen-prefix collisions on SHA-1 and MD5 allow forged certificates.",
    "Reissue the certificate with a SHA-256 (or stronger) signature."
);
rule!(NO_HSTS, "HTTPS-020", Medium, A3SensitiveDataExposure,
    "HSTS missing or weak",
    "Without Strict-Transport-Security (with a long max-age), the first plain-HTTP request can be intercepted and downgraded (SSL stripping).",
    "Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` on every HTTPS response.");
rule!(NO_CSP, "HTTPS-021", Medium, A7Xss,
    "No Content-Security-Policy",
    "Without a CSP, any injected script runs with the page's full authority.",
    "Send a Content-Security-Policy, e.g. `default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`.");
rule!(WEAK_CSP, "HTTPS-022", Medium, A7Xss,
    "Weak Content-Security-Policy",
    "The policy allows what it should prevent: inline or eval'd script, scripts from any host, plugins (no object-src), or <base> rewriting (no base-uri).",
    "Remove 'unsafe-inline', 'unsafe-eval' and wildcards from script sources (use nonces or hashes); add `object-src 'none'` and `base-uri 'none'`.");
rule!(NO_NOSNIFF, "HTTPS-023", Low, A7Xss,
    "X-Content-Type-Options missing",
    "Without `nosniff`, browsers may execute an uploaded file as script or style by guessing its type.",
    "Send `X-Content-Type-Options: nosniff`.");
rule!(NO_FRAME_PROTECTION, "HTTPS-024", Medium, A6SecurityMisconfiguration,
    "Framing not restricted",
    "Neither X-Frame-Options nor CSP `frame-ancestors` is set, so other sites can frame the page (clickjacking).",
    "Send `Content-Security-Policy: frame-ancestors 'none'` (and `X-Frame-Options: DENY` for old browsers).");
rule!(REFERRER, "HTTPS-025", Low, A3SensitiveDataExposure,
    "Referrer-Policy missing or leaky",
    "Full URLs (with tokens or identifiers in paths and queries) leak to other sites through the Referer header.",
    "Send `Referrer-Policy: strict-origin-when-cross-origin` or `no-referrer`.");
rule!(NO_PERMISSIONS_POLICY, "HTTPS-026", Info, A6SecurityMisconfiguration,
    "Permissions-Policy missing",
    "Without a Permissions-Policy, embedded content may ask for the camera, microphone, geolocation and similar features.",
    "Send a Permissions-Policy that disables unused features, e.g. `camera=(), microphone=(), geolocation=()`.");
rule!(VERSION_DISCLOSURE, "HTTPS-027", Low, A9VulnerableComponents,
    "Server or framework version disclosed",
    "Version numbers in Server, X-Powered-By and similar headers tell an attacker which known vulnerabilities to try.",
    "Remove the version (e.g. `server_tokens off`, `expose_php = Off`) or the header.");
rule!(
    COOKIE_SECURE,
    "HTTPS-030",
    Medium,
    A2BrokenAuthentication,
    "Cookie without Secure",
    "A cookie without `Secure` is also sent over plain HTTP, where it can be read and stolen.",
    "Add `Secure` to every cookie set over HTTPS."
);
rule!(
    COOKIE_HTTPONLY,
    "HTTPS-031",
    Low,
    A7Xss,
    "Cookie without HttpOnly",
    "Script can read a cookie without `HttpOnly`, so an XSS steals the session.",
    "Add `HttpOnly` to every cookie that script does not need."
);
rule!(
    COOKIE_SAMESITE,
    "HTTPS-032",
    Low,
    A5BrokenAccessControl,
    "Cookie without SameSite",
    "Without `SameSite=Lax` or `Strict`, the cookie rides along on cross-site requests (CSRF).",
    "Add `SameSite=Lax` (or `Strict`)."
);
rule!(CORS_REFLECT, "HTTPS-040", High, A5BrokenAccessControl,
    "CORS reflects any Origin",
    "The server echoes an arbitrary Origin in Access-Control-Allow-Origin; with credentials allowed, any site can read authenticated responses.",
    "Allow only a fixed list of trusted origins, and credentials only for them.");
rule!(
    NO_REDIRECT,
    "HTTPS-050",
    Medium,
    A3SensitiveDataExposure,
    "Plain HTTP does not redirect to HTTPS",
    "Users who type the bare name, or follow an http:// link, stay on an unencrypted connection.",
    "Answer every plain-HTTP request with a 301/308 redirect to the https:// URL (and send HSTS)."
);

pub static RULES: &[&Rule] = &[
    &OLD_TLS,
    &NO_TLS13,
    &WEAK_CIPHER,
    &CERT_EXPIRY,
    &CERT_NAME,
    &CERT_UNTRUSTED,
    &CERT_WEAK_KEY,
    &CERT_SHA1,
    &NO_HSTS,
    &NO_CSP,
    &WEAK_CSP,
    &NO_NOSNIFF,
    &NO_FRAME_PROTECTION,
    &REFERRER,
    &NO_PERMISSIONS_POLICY,
    &VERSION_DISCLOSURE,
    &COOKIE_SECURE,
    &COOKIE_HTTPONLY,
    &COOKIE_SAMESITE,
    &CORS_REFLECT,
    &NO_REDIRECT,
];
