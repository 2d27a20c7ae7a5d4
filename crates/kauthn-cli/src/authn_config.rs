//! `--authentication-config`: the `AuthenticationConfiguration` file (apiserver.config.k8s.io
//! v1, v1beta1, v1alpha1), decoded strictly as kube-apiserver decodes it (unknown fields are
//! errors).
//!
//! Upstream: `k8s.io/apiserver/pkg/apis/apiserver/{v1,v1beta1}/types.go` (the JWT and
//! anonymous schemas are identical in both) and `validation/validation.go`. The `jwt`
//! entries are modelled completely so the file is validated now; they are handed to the
//! core's JWT authenticator once it lands (see `config::jwt_authenticators`).

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthenticationConfiguration {
    /// `apiserver.config.k8s.io/v1`, `v1beta1` or `v1alpha1`.
    pub api_version: String,
    /// `AuthenticationConfiguration`.
    pub kind: String,
    /// JWT authenticators (at most 64).
    #[serde(default)]
    pub jwt: Vec<JwtAuthenticator>,
    /// The anonymous authenticator; when present, `--anonymous-auth` must not be set.
    pub anonymous: Option<AnonymousConfig>,
}

/// `anonymous`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AnonymousConfig {
    /// Whether anonymous requests are allowed.
    #[serde(default)]
    pub enabled: bool,
    /// When non-empty, anonymous is allowed only for these exact paths.
    #[serde(default)]
    pub conditions: Vec<AnonymousCondition>,
}

/// `anonymous.conditions[]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AnonymousCondition {
    /// The exact request path.
    pub path: String,
}

/// `jwt[]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JwtAuthenticator {
    /// How the issuer is reached and which audiences it must mint.
    pub issuer: Issuer,
    /// Rules every token's claims must satisfy.
    #[serde(default)]
    pub claim_validation_rules: Vec<ClaimValidationRule>,
    /// How claims become the user.
    pub claim_mappings: ClaimMappings,
    /// Rules the final user must satisfy.
    #[serde(default)]
    pub user_validation_rules: Vec<UserValidationRule>,
}

/// `jwt[].issuer`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Issuer {
    /// The issuer URL (`iss`), https.
    #[serde(default)]
    pub url: String,
    /// Where the discovery document is, when not under `url`.
    pub discovery_url: Option<String>,
    /// PEM CA bundle for the discovery and JWKS connections.
    #[serde(default)]
    pub certificate_authority: String,
    /// Accepted `aud` values.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// `""` or `MatchAny`.
    #[serde(default)]
    pub audience_match_policy: String,
    /// `controlplane` or `cluster` (kauthn has no egress selector).
    #[serde(default)]
    pub egress_selector_type: String,
}

/// `jwt[].claimValidationRules[]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimValidationRule {
    /// A claim that must equal `requiredValue`.
    #[serde(default)]
    pub claim: String,
    /// The required value.
    #[serde(default)]
    pub required_value: String,
    /// A CEL expression.
    #[serde(default)]
    pub expression: String,
    /// The message when the expression is false.
    #[serde(default)]
    pub message: String,
}

/// `jwt[].claimMappings`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimMappings {
    /// The user name.
    #[serde(default)]
    pub username: PrefixedClaimOrExpression,
    /// The groups.
    #[serde(default)]
    pub groups: PrefixedClaimOrExpression,
    /// The UID.
    #[serde(default)]
    pub uid: ClaimOrExpression,
    /// Extra values.
    #[serde(default)]
    pub extra: Vec<ExtraMapping>,
}

/// A claim with a prefix, or a CEL expression.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PrefixedClaimOrExpression {
    /// The claim.
    #[serde(default)]
    pub claim: String,
    /// The prefix (required with `claim`; may be empty).
    pub prefix: Option<String>,
    /// A CEL expression.
    #[serde(default)]
    pub expression: String,
}

/// A claim or a CEL expression.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimOrExpression {
    /// The claim.
    #[serde(default)]
    pub claim: String,
    /// A CEL expression.
    #[serde(default)]
    pub expression: String,
}

/// `claimMappings.extra[]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtraMapping {
    /// The extra key.
    #[serde(default)]
    pub key: String,
    /// A CEL expression for the values.
    #[serde(default)]
    pub value_expression: String,
}

/// `jwt[].userValidationRules[]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserValidationRule {
    /// A CEL expression over the user.
    #[serde(default)]
    pub expression: String,
    /// The message when it is false.
    #[serde(default)]
    pub message: String,
}

/// The apiVersions kube-apiserver accepts for this kind.
pub const API_VERSIONS: [&str; 3] = [
    "apiserver.config.k8s.io/v1",
    "apiserver.config.k8s.io/v1beta1",
    "apiserver.config.k8s.io/v1alpha1",
];

/// Decodes the file (YAML or JSON) strictly. Errors are `(field, reason)`.
pub fn parse(text: &str) -> Result<AuthenticationConfiguration, (String, String)> {
    if text.trim().is_empty() {
        return Err((String::new(), "empty config data".into()));
    }
    let cfg: AuthenticationConfiguration = serde_norway::from_str(text)
        .map_err(|e| (String::new(), format!("strict decoding error: {e}")))?;
    if !API_VERSIONS.contains(&cfg.api_version.as_str()) {
        return Err((
            "apiVersion".into(),
            format!(
                "Unsupported value: {:?}: supported values: {}",
                cfg.api_version,
                API_VERSIONS.map(|v| format!("{v:?}")).join(", ")
            ),
        ));
    }
    if cfg.kind != "AuthenticationConfiguration" {
        return Err((
            "kind".into(),
            format!(
                "Unsupported value: {:?}: supported values: \"AuthenticationConfiguration\"",
                cfg.kind
            ),
        ));
    }
    if cfg.jwt.len() > 64 {
        return Err((
            "jwt".into(),
            format!("Too many: {}: must have at most 64 items", cfg.jwt.len()),
        ));
    }
    if let Some(a) = &cfg.anonymous {
        if !a.enabled && !a.conditions.is_empty() {
            let paths: Vec<String> = a
                .conditions
                .iter()
                .map(|c| format!("{{\"Path\":{}}}", serde_json::Value::String(c.path.clone())))
                .collect();
            return Err((
                "anonymous.conditions".into(),
                format!(
                    "Invalid value: [{}]: enabled should be set to true when conditions are defined",
                    paths.join(",")
                ),
            ));
        }
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_file_with_anonymous_conditions_is_accepted() {
        let cfg = parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nanonymous:\n  enabled: true\n  conditions:\n  - path: /livez\n",
        )
        .unwrap();
        assert_eq!(cfg.anonymous.unwrap().conditions[0].path, "/livez");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let (_, reason) = parse(
            "apiVersion: apiserver.config.k8s.io/v1beta1\nkind: AuthenticationConfiguration\nanonymous: {enabled: true, bogus: 1}\n",
        )
        .unwrap_err();
        assert!(reason.contains("unknown field `bogus`"), "{reason}");
    }

    #[test]
    fn disabled_anonymous_with_conditions_is_rejected_with_upstreams_text() {
        let (field, reason) = parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nanonymous: {enabled: false, conditions: [{path: /healthz}]}\n",
        )
        .unwrap_err();
        assert_eq!(field, "anonymous.conditions");
        assert_eq!(
            reason,
            "Invalid value: [{\"Path\":\"/healthz\"}]: enabled should be set to true when conditions are defined"
        );
    }

    #[test]
    fn an_empty_file_is_empty_config_data() {
        assert_eq!(parse("  \n").unwrap_err().1, "empty config data");
    }

    #[test]
    fn jwt_entries_are_modelled_fully() {
        let cfg = parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer: {url: 'https://issuer.example', audiences: [a]}\n  claimMappings: {username: {claim: sub, prefix: ''}}\n",
        )
        .unwrap();
        assert_eq!(cfg.jwt[0].issuer.url, "https://issuer.example");
        assert_eq!(
            cfg.jwt[0].claim_mappings.username.prefix.as_deref(),
            Some("")
        );
    }
}
