//! One ACME order driven from wherever it stands to its end: created at the CA (its URL stored at once), each
//! authorization answered (HTTP-01 answer in PostgreSQL, DNS-01 TXT record published and seen) and handed to the
//! CA, polled while the CA validates, finalized with the request's CSR, the chain fetched, verified and recorded
//! like any other certificate. Progress is saved after every step, so a restarted certdesk resumes from the stored
//! order URL; a transient failure (network, 5xx, rate limit) schedules the next attempt as late as the CA asks; a
//! final one (a failed challenge) fails the request with the CA's words. Challenge answers are taken down at the
//! end, success or not.

use std::time::Duration;

use app::model::AuthorizationProgress;
use instant_acme::{
    Account, AuthorizationStatus, ChallengeStatus, ChallengeType, Identifier, NewOrder, Order, OrderStatus,
};
use serde_json::json;
use time::OffsetDateTime;

use super::challenges;
use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::db::acme::{OrderRequest, OrderRow, Progress};
use crate::error::ServerError;
use crate::issuance::record::{complete, fail, verified};
use crate::issuance::renewal_settings::IntentSettings;
use crate::issuers::acme::problem::{AcmeFailure, classify, describe, to_json};
use crate::issuers::acme::{AcmeIssuer, challenge_for};
use crate::issuers::{Issuer, Signed};
use crate::state::AppState;

/// A driver holds its order this long without saving progress before another replica may take over.
pub const LEASE: Duration = Duration::from_secs(30);
const FIRST_POLL: Duration = Duration::from_millis(500);
const MAX_POLL: Duration = Duration::from_secs(5);
const FIRST_RETRY: Duration = Duration::from_secs(2);
const MAX_RETRY: Duration = Duration::from_secs(300);

/// Why the driver stopped before the order ended.
enum Stop {
    /// Try again later (network, CA overloaded or rate limiting, lease lost).
    Later {
        detail: String,
        retry_after: Option<Duration>,
    },
    /// The request cannot succeed: fail it with this reason.
    Fail(String),
    /// The CA no longer knows the account: a new account needs a new order.
    AccountGone(String),
    /// Another driver saved since: it owns the order now.
    LeaseLost,
    /// The order ended (failed) and that is recorded.
    Ended,
    Internal(ServerError),
}

impl From<ServerError> for Stop {
    fn from(error: ServerError) -> Self {
        Self::Internal(error)
    }
}

impl From<sqlx::Error> for Stop {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

struct Driver<'a> {
    state: &'a AppState,
    issuer: &'a Issuer,
    acme: &'a AcmeIssuer,
    replica: &'a str,
    row: OrderRow,
    request: OrderRequest,
    views: Vec<AuthorizationProgress>,
}

pub(super) async fn advance(
    state: &AppState,
    issuer: &Issuer,
    acme: &AcmeIssuer,
    replica: &str,
    row: OrderRow,
) -> Result<(), ServerError> {
    let id = row.certificate_id;
    let Some(request) = db::acme::order_request(&state.pool, id).await? else {
        return Ok(());
    };
    let views = serde_json::from_value(row.authorizations.clone()).unwrap_or_default();
    let mut driver = Driver { state, issuer, acme, replica, row, request, views };
    if driver.request.status != "pending" {
        // Recorded before a crash kept the order row from saying so: only the order row is behind.
        let final_state = if driver.request.status == "failed" { "failed" } else { "valid" };
        driver.save_raw(final_state, None, None).await?;
        return Ok(());
    }
    if OffsetDateTime::now_utc() > driver.row.deadline {
        let reason =
            format!("the ACME order did not finish in time (it was {} when certdesk gave up)", driver.row.state);
        return driver.give_up(&reason, None).await;
    }
    let outcome = driver.run().await;
    match outcome {
        Ok(()) => Ok(()),
        Err(Stop::Later { detail, retry_after }) => driver.retry_later(&detail, retry_after).await,
        Err(Stop::Fail(reason)) => driver.give_up(&reason, None).await,
        Err(Stop::AccountGone(detail)) => {
            tracing::warn!(certificate = %id, detail = %detail, "the ACME CA no longer knows certdesk's account");
            acme.forget_account().await;
            // The old order belongs to the old account: start over with a new one.
            driver.row.order_url = None;
            driver.row.state = "new".into();
            driver.retry_later(&detail, Some(Duration::ZERO)).await
        }
        Err(Stop::LeaseLost | Stop::Ended) => Ok(()),
        Err(Stop::Internal(error)) => {
            // Keep the order for a later attempt; the error itself is for the logs.
            let _ = driver.retry_later("certdesk could not record progress", None).await;
            Err(error)
        }
    }
}

impl Driver<'_> {
    async fn run(&mut self) -> Result<(), Stop> {
        let account = self.acme.account().await.map_err(|error| Stop::Later {
            detail: error.to_string(),
            retry_after: self.acme.http.take_retry_after(),
        })?;
        let mut order = self.open(&account).await?;
        let mut poll = FIRST_POLL;
        loop {
            let status = order.state().status;
            match status {
                OrderStatus::Pending => {
                    self.answer_authorizations(&mut order).await?;
                    self.save("pending", None, Some(OffsetDateTime::now_utc() + LEASE)).await?;
                    self.wait(&mut poll).await?;
                    self.refresh_views(&mut order).await?;
                    order.refresh().await.map_err(|error| self.stop(&error))?;
                }
                OrderStatus::Ready => {
                    let csr = self.csr_der()?;
                    order.finalize_csr(&csr).await.map_err(|error| self.stop(&error))?;
                    self.save("processing", None, Some(OffsetDateTime::now_utc() + LEASE)).await?;
                }
                OrderStatus::Processing => {
                    self.wait(&mut poll).await?;
                    order.refresh().await.map_err(|error| self.stop(&error))?;
                }
                OrderStatus::Valid => return self.finish_valid(&mut order).await,
                OrderStatus::Invalid => {
                    self.refresh_views(&mut order).await?;
                    let reason = self.invalid_reason(&mut order);
                    let problem = order.state().error.as_ref().map(to_json);
                    return Err(self.fail_with(reason, problem).await);
                }
            }
        }
    }

    /// The stored order, or a new one (its URL saved before anything else happens).
    async fn open(&mut self, account: &Account) -> Result<Order, Stop> {
        if let Some(url) = self.row.order_url.clone() {
            return account.order(url).await.map_err(|error| self.stop(&error));
        }
        let identifiers: Vec<Identifier> = self
            .request
            .dns_names
            .iter()
            .map(|name| Identifier::Dns(name.clone()))
            .chain(self.request.ip_addresses.iter().filter_map(|ip| ip.parse().ok()).map(Identifier::Ip))
            .collect();
        let order = self.place(account, &identifiers).await?;
        self.row.order_url = Some(order.url().to_owned());
        self.save("pending", None, Some(OffsetDateTime::now_utc() + LEASE)).await?;
        let entry = Actor::job("acme")
            .did(Action::AcmeOrderCreated)
            .on(Object::Certificate(self.row.certificate_id))
            .with(json!({ "issuer": self.row.issuer_id, "order_url": order.url(),
                          "identifiers": self.request.names() }));
        audit::record(&self.state.pool, &self.state.chain_key, &entry, OffsetDateTime::now_utc())
            .await
            .map_err(|error| Stop::Internal(error.into()))?;
        Ok(order)
    }

    /// A new order; a renewal names the certificate it replaces (RFC 9773 §5) when the CA offers ARI. A CA that
    /// refuses the hint (no ARI, or that certificate was replaced already) gets the plain order instead.
    async fn place(&mut self, account: &Account, identifiers: &[Identifier]) -> Result<Order, Stop> {
        let predecessor = db::renewal::predecessor_leaf(&self.state.pool, self.row.certificate_id).await?;
        let replaces = predecessor
            .filter(|(issuer_id, _)| *issuer_id == self.row.issuer_id)
            .and_then(|(_, leaf_pem)| crate::issuers::acme::renewal_info::identifier_of(&leaf_pem));
        if let Some(replaces) = replaces {
            match account.new_order(&NewOrder::new(identifiers).replaces(replaces)).await {
                Ok(order) => return Ok(order),
                Err(instant_acme::Error::Unsupported(_)) => {}
                Err(instant_acme::Error::Api(problem))
                    if problem.r#type.as_deref().is_some_and(|kind| kind.ends_with(":alreadyReplaced")) => {}
                Err(error) => return Err(self.stop(&error)),
            }
        }
        account.new_order(&NewOrder::new(identifiers)).await.map_err(|error| self.stop(&error))
    }

    /// Answers every pending authorization with the challenge policy picks, then tells the CA to look.
    async fn answer_authorizations(&mut self, order: &mut Order) -> Result<(), Stop> {
        let mut views = Vec::new();
        let mut authorizations = order.authorizations();
        while let Some(next) = authorizations.next().await {
            let mut authorization = next.map_err(|error| self.stop(&error))?;
            let identifier = authorization.identifier().to_string();
            let choice = challenge_for(&self.acme.config, &identifier).map_err(Stop::Fail)?;
            let status = authorization.status;
            if status != AuthorizationStatus::Pending {
                views.push(view_of(&identifier, choice.kind.as_str(), &authorization));
                continue;
            }
            let wanted = match choice.kind {
                crate::config::ChallengeKind::Http01 => ChallengeType::Http01,
                crate::config::ChallengeKind::Dns01 => ChallengeType::Dns01,
            };
            let Some(mut challenge) = authorization.challenge(wanted) else {
                return Err(Stop::Fail(format!(
                    "{identifier}: the CA offers no {} challenge for this name",
                    choice.kind.as_str()
                )));
            };
            if challenge.status == ChallengeStatus::Pending {
                let key_authorization = challenge.key_authorization();
                challenges::publish(
                    self.state,
                    self.row.certificate_id,
                    &identifier,
                    &choice,
                    &challenge.token,
                    &key_authorization,
                )
                .await
                .map_err(|failure| match failure {
                    super::dns::PublishFailure::Final(reason) => Stop::Fail(reason),
                    super::dns::PublishFailure::Later(detail) => Stop::Later { detail, retry_after: None },
                    super::dns::PublishFailure::Database(error) => Stop::Internal(error.into()),
                })?;
                challenge.set_ready().await.map_err(|error| self.stop(&error))?;
            }
            views.push(AuthorizationProgress {
                identifier,
                challenge: choice.kind.as_str().into(),
                status: "processing".into(),
                detail: None,
            });
        }
        self.views = views;
        Ok(())
    }

    /// Re-reads each authorization still open, for the progress view and the failure message.
    async fn refresh_views(&mut self, order: &mut Order) -> Result<(), Stop> {
        let mut views = Vec::new();
        let mut authorizations = order.authorizations();
        while let Some(next) = authorizations.next().await {
            let mut authorization = next.map_err(|error| self.stop(&error))?;
            if authorization.status == AuthorizationStatus::Pending {
                authorization.refresh().await.map_err(|error| self.stop(&error))?;
            }
            let identifier = authorization.identifier().to_string();
            let kind =
                challenge_for(&self.acme.config, &identifier).map(|choice| choice.kind.as_str()).unwrap_or("dns-01");
            views.push(view_of(&identifier, kind, &authorization));
        }
        self.views = views;
        Ok(())
    }

    fn invalid_reason(&self, order: &mut Order) -> String {
        let failed: Vec<String> = self
            .views
            .iter()
            .filter(|view| view.status == "invalid")
            .map(|view| {
                format!(
                    "{}: the CA's {} check failed: {}",
                    view.identifier,
                    view.challenge,
                    view.detail.as_deref().unwrap_or("no reason given")
                )
            })
            .collect();
        if !failed.is_empty() {
            return failed.join("; ");
        }
        match &order.state().error {
            Some(problem) => format!("the CA refused the order: {}", describe(problem)),
            None => "the CA marked the order invalid without saying why".into(),
        }
    }

    async fn finish_valid(&mut self, order: &mut Order) -> Result<(), Stop> {
        let pem = match order.certificate().await.map_err(|error| self.stop(&error))? {
            Some(pem) => pem,
            None => {
                return Err(Stop::Later {
                    detail: "the CA has not published the certificate yet".into(),
                    retry_after: None,
                });
            }
        };
        let mut blocks = pem::parse_many(pem.as_bytes())
            .map_err(|error| Stop::Fail(format!("the CA sent a certificate chain that is not PEM: {error}")))?
            .into_iter()
            .filter(|block| block.tag() == "CERTIFICATE")
            .map(|block| block.into_contents());
        let Some(leaf_der) = blocks.next() else {
            return Err(Stop::Fail("the CA sent no certificate".into()));
        };
        let signed = Signed { leaf_der, chain_der: blocks.collect() };
        let material = match verified(self.issuer, signed) {
            Ok(material) => material,
            Err(failure) => return Err(self.fail_with(failure.reason(), None).await),
        };
        let actor = Actor::job("acme");
        complete(
            self.state,
            &actor,
            self.row.certificate_id,
            &self.row.issuer_id,
            &self.request.dns_names,
            material,
            IntentSettings::Stored,
            None,
        )
        .await?;
        self.views.iter_mut().for_each(|view| view.status = "valid".into());
        self.save("valid", None, None).await?;
        challenges::take_down(self.state, self.row.certificate_id).await;
        crate::metrics::issuance(&self.row.issuer_id, "issued", self.elapsed());
        Ok(())
    }

    /// Fails the request and ends the order; answers the `Stop` that ends the driver.
    async fn fail_with(&mut self, reason: String, problem: Option<serde_json::Value>) -> Stop {
        match self.end_failed("invalid", &reason, problem).await {
            Ok(()) => Stop::Ended,
            Err(error) => Stop::Internal(error),
        }
    }

    async fn give_up(&mut self, reason: &str, problem: Option<serde_json::Value>) -> Result<(), ServerError> {
        self.end_failed("failed", reason, problem).await
    }

    async fn end_failed(
        &mut self,
        state: &str,
        reason: &str,
        problem: Option<serde_json::Value>,
    ) -> Result<(), ServerError> {
        fail(self.state, &Actor::job("acme"), self.row.certificate_id, reason).await?;
        let problem = problem.unwrap_or_else(|| json!({ "detail": reason }));
        self.save_raw(state, Some(&problem), None).await?;
        // The request has failed whatever happens here: its answers still come down.
        let now = OffsetDateTime::now_utc();
        if let Err(error) =
            crate::renewal::failure::order_failed(self.state, self.row.certificate_id, reason, now).await
        {
            tracing::warn!(certificate = %self.row.certificate_id, error = %error, "could not record the failed renewal");
        }
        challenges::take_down(self.state, self.row.certificate_id).await;
        crate::metrics::issuance(&self.row.issuer_id, "failed", self.elapsed());
        Ok(())
    }

    async fn retry_later(&mut self, detail: &str, retry_after: Option<Duration>) -> Result<(), ServerError> {
        self.row.attempts += 1;
        let backoff = FIRST_RETRY.saturating_mul(1 << self.row.attempts.clamp(0, 8)).min(MAX_RETRY);
        let wait = retry_after.unwrap_or(backoff).min(Duration::from_secs(3600));
        tracing::info!(certificate = %self.row.certificate_id, attempt = self.row.attempts, retry_in_s = wait.as_secs(),
                       detail = %detail, "ACME order will be retried");
        crate::metrics::issuer_error(
            &self.row.issuer_id,
            &crate::issuers::IssuerError::Unavailable { issuer: self.row.issuer_id.clone(), detail: detail.into() },
        );
        let next = OffsetDateTime::now_utc() + wait;
        let state = self.row.state.clone();
        let progress = Progress {
            order_url: self.row.order_url.as_deref(),
            state: &state,
            authorizations: &serde_json::to_value(&self.views).unwrap_or_default(),
            problem: Some(&json!({ "detail": detail, "retrying": true })),
            attempts: self.row.attempts,
            next_attempt_at: next,
            leased_until: None,
        };
        db::acme::save_progress(
            &self.state.pool,
            self.row.certificate_id,
            self.replica,
            &progress,
            OffsetDateTime::now_utc(),
        )
        .await?;
        Ok(())
    }

    /// Saves the state reached; a driver that lost its lease stops.
    async fn save(
        &mut self,
        state: &str,
        problem: Option<&serde_json::Value>,
        lease: Option<OffsetDateTime>,
    ) -> Result<(), Stop> {
        if self.save_raw(state, problem, lease).await? { Ok(()) } else { Err(Stop::LeaseLost) }
    }

    async fn save_raw(
        &mut self,
        state: &str,
        problem: Option<&serde_json::Value>,
        lease: Option<OffsetDateTime>,
    ) -> Result<bool, ServerError> {
        self.row.state = state.to_owned();
        let now = OffsetDateTime::now_utc();
        let progress = Progress {
            order_url: self.row.order_url.as_deref(),
            state,
            authorizations: &serde_json::to_value(&self.views).unwrap_or_default(),
            problem,
            attempts: self.row.attempts,
            next_attempt_at: now,
            leased_until: lease,
        };
        Ok(db::acme::save_progress(&self.state.pool, self.row.certificate_id, self.replica, &progress, now).await?)
    }

    async fn wait(&self, poll: &mut Duration) -> Result<(), Stop> {
        if OffsetDateTime::now_utc() > self.row.deadline {
            return Err(Stop::Fail(format!(
                "the CA did not finish the order in time (it was still {})",
                self.row.state
            )));
        }
        let wait = self.acme.http.take_retry_after().unwrap_or(*poll).min(MAX_POLL);
        tokio::time::sleep(wait).await;
        *poll = (*poll * 2).min(MAX_POLL);
        Ok(())
    }

    fn csr_der(&self) -> Result<Vec<u8>, Stop> {
        let Some(csr_pem) = self.request.csr_pem.as_deref() else {
            return Err(Stop::Fail("the request has no stored CSR".into()));
        };
        pem::parse(csr_pem).map(pem::Pem::into_contents).map_err(|error| Stop::Fail(format!("stored CSR: {error}")))
    }

    fn stop(&self, error: &instant_acme::Error) -> Stop {
        match classify(error, self.acme.http.take_retry_after()) {
            AcmeFailure::Transient { detail, retry_after } => Stop::Later { detail, retry_after },
            AcmeFailure::Final(detail) => Stop::Fail(format!("the CA refused: {detail}")),
            AcmeFailure::AccountGone(detail) => Stop::AccountGone(detail),
        }
    }

    fn elapsed(&self) -> Duration {
        (OffsetDateTime::now_utc() - self.row.created_at).try_into().unwrap_or_default()
    }
}

fn view_of(identifier: &str, kind: &str, authorization: &instant_acme::AuthorizationState) -> AuthorizationProgress {
    let detail = authorization.challenges.iter().find_map(|challenge| challenge.error.as_ref()).map(describe);
    let status = match authorization.status {
        AuthorizationStatus::Pending => {
            let answered =
                authorization.challenges.iter().any(|challenge| challenge.status != ChallengeStatus::Pending);
            if answered { "processing" } else { "pending" }
        }
        AuthorizationStatus::Valid => "valid",
        AuthorizationStatus::Invalid => "invalid",
        AuthorizationStatus::Revoked => "revoked",
        AuthorizationStatus::Expired => "expired",
        AuthorizationStatus::Deactivated => "deactivated",
    };
    AuthorizationProgress {
        identifier: identifier.to_owned(),
        challenge: kind.to_owned(),
        status: status.into(),
        detail,
    }
}

/// The order as the certificate page shows it.
pub fn progress_of(row: &OrderRow) -> app::model::OrderProgress {
    let retrying = row
        .problem
        .as_ref()
        .filter(|problem| problem.get("retrying").and_then(serde_json::Value::as_bool) == Some(true))
        .and_then(|problem| problem.get("detail").and_then(serde_json::Value::as_str))
        .map(str::to_owned);
    app::model::OrderProgress {
        state: row.state.clone(),
        placed: row.order_url.is_some(),
        authorizations: serde_json::from_value(row.authorizations.clone()).unwrap_or_default(),
        next_attempt_at: retrying
            .as_ref()
            .and_then(|_| row.next_attempt_at.format(&time::format_description::well_known::Rfc3339).ok()),
        retrying,
    }
}
