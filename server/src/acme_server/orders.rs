//! newOrder (RFC 8555 §7.4), the order URL and an account's list of orders. A new order is judged before anything
//! is stored: DNS identifiers only, the account's ACME account key's restriction, and the owner's issuance policy
//! by their groups as they are now, each refused name a subproblem of one `rejectedIdentifier`. The order, its
//! authorizations (one per name; already valid for names a `no_challenge` rule exempts), their challenges and the
//! audit row are written in one transaction.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::problem::{AcmeError, Subproblem};
use super::request::Posted;
use super::{Directory, renewal_info};
use crate::audit::{self, Action, Actor, Object};
use crate::db;
use crate::db::acme_server::AccountRow;
use crate::db::acme_server_orders::{NewAuthorization, NewOrder, OrderRow, OrderWithAuthorizations};
use crate::http::RequestContext;
use crate::names::{DnsName, normalize_dns_name};
use crate::policy::{self, PolicyRefusal};
use crate::state::AppState;

/// As many names as a certificate request may carry.
const MAX_IDENTIFIERS: usize = 100;
/// How long a client has to prove its names and finalize.
const ORDER_LIFETIME: time::Duration = time::Duration::hours(24);
/// The account's orders list holds the newest ones only.
const MAX_LISTED_ORDERS: i64 = 100;

/// The challenges offered for a name; a wildcard can be proven only in the DNS (RFC 8555 §7.1.3).
const CHALLENGES: [&str; 3] = ["http-01", "dns-01", "tls-alpn-01"];
const WILDCARD_CHALLENGES: [&str; 1] = ["dns-01"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewOrderPayload {
    identifiers: Vec<Identifier>,
    not_before: Option<String>,
    not_after: Option<String>,
    replaces: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Identifier {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

pub async fn new_order(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    context: RequestContext,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let (account, jws) = posted.verify_account(&state, &directory, now).await?;
    let owner_id = owner_of(&account)?;
    let payload = jws.json_payload()?.ok_or_else(|| AcmeError::malformed("newOrder needs a payload"))?;
    let payload: NewOrderPayload = serde_json::from_value(payload)
        .map_err(|error| AcmeError::malformed(format!("the newOrder payload is not what RFC 8555 says: {error}")))?;
    if payload.not_before.is_some() || payload.not_after.is_some() {
        return Err(AcmeError::malformed(format!(
            "certdesk sets a certificate's validity itself ({} days at most here, as the issuance policy allows): \
             leave notBefore and notAfter out",
            directory.server.validity_days
        )));
    }
    let names = dns_identifiers(&payload.identifiers)?;
    let replaces = match &payload.replaces {
        Some(id) => Some(replaced_certificate(&state, &directory, owner_id, id, &names).await?),
        None => None,
    };
    judge(&state, &directory, &account, &names).await?;

    let owner_groups = account.owner_groups.clone().unwrap_or_default();
    let id = Uuid::new_v4();
    let authorizations: Vec<NewAuthorization> = names
        .iter()
        .map(|name| {
            let base = normalize_dns_name(name.base_domain()).unwrap_or_else(|_| name.clone());
            let exempt = directory.server.no_challenge.iter().any(|rule| rule.exempts(&base, &owner_groups));
            let kinds: &[&'static str] = if exempt {
                &[]
            } else if name.is_wildcard() {
                &WILDCARD_CHALLENGES
            } else {
                &CHALLENGES
            };
            NewAuthorization {
                id: Uuid::new_v4(),
                identifier: base.as_str().to_owned(),
                wildcard: name.is_wildcard(),
                status: if exempt { "valid" } else { "pending" },
                challenges: kinds.iter().map(|kind| (Uuid::new_v4(), *kind, super::nonces::random_token())).collect(),
            }
        })
        .collect();
    let identifiers: Vec<String> = names.iter().map(|name| name.as_str().to_owned()).collect();
    let ready = authorizations.iter().all(|authz| authz.status == "valid");
    let order = NewOrder {
        id,
        account_id: account.id,
        issuer_id: &directory.issuer_id,
        identifiers: &identifiers,
        expires_at: now + ORDER_LIFETIME,
        replaces_certificate_id: replaces,
        replaces: payload.replaces.as_deref().filter(|_| replaces.is_some()),
        status: if ready { "ready" } else { "pending" },
        authorizations,
        now,
    };
    let exempt: Vec<&str> = order
        .authorizations
        .iter()
        .filter(|authz| authz.status == "valid")
        .map(|authz| authz.identifier.as_str())
        .collect();
    let details = json!({ "issuer": directory.issuer_id, "account": account.id, "names": identifiers,
                          "without_challenge": exempt, "replaces": replaces });
    let entry = Actor::person(&context.meta, owner_id).did(Action::AcmeServerOrderCreated).on(Object::AcmeOrder(id));
    let mut tx = state.pool.begin().await?;
    let open = db::acme_server_orders::lock_account_counting_open_orders(&mut tx, account.id, now).await?;
    let cap = directory.server.max_open_orders_per_account;
    if open >= i64::from(cap) {
        return Err(AcmeError::RateLimited {
            detail: format!(
                "this account has {open} orders in flight, the most this directory allows ({cap}): finish or \
                 deactivate some (they expire {} hours after they were made)",
                ORDER_LIFETIME.whole_hours()
            ),
            retry_after_secs: 60,
        });
    }
    db::acme_server_orders::insert_order(&mut tx, &order).await.map_err(|error| match error {
        sqlx::Error::Database(error) if error.constraint() == Some(db::acme_server_orders::ONE_REPLACEMENT_INDEX) => {
            AcmeError::AlreadyReplaced("another order replaces this certificate already".into())
        }
        other => AcmeError::from(other),
    })?;
    audit::append(&mut tx, &state.chain_key, &entry.with(details), now).await?;
    tx.commit().await?;
    let authorization_ids: Vec<Uuid> = order.authorizations.iter().map(|authz| authz.id).collect();
    let row = OrderRow {
        id,
        account_id: account.id,
        issuer_id: directory.issuer_id.clone(),
        status: order.status.to_owned(),
        identifiers: identifiers.clone(),
        expires_at: order.expires_at,
        replaces_certificate_id: replaces,
        replaces: payload.replaces.clone().filter(|_| replaces.is_some()),
        certificate_id: None,
        error: None,
        csr_der: None,
        finalize_attempts: 0,
        created_at: now,
    };
    Ok(order_response(&directory, &row, &authorization_ids, StatusCode::CREATED))
}

/// POST-as-GET of an order of the signing account.
pub async fn order(
    State(state): State<AppState>,
    Path((issuer, id)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let (account, jws) = posted.verify_account(&state, &directory, now).await?;
    require_post_as_get(&jws.payload, "an order")?;
    let found = find(&state, &directory, &account, &id).await?;
    Ok(respond_with(&directory, &found, StatusCode::OK))
}

/// POST-as-GET of the account's orders (RFC 8555 §7.1.2.1), newest first.
pub async fn account_orders(
    State(state): State<AppState>,
    Path((issuer, id)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, AcmeError> {
    let now = OffsetDateTime::now_utc();
    let directory = Directory::of(&state, &issuer)?;
    let (account, jws) = posted.verify_account(&state, &directory, now).await?;
    require_post_as_get(&jws.payload, "the orders list")?;
    if Uuid::parse_str(&id).ok() != Some(account.id) {
        return Err(AcmeError::unauthorized("an account can only list its own orders"));
    }
    let ids = db::acme_server_orders::order_ids_of_account(&state.pool, account.id, now, MAX_LISTED_ORDERS).await?;
    let orders: Vec<String> = ids.into_iter().map(|id| directory.order_url(id)).collect();
    Ok(axum::Json(json!({ "orders": orders })).into_response())
}

/// The account's order `id` with its authorizations' ids; another account's is not found, so ids cannot be probed.
pub async fn find(
    state: &AppState,
    directory: &Directory,
    account: &AccountRow,
    id: &str,
) -> Result<OrderWithAuthorizations, AcmeError> {
    let not_found = || AcmeError::NotFound(format!("this account has no order {id}"));
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    db::acme_server_orders::order(&state.pool, &directory.issuer_id, account.id, id).await?.ok_or_else(not_found)
}

/// The order document with its authorizations' URLs.
pub fn respond_with(directory: &Directory, found: &OrderWithAuthorizations, status: StatusCode) -> Response {
    order_response(directory, &found.order, &found.authorization_ids, status)
}

fn order_response(directory: &Directory, order: &OrderRow, authorization_ids: &[Uuid], status: StatusCode) -> Response {
    let mut body = json!({
        "status": order.status,
        "expires": rfc3339(order.expires_at),
        "identifiers": order.identifiers.iter().map(|name| json!({ "type": "dns", "value": name })).collect::<Vec<_>>(),
        "authorizations": authorization_ids.iter().map(|id| directory.authorization_url(*id)).collect::<Vec<_>>(),
        "finalize": format!("{}/finalize", directory.order_url(order.id)),
    });
    if order.certificate_id.is_some() && order.status == "valid" {
        body["certificate"] = directory.certificate_url(order.id).into();
    }
    if let Some(error) = &order.error {
        body["error"] = error.clone();
    }
    if let Some(replaces) = &order.replaces {
        body["replaces"] = replaces.clone().into();
    }
    let mut response = (status, axum::Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(&directory.order_url(order.id)) {
        response.headers_mut().insert(http::header::LOCATION, location);
    }
    if order.status == "processing" {
        response.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    response
}

pub fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

/// POST-as-GET has an empty payload (RFC 8555 §6.3); anything else sent to a read-only resource is a mistake.
pub fn require_post_as_get(payload: &[u8], what: &str) -> Result<(), AcmeError> {
    if payload.is_empty() {
        Ok(())
    } else {
        Err(AcmeError::malformed(format!("{what} is read with POST-as-GET: send an empty payload")))
    }
}

/// The person an account orders for; an account bound to nobody (a directory without External Account Binding)
/// cannot order, since certdesk's policy and ownership are a person's.
pub fn owner_of(account: &AccountRow) -> Result<Uuid, AcmeError> {
    account.owner_id.ok_or_else(|| {
        AcmeError::unauthorized(
            "this account is not bound to a person (External Account Binding), and certdesk issues only to people: \
             create an ACME account key in certdesk and register a new account with it",
        )
    })
}

/// The certificate `replaces` names (its ARI identifier): the owner's own, sharing a name with the new order, and
/// not replaced already (RFC 9773 §5).
async fn replaced_certificate(
    state: &AppState,
    directory: &Directory,
    owner_id: Uuid,
    id: &str,
    names: &[DnsName],
) -> Result<Uuid, AcmeError> {
    let certificate = match renewal_info::find(state, directory, id).await {
        Ok(certificate) if certificate.owner_id == owner_id => certificate,
        Ok(_) | Err(AcmeError::NotFound(_)) => {
            return Err(AcmeError::malformed(format!(
                "`replaces` names no certificate of this account's owner ({id})"
            )));
        }
        Err(error) => return Err(error),
    };
    if !names.iter().any(|name| certificate.dns_names.iter().any(|held| held == name.as_str())) {
        return Err(AcmeError::malformed("the order shares no name with the certificate it says it replaces"));
    }
    if certificate.replaced || certificate.status == "superseded" {
        return Err(AcmeError::AlreadyReplaced(
            "another order or certificate already replaces this certificate".into(),
        ));
    }
    Ok(certificate.id)
}

/// The names, normalised and without repeats; a name that is not a DNS name is refused naming it.
fn dns_identifiers(identifiers: &[Identifier]) -> Result<Vec<DnsName>, AcmeError> {
    if identifiers.is_empty() {
        return Err(AcmeError::malformed("an order needs at least one identifier"));
    }
    if identifiers.len() > MAX_IDENTIFIERS {
        return Err(AcmeError::malformed(format!("at most {MAX_IDENTIFIERS} identifiers per order")));
    }
    let mut names: Vec<DnsName> = Vec::new();
    let mut subproblems = Vec::new();
    for identifier in identifiers {
        let shown: String = identifier.value.chars().take(256).collect();
        if identifier.kind != "dns" {
            return Err(AcmeError::UnsupportedIdentifier(format!(
                "certdesk's ACME server issues for DNS names only, not `{}` identifiers ({shown})",
                identifier.kind.chars().take(32).collect::<String>()
            )));
        }
        match normalize_dns_name(&identifier.value) {
            Ok(name) if name.as_str() != identifier.value => subproblems.push(Subproblem {
                kind: "malformed",
                detail: format!("`{shown}` is not in the form certificates carry: send `{name}`"),
                name: shown,
            }),
            Ok(name) => {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            Err(error) => subproblems.push(Subproblem { kind: "malformed", detail: error.to_string(), name: shown }),
        }
    }
    if !subproblems.is_empty() {
        return Err(rejected(subproblems));
    }
    Ok(names)
}

/// The account key's restriction, the owner's policy (names and wildcards) and the issuer's own refusals.
async fn judge(
    state: &AppState,
    directory: &Directory,
    account: &AccountRow,
    names: &[DnsName],
) -> Result<(), AcmeError> {
    let mut subproblems = Vec::new();
    if let Some(key_id) = account.account_key_id {
        let allowed = db::acme_server_orders::account_key_restriction(&state.pool, key_id).await?;
        for name in names.iter().filter(|name| !allowed.is_empty() && !restriction_allows(&allowed, name)) {
            subproblems.push(Subproblem {
                kind: "rejectedIdentifier",
                detail: format!(
                    "the ACME account key of this account is restricted to {}; `{name}` is not among them",
                    allowed.join(", ")
                ),
                name: name.as_str().to_owned(),
            });
        }
    }
    let issuer = state.issuers.get(&directory.issuer_id).ok_or_else(|| {
        AcmeError::Internal(format!("issuer {} has a directory but is not configured", directory.issuer_id))
    })?;
    for name in names {
        if let Some(refusal) = issuer.authority().refusal_of_name(name) {
            subproblems.push(Subproblem {
                kind: "rejectedIdentifier",
                detail: refusal,
                name: name.as_str().to_owned(),
            });
        }
    }
    let groups = account.owner_groups.clone().unwrap_or_default();
    if subproblems.is_empty()
        && let Err(refusal) = policy::evaluate_names(&issuer.config.policy, &groups, names)
    {
        let refused = match &refusal {
            PolicyRefusal::NameNotAllowed { name, .. }
            | PolicyRefusal::WildcardNotAllowed { name, .. }
            | PolicyRefusal::NamesInDifferentRules { name, .. } => vec![name.as_str().to_owned()],
            _ => names.iter().map(|name| name.as_str().to_owned()).collect(),
        };
        let detail = refusal.to_string();
        subproblems.extend(refused.into_iter().map(|name| Subproblem {
            kind: "rejectedIdentifier",
            detail: detail.clone(),
            name,
        }));
    }
    if subproblems.is_empty() { Ok(()) } else { Err(rejected(subproblems)) }
}

/// Whether an ACME account key's restriction allows `name`: exact names, or `*.suffix` for that wildcard and any
/// name below the suffix, so a key limited to `*.apps.example.com` cannot order `apps.example.com` or
/// `*.example.com`.
pub fn restriction_allows(allowed: &[String], name: &DnsName) -> bool {
    allowed.iter().any(|pattern| match pattern.strip_prefix("*.") {
        Some(suffix) => name.as_str() == pattern || (name.base_domain() != suffix && name.matches_suffix(suffix)),
        None => pattern == name.as_str(),
    })
}

fn rejected(subproblems: Vec<Subproblem>) -> AcmeError {
    let detail = match subproblems.as_slice() {
        [one] => format!("`{}`: {}", one.name, one.detail),
        many => format!(
            "{} of the names cannot be ordered: {}; see the subproblems",
            many.len(),
            many.iter().map(|one| one.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    AcmeError::RejectedIdentifier { detail, subproblems }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> DnsName {
        normalize_dns_name(text).unwrap()
    }

    #[test]
    fn a_key_restriction_allows_exact_names_and_names_strictly_below_a_wildcard_suffix() {
        let allowed = vec!["*.apps.example.test".to_owned(), "api.example.test".to_owned()];
        assert!(restriction_allows(&allowed, &name("web.apps.example.test")));
        assert!(restriction_allows(&allowed, &name("a.b.apps.example.test")));
        assert!(restriction_allows(&allowed, &name("*.apps.example.test")), "the wildcard itself");
        assert!(restriction_allows(&allowed, &name("api.example.test")));
        assert!(!restriction_allows(&allowed, &name("apps.example.test")), "the suffix is not below itself");
        assert!(!restriction_allows(&allowed, &name("*.example.test")));
        assert!(!restriction_allows(&allowed, &name("www.example.test")));
    }

    #[test]
    fn identifiers_are_dns_names_in_their_certificate_form_without_repeats() {
        let identifier = |kind: &str, value: &str| Identifier { kind: kind.into(), value: value.into() };
        let names = dns_identifiers(&[identifier("dns", "a.example.test"), identifier("dns", "a.example.test")]);
        assert_eq!(names.unwrap(), vec![name("a.example.test")]);
        assert!(matches!(dns_identifiers(&[identifier("ip", "10.0.0.1")]), Err(AcmeError::UnsupportedIdentifier(_))));
        let Err(AcmeError::RejectedIdentifier { subproblems, .. }) =
            dns_identifiers(&[identifier("dns", "UPPER.example.test"), identifier("dns", "bad..name")])
        else {
            panic!("names not in certificate form are rejected")
        };
        assert_eq!(subproblems.len(), 2, "one subproblem per name: {subproblems:?}");
        assert!(matches!(dns_identifiers(&[]), Err(AcmeError::Malformed(_))));
    }
}
