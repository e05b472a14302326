//! The HTML of the second-factor pages: enrolment (QR code, the secret for typing in, a code field), verification,
//! the recovery codes shown once, and the lock notice. Plain forms with native validation: no script needed.

use axum::response::Response;
use http::StatusCode;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::codes::RECOVERY_CODES;
use crate::auth::page::{document, escape};

pub struct EnrolmentView {
    pub secret_base32: Zeroizing<String>,
    pub qr_svg: Option<String>,
}

fn code_field(csrf_token: &str, error: Option<&str>, label: &str, help: &str, pattern: &str, button: &str) -> String {
    let (invalid, described) = match error {
        Some(_) => ("true", "code-help code-error"),
        None => ("false", "code-help"),
    };
    format!(
        r#"<form class="panel form" method="post" action="/signin/second-factor">
<input type="hidden" name="csrf_token" value="{csrf}">
<div class="field"><label for="code">{label}</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus
 pattern="{pattern}" maxlength="24" spellcheck="false" aria-describedby="{described}" aria-invalid="{invalid}">
<span id="code-help" class="help">{help}</span>
<span id="code-error" class="field-error" role="alert">{error}</span></div>
<button class="button primary" type="submit">{button}</button></form>"#,
        csrf = escape(csrf_token),
        label = escape(label),
        help = escape(help),
        error = escape(error.unwrap_or_default()),
        button = escape(button),
    )
}

pub fn enrol(status: StatusCode, view: &EnrolmentView, csrf_token: &str, error: Option<&str>) -> Response {
    let qr = view.qr_svg.as_deref().map_or(String::new(), |svg| {
        format!(
            r#"<figure class="qr" role="img" aria-label="QR code to add certdesk to your authenticator app">{svg}</figure>"#
        )
    });
    let main = format!(
        r#"<h1>Set up your second factor</h1>
<p>Your identity provider signed you in with a password only. certdesk hands out credentials for production
systems, so it asks for a second factor of its own: a code from an authenticator app (such as FreeOTP, Aegis,
Google Authenticator or 1Password).</p>
<ol class="steps"><li>Scan this QR code with the app, or type the key below into it.</li>
<li>Enter the 6-digit code the app shows.</li></ol>
{qr}
<p><span id="secret-label">Key for typing in</span>:
<code class="secret" data-totp-secret aria-labelledby="secret-label">{secret}</code></p>
{form}"#,
        secret = escape(&view.secret_base32),
        form = code_field(
            csrf_token,
            error,
            "Code from your app",
            "Six digits; a new code appears every 30 seconds.",
            "[0-9 ]{6,7}",
            "Confirm and sign in"
        ),
    );
    document(status, "Set up your second factor", &main)
}

pub fn verify(status: StatusCode, csrf_token: &str, error: Option<&str>) -> Response {
    let main = format!(
        r#"<h1>Enter your code</h1>
<p>Open your authenticator app and enter the current certdesk code. Lost your phone? Enter one of your recovery
codes instead (each works once).</p>
{form}"#,
        form = code_field(
            csrf_token,
            error,
            "Code",
            "6 digits from the app, or a recovery code like abcd-efgh-ijkl-mnop.",
            "[0-9 ]{6,7}|[A-Za-z0-9 \\-]{16,24}",
            "Sign in"
        ),
    );
    document(status, "Enter your code", &main)
}

pub fn recovery_codes(codes: &[Zeroizing<String>], next: &str) -> Response {
    let items: String = codes.iter().map(|code| format!("<li><code>{}</code></li>", escape(code))).collect();
    let main = format!(
        r#"<h1>Save your recovery codes</h1>
<div class="notice" role="status"><p><strong>Your second factor is set up.</strong> These {RECOVERY_CODES} codes
let you sign in if you lose your phone. Each works once. Store them somewhere safe now: they will not be shown
again.</p></div>
<ol class="recovery-codes" data-recovery-codes>{items}</ol>
<p><a class="button primary" href="{next}">I have saved them, continue</a></p>"#,
        next = escape(next),
    );
    document(StatusCode::OK, "Save your recovery codes", &main)
}

pub fn locked(until: OffsetDateTime) -> Response {
    let time =
        until.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| "in 15 minutes".to_owned());
    let main = format!(
        r#"<section class="error-panel" role="alert"><h1>Too many wrong codes</h1>
<p>To protect your account, certdesk stopped accepting codes for a while. Try again after
<time datetime="{time}">{time}</time> (UTC). If you did not just try to sign in, tell your security team.</p>
<p><a class="button" href="/auth/login">Start again</a></p></section>"#,
        time = escape(&time),
    );
    document(StatusCode::TOO_MANY_REQUESTS, "Too many wrong codes", &main)
}
