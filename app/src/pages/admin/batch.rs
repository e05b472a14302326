//! Revoking a list of certificates one after another from the browser, so each result shows as it arrives: the
//! per-certificate states, overall progress, and a halt when the admin must confirm it's them (step-up).

use std::collections::HashMap;

use leptos::prelude::*;

use crate::api::revoke_certificate;
use crate::components::error_panel::ErrorPanel;
use crate::error::AppError;
use crate::model::RevocationReason;

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
    /// Set when the run stopped early (step-up needed, connection lost).
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

    /// Revokes `ids` in order, one request each.
    pub fn start(self, ids: Vec<uuid::Uuid>, reason: RevocationReason) {
        if self.running.get_untracked() || ids.is_empty() {
            return;
        }
        self.halted.set(None);
        self.states.set(ids.iter().map(|id| (*id, RowState::Waiting)).collect());
        self.order.set(ids.clone());
        self.running.set(true);
        leptos::task::spawn_local(async move {
            for id in ids {
                self.states.update(|states| {
                    states.insert(id, RowState::Working);
                });
                let state = match revoke_certificate(id, reason).await {
                    Ok(result) if result.already_revoked => RowState::AlreadyRevoked,
                    Ok(_) => RowState::Revoked,
                    // Every further request would be refused the same way: stop and let the admin confirm.
                    Err(
                        error @ (AppError::StepUpRequired | AppError::Unauthenticated | AppError::Transport { .. }),
                    ) => {
                        self.states.update(|states| {
                            states.insert(id, RowState::Waiting);
                        });
                        self.halted.set(Some(error));
                        break;
                    }
                    Err(error) => RowState::Failed(error.to_string()),
                };
                self.states.update(|states| {
                    states.insert(id, state);
                });
            }
            self.running.set(false);
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
