//! `certdesk keys rotate` and `keys status`: key-encryption-key rotation from the command line (the work is in
//! `sealing::rotation`); prints counts and key ids, never secrets.

use super::{CliError, KeysCommand, say};
use crate::config::{Config, ConfigError};
use crate::db;
use crate::sealing::rotation;

pub(super) async fn run(config: &Config, command: &KeysCommand) -> Result<(), CliError> {
    let Some(sealer) = config.encryption.as_ref() else {
        return Err(ConfigError::invalid("encryption", "is not configured: there are no key-encryption keys").into());
    };
    let pool = db::lazy_pool(&config.database)?;
    match command {
        KeysCommand::Rotate => {
            let report = rotation::rotate(&pool, sealer).await?;
            say(&report.to_string());
            match report.problems() {
                Some(problems) => Err(CliError::RotationIncomplete(problems)),
                None => Ok(()),
            }
        }
        KeysCommand::Status => {
            for line in rotation::status(&pool, sealer).await?.lines() {
                say(&line);
            }
            Ok(())
        }
    }
}
