//! The development setup of `kauthn serve` with no flags: a CA, a serving certificate, user
//! certificates, a token file and a kubeconfig in a state directory, created once and
//! reused on later starts.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::config::ConfigError;

/// The files of the development setup.
#[derive(Debug, Clone)]
pub struct DevState {
    /// The state directory.
    pub dir: PathBuf,
}

/// File names inside the state directory.
pub mod files {
    /// The development CA certificate (client CA and server trust root).
    pub const CA_CERT: &str = "ca.crt";
    /// The CA's key.
    pub const CA_KEY: &str = "ca.key";
    /// The serving certificate.
    pub const SERVER_CERT: &str = "apiserver.crt";
    /// The serving key.
    pub const SERVER_KEY: &str = "apiserver.key";
    /// `CN=myuser, O=developers`.
    pub const USER_CERT: &str = "myuser.crt";
    /// Its key.
    pub const USER_KEY: &str = "myuser.key";
    /// `CN=kubernetes-admin, O=system:masters` (may create TokenReviews).
    pub const ADMIN_CERT: &str = "admin.crt";
    /// Its key.
    pub const ADMIN_KEY: &str = "admin.key";
    /// The static token file (`--token-auth-file` format).
    pub const TOKENS: &str = "tokens.csv";
    /// A kubeconfig with the contexts `myuser` (certificate), `alice` and `admin` (tokens).
    pub const KUBECONFIG: &str = "kubeconfig";
}

/// The default state directory: `$XDG_STATE_HOME/kauthn`, else
/// `$HOME/.local/state/kauthn`, else `./.kauthn-state`.
pub fn default_state_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("kauthn");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".local/state/kauthn");
    }
    PathBuf::from(".kauthn-state")
}

fn err(path: &Path, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::new(
        path.display().to_string(),
        "--state-dir",
        reason.to_string(),
    )
}

fn write_file(path: &Path, contents: &[u8], secret: bool) -> Result<(), ConfigError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut f = opts.open(path).map_err(|e| err(path, e))?;
    f.write_all(contents).map_err(|e| err(path, e))
}

fn random_token() -> Result<String, ConfigError> {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).map_err(|e| err(Path::new("getrandom"), e))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

impl DevState {
    /// Path of a file in the state directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Opens `dir`, creating the CA, certificates and token file unless all exist.
    /// Returns the state and whether it was created now.
    pub fn ensure(dir: &Path) -> Result<(DevState, bool), ConfigError> {
        let st = DevState {
            dir: dir.to_path_buf(),
        };
        let all = [
            files::CA_CERT,
            files::CA_KEY,
            files::SERVER_CERT,
            files::SERVER_KEY,
            files::USER_CERT,
            files::USER_KEY,
            files::ADMIN_CERT,
            files::ADMIN_KEY,
            files::TOKENS,
        ];
        if all.iter().all(|f| st.path(f).is_file()) {
            return Ok((st, false));
        }
        std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
        st.generate()?;
        Ok((st, true))
    }

    fn generate(&self) -> Result<(), ConfigError> {
        let e = |x: rcgen::Error| err(&self.dir, x);
        let ca_key = KeyPair::generate().map_err(e)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
        ca.distinguished_name
            .push(DnType::CommonName, "kauthn-dev-ca");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).map_err(e)?;
        write_file(&self.path(files::CA_CERT), ca_cert.pem().as_bytes(), false)?;
        write_file(
            &self.path(files::CA_KEY),
            ca_key.serialize_pem().as_bytes(),
            true,
        )?;
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(e)?;
        let mut server = CertificateParams::new(vec!["localhost".to_string()]).map_err(e)?;
        server.distinguished_name.push(DnType::CommonName, "kauthn");
        for ip in ["127.0.0.1", "::1"] {
            if let Ok(ip) = ip.parse::<IpAddr>() {
                server.subject_alt_names.push(SanType::IpAddress(ip));
            }
        }
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server.signed_by(&server_key, &issuer).map_err(e)?;
        write_file(
            &self.path(files::SERVER_CERT),
            server_cert.pem().as_bytes(),
            false,
        )?;
        write_file(
            &self.path(files::SERVER_KEY),
            server_key.serialize_pem().as_bytes(),
            true,
        )?;

        for (cn, org, cert_file, key_file) in [
            ("myuser", "developers", files::USER_CERT, files::USER_KEY),
            (
                "kubernetes-admin",
                "system:masters",
                files::ADMIN_CERT,
                files::ADMIN_KEY,
            ),
        ] {
            let key = KeyPair::generate().map_err(e)?;
            let mut p = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
            p.distinguished_name.push(DnType::CommonName, cn);
            p.distinguished_name.push(DnType::OrganizationName, org);
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            let cert = p.signed_by(&key, &issuer).map_err(e)?;
            write_file(&self.path(cert_file), cert.pem().as_bytes(), false)?;
            write_file(&self.path(key_file), key.serialize_pem().as_bytes(), true)?;
        }

        let tokens = format!(
            "{},alice,alice-uid,\"developers,viewers\"\n{},token-admin,admin-uid,system:masters\n",
            random_token()?,
            random_token()?
        );
        write_file(&self.path(files::TOKENS), tokens.as_bytes(), true)
    }

    /// The token of `user` in the token file.
    pub fn token_of(&self, user: &str) -> Result<String, ConfigError> {
        let path = self.path(files::TOKENS);
        let text = std::fs::read_to_string(&path).map_err(|e| err(&path, e))?;
        text.lines()
            .find_map(|l| {
                let mut cols = l.split(',');
                let token = cols.next()?;
                (cols.next()? == user).then(|| token.to_string())
            })
            .ok_or_else(|| err(&path, format!("no token for {user}")))
    }

    /// Writes the kubeconfig for a server at `server_url` (rewritten on every start, since
    /// the address may change).
    pub fn write_kubeconfig(&self, server_url: &str) -> Result<PathBuf, ConfigError> {
        let p = |f: &str| self.path(f).display().to_string();
        let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kauthn\n  cluster:\n    server: {server}\n    certificate-authority: {ca}\nusers:\n- name: myuser\n  user:\n    client-certificate: {uc}\n    client-key: {uk}\n- name: alice\n  user:\n    token: {alice}\n- name: admin\n  user:\n    token: {admin}\ncontexts:\n- name: myuser\n  context: {{cluster: kauthn, user: myuser}}\n- name: alice\n  context: {{cluster: kauthn, user: alice}}\n- name: admin\n  context: {{cluster: kauthn, user: admin}}\ncurrent-context: myuser\n",
            server = q(server_url),
            ca = q(&p(files::CA_CERT)),
            uc = q(&p(files::USER_CERT)),
            uk = q(&p(files::USER_KEY)),
            alice = q(&self.token_of("alice")?),
            admin = q(&self.token_of("token-admin")?),
        );
        let path = self.path(files::KUBECONFIG);
        write_file(&path, text.as_bytes(), true)?;
        Ok(path)
    }

    /// The commands to try against a server at `server_url`.
    pub fn instructions(&self, server_url: &str) -> String {
        let p = |f: &str| shell_quote(&self.path(f).display().to_string());
        let ca = p(files::CA_CERT);
        let kc = p(files::KUBECONFIG);
        format!(
            "kauthn development setup in {dir}\n\
             \n\
             Client certificate CN=myuser (curl gets 403 forbidden: User \"myuser\" cannot get path \"/\"):\n\
             \x20 curl --cacert {ca} --cert {uc} --key {uk} {url}/\n\
             \n\
             Who am I, with the certificate and with a token from the token file:\n\
             \x20 kubectl --kubeconfig {kc} auth whoami\n\
             \x20 kubectl --kubeconfig {kc} --context alice auth whoami\n\
             \n\
             A bearer token with curl, and no credentials (anonymous):\n\
             \x20 curl --cacert {ca} -H \"Authorization: Bearer $(cut -d, -f1 {tok} | head -n1)\" {url}/api\n\
             \x20 curl --cacert {ca} {url}/\n\
             \n\
             A TokenReview, as a member of system:masters (certificate CN=kubernetes-admin):\n\
             \x20 curl --cacert {ca} --cert {ac} --key {ak} -H 'Content-Type: application/json' \\\n\
             \x20   -d \"{{\\\"apiVersion\\\":\\\"authentication.k8s.io/v1\\\",\\\"kind\\\":\\\"TokenReview\\\",\\\"spec\\\":{{\\\"token\\\":\\\"$(cut -d, -f1 {tok} | head -n1)\\\"}}}}\" \\\n\
             \x20   {url}/apis/authentication.k8s.io/v1/tokenreviews\n\
             \n\
             The same chain offline:\n\
             \x20 kauthn authenticate --client-cert {uc}\n",
            dir = self.dir.display(),
            uc = p(files::USER_CERT),
            uk = p(files::USER_KEY),
            ac = p(files::ADMIN_CERT),
            ak = p(files::ADMIN_KEY),
            tok = p(files::TOKENS),
            url = server_url,
        )
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
