//! Reusable pieces of UI.

pub mod empty_state;
pub mod error_panel;
pub mod layout;
pub mod role_links;
pub mod stat_card;
pub mod user_menu;
