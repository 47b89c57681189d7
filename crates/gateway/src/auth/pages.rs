//! The HTML of the login, second-factor and account pages.
//!
//! Every value that comes from a user or the database goes through [`escape`]; the
//! pages carry no script and no inline style, so their CSP can be `default-src 'none'`.

use std::fmt::Write as _;

/// HTML-escapes text for element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The stylesheet served at `/_centinela/static/centinela.css`.
pub const STYLESHEET: &str = "\
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1d2733;margin:0}\
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;\
box-shadow:0 1px 4px rgba(0,0,0,.12)}\
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .3rem;font-weight:600}\
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;\
border:1px solid #aab;border-radius:4px;font-size:1rem}\
button{margin-top:1.2rem;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#1f5fbf;\
color:#fff;font-size:1rem;cursor:pointer}\
.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}\
.note{color:#556;font-size:.9rem}.codes{font-family:monospace;font-size:1.1rem}\
form.inline{display:inline}svg{display:block;margin:1rem auto}";

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Centinela</title>\
         <link rel=\"stylesheet\" href=\"/_centinela/static/centinela.css\"></head>\
         <body><main>{body}</main></body></html>",
        escape(title)
    )
}

fn error_block(error: Option<&str>) -> String {
    error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default()
}

/// The login form.
pub fn login(csrf: &str, next: &str, error: Option<&str>, username: &str) -> String {
    layout(
        "Sign in",
        &format!(
            "<h1>Sign in</h1>{}\
             <form method=\"post\" action=\"/_centinela/login\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"next\" value=\"{}\">\
             <label for=\"username\">Username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" value=\"{}\" \
             autocomplete=\"username\" required maxlength=\"64\" autofocus>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" \
             autocomplete=\"current-password\" required maxlength=\"1024\">\
             <button type=\"submit\">Sign in</button></form>",
            error_block(error),
            escape(csrf),
            escape(next),
            escape(username),
        ),
    )
}

/// The second-factor form shown after a correct password.
pub fn totp_prompt(csrf: &str, next: &str, error: Option<&str>) -> String {
    layout(
        "Two-step verification",
        &format!(
            "<h1>Two-step verification</h1>{}\
             <form method=\"post\" action=\"/_centinela/login/totp\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"next\" value=\"{}\">\
             <label for=\"code\">Code from your authenticator app, or a recovery code</label>\
             <input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" required maxlength=\"32\" autofocus>\
             <button type=\"submit\">Verify</button></form>",
            error_block(error),
            escape(csrf),
            escape(next),
        ),
    )
}

/// The account page: who is signed in, second factor status, sign-out buttons.
pub fn account(
    username: &str,
    display_name: &str,
    roles: &[String],
    totp_enabled: bool,
    recovery_left: i64,
    csrf: &str,
) -> String {
    let mut body = format!(
        "<h1>Signed in as {}</h1><p>Username: <strong id=\"username\">{}</strong></p>\
         <p>Roles: <span id=\"roles\">{}</span></p>",
        escape(display_name),
        escape(username),
        escape(&roles.join(", ")),
    );
    if totp_enabled {
        let _ = write!(
            body,
            "<p id=\"mfa\">Two-step verification is <strong>on</strong> \
             ({recovery_left} recovery codes left).</p>"
        );
    } else {
        let _ = write!(
            body,
            "<p id=\"mfa\">Two-step verification is <strong>off</strong>.</p>\
             <form method=\"post\" action=\"/_centinela/account/totp/start\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Set up two-step verification</button></form>",
            escape(csrf)
        );
    }
    let _ = write!(
        body,
        "<form class=\"inline\" method=\"post\" action=\"/_centinela/logout\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{0}\">\
         <button type=\"submit\">Sign out</button></form> \
         <form class=\"inline\" method=\"post\" action=\"/_centinela/logout-everywhere\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{0}\">\
         <button type=\"submit\">Sign out everywhere</button></form>",
        escape(csrf)
    );
    layout("Account", &body)
}

/// Enrolment: the QR code, the secret for manual entry, and the confirmation form.
pub fn totp_enrol(qr_svg: &str, secret_base32: &str, csrf: &str, error: Option<&str>) -> String {
    layout(
        "Set up two-step verification",
        &format!(
            "<h1>Set up two-step verification</h1>{}\
             <p>Scan this code with an authenticator app:</p>{qr_svg}\
             <p class=\"note\">Or enter this key by hand: <code id=\"secret\">{}</code></p>\
             <form method=\"post\" action=\"/_centinela/account/totp/confirm\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label for=\"code\">Code shown by the app</label>\
             <input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" required maxlength=\"16\">\
             <button type=\"submit\">Turn on</button></form>",
            error_block(error),
            escape(secret_base32),
            escape(csrf),
        ),
    )
}

/// The recovery codes, shown once after enrolment.
pub fn recovery_codes(codes: &[String]) -> String {
    let items: String = codes
        .iter()
        .map(|c| format!("<li>{}</li>", escape(c)))
        .collect();
    layout(
        "Recovery codes",
        &format!(
            "<h1>Two-step verification is on</h1>\
             <p>Keep these recovery codes somewhere safe. Each works once, in place of a code \
             from your app. They will not be shown again.</p>\
             <ul class=\"codes\" id=\"recovery-codes\">{items}</ul>\
             <p><a href=\"/_centinela/account\">Back to your account</a></p>"
        ),
    )
}

/// A short page for errors of the login pages themselves.
pub fn message(title: &str, text: &str) -> String {
    layout(
        title,
        &format!(
            "<h1>{}</h1><p>{}</p><p><a href=\"/_centinela/login\">Sign in</a></p>",
            escape(title),
            escape(text)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            escape("<script>alert(\"x\")</script>&'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }

    #[test]
    fn login_page_escapes_reflected_values() {
        let page = login(
            "c\"srf",
            "/a\"><script>",
            Some("<b>bad</b>"),
            "\"><img src=x>",
        );
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>bad"));
        assert!(page.contains("&lt;b&gt;bad"));
    }
}
