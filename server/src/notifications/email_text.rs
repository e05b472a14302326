//! The words of each notice e-mail, from the notice's payload.

use serde_json::Value;

/// Subject and plain-text body.
pub fn render(kind: &str, payload: &Value, portal: &reqwest::Url) -> (String, String) {
    let certificate = &payload["certificate"];
    let name = certificate["common_name"].as_str().unwrap_or("a certificate");
    let link = certificate["id"].as_str().and_then(|id| portal.join(&format!("certificates/{id}")).ok());
    let link = link.map(|url| format!("\n\n{url}\n")).unwrap_or_default();
    let expires = certificate["not_after"].as_str().unwrap_or("unknown");
    match kind {
        "expiry" => {
            let days = payload["days_left"].as_i64().unwrap_or_default();
            (
                format!("Certificate {name} expires in {days} days"),
                format!(
                    "The certificate for {name} expires on {expires} ({days} days from now). Renew it before \
                     then, or let automatic renewal do it.{link}"
                ),
            )
        }
        "revoked" => (
            format!("Certificate {name} was revoked"),
            format!(
                "The certificate for {name} was revoked (reason: {}). Clients will stop trusting it as soon as they \
                 fetch the CRL.{link}",
                payload["reason"].as_str().unwrap_or("not given")
            ),
        ),
        "renewal_succeeded" => (
            format!("Certificate {name} was renewed"),
            format!("The certificate for {name} was renewed; the new one expires on {expires}. Deploy it.{link}"),
        ),
        "renewal_failed" => (
            format!("Renewing certificate {name} failed"),
            format!(
                "certdesk could not renew the certificate for {name} (it expires on {expires}): {}. It will try \
                 again.{link}",
                payload["error"].as_str().unwrap_or("unknown error")
            ),
        ),
        _ => digest(payload),
    }
}

fn digest(payload: &Value) -> (String, String) {
    let lines = |key: &str| -> Vec<String> {
        payload[key]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|entry| {
                        let detail = entry["detail"].as_str().map(|detail| format!(" — {detail}")).unwrap_or_default();
                        format!(
                            "  {}  {}  {}{detail}",
                            entry["at"].as_str().unwrap_or(""),
                            entry["common_name"].as_str().unwrap_or(""),
                            entry["owner"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (expiring, failures) = (lines("expiring"), lines("failures"));
    let date = payload["date"].as_str().unwrap_or("today");
    let section = |title: &str, lines: &[String]| {
        if lines.is_empty() { format!("{title}: none\n") } else { format!("{title}:\n{}\n", lines.join("\n")) }
    };
    (
        format!("certdesk digest {date}: {} expiring, {} failures", expiring.len(), failures.len()),
        format!(
            "{}\n{}",
            section("Certificates expiring within 14 days", &expiring),
            section("Failures in the last 24 hours", &failures)
        ),
    )
}
