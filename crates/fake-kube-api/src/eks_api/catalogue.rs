//! The access policy catalogue `ListAccessPolicies` returns: EKS's own policies, in the
//! order the service lists them (by name). Real EKS grows this list every few months, which
//! is why callers must read it rather than hard-code it.

/// The ARN prefix of every EKS access policy.
pub const POLICY_ARN_PREFIX: &str = "arn:aws:eks::aws:cluster-access-policy/";

/// Policy names, sorted as EKS sorts them.
pub const POLICY_NAMES: &[&str] = &[
    "AmazonAIOpsAssistantPolicy",
    "AmazonARCRegionSwitchScalingPolicy",
    "AmazonEKSACKPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSArgoCDClusterPolicy",
    "AmazonEKSArgoCDPolicy",
    "AmazonEKSAutoNodePolicy",
    "AmazonEKSBlockStorageClusterPolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSClusterInsightsPolicy",
    "AmazonEKSComputeClusterPolicy",
    "AmazonEKSComputePolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSEventPolicy",
    "AmazonEKSHybridPolicy",
    "AmazonEKSKROPolicy",
    "AmazonEKSLoadBalancingClusterPolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingClusterPolicy",
    "AmazonEKSNetworkingPolicy",
    "AmazonEKSSecretReaderPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEMRJobPolicy",
    "AmazonSagemakerHyperpodClusterPolicy",
    "AmazonSagemakerHyperpodControllerPolicy",
    "AmazonSagemakerHyperpodSystemNamespacePolicy",
];

/// The ARN of policy `name`.
pub fn policy_arn(name: &str) -> String {
    format!("{POLICY_ARN_PREFIX}{name}")
}

/// The policy's name if `arn` is in the catalogue.
pub fn policy_name(arn: &str) -> Option<&'static str> {
    let name = arn.strip_prefix(POLICY_ARN_PREFIX)?;
    POLICY_NAMES.iter().copied().find(|n| *n == name)
}
