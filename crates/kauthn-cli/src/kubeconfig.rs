//! The kubeconfig file of `--authentication-token-webhook-config-file`.
//!
//! Upstream: `k8s.io/apiserver/pkg/util/webhook` loads it with client-go's
//! `clientcmd`; the current context (or the only cluster and user) gives the server URL,
//! used as the full endpoint, and the TLS and credential settings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use serde::Deserialize;

use crate::config::ConfigError;

/// The parts of a kubeconfig a webhook client uses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kubeconfig {
    #[serde(default)]
    clusters: Vec<Named<Cluster>>,
    #[serde(default)]
    users: Vec<Named<AuthInfo>>,
    #[serde(default)]
    contexts: Vec<Named<ContextEntry>>,
    #[serde(default)]
    current_context: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Named<T> {
    #[serde(default)]
    name: String,
    #[serde(flatten)]
    inner: BTreeMap<String, T>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster {
    #[serde(default)]
    server: String,
    #[serde(default)]
    certificate_authority: String,
    #[serde(default)]
    certificate_authority_data: String,
    #[serde(default)]
    insecure_skip_tls_verify: bool,
    #[serde(default)]
    tls_server_name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct AuthInfo {
    #[serde(default)]
    client_certificate: String,
    #[serde(default)]
    client_certificate_data: String,
    #[serde(default)]
    client_key: String,
    #[serde(default)]
    client_key_data: String,
    #[serde(default)]
    token: String,
    #[serde(default, rename = "tokenFile")]
    token_file: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ContextEntry {
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    user: String,
}

/// Where and how to reach a webhook: resolved from a kubeconfig, files read.
#[derive(Clone, Default)]
pub struct WebhookTarget {
    /// The full endpoint URL.
    pub server: String,
    /// PEM CA bundle to verify the server; `None`: no custom roots.
    pub ca_pem: Option<Vec<u8>>,
    /// SNI / verification name override.
    pub tls_server_name: Option<String>,
    /// PEM client certificate chain and key.
    pub client_identity: Option<(Vec<u8>, Vec<u8>)>,
    /// Bearer token for the webhook.
    pub token: Option<String>,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token or the key.
        f.debug_struct("WebhookTarget")
            .field("server", &self.server)
            .field("ca", &self.ca_pem.is_some())
            .field("client_identity", &self.client_identity.is_some())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn field_of<T: Clone>(list: &[Named<T>], name: &str, key: &str) -> Option<T> {
    list.iter()
        .find(|n| n.name == name)
        .and_then(|n| n.inner.get(key).cloned())
}

impl Kubeconfig {
    /// Reads and decodes a kubeconfig file (YAML or JSON).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(shown.clone(), "", e.to_string()))?;
        serde_norway::from_str(&text).map_err(|e| ConfigError::new(shown, "", e.to_string()))
    }

    /// Resolves the current context (or the only cluster and user) into a target;
    /// relative file names are relative to the kubeconfig's directory.
    pub fn webhook_target(&self, path: &Path) -> Result<WebhookTarget, ConfigError> {
        let shown = path.display().to_string();
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let (cluster, user) = if self.current_context.is_empty() {
            let c = match self.clusters.as_slice() {
                [one] => one.inner.get("cluster").cloned(),
                _ => None,
            };
            let u = match self.users.as_slice() {
                [one] => one.inner.get("user").cloned(),
                _ => None,
            };
            (c, u)
        } else {
            let ctx =
                field_of(&self.contexts, &self.current_context, "context").ok_or_else(|| {
                    ConfigError::new(
                        shown.clone(),
                        "current-context",
                        format!("context {:?} not found", self.current_context),
                    )
                })?;
            (
                field_of(&self.clusters, &ctx.cluster, "cluster"),
                field_of(&self.users, &ctx.user, "user"),
            )
        };
        let cluster = cluster.ok_or_else(|| {
            ConfigError::new(
                shown.clone(),
                "clusters",
                "no cluster (set current-context or keep exactly one cluster)",
            )
        })?;
        if cluster.server.is_empty() {
            return Err(ConfigError::new(
                shown,
                "clusters[].cluster.server",
                "Required value",
            ));
        }
        if !(cluster.server.starts_with("https://") || cluster.server.starts_with("http://")) {
            return Err(ConfigError::new(
                shown,
                "clusters[].cluster.server",
                format!("{:?}: scheme must be https or http", cluster.server),
            ));
        }
        if cluster.insecure_skip_tls_verify {
            return Err(ConfigError::new(
                shown,
                "clusters[].cluster.insecure-skip-tls-verify",
                "not supported by kauthn: give certificate-authority instead",
            ));
        }
        let file_or_data =
            |file: &str, data: &str, field: &str| -> Result<Option<Vec<u8>>, ConfigError> {
                if !data.is_empty() {
                    return Base64::decode_vec(data.trim()).map(Some).map_err(|_| {
                        ConfigError::new(shown.clone(), field, "illegal base64 data")
                    });
                }
                if file.is_empty() {
                    return Ok(None);
                }
                let p = resolve(&base, file);
                std::fs::read(&p)
                    .map(Some)
                    .map_err(|e| ConfigError::new(p.display().to_string(), field, e.to_string()))
            };
        let ca_pem = file_or_data(
            &cluster.certificate_authority,
            &cluster.certificate_authority_data,
            "certificate-authority",
        )?;
        if let Some(pem) = &ca_pem {
            crate::http_client::roots_from_pem(pem)
                .map_err(|e| ConfigError::new(shown.clone(), "certificate-authority", e))?;
        }
        let mut target = WebhookTarget {
            server: cluster.server,
            ca_pem,
            tls_server_name: Some(cluster.tls_server_name).filter(|s| !s.is_empty()),
            ..WebhookTarget::default()
        };
        if let Some(user) = user {
            let cert = file_or_data(
                &user.client_certificate,
                &user.client_certificate_data,
                "client-certificate",
            )?;
            let key = file_or_data(&user.client_key, &user.client_key_data, "client-key")?;
            match (cert, key) {
                (Some(c), Some(k)) => target.client_identity = Some((c, k)),
                (None, None) => {}
                _ => {
                    return Err(ConfigError::new(
                        shown,
                        "users[].user",
                        "client-certificate and client-key must be given together",
                    ));
                }
            }
            if !user.token.is_empty() {
                target.token = Some(user.token);
            } else if !user.token_file.is_empty() {
                let p = resolve(&base, &user.token_file);
                let t = std::fs::read_to_string(&p).map_err(|e| {
                    ConfigError::new(p.display().to_string(), "tokenFile", e.to_string())
                })?;
                target.token = Some(t.trim().to_string());
            }
        }
        Ok(target)
    }
}

fn resolve(base: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_context_selects_cluster_and_user() {
        let kc: Kubeconfig = serde_norway::from_str(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {server: 'https://a.example/authn'}\n- name: b\n  cluster: {server: 'https://b.example/x'}\nusers:\n- name: u\n  user: {token: s3cret}\ncontexts:\n- name: c\n  context: {cluster: b, user: u}\ncurrent-context: c\n",
        )
        .unwrap();
        let t = kc.webhook_target(Path::new("/tmp/kc")).unwrap();
        assert_eq!(t.server, "https://b.example/x");
        assert_eq!(t.token.as_deref(), Some("s3cret"));
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn a_missing_server_names_the_field() {
        let kc: Kubeconfig =
            serde_norway::from_str("clusters:\n- name: a\n  cluster: {}\n").unwrap();
        let e = kc.webhook_target(Path::new("/tmp/kc")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/tmp/kc: clusters[].cluster.server: Required value"
        );
    }
}
