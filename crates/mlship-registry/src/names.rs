//! Validation of the names the registry stores: model names, aliases, tag keys and values.
//!
//! Names are checked here, in the store layer, whatever the caller: a name never reaches SQL
//! or a file path unchecked (and artifacts are addressed by hash, never by name).

use crate::error::{RegistryError, Result};

/// The longest model name, alias or tag key, in characters.
pub const MAX_NAME_LEN: usize = 128;
/// The longest tag value, description or reason, in characters.
pub const MAX_TEXT_LEN: usize = 4096;

const NAME_HINT: &str =
    "use 1 to 128 letters, digits, '-', '_' or '.', starting with a letter or digit";

fn invalid(what: &'static str, value: &str, reason: impl Into<String>) -> RegistryError {
    RegistryError::InvalidName {
        what,
        value: value.to_owned(),
        reason: reason.into(),
        hint: NAME_HINT,
    }
}

fn check_name(what: &'static str, name: &str) -> Result<()> {
    let len = name.chars().count();
    if len == 0 {
        return Err(invalid(what, name, "it is empty"));
    }
    if len > MAX_NAME_LEN {
        return Err(invalid(
            what,
            name,
            format!("it has {len} characters, more than {MAX_NAME_LEN}"),
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        let reason = match c {
            '/' | '\\' => "it contains a path separator".to_owned(),
            c if c.is_control() => format!("it contains the control character {c:?}"),
            c if c.is_whitespace() => "it contains white space".to_owned(),
            c => format!("it contains {c:?}"),
        };
        return Err(invalid(what, name, reason));
    }
    if name.contains("..") {
        return Err(invalid(what, name, "it contains '..'"));
    }
    if !name.starts_with(char::is_alphanumeric) {
        return Err(invalid(
            what,
            name,
            "it does not start with a letter or digit",
        ));
    }
    Ok(())
}

/// Checks a registered model's name.
pub fn validate_model_name(name: &str) -> Result<()> {
    check_name("model name", name)
}

/// Checks an alias: a name that is not all digits (those are version numbers) and not `latest`.
pub fn validate_alias(alias: &str) -> Result<()> {
    check_name("alias", alias)?;
    if alias == "latest" {
        return Err(invalid(
            "alias",
            alias,
            "`latest` always means the newest active version and cannot be set",
        ));
    }
    if alias.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(
            "alias",
            alias,
            "an alias of digits only would read as a version number",
        ));
    }
    Ok(())
}

/// Checks a tag key.
pub fn validate_tag_key(key: &str) -> Result<()> {
    check_name("tag key", key)
}

/// Checks free text (a tag value, a description, a reason): bounded, no control characters
/// other than tab and newline.
pub fn validate_text(what: &'static str, text: &str) -> Result<()> {
    let len = text.chars().count();
    if len > MAX_TEXT_LEN {
        return Err(RegistryError::InvalidName {
            what,
            value: text.chars().take(40).collect::<String>() + "…",
            reason: format!("it has {len} characters, more than {MAX_TEXT_LEN}"),
            hint: "shorten it",
        });
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(RegistryError::InvalidName {
            what,
            value: text.to_owned(),
            reason: format!("it contains the control character {c:?}"),
            hint: "remove control characters",
        });
    }
    Ok(())
}

/// Parses `key=value` (a tag on the command line), validating both halves.
pub fn parse_tag(text: &str) -> Result<(String, String)> {
    let Some((k, v)) = text.split_once('=') else {
        return Err(RegistryError::InvalidName {
            what: "tag",
            value: text.to_owned(),
            reason: "it has no '='".into(),
            hint: "write tags as key=value, e.g. --tag team=risk",
        });
    };
    validate_tag_key(k)?;
    validate_text("tag value", v)?;
    Ok((k.to_owned(), v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_pass() {
        for n in [
            "churn",
            "churn-model_v2.1",
            "Kündigung",
            "模型",
            "a",
            "7days",
        ] {
            validate_model_name(n).unwrap();
        }
        validate_model_name(&"x".repeat(MAX_NAME_LEN)).unwrap();
        validate_alias("production").unwrap();
        validate_alias("v2").unwrap();
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        let cases = [
            ("", "empty"),
            ("a/b", "path separator"),
            ("a\\b", "path separator"),
            ("..", "'..'"),
            ("a..b", "'..'"),
            (".hidden", "does not start"),
            ("-rf", "does not start"),
            ("a\nb", "control character"),
            ("a\0b", "control character"),
            ("a b", "white space"),
            ("a@b", "'@'"),
            ("a:b", "':'"),
        ];
        for (name, reason) in cases {
            let e = validate_model_name(name).unwrap_err().to_string();
            assert!(e.contains(reason), "{name:?}: {e}");
            assert!(e.starts_with("invalid model name"), "{e}");
        }
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert!(validate_model_name(&long).is_err());
        assert!(validate_alias("latest").is_err());
        assert!(validate_alias("12").is_err());
        assert!(validate_alias("prod/1").is_err());
    }

    #[test]
    fn text_and_tags() {
        validate_text("reason", "new data\tfrom\nQ3").unwrap();
        assert!(validate_text("reason", "bell\x07").is_err());
        assert!(validate_text("reason", &"x".repeat(MAX_TEXT_LEN + 1)).is_err());
        assert_eq!(
            parse_tag("team=risk").unwrap(),
            ("team".into(), "risk".into())
        );
        assert_eq!(
            parse_tag("note=a=b").unwrap(),
            ("note".into(), "a=b".into())
        );
        assert!(parse_tag("team").is_err());
        assert!(parse_tag("../x=1").is_err());
    }
}
