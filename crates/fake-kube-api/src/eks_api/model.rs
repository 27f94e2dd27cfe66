//! The EKS fake's state: clusters with their `accessConfig`, asynchronous mode updates,
//! access entries and policy associations, and the errors EKS sends when they do not allow
//! a call (stateless checks are in `rules.rs`, error texts in `errors.rs`).
//!
//! No I/O and no HTTP: handlers resolve principals through IAM first and pass them in; time
//! is passed in too, so a mode update completes lazily when someone next looks.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::{json, Value};

use super::catalogue;
use super::errors::{EksError, CONFIG_MAP_MODE_MESSAGE};
use super::rules::{
    check_groups, check_username, node_defaults, page, strings, Principal, ENTRY_TYPES,
};
use crate::{default_username, AuthMode, EntryGrant, Identity, PolicyGrant};

/// A policy association.
#[derive(Debug, Clone)]
struct Association {
    scope: Value,
    associated_at: f64,
    modified_at: f64,
}

/// One access entry.
#[derive(Debug, Clone)]
struct Entry {
    principal: Principal,
    kind: String,
    username: String,
    groups: Vec<String>,
    tags: Value,
    arn: String,
    created_at: f64,
    modified_at: f64,
    visible_at: Instant,
    policies: BTreeMap<String, Association>,
}

impl Entry {
    fn to_json(&self, cluster: &str) -> Value {
        json!({
            "clusterName": cluster,
            "principalArn": self.principal.arn,
            "kubernetesGroups": self.groups,
            "accessEntryArn": self.arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": self.tags,
            "username": self.username,
            "type": self.kind,
        })
    }

    /// Whether the entry stands for the caller: by unique ID when IAM gave one (so a
    /// recreated role does not match), else by ARN with the role path dropped.
    fn matches(&self, identity: &Identity) -> bool {
        let principal_id = identity.user_id.split(':').next().unwrap_or_default();
        match &self.principal.unique_id {
            Some(id) => id == principal_id,
            None => {
                let arn = &self.principal.arn;
                let canonical = match arn.split_once(":role/") {
                    Some((head, rest)) => {
                        format!("{head}:role/{}", rest.rsplit('/').next().unwrap_or(rest))
                    }
                    None => arn.clone(),
                };
                canonical.eq_ignore_ascii_case(&identity.canonical_arn)
            }
        }
    }
}

/// A mode update in flight or done.
#[derive(Debug, Clone)]
struct Update {
    id: String,
    mode: AuthMode,
    created_at: f64,
    done_at: Instant,
    successful: bool,
}

impl Update {
    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "status": if self.successful { "Successful" } else { "InProgress" },
            "type": "AccessConfigUpdate",
            "params": [{"type": "AuthenticationMode", "value": self.mode.as_str()}],
            "createdAt": self.created_at,
            "errors": [],
        })
    }
}

/// One cluster.
#[derive(Debug, Clone)]
struct Cluster {
    name: String,
    arn: String,
    created_at: f64,
    version: String,
    role_arn: String,
    endpoint: String,
    ca_pem: String,
    vpc: Value,
    tags: Value,
    mode: AuthMode,
    bootstrap_admin: bool,
    updates: Vec<Update>,
    entries: BTreeMap<String, Entry>,
}

impl Cluster {
    fn updating(&self) -> bool {
        self.updates.iter().any(|u| !u.successful)
    }

    fn to_json(&self) -> Value {
        let ca = base64::engine::general_purpose::STANDARD.encode(self.ca_pem.as_bytes());
        json!({
            "name": self.name,
            "arn": self.arn,
            "createdAt": self.created_at,
            "version": self.version,
            "endpoint": self.endpoint,
            "roleArn": self.role_arn,
            "resourcesVpcConfig": self.vpc,
            "kubernetesNetworkConfig": {"serviceIpv4Cidr": "10.100.0.0/16", "ipFamily": "ipv4"},
            "identity": {"oidc": {"issuer": format!("https://oidc.eks.fake/id/{}", self.name)}},
            "status": if self.updating() { "UPDATING" } else { "ACTIVE" },
            "certificateAuthority": {"data": ca},
            "platformVersion": "eks.1",
            "tags": self.tags,
            "accessConfig": {
                "bootstrapClusterCreatorAdminPermissions": self.bootstrap_admin,
                "authenticationMode": self.mode.as_str(),
            },
        })
    }
}

/// Timing options of the model.
#[derive(Debug, Clone)]
pub struct Timing {
    /// How long a mode update stays InProgress (the cluster UPDATING).
    pub update_delay: Duration,
    /// How long a new access entry stays invisible to every call but Create.
    pub entry_visibility_delay: Duration,
}

/// Every cluster of one region of one account.
#[derive(Debug)]
pub struct Model {
    region: String,
    account: String,
    timing: Timing,
    clusters: BTreeMap<String, Cluster>,
    serial: u64,
}

/// Seconds since the epoch, as restJson1 sends timestamps.
fn epoch_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as f64 / 1000.0)
        .unwrap_or_default()
}

impl Model {
    /// An empty region.
    pub fn new(region: &str, account: &str, timing: Timing) -> Self {
        Model {
            region: region.into(),
            account: account.into(),
            timing,
            clusters: BTreeMap::new(),
            serial: 0,
        }
    }

    /// Changes the timing for what happens from now on.
    pub fn set_timing(&mut self, timing: Timing) {
        self.timing = timing;
    }

    fn next_id(&mut self) -> String {
        self.serial += 1;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        format!(
            "{nanos:08x}-{:04x}-4f4b-8e6b-{:012x}",
            self.serial & 0xffff,
            self.serial
        )
    }

    /// Completes the mode updates whose time has come.
    pub fn tick(&mut self, now: Instant) {
        for cluster in self.clusters.values_mut() {
            for update in cluster.updates.iter_mut() {
                if !update.successful && now >= update.done_at {
                    update.successful = true;
                    cluster.mode = update.mode;
                }
            }
        }
    }

    fn cluster(&self, name: &str) -> Result<&Cluster, EksError> {
        self.clusters
            .get(name)
            .ok_or_else(|| EksError::no_cluster(name))
    }

    fn cluster_mut(&mut self, name: &str) -> Result<&mut Cluster, EksError> {
        self.clusters
            .get_mut(name)
            .ok_or_else(|| EksError::no_cluster(name))
    }

    /// Adds a cluster directly (test seeding), replacing one of the same name.
    pub fn seed_cluster(&mut self, name: &str, mode: AuthMode, endpoint: &str, ca_pem: &str) {
        let cluster = Cluster {
            name: name.into(),
            arn: format!(
                "arn:aws:eks:{}:{}:cluster/{name}",
                self.region, self.account
            ),
            created_at: epoch_now(),
            version: "1.31".into(),
            role_arn: format!("arn:aws:iam::{}:role/eks-cluster", self.account),
            endpoint: endpoint.into(),
            ca_pem: ca_pem.into(),
            vpc: json!({"subnetIds": ["subnet-1"], "securityGroupIds": [], "vpcId": "vpc-fake",
                        "endpointPublicAccess": true, "endpointPrivateAccess": false}),
            tags: json!({}),
            mode,
            bootstrap_admin: false,
            updates: Vec::new(),
            entries: BTreeMap::new(),
        };
        self.clusters.insert(name.into(), cluster);
    }

    /// Points a cluster at another apiserver (its URL and CA).
    pub fn set_endpoint(&mut self, name: &str, endpoint: &str, ca_pem: &str) -> bool {
        match self.clusters.get_mut(name) {
            Some(c) => {
                c.endpoint = endpoint.into();
                c.ca_pem = ca_pem.into();
                true
            }
            None => false,
        }
    }

    /// CreateCluster; `creator` gets a ClusterAdmin entry when
    /// `bootstrapClusterCreatorAdminPermissions` (default true) and the mode allows entries.
    pub fn create_cluster(
        &mut self,
        body: &Value,
        creator: Option<Principal>,
        now: Instant,
    ) -> Result<Value, EksError> {
        let name = body["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| EksError::invalid_parameter("name is required"))?
            .to_string();
        let role_arn = body["roleArn"]
            .as_str()
            .ok_or_else(|| EksError::invalid_parameter("roleArn is required"))?
            .to_string();
        if self.clusters.contains_key(&name) {
            return Err(EksError::in_use(format!(
                "Cluster already exists with name: {name}"
            )));
        }
        let access = &body["accessConfig"];
        let mode = match access["authenticationMode"].as_str() {
            None => AuthMode::ConfigMap,
            Some(m) => AuthMode::parse(m).ok_or_else(|| {
                EksError::invalid_parameter(format!("Unsupported authentication mode {m}"))
            })?,
        };
        let bootstrap = access["bootstrapClusterCreatorAdminPermissions"]
            .as_bool()
            .unwrap_or(true);
        let id = self.next_id();
        let endpoint = format!(
            "https://{}.gr7.{}.eks.amazonaws.com",
            id.replace('-', "").to_uppercase(),
            self.region
        );
        self.seed_cluster(
            &name,
            mode,
            &endpoint,
            "-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n",
        );
        let cluster = self.clusters.get_mut(&name).expect("just added");
        cluster.role_arn = role_arn;
        cluster.bootstrap_admin = bootstrap;
        if let Some(v) = body["version"].as_str() {
            cluster.version = v.into();
        }
        if body["resourcesVpcConfig"].is_object() {
            cluster.vpc = body["resourcesVpcConfig"].clone();
            cluster.vpc["vpcId"] = "vpc-fake".into();
        }
        if body["tags"].is_object() {
            cluster.tags = body["tags"].clone();
        }
        if let (true, Some(creator), false) = (bootstrap, creator, mode == AuthMode::ConfigMap) {
            self.insert_entry(&name, creator, "STANDARD", None, Vec::new(), json!({}), now)?;
            let arn = self.clusters[&name]
                .entries
                .keys()
                .next()
                .cloned()
                .expect("creator entry");
            let entry = self
                .clusters
                .get_mut(&name)
                .unwrap()
                .entries
                .get_mut(&arn)
                .unwrap();
            entry.visible_at = now;
            entry.policies.insert(
                catalogue::policy_arn("AmazonEKSClusterAdminPolicy"),
                Association {
                    scope: json!({"type": "cluster", "namespaces": []}),
                    associated_at: epoch_now(),
                    modified_at: epoch_now(),
                },
            );
        }
        Ok(json!({"cluster": self.clusters[&name].to_json()}))
    }

    /// DescribeCluster.
    pub fn describe_cluster(&self, name: &str) -> Result<Value, EksError> {
        Ok(json!({"cluster": self.cluster(name)?.to_json()}))
    }

    /// ListClusters.
    pub fn list_clusters(&self, max: Option<&str>, token: Option<&str>) -> Result<Value, EksError> {
        let names: Vec<String> = self.clusters.keys().cloned().collect();
        let (names, next) = page(&names, max, token)?;
        Ok(json!({"clusters": names, "nextToken": next}))
    }

    /// DeleteCluster: gone at once, answered as DELETING.
    pub fn delete_cluster(&mut self, name: &str) -> Result<Value, EksError> {
        let cluster = self
            .clusters
            .remove(name)
            .ok_or_else(|| EksError::no_cluster(name))?;
        let mut out = cluster.to_json();
        out["status"] = "DELETING".into();
        Ok(json!({"cluster": out}))
    }

    /// UpdateClusterConfig with `accessConfig.authenticationMode`: one step forward only.
    pub fn update_cluster_config(
        &mut self,
        name: &str,
        body: &Value,
        now: Instant,
    ) -> Result<Value, EksError> {
        let delay = self.timing.update_delay;
        let id = self.next_id();
        let cluster = self.cluster_mut(name)?;
        let Some(wanted) = body["accessConfig"]["authenticationMode"].as_str() else {
            return Err(EksError::invalid_parameter(
                "The fake EKS only supports accessConfig updates",
            ));
        };
        if cluster.updating() {
            return Err(EksError::in_use(format!(
                "Cannot update cluster {name} while it has an update in progress"
            )));
        }
        let from = cluster.mode;
        let to = AuthMode::parse(wanted);
        let allowed = matches!(
            (from, to),
            (AuthMode::ConfigMap, Some(AuthMode::ApiAndConfigMap))
                | (AuthMode::ApiAndConfigMap, Some(AuthMode::Api))
        );
        if !allowed {
            return Err(EksError::invalid_parameter(format!(
                "Unsupported authentication mode update from {} to {wanted}",
                from.as_str()
            )));
        }
        let update = Update {
            id,
            mode: to.expect("checked above"),
            created_at: epoch_now(),
            done_at: now + delay,
            successful: false,
        };
        let out = json!({"update": update.to_json()});
        cluster.updates.push(update);
        Ok(out)
    }

    /// DescribeUpdate.
    pub fn describe_update(&self, name: &str, id: &str) -> Result<Value, EksError> {
        let cluster = self.cluster(name)?;
        let update = cluster
            .updates
            .iter()
            .find(|u| u.id == id)
            .ok_or_else(|| EksError::not_found(format!("No update found for ID: {id}")))?;
        Ok(json!({"update": update.to_json()}))
    }

    /// The cluster exists and takes access-entry calls (mode not CONFIG_MAP).
    pub fn check_entries_allowed(&self, name: &str) -> Result<(), EksError> {
        if self.cluster(name)?.mode == AuthMode::ConfigMap {
            return Err(EksError::invalid_request(CONFIG_MAP_MODE_MESSAGE));
        }
        Ok(())
    }

    fn entries_of(&mut self, name: &str) -> Result<&mut Cluster, EksError> {
        self.check_entries_allowed(name)?;
        self.cluster_mut(name)
    }

    fn visible_entry<'a>(
        cluster: &'a mut Cluster,
        arn: &str,
        now: Instant,
    ) -> Result<&'a mut Entry, EksError> {
        cluster
            .entries
            .get_mut(arn)
            .filter(|e| now >= e.visible_at)
            .ok_or_else(EksError::no_entry)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_entry(
        &mut self,
        name: &str,
        principal: Principal,
        kind: &str,
        username: Option<String>,
        groups: Vec<String>,
        tags: Value,
        now: Instant,
    ) -> Result<Value, EksError> {
        let (region, account) = (self.region.clone(), self.account.clone());
        let id = self.next_id();
        let visible_at = now + self.timing.entry_visibility_delay;
        let cluster = self.cluster_mut(name)?;
        if cluster.entries.contains_key(&principal.arn) {
            return Err(EksError::in_use(
                "The specified access entry resource is already in use on this cluster.",
            ));
        }
        let (username, groups) = if kind == "STANDARD" {
            (
                username.unwrap_or_else(|| default_username(&principal.arn)),
                groups,
            )
        } else {
            node_defaults(kind)
        };
        let resource = principal.arn.splitn(6, ':').nth(5).unwrap_or_default();
        let (kind_word, rest) = resource.split_once('/').unwrap_or(("role", resource));
        let short = rest.rsplit('/').next().unwrap_or(rest);
        let at = epoch_now();
        let entry = Entry {
            arn: format!(
                "arn:aws:eks:{region}:{account}:access-entry/{name}/{kind_word}/{account}/{short}/{id}"
            ),
            principal: principal.clone(),
            kind: kind.into(),
            username,
            groups,
            tags,
            created_at: at,
            modified_at: at,
            visible_at,
            policies: BTreeMap::new(),
        };
        let out = json!({"accessEntry": entry.to_json(name)});
        cluster.entries.insert(principal.arn, entry);
        Ok(out)
    }

    /// CreateAccessEntry for a principal IAM has resolved.
    pub fn create_entry(
        &mut self,
        name: &str,
        body: &Value,
        principal: Principal,
        now: Instant,
    ) -> Result<Value, EksError> {
        self.check_entries_allowed(name)?;
        let kind = body["type"].as_str().unwrap_or("STANDARD");
        if !ENTRY_TYPES.contains(&kind) {
            return Err(EksError::invalid_parameter(format!(
                "The type {kind} is invalid. Valid values are: {}",
                ENTRY_TYPES.join(", ")
            )));
        }
        let groups = strings(body, "kubernetesGroups")?.unwrap_or_default();
        let username = body["username"].as_str().map(str::to_string);
        if kind != "STANDARD" && (!groups.is_empty() || username.is_some()) {
            return Err(EksError::invalid_parameter(format!(
                "kubernetesGroups and username cannot be specified for access entries of type {kind}"
            )));
        }
        check_groups(&groups)?;
        if let Some(u) = &username {
            check_username(u)?;
        }
        let tags = if body["tags"].is_object() {
            body["tags"].clone()
        } else {
            json!({})
        };
        self.insert_entry(name, principal, kind, username, groups, tags, now)
    }

    /// DescribeAccessEntry.
    pub fn describe_entry(
        &mut self,
        name: &str,
        arn: &str,
        now: Instant,
    ) -> Result<Value, EksError> {
        let cluster = self.entries_of(name)?;
        let entry = Self::visible_entry(cluster, arn, now)?;
        Ok(json!({"accessEntry": entry.to_json(name)}))
    }

    /// ListAccessEntries (ARNs only), optionally only those with `policy` associated.
    pub fn list_entries(
        &mut self,
        name: &str,
        policy: Option<&str>,
        max: Option<&str>,
        token: Option<&str>,
        now: Instant,
    ) -> Result<Value, EksError> {
        let cluster = self.entries_of(name)?;
        let arns: Vec<String> = cluster
            .entries
            .values()
            .filter(|e| now >= e.visible_at)
            .filter(|e| policy.is_none_or(|p| e.policies.contains_key(p)))
            .map(|e| e.principal.arn.clone())
            .collect();
        let (arns, next) = page(&arns, max, token)?;
        Ok(json!({"accessEntries": arns, "nextToken": next}))
    }

    /// UpdateAccessEntry: `kubernetesGroups` replaces the list, `username` replaces the name.
    pub fn update_entry(
        &mut self,
        name: &str,
        arn: &str,
        body: &Value,
        now: Instant,
    ) -> Result<Value, EksError> {
        let groups = strings(body, "kubernetesGroups")?;
        let username = body["username"].as_str().map(str::to_string);
        let cluster = self.entries_of(name)?;
        let entry = Self::visible_entry(cluster, arn, now)?;
        if entry.kind != "STANDARD" && (groups.is_some() || username.is_some()) {
            return Err(EksError::invalid_parameter(format!(
                "kubernetesGroups and username cannot be specified for access entries of type {}",
                entry.kind
            )));
        }
        if let Some(g) = &groups {
            check_groups(g)?;
        }
        if let Some(u) = &username {
            check_username(u)?;
        }
        if let Some(g) = groups {
            entry.groups = g;
        }
        if let Some(u) = username {
            entry.username = u;
        }
        entry.modified_at = epoch_now();
        Ok(json!({"accessEntry": entry.to_json(name)}))
    }

    /// DeleteAccessEntry, with its policy associations.
    pub fn delete_entry(&mut self, name: &str, arn: &str, now: Instant) -> Result<Value, EksError> {
        let cluster = self.entries_of(name)?;
        Self::visible_entry(cluster, arn, now)?;
        cluster.entries.remove(arn);
        Ok(json!({}))
    }

    /// AssociateAccessPolicy; again for the same policy replaces the scope.
    pub fn associate(
        &mut self,
        name: &str,
        arn: &str,
        body: &Value,
        now: Instant,
    ) -> Result<Value, EksError> {
        let cluster = self.entries_of(name)?;
        let entry = Self::visible_entry(cluster, arn, now)?;
        let policy = body["policyArn"]
            .as_str()
            .ok_or_else(|| EksError::invalid_parameter("policyArn is required"))?;
        if catalogue::policy_name(policy).is_none() {
            return Err(EksError::invalid_parameter(format!(
                "The specified policyArn {policy} is not a valid EKS access policy."
            )));
        }
        let scope = &body["accessScope"];
        let namespaces = strings(scope, "namespaces")?.unwrap_or_default();
        match scope["type"].as_str() {
            Some("cluster") if namespaces.is_empty() => {}
            Some("cluster") => {
                return Err(EksError::invalid_parameter(
                    "Namespaces cannot be specified for an access scope of type cluster.",
                ))
            }
            Some("namespace") if !namespaces.is_empty() => {}
            Some("namespace") => {
                return Err(EksError::invalid_parameter(
                    "At least one namespace is required for an access scope of type namespace.",
                ))
            }
            _ => {
                return Err(EksError::invalid_parameter(
                    "accessScope.type must be one of [cluster, namespace]",
                ))
            }
        }
        if entry.kind != "STANDARD" {
            return Err(EksError::invalid_parameter(format!(
                "Access policies cannot be associated with access entries of type {}",
                entry.kind
            )));
        }
        let at = epoch_now();
        let scope = json!({"type": scope["type"], "namespaces": namespaces});
        let association = entry
            .policies
            .entry(policy.to_string())
            .or_insert(Association {
                scope: scope.clone(),
                associated_at: at,
                modified_at: at,
            });
        association.scope = scope;
        association.modified_at = at;
        let association = association.clone();
        Ok(json!({
            "clusterName": name,
            "principalArn": arn,
            "associatedAccessPolicy": association_json(policy, &association),
        }))
    }

    /// DisassociateAccessPolicy.
    pub fn disassociate(
        &mut self,
        name: &str,
        arn: &str,
        policy: &str,
        now: Instant,
    ) -> Result<Value, EksError> {
        let cluster = self.entries_of(name)?;
        let entry = Self::visible_entry(cluster, arn, now)?;
        entry.policies.remove(policy).ok_or_else(|| {
            EksError::not_found(format!(
                "The specified policy {policy} is not associated with the access entry."
            ))
        })?;
        Ok(json!({}))
    }

    /// ListAssociatedAccessPolicies.
    pub fn list_associated(
        &mut self,
        name: &str,
        arn: &str,
        max: Option<&str>,
        token: Option<&str>,
        now: Instant,
    ) -> Result<Value, EksError> {
        let cluster = self.entries_of(name)?;
        let entry = Self::visible_entry(cluster, arn, now)?;
        let all: Vec<Value> = entry
            .policies
            .iter()
            .map(|(p, a)| association_json(p, a))
            .collect();
        let (items, next) = page(&all, max, token)?;
        Ok(json!({
            "clusterName": name,
            "principalArn": arn,
            "associatedAccessPolicies": items,
            "nextToken": next,
        }))
    }

    /// The cluster's mode, if the cluster exists.
    pub fn mode(&self, name: &str) -> Option<AuthMode> {
        self.clusters.get(name).map(|c| c.mode)
    }

    /// The visible entry that matches `identity`, as the authenticator would use it.
    pub fn entry_for(&self, name: &str, identity: &Identity, now: Instant) -> Option<EntryGrant> {
        let cluster = self.clusters.get(name)?;
        let entry = cluster
            .entries
            .values()
            .find(|e| now >= e.visible_at && e.matches(identity))?;
        Some(EntryGrant {
            principal_arn: entry.principal.arn.clone(),
            username: entry.username.clone(),
            groups: entry.groups.clone(),
            kind: entry.kind.clone(),
            policies: entry
                .policies
                .iter()
                .map(|(arn, a)| PolicyGrant {
                    policy: arn
                        .strip_prefix(catalogue::POLICY_ARN_PREFIX)
                        .unwrap_or(arn)
                        .to_string(),
                    namespaces: (a.scope["type"] == "namespace").then(|| {
                        a.scope["namespaces"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|n| n.as_str().map(str::to_string))
                            .collect()
                    }),
                })
                .collect(),
        })
    }
}

fn association_json(policy: &str, a: &Association) -> Value {
    json!({
        "policyArn": policy,
        "accessScope": a.scope,
        "associatedAt": a.associated_at,
        "modifiedAt": a.modified_at,
    })
}

/// ListAccessPolicies.
pub fn list_access_policies(max: Option<&str>, token: Option<&str>) -> Result<Value, EksError> {
    let all: Vec<Value> = catalogue::POLICY_NAMES
        .iter()
        .map(|n| json!({"name": n, "arn": catalogue::policy_arn(n)}))
        .collect();
    let (items, next) = page(&all, max, token)?;
    Ok(json!({"accessPolicies": items, "nextToken": next}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(update_ms: u64) -> Model {
        Model::new(
            "eu-west-1",
            "123456789012",
            Timing {
                update_delay: Duration::from_millis(update_ms),
                entry_visibility_delay: Duration::ZERO,
            },
        )
    }

    #[test]
    fn modes_step_once_forward_and_complete_when_due() {
        let mut m = model(100);
        let t0 = Instant::now();
        m.seed_cluster("c", AuthMode::ConfigMap, "https://x", "CA");
        let to = |mode: &str| json!({"accessConfig": {"authenticationMode": mode}});
        let err = m.update_cluster_config("c", &to("API"), t0).unwrap_err();
        assert_eq!(
            err.message,
            "Unsupported authentication mode update from CONFIG_MAP to API"
        );
        m.update_cluster_config("c", &to("API_AND_CONFIG_MAP"), t0)
            .unwrap();
        assert_eq!(
            m.describe_cluster("c").unwrap()["cluster"]["status"],
            "UPDATING"
        );
        assert_eq!(
            m.update_cluster_config("c", &to("API"), t0)
                .unwrap_err()
                .status,
            409
        );
        m.tick(t0 + Duration::from_millis(50));
        assert_eq!(m.mode("c"), Some(AuthMode::ConfigMap));
        m.tick(t0 + Duration::from_millis(100));
        assert_eq!(m.mode("c"), Some(AuthMode::ApiAndConfigMap));
        assert_eq!(
            m.describe_cluster("c").unwrap()["cluster"]["status"],
            "ACTIVE"
        );
        let err = m
            .update_cluster_config("c", &to("CONFIG_MAP"), t0)
            .unwrap_err();
        assert_eq!(err.kind, "InvalidParameterException");
    }

    #[test]
    fn entries_match_by_unique_id_when_iam_gave_one() {
        let mut m = model(0);
        let now = Instant::now();
        m.seed_cluster("c", AuthMode::Api, "https://x", "CA");
        let arn = "arn:aws:iam::123456789012:role/team/eks-admin";
        let principal = Principal {
            arn: arn.into(),
            unique_id: Some("AROAOLD".into()),
        };
        m.create_entry("c", &json!({}), principal, now).unwrap();
        let caller = |id: &str| {
            Identity::from_sts(
                "arn:aws:sts::123456789012:assumed-role/eks-admin/alice",
                "123456789012",
                &format!("{id}:alice"),
                "ASIA",
            )
            .unwrap()
        };
        let grant = m.entry_for("c", &caller("AROAOLD"), now).unwrap();
        assert_eq!(grant.principal_arn, arn);
        assert_eq!(
            grant.username,
            "arn:aws:sts::123456789012:assumed-role/eks-admin/{{SessionName}}"
        );
        assert!(m.entry_for("c", &caller("AROANEW"), now).is_none());
    }
}
