//! Bootstrap token Secrets read from a directory (`--bootstrap-token-secrets-dir`).
//!
//! kube-apiserver reads `kube-system/bootstrap-token-*` Secrets through an informer; kauthn
//! has no cluster, so it reads Secret manifests as `kubectl get secret -o yaml` (or `-o
//! json`) writes them: one Secret per document, several YAML documents per file, or a
//! `kind: List`. `data` values are base64 (standard alphabet, padded, as Kubernetes writes
//! them); `stringData` values are plain and win over `data` (as the API server merges
//! them). The directory is re-scanned every [`RELOAD_INTERVAL`]; a scan that finds an
//! invalid file keeps the previous Secrets and logs why, as an informer keeps its cache.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use base64ct::{Base64, Encoding};
use kauthn::{BootstrapSecret, BootstrapSecretStore, LookupError, parse_bootstrap_secret_name};
use serde::Deserialize;

use crate::config::ConfigError;

/// How often the directory is checked for changed files.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(2);
/// Largest manifest file read (a Secret is at most 1 MiB in Kubernetes).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// One Secret, decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct OwnedSecret {
    namespace: String,
    name: String,
    type_: String,
    deleting: bool,
    has_data: bool,
    data: BTreeMap<String, Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default, rename = "type")]
    type_: String,
    data: Option<BTreeMap<String, Option<String>>>,
    string_data: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    items: Vec<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    deletion_timestamp: Option<serde_json::Value>,
}

/// A snapshot of the files seen, to notice changes cheaply.
type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// The Secret store over a directory; clones share the same Secrets.
#[derive(Clone, Debug)]
pub struct SecretsDir {
    dir: PathBuf,
    secrets: Arc<RwLock<Arc<Vec<OwnedSecret>>>>,
    seen: Arc<RwLock<Fingerprint>>,
}

impl SecretsDir {
    /// Reads every manifest in `dir`; any invalid file is an error naming the file, the
    /// field and the reason.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let fp = fingerprint(dir)?;
        let secrets = read_all(&fp)?;
        Ok(SecretsDir {
            dir: dir.to_path_buf(),
            secrets: Arc::new(RwLock::new(Arc::new(secrets))),
            seen: Arc::new(RwLock::new(fp)),
        })
    }

    /// How many Secrets are loaded.
    pub fn len(&self) -> usize {
        self.snapshot().len()
    }

    /// True when no Secret is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn snapshot(&self) -> Arc<Vec<OwnedSecret>> {
        match self.secrets.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Re-reads the directory if any file changed. Returns `Ok(true)` when the Secrets were
    /// replaced; on an invalid file the previous Secrets stay and the error is returned.
    pub fn reload_if_changed(&self) -> Result<bool, ConfigError> {
        let fp = fingerprint(&self.dir)?;
        let unchanged = match self.seen.read() {
            Ok(g) => *g == fp,
            Err(p) => *p.into_inner() == fp,
        };
        if unchanged {
            return Ok(false);
        }
        // Remember the fingerprint even when the files are invalid, so a broken file is
        // reported once, not every interval.
        if let Ok(mut g) = self.seen.write() {
            *g = fp.clone();
        }
        let secrets = read_all(&fp)?;
        if let Ok(mut g) = self.secrets.write() {
            *g = Arc::new(secrets);
        }
        Ok(true)
    }

    /// Re-scans every [`RELOAD_INTERVAL`] until the runtime stops, logging changes and
    /// invalid files.
    pub fn spawn_reloader(self) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RELOAD_INTERVAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                let me = self.clone();
                let res = tokio::task::spawn_blocking(move || me.reload_if_changed()).await;
                match res {
                    Ok(Ok(true)) => tracing::info!(
                        dir = %self.dir.display(),
                        secrets = self.len(),
                        "bootstrap token secrets reloaded"
                    ),
                    Ok(Ok(false)) => {}
                    Ok(Err(e)) => tracing::warn!(
                        error = %e,
                        "bootstrap token secrets not reloaded; keeping the previous ones"
                    ),
                    Err(e) => tracing::warn!(error = %e, "bootstrap token reload task failed"),
                }
            }
        });
    }
}

impl BootstrapSecretStore for SecretsDir {
    fn with_secret(
        &self,
        token_id: &str,
        f: &mut dyn FnMut(&BootstrapSecret<'_>),
    ) -> Result<bool, LookupError> {
        let snap = self.snapshot();
        let Some(s) = snap.iter().find(|s| {
            s.namespace == kauthn::BOOTSTRAP_NAMESPACE
                && parse_bootstrap_secret_name(&s.name) == Some(token_id)
        }) else {
            return Ok(false);
        };
        let mut view = BootstrapSecret {
            namespace: &s.namespace,
            name: &s.name,
            type_: &s.type_,
            deleting: s.deleting,
            has_data: s.has_data,
            ..BootstrapSecret::default()
        };
        for (k, v) in &s.data {
            view.set_data(k, v);
        }
        view.has_data = s.has_data;
        f(&view);
        Ok(true)
    }
}

fn fingerprint(dir: &Path) -> Result<Fingerprint, ConfigError> {
    let flag = "--bootstrap-token-secrets-dir";
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ConfigError::new(dir.display().to_string(), flag, e.to_string()))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| ConfigError::new(dir.display().to_string(), flag, e.to_string()))?;
        let path = entry.path();
        let is_manifest = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        // Editors and `kubectl` leave dot-files and backups; only manifests count.
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if !is_manifest || hidden {
            continue;
        }
        let meta = std::fs::metadata(&path)
            .map_err(|e| ConfigError::new(path.display().to_string(), flag, e.to_string()))?;
        if meta.is_file() {
            out.push((path, meta.len(), meta.modified().ok()));
        }
    }
    out.sort();
    Ok(out)
}

fn read_all(fp: &Fingerprint) -> Result<Vec<OwnedSecret>, ConfigError> {
    let mut out = Vec::new();
    for (path, len, _) in fp {
        let file = path.display().to_string();
        if *len > MAX_MANIFEST_BYTES {
            return Err(ConfigError::new(
                file,
                "",
                format!("file is larger than {MAX_MANIFEST_BYTES} bytes"),
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(file.clone(), "", e.to_string()))?;
        parse_manifests(&text, &file, &mut out)?;
    }
    Ok(out)
}

/// Parses every Secret in `text` (YAML, possibly several documents, or JSON) into `out`.
fn parse_manifests(text: &str, file: &str, out: &mut Vec<OwnedSecret>) -> Result<(), ConfigError> {
    for (i, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
        let value = serde_json::Value::deserialize(doc)
            .map_err(|e| ConfigError::new(file, format!("document {i}"), e.to_string()))?;
        if value.is_null() {
            continue; // an empty document (`---` at the end)
        }
        parse_value(value, file, out)?;
    }
    Ok(())
}

fn parse_value(
    value: serde_json::Value,
    file: &str,
    out: &mut Vec<OwnedSecret>,
) -> Result<(), ConfigError> {
    let m: Manifest = serde_json::from_value(value)
        .map_err(|e| ConfigError::new(file, "", format!("not a Secret manifest: {e}")))?;
    if m.kind == "List" || m.kind == "SecretList" {
        for item in m.items {
            parse_value(item, file, out)?;
        }
        return Ok(());
    }
    if m.kind != "Secret" || (m.api_version != "v1" && !m.api_version.is_empty()) {
        return Err(ConfigError::new(
            file,
            "kind",
            format!(
                "expected kind Secret (apiVersion v1), got kind {:?} apiVersion {:?}",
                m.kind, m.api_version
            ),
        ));
    }
    let name = m.metadata.name;
    if name.is_empty() {
        return Err(ConfigError::new(file, "metadata.name", "Required value"));
    }
    let namespace = if m.metadata.namespace.is_empty() {
        kauthn::BOOTSTRAP_NAMESPACE.to_string()
    } else {
        m.metadata.namespace
    };
    let mut data = BTreeMap::new();
    let has_data = m.data.is_some() || m.string_data.is_some();
    for (k, v) in m.data.unwrap_or_default() {
        let v = v.unwrap_or_default();
        let decoded = Base64::decode_vec(v.trim()).map_err(|_| {
            ConfigError::new(
                file,
                format!("{name}: data.{k}"),
                "illegal base64 data (data values are base64; use stringData for plain text)",
            )
        })?;
        data.insert(k, decoded);
    }
    for (k, v) in m.string_data.unwrap_or_default() {
        data.insert(k, v.unwrap_or_default().into_bytes());
    }
    out.push(OwnedSecret {
        namespace,
        name,
        type_: m.type_,
        deleting: m.metadata.deletion_timestamp.is_some_and(|t| !t.is_null()),
        has_data,
        data,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_yaml_with_base64_data_is_decoded() {
        let yaml = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bootstrap-token-abcdef\n  namespace: kube-system\ntype: bootstrap.kubernetes.io/token\ndata:\n  token-id: YWJjZGVm\n  token-secret: MDEyMzQ1Njc4OWFiY2RlZg==\n";
        let mut out = Vec::new();
        parse_manifests(yaml, "f.yaml", &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data["token-id"], b"abcdef");
        assert_eq!(out[0].data["token-secret"], b"0123456789abcdef");
    }

    #[test]
    fn string_data_multi_document_and_lists_are_read() {
        let yaml = "kind: Secret\napiVersion: v1\nmetadata: {name: bootstrap-token-aaaaaa}\nstringData: {token-id: aaaaaa}\n---\n{\"kind\":\"List\",\"items\":[{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"bootstrap-token-bbbbbb\"},\"stringData\":{\"token-id\":\"bbbbbb\"}}]}\n---\n";
        let mut out = Vec::new();
        parse_manifests(yaml, "f.yaml", &mut out).unwrap();
        let names: Vec<_> = out.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["bootstrap-token-aaaaaa", "bootstrap-token-bbbbbb"]);
        assert_eq!(out[0].namespace, "kube-system");
    }

    #[test]
    fn invalid_base64_names_the_file_and_field() {
        let yaml = "kind: Secret\napiVersion: v1\nmetadata: {name: bootstrap-token-aaaaaa}\ndata: {token-id: '!!'}\n";
        let err = parse_manifests(yaml, "bad.yaml", &mut Vec::new()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("bad.yaml: bootstrap-token-aaaaaa: data.token-id: illegal base64"),
            "{text}"
        );
    }
}
