//! Secrets given inline (`key = "..."`, usually from the environment) or as a file (`key_file = "..."`).

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use super::ConfigError;

/// Exactly one of the two forms must be given.
pub struct SecretSource<'a> {
    pub key: &'a str,
    pub inline: Option<SecretString>,
    pub file: Option<PathBuf>,
}

impl SecretSource<'_> {
    /// The secret, trimmed of surrounding whitespace (files usually end with a newline).
    pub fn resolve(self) -> Result<SecretString, ConfigError> {
        let file_key = format!("{}_file", self.key);
        let value = match (self.inline, self.file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    self.key,
                    format!("set either `{}` or `{file_key}`, not both", self.key),
                ));
            }
            (None, None) => {
                return Err(ConfigError::invalid(self.key, format!("missing: set `{}` or `{file_key}`", self.key)));
            }
            (Some(inline), None) => inline.expose_secret().trim().to_owned(),
            (None, Some(path)) => std::fs::read_to_string(&path)
                .map_err(|error| ConfigError::invalid(&file_key, format!("cannot read {}: {error}", path.display())))?
                .trim()
                .to_owned(),
        };
        if value.is_empty() {
            return Err(ConfigError::invalid(self.key, "is empty"));
        }
        Ok(SecretString::from(value))
    }
}
