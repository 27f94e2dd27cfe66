//! [`AwsContext`]: everything the AWS layer knows about the outside world, resolved by the
//! caller. Nothing in `aws` reads the process environment itself.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

use super::config_file::{self, ConfigFile, SectionId};
use super::error::AwsError;

/// Environment variables the AWS layer looks at, with [`CHAIN_ENV_VARS`].
/// `AWS_ENDPOINT_URL_<SERVICE>` variables are taken too (see [`AwsContext::is_relevant_var`]).
pub const RELEVANT_ENV_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "HOME",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
];

/// The variables only the default chain's later sources read (web identity, container
/// credentials, instance metadata): handed to aws-config for that chain alone.
pub const CHAIN_ENV_VARS: &[&str] = &[
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
];

/// Variables whose values are secrets: never printed, cut out of every error text.
const SECRET_VARS: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

/// Region used for STS and IAM when none is configured anywhere. Both are global services,
/// so this only decides where requests are signed; EKS calls must name their region.
pub const FALLBACK_REGION: &str = "us-east-1";

/// The resolved inputs of the AWS layer: a snapshot of the relevant environment variables
/// plus the overrides from the command line or the cluster declaration.
///
/// `Debug` never shows secret values.
#[derive(Clone, Default)]
pub struct AwsContext {
    /// A snapshot of the environment (only [`RELEVANT_ENV_VARS`], [`CHAIN_ENV_VARS`] and
    /// `AWS_ENDPOINT_URL_*` are used).
    pub env: BTreeMap<String, String>,
    /// Region override (e.g. `--region`, or `metadata.region` of a cluster declaration); wins over the env.
    pub region: Option<String>,
    /// Endpoint override for every AWS service; wins over `AWS_ENDPOINT_URL*`.
    pub endpoint_url: Option<String>,
    /// `--profile`: wins over `AWS_PROFILE`, and (as in the AWS CLI) over keys in the environment.
    pub profile: Option<String>,
}

impl fmt::Debug for AwsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: BTreeMap<&str, &str> = self
            .env
            .iter()
            .map(|(k, v)| {
                let shown = if SECRET_VARS.contains(&k.as_str()) {
                    "<redacted>"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("AwsContext")
            .field("env", &env)
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field("profile", &self.profile)
            .finish()
    }
}

impl AwsContext {
    /// A context from an environment snapshot; irrelevant variables are dropped.
    pub fn new(env: impl IntoIterator<Item = (String, String)>) -> Self {
        AwsContext {
            env: env
                .into_iter()
                .filter(|(k, _)| Self::is_relevant_var(k))
                .collect(),
            region: None,
            endpoint_url: None,
            profile: None,
        }
    }

    /// Sets the profile override (`--profile`).
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Sets the region override.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets the endpoint override.
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Whether the AWS layer uses this variable.
    pub fn is_relevant_var(name: &str) -> bool {
        RELEVANT_ENV_VARS.contains(&name)
            || CHAIN_ENV_VARS.contains(&name)
            || name
                .strip_prefix("AWS_ENDPOINT_URL_")
                .is_some_and(|s| !s.is_empty())
    }

    /// A variable's value; empty counts as unset, like the AWS CLI.
    pub(crate) fn var(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(|v| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// The region from the override, `AWS_REGION` or `AWS_DEFAULT_REGION`, in that order.
    /// `None` lets a profile's `region` decide (then [`FALLBACK_REGION`]).
    pub fn explicit_region(&self) -> Option<String> {
        self.region
            .as_deref()
            .filter(|r| !r.trim().is_empty())
            .or_else(|| self.var("AWS_REGION"))
            .or_else(|| self.var("AWS_DEFAULT_REGION"))
            .map(|r| r.trim().to_string())
    }

    /// The endpoint that applies to every service, if any (override, then `AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> Option<String> {
        self.endpoint_url
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .or_else(|| self.var("AWS_ENDPOINT_URL"))
            .map(str::to_string)
    }

    /// The endpoint for one service (`STS`, `IAM`, `SSO`, ...), for messages.
    pub(crate) fn endpoint_for(&self, service: &str) -> Option<String> {
        if let Some(e) = self.endpoint_url.as_deref().filter(|e| !e.is_empty()) {
            return Some(e.to_string());
        }
        self.var(&format!("AWS_ENDPOINT_URL_{service}"))
            .or_else(|| self.var("AWS_ENDPOINT_URL"))
            .map(str::to_string)
    }

    /// The profile `--profile` or `AWS_PROFILE` names, or `default`.
    pub fn profile_name(&self) -> String {
        self.chosen_profile().unwrap_or("default").to_string()
    }

    /// The profile a person chose (`--profile`, else `AWS_PROFILE`), if any: what a
    /// kubeconfig must carry to log in the same way in another shell.
    pub fn chosen_profile(&self) -> Option<&str> {
        self.profile
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .or_else(|| self.var("AWS_PROFILE"))
    }

    fn expand(&self, path: &str) -> PathBuf {
        if let (Some(rest), Some(home)) = (path.strip_prefix("~/"), self.var("HOME")) {
            return PathBuf::from(home).join(rest);
        }
        if path == "~" {
            if let Some(home) = self.var("HOME") {
                return PathBuf::from(home);
            }
        }
        PathBuf::from(path)
    }

    /// The shared config file: `AWS_CONFIG_FILE`, else `$HOME/.aws/config`.
    pub fn config_file(&self) -> Option<PathBuf> {
        self.aws_file("AWS_CONFIG_FILE", "config")
    }

    /// The shared credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else `$HOME/.aws/credentials`.
    pub fn credentials_file(&self) -> Option<PathBuf> {
        self.aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
    }

    /// The file the variable names (`~` expanded), else `$HOME/.aws/<name>`.
    fn aws_file(&self, var: &str, name: &str) -> Option<PathBuf> {
        match self.var(var) {
            Some(p) => Some(self.expand(p)),
            None => self
                .var("HOME")
                .map(|h| PathBuf::from(h).join(".aws").join(name)),
        }
    }

    /// The SSO token cache directory, `$HOME/.aws/sso/cache`.
    pub fn sso_cache_dir(&self) -> Option<PathBuf> {
        self.var("HOME")
            .map(|h| PathBuf::from(h).join(".aws").join("sso").join("cache"))
    }

    /// Secret values in the snapshot, for redaction.
    pub(crate) fn secret_values(&self) -> impl Iterator<Item = &str> {
        SECRET_VARS.iter().filter_map(|k| self.var(k))
    }

    /// The environment handed to aws-config in place of the process environment.
    ///
    /// It holds only what the chosen credentials type may use: static key variables are
    /// never passed for the profile types (no silent fallback to keys), `AWS_PROFILE` is
    /// never passed (the profile is set explicitly), and IMDS is switched off so that the
    /// default chain behind a profile can never reach out to 169.254.169.254.
    pub(crate) fn sdk_env(&self, region: Option<&str>) -> HashMap<String, String> {
        let mut env = HashMap::new();
        for (k, v) in &self.env {
            let keep = k == "HOME"
                || k == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
                || k.starts_with("AWS_ENDPOINT_URL");
            if keep && !v.trim().is_empty() {
                env.insert(k.clone(), v.clone());
            }
        }
        if let Some(e) = self.endpoint_url.as_deref().filter(|e| !e.is_empty()) {
            env.retain(|k, _| !k.starts_with("AWS_ENDPOINT_URL"));
            env.insert("AWS_ENDPOINT_URL".into(), e.to_string());
        }
        if let Some(r) = region {
            env.insert("AWS_REGION".into(), r.to_string());
        }
        env.insert("AWS_EC2_METADATA_DISABLED".into(), "true".into());
        env
    }

    /// The environment for the default chain's later sources: [`Self::sdk_env`] plus web
    /// identity, container and instance-metadata variables; instance metadata stays on
    /// unless `AWS_EC2_METADATA_DISABLED` says otherwise, as in every AWS SDK.
    pub(crate) fn sdk_env_chain(&self, region: Option<&str>) -> HashMap<String, String> {
        let mut env = self.sdk_env(region);
        env.remove("AWS_EC2_METADATA_DISABLED");
        for k in CHAIN_ENV_VARS {
            if let Some(v) = self.var(k) {
                env.insert((*k).to_string(), v.to_string());
            }
        }
        env
    }
}

/// One section of an AWS config or credentials file.
pub(crate) type Section = BTreeMap<String, String>;

/// The parsed AWS config and credentials files: just enough to list profiles and to see
/// whether a profile is an SSO profile. Credentials themselves are resolved by aws-config.
#[derive(Debug, Default)]
pub(crate) struct ProfileFilesView {
    /// `[default]` / `[profile X]` of the config file, by profile name.
    pub config_profiles: BTreeMap<String, Section>,
    /// `[sso-session X]` of the config file.
    pub sso_sessions: BTreeMap<String, Section>,
    /// `[X]` of the credentials file.
    pub credential_profiles: BTreeMap<String, Section>,
    /// The files that were looked at (whether or not they exist).
    pub files: Vec<PathBuf>,
}

impl ProfileFilesView {
    /// Reads the two files named by `ctx`. A missing file counts as empty.
    pub(crate) fn load(ctx: &AwsContext) -> Result<Self, AwsError> {
        let config = ctx.config_file();
        let credentials = ctx.credentials_file();
        if config.is_none() && credentials.is_none() {
            return Err(AwsError::NoHome);
        }
        let mut view = ProfileFilesView::default();
        if let Some(path) = config {
            if let Some(file) = read_optional(&path, "config")? {
                for section in file.sections() {
                    match section.id() {
                        SectionId::Profile(name) => {
                            merge(&mut view.config_profiles, name, settings(section))
                        }
                        SectionId::SsoSession(name) => {
                            merge(&mut view.sso_sessions, name, settings(section))
                        }
                        SectionId::Other(_) => {}
                    }
                }
            }
            view.files.push(path);
        }
        if let Some(path) = credentials {
            if let Some(file) = read_optional(&path, "credentials")? {
                // The credentials file names profiles bare: `[dev]`, never `[profile dev]`.
                for section in file.sections() {
                    merge(
                        &mut view.credential_profiles,
                        section.name(),
                        settings(section),
                    );
                }
            }
            view.files.push(path);
        }
        Ok(view)
    }

    /// All profile names from both files, sorted and without duplicates.
    pub(crate) fn profile_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .config_profiles
            .keys()
            .chain(self.credential_profiles.keys())
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Whether the profile exists in either file.
    pub(crate) fn has_profile(&self, name: &str) -> bool {
        self.config_profiles.contains_key(name) || self.credential_profiles.contains_key(name)
    }

    /// Whether the profile (config and credentials sections together) has any setting
    /// aws-config can get credentials from.
    pub(crate) fn has_credential_source(&self, name: &str) -> bool {
        const SOURCES: &[&str] = &[
            "aws_access_key_id",
            "credential_process",
            "role_arn",
            "web_identity_token_file",
            "sso_session",
            "sso_start_url",
            "login_session",
        ];
        [
            self.config_profiles.get(name),
            self.credential_profiles.get(name),
        ]
        .into_iter()
        .flatten()
        .any(|section| SOURCES.iter().any(|k| section.contains_key(*k)))
    }

    /// The config-file settings of a profile.
    pub(crate) fn config(&self, name: &str) -> Option<&Section> {
        self.config_profiles.get(name)
    }

    /// The error for a profile that does not exist.
    pub(crate) fn not_found(&self, name: &str) -> AwsError {
        AwsError::ProfileNotFound {
            name: name.to_string(),
            available: self.profile_names(),
            files: self.files.clone(),
        }
    }
}

/// Reads and parses a profile file, `None` when it does not exist. The one parser of these
/// files is [`ConfigFile`]'s (the AWS CLI's rules), so that what okscript edits, what
/// `has_profile` sees and what a login reads cannot disagree; a file the AWS CLI would
/// refuse is an error naming its line, reported the same way by every login.
fn read_optional(path: &PathBuf, kind: &'static str) -> Result<Option<ConfigFile>, AwsError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            ConfigFile::parse(&text)
                .map(Some)
                .map_err(|e| AwsError::ProfileFileMalformed {
                    kind,
                    path: path.clone(),
                    line: e.line,
                    message: e.message,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AwsError::ProfileFileUnreadable {
            kind,
            path: path.clone(),
            detail: e.to_string(),
        }),
    }
}

/// A section's settings by lowercased key, each value as the AWS SDK reads it: a ` #` or
/// ` ;` comment after the first line's value is cut off.
fn settings(section: &config_file::Section) -> Section {
    section
        .settings()
        .map(|(k, v)| {
            let value = match v.split_once('\n') {
                Some((first, rest)) => format!("{}\n{rest}", strip_inline_comment(first)),
                None => strip_inline_comment(&v).to_string(),
            };
            (k.to_ascii_lowercase(), value)
        })
        .collect()
}

/// `[default]` and `[profile default]` both name the default profile: their settings merge.
fn merge(map: &mut BTreeMap<String, Section>, name: &str, body: Section) {
    if name.is_empty() {
        return;
    }
    map.entry(name.to_string()).or_default().extend(body);
}

fn strip_inline_comment(v: &str) -> &str {
    // The SDK treats ` #` / ` ;` after a value as a comment.
    let cut = [" #", "\t#", " ;", "\t;"]
        .iter()
        .filter_map(|m| v.find(m))
        .min();
    match cut {
        Some(i) => v[..i].trim_end(),
        None => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view of one config file (and an optional credentials file) in a temp HOME.
    fn view(config: &str, credentials: Option<&str>) -> ProfileFilesView {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        std::fs::write(home.join(".aws/config"), config).unwrap();
        if let Some(c) = credentials {
            std::fs::write(home.join(".aws/credentials"), c).unwrap();
        }
        let ctx = AwsContext::new([("HOME".to_string(), home.display().to_string())]);
        ProfileFilesView::load(&ctx).unwrap()
    }

    #[test]
    fn ini_headers_and_comments() {
        let text = "# top\n[default]\nregion = eu-west-1 # c\n\n[profile dev]\nsso_session = corp\ns3 =\n  max_concurrent_requests = 2\n[sso-session corp]\nsso_start_url=https://x/start\n";
        let v = view(text, None);
        assert_eq!(v.config_profiles["default"]["region"], "eu-west-1");
        assert_eq!(v.config_profiles["dev"]["sso_session"], "corp");
        assert_eq!(
            v.config_profiles["dev"]["s3"],
            "\nmax_concurrent_requests = 2"
        );
        assert_eq!(v.sso_sessions["corp"]["sso_start_url"], "https://x/start");
    }

    #[test]
    fn the_view_reads_what_the_config_editor_reads() {
        // `key: value` settings (the AWS CLI's configparser reads them): the old view skipped
        // them, so a profile configure_sso and the CLI saw as SSO was no SSO profile to the login.
        let v = view(
            "[profile dev]\nsso_session: corp\nSSO_Account_Id: 123456789012\nsso_role_name = Admin\n[sso-session corp]\nsso_start_url: https://x/start\nsso_region = eu-west-1\n",
            Some("[dev]\naws_access_key_id = AKIAEXAMPLE\n[profile odd]\nregion = eu-west-1\n"),
        );
        let dev = &v.config_profiles["dev"];
        assert_eq!(dev["sso_session"], "corp");
        assert_eq!(dev["sso_account_id"], "123456789012");
        assert_eq!(v.sso_sessions["corp"]["sso_start_url"], "https://x/start");
        assert!(sso_profile_names(&v).contains(&"dev".to_string()));
        // The credentials file names profiles bare, as the CLI and the SDK read it.
        assert!(v.credential_profiles.contains_key("dev"));
        assert!(v.credential_profiles.contains_key("profile odd"));
        assert!(v.has_credential_source("dev"));
    }

    #[test]
    fn a_file_the_cli_refuses_is_refused_by_every_reader() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path();
        std::fs::create_dir_all(home.join(".aws")).unwrap();
        // The CLI's configparser refuses a duplicate section, and so does every reader here.
        let text = "[profile dev]\nregion = eu-west-1\n[profile dev]\nregion = eu-north-1\n";
        std::fs::write(home.join(".aws/config"), text).unwrap();
        let ctx = AwsContext::new([("HOME".to_string(), home.display().to_string())]);
        let e = ProfileFilesView::load(&ctx).unwrap_err();
        assert!(
            matches!(e, AwsError::ProfileFileMalformed { line: 3, .. }),
            "{e}"
        );
        assert!(ConfigFile::parse(text).is_err());
    }

    fn sso_profile_names(v: &ProfileFilesView) -> Vec<String> {
        v.config_profiles
            .keys()
            .filter(|n| {
                crate::aws::sso::profile::sso_profile(v, n)
                    .ok()
                    .flatten()
                    .is_some()
            })
            .cloned()
            .collect()
    }

    #[test]
    fn context_debug_redacts() {
        let ctx = AwsContext::new([
            (
                "AWS_SECRET_ACCESS_KEY".to_string(),
                "s3cr3tvalue123".to_string(),
            ),
            ("AWS_SESSION_TOKEN".to_string(), "tok3nvalue123".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ]);
        let shown = format!("{ctx:?}");
        assert!(!shown.contains("s3cr3tvalue123"));
        assert!(!shown.contains("tok3nvalue123"));
        assert!(!shown.contains("PATH"), "irrelevant vars are dropped");
    }

    #[test]
    fn region_order() {
        let ctx = AwsContext::new([
            ("AWS_DEFAULT_REGION".to_string(), "eu-west-1".to_string()),
            ("AWS_REGION".to_string(), "".to_string()),
        ]);
        assert_eq!(ctx.explicit_region().as_deref(), Some("eu-west-1"));
        let ctx = ctx.with_region("eu-north-1");
        assert_eq!(ctx.explicit_region().as_deref(), Some("eu-north-1"));
    }

    #[test]
    fn endpoint_override_replaces_service_endpoints_in_sdk_env() {
        let ctx = AwsContext::new([
            ("AWS_ENDPOINT_URL_STS".to_string(), "http://a".to_string()),
            ("AWS_ACCESS_KEY_ID".to_string(), "AKIA".to_string()),
        ])
        .with_endpoint_url("http://b");
        let env = ctx.sdk_env(Some("eu-west-1"));
        assert_eq!(
            env.get("AWS_ENDPOINT_URL").map(String::as_str),
            Some("http://b")
        );
        assert!(!env.contains_key("AWS_ENDPOINT_URL_STS"));
        assert!(!env.contains_key("AWS_ACCESS_KEY_ID"));
        assert_eq!(env["AWS_EC2_METADATA_DISABLED"], "true");
    }
}
