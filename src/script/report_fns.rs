//! `report()`: the access report of the run's cluster as data, the same rows
//! `okscript report --output json` prints.

use rhai::{Dynamic, Map};

use super::api::{self, error_with_hint, Api, FnDoc, FnResult};
use super::migrate_fns::eks_of;
use super::state::Shared;
use crate::audit::{cluster_report, IdentityCenterAccess};
use crate::aws::{self, IdentityCenterSpec};

/// The keys `report(#{...})` takes.
const KEYS: [&str; 4] = [
    "sso_region",
    "sso_profile",
    "sso_instance_arn",
    "identity_store_id",
];

/// The options map, every key a string; an unknown key is an error.
fn options(opts: &Map) -> FnResult<(IdentityCenterSpec, Option<String>)> {
    let get = |k: &str| -> FnResult<Option<String>> {
        opts.get(k).map(|v| api::string(k, v)).transpose()
    };
    let spec = IdentityCenterSpec {
        region: get("sso_region")?,
        instance_arn: get("sso_instance_arn")?,
        identity_store_id: get("identity_store_id")?,
    };
    let profile = get("sso_profile")?;
    if let Some(k) = opts.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(error_with_hint(
            format!("report() has no option `{k}`"),
            format!("use {}", KEYS.join(", ")),
        ));
    }
    Ok((spec, profile))
}

fn report(state: &Shared, opts: &Map) -> FnResult<Dynamic> {
    let (spec, profile) = options(opts)?;
    let conn = state.borrow_mut().connection()?;
    let Some((_, session)) = eks_of(&conn).1 else {
        return Err(error_with_hint(
            "report() reads the cluster's access entries and mode through the EKS API, so it needs an EKS cluster",
            "pass --cluster NAME (with --context, add --cluster too)",
        ));
    };
    let mut st = state.borrow_mut();
    let ic_session = match &profile {
        None => Ok(session.clone()),
        Some(p) => {
            let ctx = st.aws.settings().ctx.clone();
            st.aws
                .block_on(aws::assume_profile(&ctx, p))?
                .map_err(|e| format!("cannot log in with sso_profile {p}: {e}"))
        }
    };
    let rt = st.aws.runtime()?;
    drop(st);
    let ic = IdentityCenterAccess {
        session: ic_session,
        spec,
    };
    Ok(api::to_dynamic(&cluster_report(&rt, &session, &conn, &ic)))
}

/// Registers `report()`.
pub fn register(api: &mut Api, state: &Shared) {
    let s = state.clone();
    api.def(
        FnDoc {
            name: "report",
            params: "",
            returns: "map",
            doc: "Who can reach the cluster, and through what, as `okscript report --output json` prints it (read live, not this script's staged changes): #{schema_version, cluster, account, region, authentication_mode, partial, not_visible: [#{part, reason}], identity_center, rows: [#{access, custom_groups, principal, principal_kind, path: [#{kind, name}], mapping: #{source, kind, arn, username, groups, policies, type}, effective, shadowed, dead, notes}]}, most powerful access first. What cannot be read makes the report partial, never an error.",
            example: r#"for row in report().rows { if row.access == "cluster-admin" && row.effective { print(row.principal); } }"#,
        },
        move || report(&s, &Map::new()),
    );
    let s = state.clone();
    api.def(
        FnDoc {
            name: "report",
            params: "options: map",
            returns: "map",
            doc: "report() with Identity Center read elsewhere: #{sso_region, sso_profile, sso_instance_arn, identity_store_id} (each optional; its management or delegated admin account and home region).",
            example: r#"let r = report(#{sso_profile: "management", sso_region: "us-east-1"}); print(r.partial);"#,
        },
        move |opts: Map| report(&s, &opts),
    );
}
