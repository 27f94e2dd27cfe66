"""Contract test of the EKS fake (crates/fake-kube-api/src/eks_api) with boto3, the real client.

Run by tests/eks_fake.rs with EKS_ENDPOINT (the fake) and MOTO_ENDPOINT (IAM, STS). Walks
the whole access-entry lifecycle and checks shapes, error codes, statuses and messages as
EKS sends them (shared/REFERENCE.md). Exits non-zero on the first failed check; prints
`contract ok: N checks` at the end.
"""

import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = os.environ.get("EKS_REGION", "eu-west-1")
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def expect_error(call, code, status, message=None, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        err = e.response["Error"]
        got = (err["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        check(got == (code, status), f"{call.__name__}: want {code}/{status}, got {got} {err}")
        if message is not None:
            check(err["Message"] == message, f"{call.__name__}: message {err['Message']!r}")
        return err
    check(False, f"{call.__name__}({kwargs}) succeeded, want {code}")


eks = client("eks", os.environ["EKS_ENDPOINT"])
iam = client("iam", os.environ["MOTO_ENDPOINT"])
trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
         '{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}')
admin_arn = iam.create_role(RoleName="eks-admin", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
sso_name = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
sso_arn = iam.create_role(
    RoleName=sso_name,
    Path=f"/aws-reserved/sso.amazonaws.com/{REGION}/",
    AssumeRolePolicyDocument=trust,
)["Role"]["Arn"]
sso_pathless = f"arn:aws:iam::{ACCOUNT}:role/{sso_name}"
bob_arn = iam.create_user(UserName="bob")["User"]["Arn"]
vpc = {"subnetIds": ["subnet-1"]}

# A cluster made through the API starts in CONFIG_MAP, like EKS's API default.
cluster = eks.create_cluster(
    name="cm", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig=vpc
)["cluster"]
check(cluster["accessConfig"] == {"authenticationMode": "CONFIG_MAP",
                                  "bootstrapClusterCreatorAdminPermissions": True},
      f"default accessConfig {cluster['accessConfig']}")
check(cluster["status"] == "ACTIVE" and cluster["endpoint"].startswith("https://"), "cluster shape")
check(cluster["arn"] == f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/cm", cluster["arn"])
check(len(cluster["certificateAuthority"]["data"]) > 0, "certificateAuthority.data")
expect_error(eks.create_cluster, "ResourceInUseException", 409,
             name="cm", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig=vpc)

# Access entries need API or API_AND_CONFIG_MAP.
mode_msg = ("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
            "to perform this operation.")
expect_error(eks.create_access_entry, "InvalidRequestException", 400, mode_msg,
             clusterName="cm", principalArn=admin_arn)
expect_error(eks.list_access_entries, "InvalidRequestException", 400, mode_msg, clusterName="cm")

# Modes go one way, one step at a time, asynchronously.
expect_error(eks.update_cluster_config, "InvalidParameterException", 400,
             "Unsupported authentication mode update from CONFIG_MAP to API",
             name="cm", accessConfig={"authenticationMode": "API"})
update = eks.update_cluster_config(name="cm", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]
check(update["status"] == "InProgress" and update["type"] == "AccessConfigUpdate", f"update {update}")
check(update["params"] == [{"type": "AuthenticationMode", "value": "API_AND_CONFIG_MAP"}], "update params")
check(eks.describe_cluster(name="cm")["cluster"]["status"] == "UPDATING", "UPDATING while in progress")
expect_error(eks.update_cluster_config, "ResourceInUseException", 409,
             name="cm", accessConfig={"authenticationMode": "API"})
deadline = time.time() + 10
while eks.describe_update(name="cm", updateId=update["id"])["update"]["status"] == "InProgress":
    check(time.time() < deadline, "update never finished")
    time.sleep(0.1)
check(eks.describe_update(name="cm", updateId=update["id"])["update"]["status"] == "Successful", "Successful")
described = eks.describe_cluster(name="cm")["cluster"]
check((described["status"], described["accessConfig"]["authenticationMode"]) == ("ACTIVE", "API_AND_CONFIG_MAP"),
      f"after the update {described['status']} {described['accessConfig']}")
expect_error(eks.update_cluster_config, "InvalidParameterException", 400,
             "Unsupported authentication mode update from API_AND_CONFIG_MAP to CONFIG_MAP",
             name="cm", accessConfig={"authenticationMode": "CONFIG_MAP"})
expect_error(eks.describe_update, "ResourceNotFoundException", 404, name="cm", updateId="nope")

# The path rule: the SSO role needs its real ARN, with the path.
invalid = "The specified principalArn is invalid: invalid principal."
expect_error(eks.create_access_entry, "InvalidParameterException", 400, invalid,
             clusterName="cm", principalArn=sso_pathless)
expect_error(eks.create_access_entry, "InvalidParameterException", 400, invalid,
             clusterName="cm", principalArn=f"arn:aws:sts::{ACCOUNT}:assumed-role/eks-admin/alice")
expect_error(eks.create_access_entry, "InvalidParameterException", 400, invalid,
             clusterName="cm", principalArn=f"arn:aws:iam::{ACCOUNT}:role/does-not-exist")
expect_error(eks.create_access_entry, "InvalidParameterException", 400,
             "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role",
             clusterName="cm",
             principalArn=f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS")
expect_error(eks.create_access_entry, "InvalidParameterException", 400,
             "The kubernetes group name system:masters is invalid, it cannot start with system:",
             clusterName="cm", principalArn=admin_arn, kubernetesGroups=["system:masters"])
expect_error(eks.create_access_entry, "InvalidParameterException", 400,
             clusterName="cm", principalArn=admin_arn, username="eks:admin")
expect_error(eks.create_access_entry, "ResourceNotFoundException", 404,
             "No cluster found for name: nope.", clusterName="nope", principalArn=admin_arn)

entry = eks.create_access_entry(clusterName="cm", principalArn=sso_arn)["accessEntry"]
check(entry["principalArn"] == sso_arn and entry["type"] == "STANDARD", f"entry {entry}")
check(entry["username"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{sso_name}/{{{{SessionName}}}}",
      f"default username {entry['username']}")
check(entry["kubernetesGroups"] == [] and entry["clusterName"] == "cm", "groups and cluster")
check(entry["accessEntryArn"].startswith(f"arn:aws:eks:{REGION}:{ACCOUNT}:access-entry/cm/role/"), entry["accessEntryArn"])
expect_error(eks.create_access_entry, "ResourceInUseException", 409,
             "The specified access entry resource is already in use on this cluster.",
             clusterName="cm", principalArn=sso_arn)
admin = eks.create_access_entry(clusterName="cm", principalArn=admin_arn, kubernetesGroups=["admins"],
                                username="admin:{{SessionName}}", tags={"team": "ops"})["accessEntry"]
check((admin["username"], admin["kubernetesGroups"], admin["tags"]) ==
      ("admin:{{SessionName}}", ["admins"], {"team": "ops"}), f"admin entry {admin}")
bob = eks.create_access_entry(clusterName="cm", principalArn=bob_arn)["accessEntry"]
check(bob["username"] == bob_arn, f"a user's default username is its ARN: {bob['username']}")
check(eks.describe_access_entry(clusterName="cm", principalArn=sso_arn)["accessEntry"] == entry, "describe = create")
not_found = ("The specified principalArn could not be found. You can view your available access entries "
             "with 'list-access-entries'.")
expect_error(eks.describe_access_entry, "ResourceNotFoundException", 404, not_found,
             clusterName="cm", principalArn=sso_pathless)

# Node entries take no groups, username or policies.
node_role = iam.create_role(RoleName="node-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
expect_error(eks.create_access_entry, "InvalidParameterException", 400,
             clusterName="cm", principalArn=node_role, type="EC2_LINUX", kubernetesGroups=["x"])
node = eks.create_access_entry(clusterName="cm", principalArn=node_role, type="EC2_LINUX")["accessEntry"]
check((node["type"], node["username"], node["kubernetesGroups"]) ==
      ("EC2_LINUX", "system:node:{{EC2PrivateDNSName}}", ["system:nodes"]), f"node entry {node}")

# Policies: associate, replace the scope, list, filter, disassociate.
admin_policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
view_policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
out = eks.associate_access_policy(clusterName="cm", principalArn=sso_arn, policyArn=admin_policy,
                                  accessScope={"type": "cluster"})
check(out["associatedAccessPolicy"]["accessScope"] == {"type": "cluster", "namespaces": []}, f"{out}")
check(out["principalArn"] == sso_arn and out["clusterName"] == "cm", "associate output")
eks.associate_access_policy(clusterName="cm", principalArn=bob_arn, policyArn=view_policy,
                            accessScope={"type": "namespace", "namespaces": ["dev-*"]})
eks.associate_access_policy(clusterName="cm", principalArn=bob_arn, policyArn=view_policy,
                            accessScope={"type": "namespace", "namespaces": ["prod"]})
listed = eks.list_associated_access_policies(clusterName="cm", principalArn=bob_arn)["associatedAccessPolicies"]
check([(p["policyArn"], p["accessScope"]) for p in listed] ==
      [(view_policy, {"type": "namespace", "namespaces": ["prod"]})], f"again = replace the scope: {listed}")
expect_error(eks.associate_access_policy, "InvalidParameterException", 400, clusterName="cm",
             principalArn=bob_arn, policyArn=view_policy, accessScope={"type": "namespace"})
expect_error(eks.associate_access_policy, "InvalidParameterException", 400, clusterName="cm",
             principalArn=node_role, policyArn=view_policy, accessScope={"type": "cluster"})
expect_error(eks.associate_access_policy, "ResourceNotFoundException", 404, not_found, clusterName="cm",
             principalArn=sso_pathless, policyArn=view_policy, accessScope={"type": "cluster"})
filtered = eks.list_access_entries(clusterName="cm", associatedPolicyArn=admin_policy)["accessEntries"]
check(filtered == [sso_arn], f"associatedPolicyArn filter: {filtered}")

# Pagination: maxResults 1–100 and nextToken, through boto3's paginators and by hand.
pages = list(eks.get_paginator("list_access_entries").paginate(
    clusterName="cm", PaginationConfig={"PageSize": 1}))
check(len(pages) == 4 and all(len(p["accessEntries"]) == 1 for p in pages), f"{len(pages)} pages")
check(sorted(e for p in pages for e in p["accessEntries"]) == sorted([sso_arn, admin_arn, bob_arn, node_role]),
      "every entry once")
first = eks.list_access_entries(clusterName="cm", maxResults=3)
check(len(first["accessEntries"]) == 3 and "nextToken" in first, "first page")
rest = eks.list_access_entries(clusterName="cm", maxResults=3, nextToken=first["nextToken"])
check(len(rest["accessEntries"]) == 1 and "nextToken" not in rest, "last page has no nextToken")
expect_error(eks.list_access_entries, "InvalidParameterException", 400, clusterName="cm", maxResults=101)
policies = [p for page in eks.get_paginator("list_access_policies").paginate(PaginationConfig={"PageSize": 5})
            for p in page["accessPolicies"]]
names = [p["name"] for p in policies]
check(len(names) >= 20 and len(set(names)) == len(names), f"{len(names)} policies")
for core in ["AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSEditPolicy",
             "AmazonEKSViewPolicy", "AmazonEKSAdminViewPolicy"]:
    check(core in names, f"{core} in the catalogue")
check(all(p["arn"] == f"arn:aws:eks::aws:cluster-access-policy/{p['name']}" for p in policies), "policy ARNs")

# Updates replace; deletes take the associations along.
updated = eks.update_access_entry(clusterName="cm", principalArn=admin_arn, kubernetesGroups=["viewers"])["accessEntry"]
check((updated["kubernetesGroups"], updated["username"]) == (["viewers"], "admin:{{SessionName}}"), f"{updated}")
expect_error(eks.update_access_entry, "InvalidParameterException", 400, clusterName="cm",
             principalArn=admin_arn, username="system:admin")
eks.disassociate_access_policy(clusterName="cm", principalArn=bob_arn, policyArn=view_policy)
check(eks.list_associated_access_policies(clusterName="cm", principalArn=bob_arn)["associatedAccessPolicies"] == [],
      "disassociated")
expect_error(eks.disassociate_access_policy, "ResourceNotFoundException", 404, clusterName="cm",
             principalArn=bob_arn, policyArn=view_policy)
eks.delete_access_entry(clusterName="cm", principalArn=sso_arn)
expect_error(eks.describe_access_entry, "ResourceNotFoundException", 404, not_found,
             clusterName="cm", principalArn=sso_arn)
check(eks.list_access_entries(clusterName="cm", associatedPolicyArn=admin_policy)["accessEntries"] == [],
      "the association went with the entry")

# An API-mode cluster made with accessConfig; list and delete clusters.
api = eks.create_cluster(name="api", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig=vpc,
                         accessConfig={"authenticationMode": "API",
                                       "bootstrapClusterCreatorAdminPermissions": False})["cluster"]
check(api["accessConfig"]["authenticationMode"] == "API", "created in API mode")
check(eks.list_access_entries(clusterName="api")["accessEntries"] == [], "no creator entry when not bootstrapped")
check(sorted(eks.list_clusters()["clusters"]) == ["api", "cm"], "list clusters")
deleted = eks.delete_cluster(name="api")["cluster"]
check(deleted["status"] == "DELETING", "delete answers DELETING")
expect_error(eks.describe_cluster, "ResourceNotFoundException", 404, "No cluster found for name: api.", name="api")

print(f"contract ok: {CHECKS} checks")
