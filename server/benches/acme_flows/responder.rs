//! The http-01 responder the benchmark runs itself, on the port Pebble's validator connects to (the stack's Pebble
//! `httpPort`); certdesk's `[acme_validation] http01_port` points at the same port. It answers
//! `/.well-known/acme-challenge/{token}` with the key authorization a flow put there, and counts the fetches, so the
//! benchmark can tell that every flow of both arms was really validated.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use axum::extract::{Path, State};

#[derive(Default)]
struct Shared {
    answers: Mutex<HashMap<String, String>>,
    fetches: AtomicU64,
}

/// What the responder answers; cheap to clone.
#[derive(Clone, Default)]
pub struct Answers {
    shared: Arc<Shared>,
}

impl Answers {
    pub fn put(&self, token: &str, key_authorization: &str) {
        self.lock().insert(token.to_owned(), key_authorization.to_owned());
    }

    pub fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    /// How many answers were fetched so far.
    pub fn fetches(&self) -> u64 {
        self.shared.fetches.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A panic while holding the lock leaves a map that is still consistent: keep using it.
        self.shared.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn answer(&self, token: &str) -> Option<String> {
        let answer = self.lock().get(token).cloned();
        if answer.is_some() {
            self.shared.fetches.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }
}

/// Serves `answers` on 127.0.0.1:`port` until the benchmark ends.
pub async fn start(port: u16, answers: Answers) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("the http-01 responder cannot listen on 127.0.0.1:{port} (Pebble's httpPort)"))?;
    let app = axum::Router::new()
        .route(
            "/.well-known/acme-challenge/{token}",
            axum::routing::get(|State(answers): State<Answers>, Path(token): Path<String>| async move {
                answers.answer(&token).ok_or(http::StatusCode::NOT_FOUND)
            }),
        )
        .with_state(answers);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(())
}
