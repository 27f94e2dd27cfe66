//! Script functions that ask the cluster itself: who am I there, may I do this, which pods
//! are there. They prove access works, the runbook's "Verify" step.

use std::path::{Path, PathBuf};

use rhai::{Array, Dynamic};

use super::api::{self, error_with_hint, Api, FnDoc, FnResult};
use super::state::Shared;
use crate::kube::{api as kapi, KubeError};

fn kube_error(e: KubeError) -> Box<rhai::EvalAltResult> {
    match e.hint() {
        Some(h) => error_with_hint(&e, h),
        None => e.to_string().into(),
    }
}

fn with_client<T>(
    state: &Shared,
    f: impl AsyncFnOnce(kube::Client) -> Result<T, KubeError>,
) -> FnResult<T> {
    let mut st = state.borrow_mut();
    let conn = st.connection()?;
    let client = {
        let mut c = conn.borrow_mut();
        st.aws.block_on(c.client())?.map_err(kube_error)?
    };
    st.aws.block_on(f(client))?.map_err(kube_error)
}

/// `path` made absolute with symlinks in its existing part resolved, so `~/.kube/link/x`
/// counts where the link points; `None` when a `..` remains in the part that does not exist.
fn resolved(path: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(path).ok()?;
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                if *part == std::ffi::OsStr::new("..") || *part == std::ffi::OsStr::new(".") {
                    return None;
                }
                out.push(part);
            }
            return Some(out);
        }
        rest.push(existing.file_name()?);
        existing = existing.parent()?;
    }
}

/// Where a script may write a kubeconfig: the files in effect (KUBECONFIG, `--kubeconfig`)
/// and anything under `~/.kube`. Scripts cannot touch other files; a user who wants another
/// path names it on the command line.
fn kubeconfig_allowed(st: &super::state::State, file: &Path) -> bool {
    let Some(file) = resolved(file) else {
        return false;
    };
    let mut files: Vec<PathBuf> = st
        .env
        .get("KUBECONFIG")
        .map(|k| {
            k.split(':')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default();
    if let Some(crate::kube::ConnectSpec::Kubeconfig { paths, .. }) = &st.kube.connect {
        files.extend(paths.iter().cloned());
    }
    let kube_dir = st.env.get("HOME").map(|h| Path::new(h).join(".kube"));
    files.iter().filter_map(|f| resolved(f)).any(|f| f == file)
        || kube_dir
            .and_then(|d| resolved(&d))
            .is_some_and(|d| file.starts_with(d))
}

fn write_kubeconfig(state: &Shared, options: &rhai::Map) -> FnResult<Dynamic> {
    let mut file = None;
    let mut alias = None;
    for (k, v) in options {
        match k.as_str() {
            "file" => file = Some(PathBuf::from(api::string("`file`", v)?)),
            "alias" => alias = Some(api::string("`alias`", v)?),
            other => return Err(format!("unknown option `{other}`: use `file` and `alias`").into()),
        }
    }
    let mut st = state.borrow_mut();
    if let Some(f) = &file {
        if !kubeconfig_allowed(&st, f) {
            return Err(error_with_hint(
                format!(
                    "write_kubeconfig(#{{file: \"{}\"}}) refused: scripts write only the kubeconfig files in effect (KUBECONFIG, else ~/.kube/config) or files under ~/.kube",
                    f.display()
                ),
                format!(
                    "to write {} anyway, name it when you run the script: KUBECONFIG={} okscript run ... (or --kubeconfig {})",
                    f.display(),
                    f.display(),
                    f.display()
                ),
            ));
        }
    }
    let Some(spec) = st.kube.connect.clone() else {
        return Err(error_with_hint(
            "which cluster?",
            "pass --cluster NAME or -c cluster.yaml",
        ));
    };
    if st.dry_run {
        st.printer.note("dry run: the kubeconfig is not written");
        return Ok(Dynamic::UNIT);
    }
    let session = super::aws_fns::implicit_login(&mut st)?;
    let rt = st.aws.runtime()?;
    let env = st.env.clone();
    let done = crate::kube::write_kubeconfig(
        &rt,
        &session,
        &spec,
        &env,
        file.as_deref(),
        alias.as_deref(),
        false,
    )
    .map_err(kube_error)?;
    let mut m = rhai::Map::new();
    m.insert("file".into(), done.path.display().to_string().into());
    m.insert("context".into(), done.context.into());
    m.insert(
        "changed".into(),
        (!matches!(done.outcome, crate::kube::FileOutcome::Unchanged)).into(),
    );
    Ok(m.into())
}

fn access_mode(state: &Shared) -> FnResult<String> {
    let mut st = state.borrow_mut();
    let file_target = matches!(st.target_spec, Some(crate::targets::TargetSpec::File(_)));
    if file_target || st.kube.connect.is_none() {
        return Ok("unknown".into());
    }
    let conn = st.connection()?;
    let mode = conn.borrow().auth_mode();
    Ok(mode.map_or("unknown", crate::aws::AuthMode::as_str).into())
}

/// Which mechanism admitted `who`, by EKS's precedence: CONFIG_MAP reads only aws-auth, API
/// only entries, API_AND_CONFIG_MAP an entry first (asked with DescribeAccessEntry for the
/// principal's real ARN). The server does not say it itself: SelfSubjectReview's `extra`
/// carries the same keys (arn, canonicalArn, principalId, ...) for both.
fn admitted_by(state: &Shared, who: &kapi::WhoAmI) -> (String, String) {
    use crate::aws::AuthMode;
    let unknown = |why: &str| ("unknown".to_string(), why.to_string());
    let canonical = who
        .extra
        .get("canonicalArn")
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_else(|| who.arn.clone());
    let mut st = state.borrow_mut();
    let Some(conn) = st.connection.clone() else {
        return unknown("no cluster connection");
    };
    let (mode, eks) = super::migrate_fns::eks_of(&conn);
    match mode {
        None => unknown("the cluster's authenticationMode is unknown (pass --cluster NAME)"),
        Some(AuthMode::ConfigMap) => (
            "aws-auth".into(),
            "authenticationMode CONFIG_MAP: EKS reads only aws-auth".into(),
        ),
        Some(AuthMode::Api) => (
            "access-entry".into(),
            "authenticationMode API: EKS reads only access entries".into(),
        ),
        Some(AuthMode::ApiAndConfigMap) => {
            let Some((cluster, session)) = eks.filter(|_| !canonical.is_empty()) else {
                return unknown("no IAM principal in the cluster's answer");
            };
            let found = st.aws.block_on(async {
                let real = crate::aws::entry_principal_arn(&session, &canonical).await?;
                let at = crate::aws::EntriesAt {
                    session: &session,
                    cluster: &cluster,
                };
                at.describe(&real).await
            });
            match found {
                Ok(Ok(Some(e))) => (
                    "access-entry".into(),
                    format!("authenticationMode API_AND_CONFIG_MAP and {} has an access entry, which EKS uses before aws-auth", e.principal_arn),
                ),
                Ok(Ok(None)) => (
                    "aws-auth".into(),
                    format!("authenticationMode API_AND_CONFIG_MAP and {canonical} has no access entry, so aws-auth admitted it"),
                ),
                Ok(Err(e)) => unknown(&format!("could not look up the access entry of {canonical}: {e}")),
                Err(e) => unknown(&e.to_string()),
            }
        }
    }
}

/// Registers the cluster functions.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: "write_kubeconfig",
            params: "",
            returns: "map",
            doc: "Add or update the cluster's context in the kubeconfig (KUBECONFIG or ~/.kube/config) with `okscript token` as its exec plugin, keeping everything else; returns #{file, context, changed}.",
            example: r#"let k = write_kubeconfig(); print(`kubectl --context ${k.context} get pods`);"#,
        },
        move || -> FnResult<Dynamic> { write_kubeconfig(&s, &rhai::Map::new()) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "write_kubeconfig",
            params: "options: map",
            returns: "map",
            doc: "Like write_kubeconfig(), with #{file: PATH, alias: CONTEXT_NAME}; PATH must be a kubeconfig file in effect (KUBECONFIG, --kubeconfig) or lie under ~/.kube.",
            example: r#"write_kubeconfig(#{alias: "prod"});"#,
        },
        move |options: rhai::Map| -> FnResult<Dynamic> { write_kubeconfig(&s, &options) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "cluster_whoami",
            params: "",
            returns: "map",
            doc: "Who the cluster says you are (SelfSubjectReview): #{username, groups, arn, extra, admitted_by, admitted_why}; a 401 error explains the likely cause. EKS's answer does not name the mechanism (its extra holds the same keys either way), so admitted_by is okscript's reading of EKS's rule: \"access-entry\" or \"aws-auth\" from the cluster's authenticationMode and whether your principal has an access entry (DescribeAccessEntry), \"unknown\" when that cannot be told; admitted_why says how it was told.",
            example: r#"let me = cluster_whoami(); print(`${me.username} ${me.groups} via ${me.admitted_by}`);"#,
        },
        move || -> FnResult<Dynamic> {
            let who = with_client(&s, async |c| kapi::whoami(&c).await)?;
            let (by, why) = admitted_by(&s, &who);
            let mut out = api::to_dynamic(&who);
            if let Some(map) = out.write_lock::<rhai::Map>().as_deref_mut() {
                map.insert("admitted_by".into(), by.into());
                map.insert("admitted_why".into(), why.into());
            }
            Ok(out)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "can_i",
            params: "verb: string, resource: string",
            returns: "bool",
            doc: "Whether you may do this in the cluster (SelfSubjectAccessReview), like `kubectl auth can-i VERB RESOURCE` across namespaces.",
            example: r#"if !can_i("list", "pods") { fail("cannot list pods"); }"#,
        },
        move |verb: &str, resource: &str| -> FnResult<bool> {
            let (v, r) = (verb.to_string(), resource.to_string());
            with_client(&s, async move |c| kapi::can_i(&c, &v, &r, None).await)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "can_i",
            params: "verb: string, resource: string, namespace: string",
            returns: "bool",
            doc: "Whether you may do this in one namespace (SelfSubjectAccessReview).",
            example: r#"print(can_i("get", "configmaps", "kube-system"));"#,
        },
        move |verb: &str, resource: &str, ns: &str| -> FnResult<bool> {
            let (v, r, n) = (verb.to_string(), resource.to_string(), ns.to_string());
            with_client(&s, async move |c| kapi::can_i(&c, &v, &r, Some(&n)).await)
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "cluster_name",
            params: "",
            returns: "string",
            doc: "The cluster the run works on (--cluster, -c or --context), without connecting; \"\" when none was given.",
            example: r#"print(`cluster: ${cluster_name()}`);"#,
        },
        move || -> String {
            s.borrow()
                .kube
                .connect
                .as_ref()
                .map(|c| c.name())
                .unwrap_or_default()
        },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "access_mode",
            params: "",
            returns: "string",
            doc: "How EKS authenticates to the cluster (DescribeCluster's accessConfig.authenticationMode): \"CONFIG_MAP\", \"API_AND_CONFIG_MAP\" or \"API\"; \"unknown\" for a file target and a kubeconfig context without --cluster.",
            example: r#"if access_mode() == "API" { print("this cluster ignores aws-auth"); }"#,
        },
        move || -> FnResult<String> { access_mode(&s) },
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "pods",
            params: "namespace: string",
            returns: "array",
            doc: "The names of the pods in a namespace (what `kubectl get pods -n NAMESPACE` lists).",
            example: r#"print(`${pods("default").len()} pods in default`);"#,
        },
        move |ns: &str| -> FnResult<Array> {
            let n = ns.to_string();
            let names = with_client(&s, async move |c| kapi::pod_names(&c, &n).await)?;
            Ok(names.into_iter().map(Dynamic::from).collect())
        },
    );
}

#[cfg(test)]
mod tests {
    use super::resolved;

    #[test]
    fn resolved_follows_links_and_refuses_dot_dot_in_what_does_not_exist() {
        let dir = tempfile_dir();
        let real = dir.join("real");
        std::fs::create_dir_all(&real).expect("mkdir");
        std::os::unix::fs::symlink(&real, dir.join("link")).expect("symlink");
        let real = real.canonicalize().expect("canonical");
        assert_eq!(
            resolved(&dir.join("link/new/config")),
            Some(real.join("new/config"))
        );
        assert_eq!(resolved(&dir.join("link/../real/x")), Some(real.join("x")));
        assert_eq!(resolved(&dir.join("missing/../x")), None);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("okscript-resolved-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }
}
