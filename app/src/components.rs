//! Reusable pieces of UI.

pub mod confirm_button;
pub mod copy_field;
pub mod data_table;
pub mod empty_state;
pub mod error_panel;
pub mod expiry_select;
pub mod layout;
pub mod role_links;
pub mod stat_card;
pub mod text_field;
pub mod user_menu;
