//! `--authentication-config`: the `AuthenticationConfiguration` file (apiserver.config.k8s.io
//! v1, v1beta1, v1alpha1), decoded strictly as kube-apiserver decodes it (unknown fields are
//! errors) into the core's model ([`kauthn::oidc::config::AuthenticationConfiguration`]) and
//! validated by the core with upstream's messages.
//!
//! Upstream: `k8s.io/apiserver/pkg/apis/apiserver/{v1,v1beta1}/types.go` (the JWT and
//! anonymous schemas are identical in both) and `validation/validation.go`. The core has no
//! CEL evaluator: a configuration that uses an expression is refused with
//! `CEL expressions are not supported` at the field that holds it.

pub use kauthn::oidc::config::{
    AnonymousCondition, AnonymousConfig, AuthenticationConfiguration, ConfigErrors,
    JwtAuthenticatorConfig,
};

/// The apiVersions kube-apiserver accepts for this kind.
pub const API_VERSIONS: [&str; 3] = [
    "apiserver.config.k8s.io/v1",
    "apiserver.config.k8s.io/v1beta1",
    "apiserver.config.k8s.io/v1alpha1",
];

/// Decodes the file (YAML or JSON) strictly and checks `apiVersion` and `kind`. Errors are
/// `(field, reason)`. The content is validated by [`validate`].
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
    Ok(cfg)
}

/// Upstream's `ValidateAuthenticationConfiguration` (the core's), with the service-account
/// issuers as the disallowed JWT issuers. The message lists every problem, each as
/// `<field>: <type>: <detail>`.
pub fn validate(
    cfg: &AuthenticationConfiguration,
    service_account_issuers: &[String],
) -> Result<(), String> {
    let disallowed: Vec<&str> = service_account_issuers.iter().map(String::as_str).collect();
    cfg.validate(&disallowed).map_err(|e| e.to_string())
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
        validate(&cfg, &[]).unwrap();
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
        let cfg = parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nanonymous: {enabled: false, conditions: [{path: /healthz}]}\n",
        )
        .unwrap();
        assert_eq!(
            validate(&cfg, &[]).unwrap_err(),
            "anonymous.conditions: Invalid value: [{\"Path\":\"/healthz\"}]: enabled should be set to true when conditions are defined"
        );
    }

    #[test]
    fn an_empty_file_is_empty_config_data() {
        assert_eq!(parse("  \n").unwrap_err().1, "empty config data");
    }

    #[test]
    fn jwt_entries_use_the_cores_model_and_field_names() {
        let cfg = parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer: {url: 'https://issuer.example', discoveryURL: 'https://d.example/x', audiences: [a]}\n  claimMappings: {username: {claim: sub, prefix: ''}}\n",
        )
        .unwrap();
        validate(&cfg, &[]).unwrap();
        assert_eq!(cfg.jwt[0].issuer.url, "https://issuer.example");
        assert_eq!(
            cfg.jwt[0].issuer.discovery_url.as_deref(),
            Some("https://d.example/x")
        );
        assert_eq!(
            cfg.jwt[0].claim_mappings.username.prefix.as_deref(),
            Some("")
        );
    }

    #[test]
    fn cel_expressions_and_service_account_issuers_are_refused_with_field_paths() {
        let cfg = parse(
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n- issuer: {url: 'https://sa.example', audiences: [a]}\n  claimMappings: {username: {expression: 'claims.sub'}}\n",
        )
        .unwrap();
        let e = validate(&cfg, &["https://sa.example".into()]).unwrap_err();
        assert!(
            e.contains("jwt[0].issuer.url: Invalid value: \"https://sa.example\": URL must not overlap with disallowed issuers"),
            "{e}"
        );
        assert!(
            e.contains("jwt[0].claimMappings.username.expression: Invalid value: \"claims.sub\": CEL expressions are not supported"),
            "{e}"
        );
    }
}
