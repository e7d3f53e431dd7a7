//! Which catalog operation a request is: one table from (method, route
//! template) to the operation name of the official SDK catalog, built once.
//! A request is labelled after routing from axum's `MatchedPath`, so a label
//! is never the raw path: unknown routes are all `unknown`, and label
//! cardinality stays bounded.
//!
//! A route added to a service's route table and not here is labelled
//! `unlisted` (the `every_listed_route_is_served` test checks the other
//! direction: every row here is answered by a route).

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::LazyLock;

/// A request's service and catalog operation name; in the response's
/// extensions for the request log and the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    pub service: &'static str,
    pub name: &'static str,
}

/// No route matched (the gateway's 404).
pub const UNKNOWN: Operation = Operation {
    service: "none",
    name: "unknown",
};

/// A route template matched that this table does not list.
pub const UNLISTED: Operation = Operation {
    service: "none",
    name: "unlisted",
};

/// (service, method, route template as declared, catalog operation).
/// `/` and `/{version_id}` answer both KMS's and VPCEP's version calls
/// (`server::versions`); they are labelled with KMS's names (dewstack's choice).
#[rustfmt::skip]
pub const TABLE: &[(&str, &str, &str, &str)] = &[
    ("iam", "POST", "/v3/auth/tokens", "KeystoneCreateUserTokenByPassword"),
    ("iam", "GET", "/v3/auth/tokens", "KeystoneValidateToken"),
    ("iam", "GET", "/v3/projects", "KeystoneListProjects"),
    ("iam", "GET", "/v3/auth/projects", "KeystoneListAuthProjects"),
    ("iam", "GET", "/v3/auth/domains", "KeystoneListAuthDomains"),
    ("kms", "GET", "/", "ShowVersions"),
    ("kms", "GET", "/{version_id}", "ShowVersion"),
    ("kms", "POST", "/v1.0/{project_id}/kms/create-key", "CreateKey"),
    ("kms", "POST", "/v1.0/{project_id}/kms/describe-key", "ListKeyDetail"),
    ("kms", "POST", "/v1.0/{project_id}/kms/list-keys", "ListKeys"),
    ("kms", "POST", "/v1.0/{project_id}/kms/enable-key", "EnableKey"),
    ("kms", "POST", "/v1.0/{project_id}/kms/disable-key", "DisableKey"),
    ("kms", "POST", "/v1.0/{project_id}/kms/schedule-key-deletion", "DeleteKey"),
    ("kms", "POST", "/v1.0/{project_id}/kms/cancel-key-deletion", "CancelKeyDeletion"),
    ("kms", "POST", "/v1.0/{project_id}/kms/update-key-description", "UpdateKeyDescription"),
    ("kms", "POST", "/v1.0/{project_id}/kms/update-key-alias", "UpdateKeyAlias"),
    ("kms", "POST", "/v1.0/{project_id}/kms/{key_id}/tags/action", "BatchCreateKmsTags"),
    ("kms", "POST", "/v1.0/{project_id}/kms/{key_id}/tags", "CreateKmsTag"),
    ("kms", "GET", "/v1.0/{project_id}/kms/{key_id}/tags", "ShowKmsTags"),
    ("kms", "DELETE", "/v1.0/{project_id}/kms/{key_id}/tags/{key}", "DeleteTag"),
    ("kms", "GET", "/v1.0/{project_id}/kms/tags", "ListKmsTags"),
    ("kms", "POST", "/v1.0/{project_id}/kms/{key_id}/action", "ListKmsByTags"),
    ("kms", "POST", "/v1.0/{project_id}/kms/encrypt-data", "EncryptData"),
    ("kms", "POST", "/v1.0/{project_id}/kms/decrypt-data", "DecryptData"),
    ("kms", "GET", "/v1.0/{project_id}/kms/user-instances", "ShowUserInstances"),
    ("kms", "GET", "/v1.0/{project_id}/kms/user-quotas", "ShowUserQuotas"),
    ("kms", "POST", "/v1.0/{project_id}/kms/enable-key-rotation", "EnableKeyRotation"),
    ("kms", "POST", "/v1.0/{project_id}/kms/disable-key-rotation", "DisableKeyRotation"),
    ("kms", "POST", "/v1.0/{project_id}/kms/update-key-rotation-interval", "UpdateKeyRotationInterval"),
    ("kms", "POST", "/v1.0/{project_id}/kms/get-key-rotation-status", "ShowKeyRotationStatus"),
    ("kms", "POST", "/v1.0/{project_id}/kms/rotate-on-demand", "RotateOnDemand"),
    ("kms", "POST", "/v1.0/{project_id}/kms/get-parameters-for-import", "CreateParametersForImport"),
    ("kms", "POST", "/v1.0/{project_id}/kms/import-key-material", "ImportKeyMaterial"),
    ("kms", "POST", "/v1.0/{project_id}/kms/delete-imported-key-material", "DeleteImportedKeyMaterial"),
    ("kms", "POST", "/v1.0/{project_id}/kms/create-grant", "CreateGrant"),
    ("kms", "POST", "/v1.0/{project_id}/kms/list-grants", "ListGrants"),
    ("kms", "POST", "/v1.0/{project_id}/kms/list-retirable-grants", "ListRetirableGrants"),
    ("kms", "POST", "/v1.0/{project_id}/kms/revoke-grant", "CancelGrant"),
    ("kms", "POST", "/v1.0/{project_id}/kms/retire-grant", "CancelSelfGrant"),
    ("kms", "POST", "/v1.0/{project_id}/kms/aliases", "CreateAlias"),
    ("kms", "GET", "/v1.0/{project_id}/kms/aliases", "ListAliases"),
    ("kms", "DELETE", "/v1.0/{project_id}/kms/aliases", "DeleteAlias"),
    ("kms", "POST", "/v1.0/{project_id}/kms/alias/associate", "AssociateAlias"),
    ("kms", "GET", "/v2/{project_id}/kms/regions", "ListSupportRegions"),
    ("kms", "POST", "/v2/{project_id}/kms/keys/{key_id}/replicate", "ReplicateKey"),
    ("kms", "PUT", "/v2/{project_id}/kms/keys/{key_id}/update-primary-region", "UpdatePrimaryRegion"),
    ("kms", "POST", "/v1.0/{project_id}/kms/create-datakey", "CreateDatakey"),
    ("kms", "POST", "/v1.0/{project_id}/kms/create-datakey-without-plaintext", "CreateDatakeyWithoutPlaintext"),
    ("kms", "POST", "/v1.0/{project_id}/kms/encrypt-datakey", "EncryptDatakey"),
    ("kms", "POST", "/v1.0/{project_id}/kms/decrypt-datakey", "DecryptDatakey"),
    ("kms", "POST", "/v1.0/{project_id}/kms/create-rsa-datakey-pair", "CreateRsaDatakeyPair"),
    ("kms", "POST", "/v1.0/{project_id}/kms/create-ec-datakey-pair", "CreateEcDatakeyPair"),
    ("kms", "POST", "/v1.0/{project_id}/kms/re-encrypt", "ReEncrypt"),
    ("kms", "POST", "/v1.0/{project_id}/kms/gen-random", "CreateRandom"),
    ("kms", "POST", "/v1.0/{project_id}/kms/sign", "Sign"),
    ("kms", "POST", "/v1.0/{project_id}/kms/verify", "ValidateSignature"),
    ("kms", "POST", "/v1.0/{project_id}/kms/get-publickey", "ShowPublicKey"),
    ("kms", "POST", "/v1.0/{project_id}/kms/generate-mac", "GenerateMac"),
    ("kms", "POST", "/v1.0/{project_id}/kms/verify-mac", "VerifyMac"),
    ("kms", "POST", "/v1.0/{project_id}/kms/derive-shared-secret", "DeriveSharedSecret"),
    ("kms", "POST", "/v1.0/{project_id}/kms/datakey-capsule/create", "CreateDatakeyCapsule"),
    ("kms", "POST", "/v1.0/{project_id}/kms/datakey-capsule/decrypt", "DecryptDatakeyCapsule"),
    ("kms", "POST", "/v1.0/{project_id}/kms/create-pin", "CreatePin"),
    ("kms", "POST", "/v1.0/{project_id}/keystores", "CreateKeyStore"),
    ("kms", "GET", "/v1.0/{project_id}/keystores", "ListKeyStores"),
    ("kms", "GET", "/v1.0/{project_id}/keystores/{keystore_id}", "ShowKeyStore"),
    ("kms", "DELETE", "/v1.0/{project_id}/keystores/{keystore_id}", "DeleteKeyStore"),
    ("kms", "POST", "/v1.0/{project_id}/keystores/{keystore_id}/enable", "EnableKeyStore"),
    ("kms", "POST", "/v1.0/{project_id}/keystores/{keystore_id}/disable", "DisableKeyStore"),
    ("kms", "POST", "/v1.0/{project_id}/kms/access-points", "CreateAccessPoint"),
    ("kms", "GET", "/v1.0/{project_id}/kms/access-points", "ListAccessPoint"),
    ("kms", "DELETE", "/v1.0/{project_id}/kms/access-points/{access_point_id}", "DeleteAccessPoint"),
    ("kms", "POST", "/v1.0/{project_id}/kms/access-points/{access_point_id}/enable", "EnableAccessPoint"),
    ("kms", "POST", "/v1.0/{project_id}/kms/access-points/{access_point_id}/disable", "DisableAccessPoint"),
    ("kms", "POST", "/v1.0/{project_id}/kms/access-points/{access_point_id}/get-privatekey", "DownloadAccessPointPrivateKey"),
    ("kms", "POST", "/v1.0/{project_id}/kms/key-policies", "CreateKeyPolicy"),
    ("kms", "GET", "/v1.0/{project_id}/kms/key-policies", "ListKeyPolicy"),
    ("kms", "GET", "/v1.0/{project_id}/kms/key-policies/{policy_id}", "ShowKeyPolicy"),
    ("kms", "PUT", "/v1.0/{project_id}/kms/key-policies/{policy_id}", "UpdateKeyPolicy"),
    ("kms", "DELETE", "/v1.0/{project_id}/kms/key-policies/{policy_id}", "DeleteKeyPolicy"),
    ("csms", "POST", "/v1/{project_id}/secrets", "CreateSecret"),
    ("csms", "GET", "/v1/{project_id}/secrets", "ListSecrets"),
    ("csms", "GET", "/v1/{project_id}/secrets/{secret_name}", "ShowSecret"),
    ("csms", "PUT", "/v1/{project_id}/secrets/{secret_name}", "UpdateSecret"),
    ("csms", "DELETE", "/v1/{project_id}/secrets/{secret_name}", "DeleteSecret"),
    // `POST .../secrets/restore` is routed on the `{secret_name}` template;
    // BatchImportSecrets (`.../secrets/batch-import`) shares it and labels
    // its own responses.
    ("csms", "POST", "/v1/{project_id}/secrets/{secret_name}", "UploadSecretBlob"),
    ("csms", "POST", "/v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/create", "DeleteSecretForSchedule"),
    ("csms", "POST", "/v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/cancel", "RestoreSecret"),
    ("csms", "POST", "/v1/{project_id}/secrets/{secret_name}/versions", "CreateSecretVersion"),
    ("csms", "GET", "/v1/{project_id}/secrets/{secret_name}/versions", "ListSecretVersions"),
    ("csms", "GET", "/v1/{project_id}/secrets/{secret_name}/versions/{version_id}", "ShowSecretVersion"),
    ("csms", "PUT", "/v1/{project_id}/secrets/{secret_name}/versions/{version_id}", "UpdateVersion"),
    ("csms", "GET", "/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}", "ShowSecretStage"),
    ("csms", "PUT", "/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}", "UpdateSecretStage"),
    ("csms", "DELETE", "/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}", "DeleteSecretStage"),
    ("csms", "POST", "/v1/{project_id}/csms/events", "CreateSecretEvent"),
    ("csms", "GET", "/v1/{project_id}/csms/events", "ListSecretEvents"),
    ("csms", "GET", "/v1/{project_id}/csms/events/{event_name}", "ShowSecretEvent"),
    ("csms", "PUT", "/v1/{project_id}/csms/events/{event_name}", "UpdateSecretEvent"),
    ("csms", "DELETE", "/v1/{project_id}/csms/events/{event_name}", "DeleteSecretEvent"),
    ("csms", "GET", "/v1/{project_id}/csms/notification-records", "ListNotificationRecords"),
    ("csms", "POST", "/v1/{project_id}/csms/grants", "CreateGrants"),
    ("csms", "GET", "/v1/{project_id}/csms/grants", "ListGrants"),
    ("csms", "PUT", "/v1/{project_id}/csms/grants", "UpdateGrant"),
    ("csms", "DELETE", "/v1/{project_id}/csms/grants", "DeleteGrant"),
    ("csms", "POST", "/v1/{project_id}/secrets/{secret_name}/backup", "DownloadSecretBlob"),
    ("csms", "POST", "/v1/{project_id}/secrets/{secret_name}/rotate", "RotateSecret"),
    ("csms", "POST", "/v1/{project_id}/csms/generate-password", "GenerateRandomPassword"),
    ("csms", "GET", "/v1/{project_id}/csms/tasks", "ListSecretTask"),
    ("csms", "POST", "/v1/{project_id}/secrets/checker/check", "CheckSecrets"),
    ("csms", "GET", "/v1/{project_id}/secrets/checker/config", "ShowSecretsConfig"),
    ("csms", "POST", "/v1/{project_id}/secrets/checker/config", "UpdateSecretsConfig"),
    ("csms", "POST", "/v1/csms/agencies", "CreateAgency"),
    ("csms", "GET", "/v1/csms/agencies", "ShowAgency"),
    ("csms", "GET", "/v1/csms/function-templates", "ShowSecretFunctionTemplates"),
    ("csms", "GET", "/v1/csms/users", "ListUsers"),
    ("csms", "GET", "/v1/csms/users/{user_id}", "ShowUserDetail"),
    ("csms", "POST", "/v1/csms/users/change-password", "UpdateUserPassword"),
    ("csms", "POST", "/v1/{project_id}/csms/{secret_id}/tags/action", "BatchCreateOrDeleteTags"),
    ("csms", "POST", "/v1/{project_id}/csms/{secret_id}/tags", "CreateSecretTag"),
    ("csms", "GET", "/v1/{project_id}/csms/{secret_id}/tags", "ListSecretTags"),
    ("csms", "DELETE", "/v1/{project_id}/csms/{secret_id}/tags/{key}", "DeleteSecretTag"),
    ("csms", "GET", "/v1/{project_id}/csms/tags", "ListProjectSecretsTags"),
    ("csms", "POST", "/v1/{project_id}/csms/{secret_id}/action", "ListResourceInstances"),
    ("vpcep", "POST", "/v1/{project_id}/vpc-endpoint-services", "CreateEndpointService"),
    ("vpcep", "GET", "/v1/{project_id}/vpc-endpoint-services", "ListEndpointService"),
    ("vpcep", "GET", "/v1/{project_id}/vpc-endpoint-services/describe", "ListServiceDescribeDetails"),
    ("vpcep", "GET", "/v1/{project_id}/vpc-endpoint-services/public", "ListServicePublicDetails"),
    ("vpcep", "GET", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}", "ListServiceDetails"),
    ("vpcep", "PUT", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}", "UpdateEndpointService"),
    ("vpcep", "DELETE", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}", "DeleteEndpointService"),
    ("vpcep", "PUT", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/name", "UpdateEndpointServiceName"),
    ("vpcep", "POST", "/v2/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/upgrade", "UpgradeEndpointService"),
    ("vpcep", "POST", "/v2/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/add-server-resources", "AddEndpointServiceServerResource"),
    ("vpcep", "GET", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/connections", "ListServiceConnections"),
    ("vpcep", "POST", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/connections/action", "AcceptOrRejectEndpoint"),
    ("vpcep", "PUT", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/connections/description", "UpdateEndpointConnectionsDesc"),
    ("vpcep", "GET", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/permissions", "ListServicePermissionsDetails"),
    ("vpcep", "POST", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/permissions/action", "AddOrRemoveServicePermissions"),
    ("vpcep", "POST", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/permissions/batch-create", "BatchAddEndpointServicePermissions"),
    ("vpcep", "POST", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/permissions/batch-delete", "BatchRemoveEndpointServicePermissions"),
    ("vpcep", "PUT", "/v1/{project_id}/vpc-endpoint-services/{vpc_endpoint_service_id}/permissions/{permission_id}", "UpdateEndpointServicePermissionDesc"),
    ("vpcep", "POST", "/v1/{project_id}/vpc-endpoints", "CreateEndpoint"),
    ("vpcep", "GET", "/v1/{project_id}/vpc-endpoints", "ListEndpoints"),
    ("vpcep", "GET", "/v1/{project_id}/vpc-endpoints/{vpc_endpoint_id}", "ListEndpointInfoDetails"),
    ("vpcep", "PUT", "/v1/{project_id}/vpc-endpoints/{vpc_endpoint_id}", "UpdateEndpointWhite"),
    ("vpcep", "DELETE", "/v1/{project_id}/vpc-endpoints/{vpc_endpoint_id}", "DeleteEndpoint"),
    ("vpcep", "PUT", "/v1/{project_id}/vpc-endpoints/{vpc_endpoint_id}/routetables", "UpdateEndpointRoutetable"),
    ("vpcep", "PUT", "/v1/{project_id}/vpc-endpoints/{vpc_endpoint_id}/policy", "UpdateEndpointPolicy"),
    ("vpcep", "DELETE", "/v1/{project_id}/vpc-endpoints/{vpc_endpoint_id}/policy", "DeleteEndpointPolicy"),
    ("vpcep", "POST", "/v2/{project_id}/vpc-endpoints/{vpc_endpoint_id}/upgrade", "UpgradeEndpoint"),
    ("vpcep", "GET", "/v1/{project_id}/quotas", "ListQuotaDetails"),
    ("vpcep", "POST", "/v1/{project_id}/{resource_type}/{resource_id}/tags/action", "BatchAddOrRemoveResourceInstance"),
    ("vpcep", "GET", "/v1/{project_id}/{resource_type}/tags", "ListQueryProjectResourceTags"),
    ("vpcep", "POST", "/v1/{project_id}/{resource_type}/resource_instances/action", "ListResourceInstances"),
    // CTS's ListTraces over dewstack's own trail (src/audit/).
    ("cts", "GET", "/v3/{project_id}/traces", "ListTraces"),
    // dewstack's own endpoints (docs/operations.md).
    ("dewstack", "GET", "/health", "Health"),
    ("dewstack", "GET", "/ready", "Ready"),
    ("dewstack", "GET", "/metrics", "Metrics"),
    ("dewstack", "GET", "/openapi.json", "OpenApi"),
    ("dewstack", "GET", "/_dewstack/clock", "ShowClock"),
    ("dewstack", "POST", "/_dewstack/clock", "AdvanceClock"),
    ("dewstack", "GET", "/console", "Console"),
    ("dewstack", "GET", "/console/", "Console"),
    ("dewstack", "GET", "/console/{*path}", "ConsoleAsset"),
];

type Index = HashMap<&'static str, Vec<(&'static str, Operation)>>;

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let mut index: Index = HashMap::new();
    for &(service, method, path, name) in TABLE {
        index
            .entry(path)
            .or_default()
            .push((method, Operation { service, name }));
    }
    index
});

/// The operation of a matched route template and method: [`UNKNOWN`] for
/// a method the template does not serve (no operation was called),
/// [`UNLISTED`] for a template missing from the table.
pub fn lookup(method: &str, template: &str) -> Operation {
    let Some(ops) = INDEX.get(template) else {
        return UNLISTED;
    };
    ops.iter()
        .find(|(m, _)| *m == method)
        .map_or(UNKNOWN, |(_, op)| *op)
}

/// Route layer over the routes `server::gate` does not cover (which labels
/// its own the same way): labels the response with its operation.
/// Routes that did not match never get here, and stay [`UNKNOWN`]. A
/// handler that serves several operations on one template (CSMS's
/// `POST .../secrets/{secret_name}`) labels its response itself.
pub async fn label(req: Request, next: Next) -> Response {
    let op = match req.extensions().get::<MatchedPath>() {
        Some(path) => lookup(req.method().as_str(), path.as_str()),
        None => UNKNOWN,
    };
    let mut response = next.run(req).await;
    if response.extensions().get::<Operation>().is_none() {
        response.extensions_mut().insert(op);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_unique_and_named_like_the_catalog() {
        let mut seen = std::collections::HashSet::new();
        for &(service, method, path, name) in TABLE {
            assert!(seen.insert((method, path)), "{method} {path} listed twice");
            assert!(
                name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric()),
                "{name}"
            );
            assert!(["iam", "kms", "csms", "vpcep", "cts", "dewstack"].contains(&service));
        }
        assert_eq!(
            lookup("POST", "/v1.0/{project_id}/kms/create-key").name,
            "CreateKey"
        );
        assert_eq!(
            lookup("PATCH", "/v1.0/{project_id}/kms/create-key"),
            UNKNOWN
        );
        assert_eq!(lookup("GET", "/v9/{project_id}/new-thing"), UNLISTED);
    }
}
