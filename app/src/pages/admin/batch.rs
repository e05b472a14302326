//! Following a revocation batch: the server revokes the certificates one after another in the background, and the
//! page re-reads the batch every second, so each result shows as it arrives: the per-certificate states, overall
//! progress, and a halt when the admin must confirm it's them (step-up).

use std::collections::HashMap;

use leptos::prelude::*;

use crate::api::{revocation_batch, revoke_certificates};
use crate::components::error_panel::ErrorPanel;
use crate::error::AppError;
use crate::model::{BatchItemState, RevocationBatchView, RevocationReason};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowState {
    Waiting,
    Working,
    Revoked,
    AlreadyRevoked,
    Failed(String),
}

impl RowState {
    pub fn label(&self) -> String {
        match self {
            Self::Waiting => "Waiting".into(),
            Self::Working => "Revoking…".into(),
            Self::Revoked => "Revoked".into(),
            Self::AlreadyRevoked => "Already revoked".into(),
            Self::Failed(message) => format!("Failed: {message}"),
        }
    }

    pub fn class(&self) -> &'static str {
        match self {
            Self::Waiting | Self::Working => "result pending",
            Self::Revoked | Self::AlreadyRevoked => "result ok",
            Self::Failed(_) => "result failed",
        }
    }

    pub fn is_revoked(&self) -> bool {
        matches!(self, Self::Revoked | Self::AlreadyRevoked)
    }
}

/// One batch run's state, shared by the table that shows it and the controls that start it.
#[derive(Clone, Copy)]
pub struct BatchRun {
    pub states: RwSignal<HashMap<uuid::Uuid, RowState>>,
    pub order: RwSignal<Vec<uuid::Uuid>>,
    pub running: RwSignal<bool>,
    /// Set when the run could not start or stopped being followed (step-up needed, connection lost).
    pub halted: RwSignal<Option<AppError>>,
}

impl BatchRun {
    pub fn new() -> Self {
        Self {
            states: RwSignal::new(HashMap::new()),
            order: RwSignal::new(Vec::new()),
            running: RwSignal::new(false),
            halted: RwSignal::new(None),
        }
    }

    pub fn state_of(&self, id: uuid::Uuid) -> Option<RowState> {
        self.states.with(|states| states.get(&id).cloned())
    }

    /// Queues `ids` for revocation as one batch (carried out by the server in the background), then follows it.
    pub fn start(self, ids: Vec<uuid::Uuid>, reason: RevocationReason) {
        if self.running.get_untracked() || ids.is_empty() {
            return;
        }
        self.halted.set(None);
        self.states.set(ids.iter().map(|id| (*id, RowState::Waiting)).collect());
        self.order.set(ids.clone());
        self.running.set(true);
        leptos::task::spawn_local(async move {
            match revoke_certificates(ids, reason).await {
                Ok(batch) => self.follow(batch),
                // Nothing was queued (step-up needed, signed out, connection lost): say why, keep the selection.
                Err(error) => {
                    self.halted.set(Some(error));
                    self.running.set(false);
                }
            }
        });
    }

    /// Shows where `batch` stands and re-reads it every second until every certificate has its outcome. Leaving
    /// the page stops following; the server carries on regardless.
    pub fn follow(self, batch: RevocationBatchView) {
        if self.running.try_get_untracked().is_none() {
            return;
        }
        self.show(&batch);
        if batch.done {
            self.running.set(false);
            return;
        }
        self.running.set(true);
        let id = batch.id;
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    match revocation_batch(id).await {
                        Ok(batch) => self.follow(batch),
                        Err(error) => {
                            self.halted.set(Some(error));
                            self.running.set(false);
                        }
                    }
                })
            },
            std::time::Duration::from_secs(1),
        );
    }

    fn show(&self, batch: &RevocationBatchView) {
        let known = self.order.with_untracked(|order| order.iter().copied().collect::<std::collections::HashSet<_>>());
        let new: Vec<uuid::Uuid> =
            batch.items.iter().map(|item| item.certificate_id).filter(|id| !known.contains(id)).collect();
        if !new.is_empty() {
            self.order.update(|order| order.extend(new));
        }
        self.states.update(|states| {
            for item in &batch.items {
                let state = match item.state {
                    BatchItemState::Queued => RowState::Working,
                    BatchItemState::Revoked => RowState::Revoked,
                    BatchItemState::AlreadyRevoked => RowState::AlreadyRevoked,
                    BatchItemState::Failed => RowState::Failed(item.message.clone().unwrap_or_default()),
                };
                states.insert(item.certificate_id, state);
            }
            for id in &batch.unknown {
                states.insert(*id, RowState::Failed("no such certificate".into()));
            }
        });
    }

    fn count(&self, wanted: impl Fn(&RowState) -> bool) -> usize {
        self.states.with(|states| states.values().filter(|state| wanted(state)).count())
    }
}

/// Progress of the run: a bar, counts, and what stopped it.
#[component]
pub fn BatchProgress(run: BatchRun) -> impl IntoView {
    let total = move || run.order.with(Vec::len);
    let done = move || run.count(|state| !matches!(state, RowState::Waiting | RowState::Working));
    view! {
        <Show when=move || { total() > 0 }>
            <div class="batch-progress">
                <progress max=move || total().to_string() value=move || done().to_string()
                    aria-label="Revocation progress"></progress>
                <p role="status" aria-live="polite">
                    {move || format!(
                        "{} of {} done: {} revoked, {} already revoked, {} failed{}",
                        done(), total(),
                        run.count(|state| *state == RowState::Revoked),
                        run.count(|state| *state == RowState::AlreadyRevoked),
                        run.count(|state| matches!(state, RowState::Failed(_))),
                        if run.running.get() { " — working…" } else { "" },
                    )}
                </p>
            </div>
        </Show>
        {move || run.halted.get().map(|error| view! { <ErrorPanel error /> })}
    }
}

/// The reason picker shared by the batch and off-boarding forms.
#[component]
pub fn ReasonSelect(id: &'static str, reason: RwSignal<Option<RevocationReason>>) -> impl IntoView {
    view! {
        <select id=id required on:change=move |event| reason.set(RevocationReason::parse(&event_target_value(&event)))>
            <option value="" selected=move || reason.get().is_none()>"Choose a reason…"</option>
            {RevocationReason::ALL.into_iter().map(|choice| view! {
                <option value=choice.as_str() selected=move || reason.get() == Some(choice)>{choice.label()}</option>
            }).collect_view()}
        </select>
    }
}
