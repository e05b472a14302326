//! http-01 against an axum server on a free port of 127.0.0.1, the name looked up through BIND.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use certdesk::acme_server::validation::ChallengeKind;

use super::{Proof, bind, failure, timed};
use crate::support::{free_port, silent_listener};

/// What the server saw: path, `Host` and `User-Agent` of each request.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// Serves `answer(path)` for every request on a free port; returns the port and what it saw.
async fn serve(answer: impl Fn(&str) -> Response + Clone + Send + Sync + 'static) -> (u16, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let router = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let header = |name| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
        record.lock().unwrap().push((uri.path().to_owned(), header(header::HOST), header(header::USER_AGENT)));
        let response = answer(uri.path());
        async move { response }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (port, seen)
}

fn redirect(location: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn challenge_path(proof: &Proof) -> String {
    format!("/.well-known/acme-challenge/{}", proof.token)
}

#[tokio::test]
async fn the_key_authorization_at_the_well_known_path_validates() {
    let bind = bind();
    let proof = Proof::new();
    let (path, body) = (challenge_path(&proof), format!("{}\r\n", proof.key_authorization));
    let (port, seen) =
        serve(
            move |asked| {
                if asked == path { body.clone().into_response() } else { StatusCode::NOT_FOUND.into_response() }
            },
        )
        .await;
    let name = bind.fresh_name();
    let validator = bind.validator(port, 9, Duration::from_secs(5));
    assert_eq!(validator.validate(&proof.challenge(ChallengeKind::Http01, &name)).await, Ok(()));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (path, host, user_agent) = &seen[0];
    assert_eq!(path, &challenge_path(&proof));
    assert_eq!(host, &format!("{name}:{port}"), "the Host is the name, never the address");
    assert!(user_agent.starts_with("certdesk/"), "{user_agent}");
    // A name outside the zone, which BIND forwards to challtestsrv: its A answers, its AAAA fails (SERVFAIL, see
    // end2end/stack/bind.sh); one family with an address is enough.
    let elsewhere = format!("t{}.example.test", uuid::Uuid::new_v4().simple());
    assert_eq!(validator.validate(&proof.challenge(ChallengeKind::Http01, &elsewhere)).await, Ok(()));
}

#[tokio::test]
async fn a_wrong_body_is_an_incorrect_response_quoting_it() {
    let bind = bind();
    let proof = Proof::new();
    let (port, _) = serve(|_| "somebody-elses.answer\n\u{1b}[31m".into_response()).await;
    let validator = bind.validator(port, 9, Duration::from_secs(5));
    let detail = failure(
        validator.validate(&proof.challenge(ChallengeKind::Http01, &bind.fresh_name())).await,
        "incorrectResponse",
    );
    assert!(detail.contains("somebody-elses.answer\\n\\u{1b}[31m"), "escaped, not raw: {detail}");
    assert!(detail.contains(&proof.key_authorization), "{detail}");
    let (port, _) = serve(|_| "x".repeat(100_000).into_response()).await;
    let validator = bind.validator(port, 9, Duration::from_secs(5));
    let detail = failure(
        validator.validate(&proof.challenge(ChallengeKind::Http01, &bind.fresh_name())).await,
        "incorrectResponse",
    );
    assert!(detail.contains("more than 8 KiB") && detail.len() < 1000, "cut short: {detail}");
}

#[tokio::test]
async fn an_error_status_is_unauthorized() {
    let bind = bind();
    let proof = Proof::new();
    let (port, _) = serve(|_| (StatusCode::NOT_FOUND, "no such file").into_response()).await;
    let validator = bind.validator(port, 9, Duration::from_secs(5));
    let name = bind.fresh_name();
    let detail = failure(validator.validate(&proof.challenge(ChallengeKind::Http01, &name)).await, "unauthorized");
    assert_eq!(detail, format!("Invalid response from http://{name}:{port}{}: 404", challenge_path(&proof)));
}

#[tokio::test]
async fn nothing_listening_is_a_connection_problem_and_no_address_a_dns_problem() {
    let bind = bind();
    let proof = Proof::new();
    let validator = bind.validator(free_port(), 9, Duration::from_secs(5));
    let (result, took) = timed(&validator, &proof.challenge(ChallengeKind::Http01, &bind.fresh_name())).await;
    let detail = failure(result, "connection");
    assert!(detail.starts_with("127.0.0.1: Fetching http://") && detail.ends_with("Connection refused"), "{detail}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let missing = bind.missing_name();
    let detail = failure(validator.validate(&proof.challenge(ChallengeKind::Http01, &missing)).await, "dns");
    assert_eq!(
        detail,
        format!("DNS problem: NXDOMAIN looking up A for {missing} - check that a DNS record exists for this domain")
    );
}

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_timeout() {
    let bind = bind();
    let (port, holder) = silent_listener().await;
    let validator = bind.validator(port, 9, Duration::from_secs(2));
    let proof = Proof::new();
    let (result, took) = timed(&validator, &proof.challenge(ChallengeKind::Http01, &bind.fresh_name())).await;
    let detail = failure(result, "connection");
    assert!(detail.contains("Timeout"), "{detail}");
    assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(3), "{took:?}");
    holder.abort();
}

/// A server whose challenge path redirects through `/hop/1` … `/hop/{hops - 1}`, alternating between two names
/// (each looked up through BIND again), the last hop answering the key authorization.
async fn redirecting(hops: usize, proof: &Proof, names: [String; 2]) -> (u16, Seen) {
    let (start, body) = (challenge_path(proof), proof.key_authorization.clone());
    let port = Arc::new(std::sync::OnceLock::<u16>::new());
    let known_port = Arc::clone(&port);
    let (served_port, seen) = serve(move |asked| {
        let hop = if asked == start {
            0
        } else {
            asked.strip_prefix("/hop/").and_then(|n| n.parse().ok()).unwrap_or(usize::MAX)
        };
        match hop {
            usize::MAX => StatusCode::NOT_FOUND.into_response(),
            hop if hop == hops => body.clone().into_response(),
            hop => redirect(format!("http://{}:{}/hop/{}", names[hop % 2], known_port.get().unwrap(), hop + 1)),
        }
    })
    .await;
    port.set(served_port).unwrap();
    (served_port, seen)
}

#[tokio::test]
async fn ten_redirects_are_followed_and_the_eleventh_is_refused() {
    let bind = bind();
    let proof = Proof::new();
    let name = bind.fresh_name();
    let names = [bind.fresh_name(), bind.fresh_name()];

    let (port, seen) = redirecting(10, &proof, names.clone()).await;
    let validator = bind.validator(port, 9, Duration::from_secs(5));
    assert_eq!(validator.validate(&proof.challenge(ChallengeKind::Http01, &name)).await, Ok(()));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 11);
    assert_eq!(seen[1].1, format!("{}:{port}", names[0]), "each hop is asked for by its own name");
    assert_eq!(seen[10].0, "/hop/10");

    let (port, seen) = redirecting(11, &proof, names).await;
    let validator = bind.validator(port, 9, Duration::from_secs(5));
    let detail = failure(validator.validate(&proof.challenge(ChallengeKind::Http01, &name)).await, "connection");
    assert!(detail.contains("Too many redirects"), "{detail}");
    assert_eq!(seen.lock().unwrap().len(), 11, "the eleventh redirect is not followed");
}

#[tokio::test]
async fn a_redirect_loop_stops_at_once() {
    let bind = bind();
    let proof = Proof::new();
    let start = challenge_path(&proof);
    let (port, seen) =
        serve(move |asked| redirect(if asked == start { "/elsewhere".to_owned() } else { start.clone() })).await;
    let validator = bind.validator(port, 9, Duration::from_secs(5));
    let detail =
        failure(validator.validate(&proof.challenge(ChallengeKind::Http01, &bind.fresh_name())).await, "connection");
    assert!(detail.contains("Redirect loop"), "{detail}");
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn redirects_to_an_address_another_port_or_scheme_are_not_followed() {
    let bind = bind();
    let proof = Proof::new();
    for (target, expected) in [
        ("http://127.0.0.1:{port}/x", "not IP addresses"),
        ("http://{name}/x", "Invalid port"),
        ("https://{name}:{port}/x", "Invalid port"),
        ("ftp://{name}:{port}/x", "Invalid protocol scheme"),
    ] {
        let name = bind.fresh_name();
        let port = Arc::new(std::sync::OnceLock::<u16>::new());
        let (known_port, redirect_name) = (Arc::clone(&port), name.clone());
        let (served_port, seen) = serve(move |_| {
            let port = known_port.get().unwrap().to_string();
            redirect(target.replace("{port}", &port).replace("{name}", &redirect_name))
        })
        .await;
        port.set(served_port).unwrap();
        let validator = bind.validator(served_port, 9, Duration::from_secs(5));
        let detail = failure(validator.validate(&proof.challenge(ChallengeKind::Http01, &name)).await, "connection");
        assert!(detail.contains(expected), "{target}: {detail}");
        assert_eq!(seen.lock().unwrap().len(), 1, "{target}: nothing followed");
    }
}
