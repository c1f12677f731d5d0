//! Model URIs: how every command that takes a model names one.
//!
//! - a bundle file: `model.mlship`, `./model`, `/abs/path/model.mlship`, `file:model.bin`;
//! - `NAME@ALIAS`: the version an alias points at (`churn@production`);
//! - `NAME@latest`: the newest active version;
//! - `NAME/VERSION`: one version by number (`churn/3`).
//!
//! Parsing is syntactic and does not look at the disk: text ending in `.mlship`, starting with
//! `.`, `/` or `~`, or prefixed by `file:` is a file; otherwise `@` and `/` select a registry form.

use std::fmt;
use std::path::PathBuf;

use crate::error::{RegistryError, Result};
use crate::names::{validate_alias, validate_model_name};

/// A parsed model URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelUri {
    /// A bundle file on disk.
    File(PathBuf),
    /// The version an alias of a registered model points at.
    Alias {
        /// The registered model.
        model: String,
        /// The alias.
        alias: String,
    },
    /// One version of a registered model.
    Version {
        /// The registered model.
        model: String,
        /// The version number (from 1).
        version: u64,
    },
    /// The newest active version of a registered model.
    Latest {
        /// The registered model.
        model: String,
    },
}

impl ModelUri {
    /// Parses a model URI; see the module documentation for the forms.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| RegistryError::InvalidUri {
            uri: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some(path) = text.strip_prefix("file:") {
            return Ok(Self::File(PathBuf::from(path)));
        }
        if text.ends_with(".mlship") || text.starts_with(['.', '/', '~']) || text.contains('\\') {
            return Ok(Self::File(PathBuf::from(text)));
        }
        if let Some((model, alias)) = text.split_once('@') {
            validate_model_name(model).map_err(|e| bad(&first_line(&e)))?;
            if alias == "latest" {
                return Ok(Self::Latest {
                    model: model.to_owned(),
                });
            }
            validate_alias(alias).map_err(|e| bad(&first_line(&e)))?;
            return Ok(Self::Alias {
                model: model.to_owned(),
                alias: alias.to_owned(),
            });
        }
        if let Some((model, version)) = text.rsplit_once('/') {
            if validate_model_name(model).is_ok() {
                return match version.parse::<u64>() {
                    Ok(v) if v >= 1 && version.chars().all(|c| c.is_ascii_digit()) => {
                        Ok(Self::Version {
                            model: model.to_owned(),
                            version: v,
                        })
                    }
                    _ => Err(bad(&format!(
                        "version {version:?} is not a number from 1; a file path needs the .mlship extension or a leading ./"
                    ))),
                };
            }
            return Ok(Self::File(PathBuf::from(text)));
        }
        Err(bad(
            "a registered model needs @ALIAS, @latest or /VERSION; a file needs the .mlship extension",
        ))
    }

    /// The registered model's name, unless this is a file.
    pub fn model(&self) -> Option<&str> {
        match self {
            Self::File(_) => None,
            Self::Alias { model, .. } | Self::Version { model, .. } | Self::Latest { model } => {
                Some(model)
            }
        }
    }
}

fn first_line(e: &RegistryError) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}

impl fmt::Display for ModelUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "{}", p.display()),
            Self::Alias { model, alias } => write!(f, "{model}@{alias}"),
            Self::Version { model, version } => write!(f, "{model}/{version}"),
            Self::Latest { model } => write!(f, "{model}@latest"),
        }
    }
}

impl std::str::FromStr for ModelUri {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(m: &str, a: &str) -> ModelUri {
        ModelUri::Alias {
            model: m.into(),
            alias: a.into(),
        }
    }

    #[test]
    fn the_four_forms() {
        assert_eq!(
            ModelUri::parse("models/churn.mlship").unwrap(),
            ModelUri::File("models/churn.mlship".into())
        );
        assert_eq!(
            ModelUri::parse("./churn").unwrap(),
            ModelUri::File("./churn".into())
        );
        assert_eq!(
            ModelUri::parse("file:churn@2").unwrap(),
            ModelUri::File("churn@2".into())
        );
        assert_eq!(
            ModelUri::parse("churn@production").unwrap(),
            alias("churn", "production")
        );
        assert_eq!(
            ModelUri::parse("churn@latest").unwrap(),
            ModelUri::Latest {
                model: "churn".into()
            }
        );
        assert_eq!(
            ModelUri::parse("churn/12").unwrap(),
            ModelUri::Version {
                model: "churn".into(),
                version: 12
            }
        );
        assert_eq!(
            ModelUri::parse("dir/sub/model").unwrap(),
            ModelUri::File("dir/sub/model".into())
        );
        for text in ["churn@production", "churn/3", "churn@latest", "a.mlship"] {
            assert_eq!(ModelUri::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn malformed_uris_say_why() {
        for (text, reason) in [
            ("", "empty"),
            ("churn", "needs @ALIAS"),
            ("churn/0", "not a number from 1"),
            ("churn/x", "not a number from 1"),
            ("churn/+3", "not a number from 1"),
            ("ch urn@prod", "white space"),
            ("churn@", "empty"),
            ("churn@a/b", "path separator"),
        ] {
            let e = ModelUri::parse(text).unwrap_err().to_string();
            assert!(e.contains(reason), "{text:?}: {e}");
            assert!(e.contains("hint: give a bundle file"), "{e}");
        }
    }
}
