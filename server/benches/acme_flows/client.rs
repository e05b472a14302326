//! The ACME client both arms run, to the letter: instant-acme over certdesk's own HTTP adapter (one reqwest client
//! trusting the stack's Pebble listener CA, HTTP/1.1 with kept-alive connections), counting every request it sends.
//! One flow, for an account that already exists: newOrder for one DNS name → its authorization → the http-01 key
//! authorization put on the responder → challenge ready → order polled until ready → finalize with a fresh EC
//! P-256 key's CSR (`certdesk::keys`, as the issuance benchmark makes them) → order polled until valid → chain
//! downloaded.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use certdesk::issuers::acme::http_client::AcmeHttp;
use certdesk::keys::{self, KeyType};
use certdesk::names::normalize_dns_name;
use instant_acme::{
    Account, BodyWrapper, BytesResponse, ChallengeType, ExternalAccountKey, HttpClient, Identifier, NewAccount,
    NewOrder, Order, OrderStatus,
};

use super::responder::Answers;

/// Between two polls of an order. Short, so the flow measures the servers rather than the client's patience; the
/// same in both arms (every poll is a request the server answers, counted in the requests per flow).
const POLL: Duration = Duration::from_millis(5);
/// A flow that takes longer than this has failed.
const GIVE_UP: Duration = Duration::from_secs(30);

/// The HTTP of every account of one arm; counts requests across them.
#[derive(Clone)]
pub struct Http {
    inner: AcmeHttp,
    requests: Arc<AtomicU64>,
}

impl Http {
    /// Trusts `listener_ca` (PEM) besides nothing else: Pebble serves HTTPS only, certdesk's listener is plain HTTP.
    pub fn new(listener_ca: &[u8]) -> Result<Self> {
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(listener_ca).context("Pebble's listener CA")?)
            .timeout(Duration::from_secs(20))
            .build()?;
        Ok(Self { inner: AcmeHttp::new(client), requests: Arc::default() })
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A new account at `directory_url`, bound to `eab` when given (certdesk asks for it, Pebble does not).
    pub async fn account(&self, directory_url: &str, eab: Option<&ExternalAccountKey>) -> Result<Account> {
        let new_account = NewAccount { contact: &[], terms_of_service_agreed: true, only_return_existing: false };
        let (account, _) = Account::builder_with_http(Box::new(self.clone()))
            .create(&new_account, directory_url.to_owned(), eab)
            .await
            .with_context(|| format!("creating an ACME account at {directory_url}"))?;
        Ok(account)
    }
}

impl HttpClient for Http {
    fn request(
        &self,
        request: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.request(request)
    }
}

/// One whole flow for `name`; an error says which step failed and what the server answered.
pub async fn flow(account: &Account, name: &str, answers: &Answers) -> Result<()> {
    tokio::time::timeout(GIVE_UP, steps(account, name, answers))
        .await
        .with_context(|| format!("the flow for {name} got no answer within {GIVE_UP:?}"))?
        .with_context(|| format!("the flow for {name}"))
}

async fn steps(account: &Account, name: &str, answers: &Answers) -> Result<()> {
    let identifiers = [Identifier::Dns(name.to_owned())];
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await.context("newOrder")?;
    ensure!(order.state().status == OrderStatus::Pending, "a new order is {:?}, not pending", order.state().status);
    let token = answer_http01(&mut order, answers).await?;
    let ready = poll_while(&mut order, &[OrderStatus::Pending]).await;
    answers.remove(&token);
    ensure!(ready? == OrderStatus::Ready, "the order did not become ready: {:?}", order.state());

    let key = tokio::task::spawn_blocking(|| keys::generate(KeyType::EcP256)).await??;
    let csr = keys::build_csr(&key, Some(name), &[normalize_dns_name(name)?], &[])?;
    order.finalize_csr(pem::parse(csr)?.contents()).await.context("finalize")?;
    let status = poll_while(&mut order, &[OrderStatus::Ready, OrderStatus::Processing]).await?;
    ensure!(status == OrderStatus::Valid, "the finalized order is {:?}: {:?}", status, order.state().error);
    let chain = order.certificate().await.context("downloading the certificate")?;
    match chain {
        Some(chain) if chain.contains("BEGIN CERTIFICATE") => Ok(()),
        other => bail!("the certificate download answered {other:?}"),
    }
}

/// Puts the key authorization of the order's one http-01 challenge on the responder and tells the server it is
/// ready; the token, to take the answer off again.
async fn answer_http01(order: &mut Order, answers: &Answers) -> Result<String> {
    let mut authorizations = order.authorizations();
    let mut authorization = authorizations.next().await.context("the order has no authorization")?.context("authz")?;
    let mut challenge = authorization.challenge(ChallengeType::Http01).context("no http-01 challenge offered")?;
    let token = challenge.token.clone();
    answers.put(&token, challenge.key_authorization().as_str());
    challenge.set_ready().await.context("challenge ready")?;
    Ok(token)
}

/// Polls the order every `POLL` while its status is one of `waiting`; the status it reached.
async fn poll_while(order: &mut Order, waiting: &[OrderStatus]) -> Result<OrderStatus> {
    while waiting.contains(&order.state().status) {
        tokio::time::sleep(POLL).await;
        order.refresh().await.context("polling the order")?;
    }
    Ok(order.state().status)
}
