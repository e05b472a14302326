//! Reusable pieces of UI.

pub mod audit_link;
pub mod empty_state;
pub mod error_panel;
pub mod layout;
pub mod stat_card;
pub mod user_menu;
