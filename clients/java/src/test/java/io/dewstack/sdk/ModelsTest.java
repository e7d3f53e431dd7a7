package io.dewstack.sdk;

import static io.dewstack.sdk.Dewstack.unique;
import static io.dewstack.sdk.Sdk.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.huaweicloud.sdk.csms.v1.CsmsClient;
import com.huaweicloud.sdk.csms.v1.model.CreateSecretRequest;
import com.huaweicloud.sdk.csms.v1.model.CreateSecretRequestBody;
import com.huaweicloud.sdk.csms.v1.model.ListSecretEventsRequest;
import com.huaweicloud.sdk.csms.v1.model.ShowSecretRequest;
import com.huaweicloud.sdk.kms.v2.KmsClient;
import com.huaweicloud.sdk.kms.v2.model.*;
import com.huaweicloud.sdk.vpcep.v1.VpcepClient;
import com.huaweicloud.sdk.vpcep.v1.model.ListEndpointServiceRequest;
import com.huaweicloud.sdk.vpcep.v1.model.ListQuotaDetailsRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Read operations beyond the flows, each through {@link Sdk#call}: every response must
 * parse into the Java SDK's models with nothing lost.
 */
class ModelsTest {
    private final KmsClient kms = Sdk.kms(Sdk.root());

    @Test
    void kmsReads() {
        String id = call(() -> kms.createKey(new CreateKeyRequest().withBody(
                new CreateKeyRequestBody().withKeyAlias(unique("java-models"))))).getKeyInfo().getKeyId();
        String alias = "alias/" + unique("java");
        call(() -> kms.createAlias(new CreateAliasRequest().withBody(new CreateAliasRequestBody().withKeyId(id).withAlias(alias))));
        ListAliasesResponse aliases = call(() -> kms.listAliases(new ListAliasesRequest().withKeyId(id).withLimit("10")));
        assertTrue(aliases.getBody().stream().flatMap(b -> b.getAliases().stream())
                .anyMatch(a -> alias.equals(a.getAlias())), aliases::toString);

        CreateGrantResponse grant = call(() -> kms.createGrant(new CreateGrantRequest().withBody(new CreateGrantRequestBody()
                .withKeyId(id).withGranteePrincipal(Dewstack.OTHER.domainId())
                .withGranteePrincipalType(CreateGrantRequestBody.GranteePrincipalTypeEnum.DOMAIN)
                .withOperations(List.of("describe-key")))));
        ListGrantsResponse grants = call(() -> kms.listGrants(new ListGrantsRequest().withBody(
                new ListGrantsRequestBody().withKeyId(id).withLimit("10"))));
        assertTrue(grants.getGrants().stream().anyMatch(g -> grant.getGrantId().equals(g.getGrantId())), grants::toString);

        call(() -> kms.createKmsTag(new CreateKmsTagRequest().withKeyId(id)
                .withBody(new CreateKmsTagRequestBody().withTag(new TagItem().withKey("team").withValue("java")))));
        call(() -> kms.listKmsTags(new ListKmsTagsRequest()));
        ListKmsByTagsResponse byTags = call(() -> kms.listKmsByTags(new ListKmsByTagsRequest()
                .withResourceInstances("resource_instances").withBody(new ListKmsByTagsRequestBody()
                        .withAction("filter").withLimit("10").withOffset("0")
                        .withTags(List.of(new Tag().withKey("team").withValues(List.of("java")))))));
        assertTrue(byTags.getTotalCount() >= 1, byTags::toString);

        CreateRandomResponse random = call(() -> kms.createRandom(new CreateRandomRequest()
                .withBody(new GenRandomRequestBody().withRandomDataLength("256"))));
        assertEquals(64, random.getRandomData().length());
        call(() -> kms.showUserQuotas(new ShowUserQuotasRequest()));
        call(() -> kms.showUserInstances(new ShowUserInstancesRequest()));
        call(() -> kms.showVersions(new ShowVersionsRequest()));

        String signer = call(() -> kms.createKey(new CreateKeyRequest().withBody(new CreateKeyRequestBody()
                .withKeyAlias(unique("java-ec")).withKeySpec(CreateKeyRequestBody.KeySpecEnum.EC_P256)
                .withKeyUsage(CreateKeyRequestBody.KeyUsageEnum.SIGN_VERIFY)))).getKeyInfo().getKeyId();
        ShowPublicKeyResponse pub = call(() -> kms.showPublicKey(new ShowPublicKeyRequest()
                .withBody(new OperateKeyRequestBody().withKeyId(signer))));
        assertTrue(pub.getPublicKey().contains("PUBLIC KEY"), pub::toString);
    }

    @Test
    void kmsMoreShapes() {
        String id = call(() -> kms.createKey(new CreateKeyRequest().withBody(
                new CreateKeyRequestBody().withKeyAlias(unique("java-shapes"))))).getKeyInfo().getKeyId();
        CreateRsaDatakeyPairResponse rsa = call(() -> kms.createRsaDatakeyPair(new CreateRsaDatakeyPairRequest()
                .withBody(new CreateRsaDatakeyPairRequestBody().withKeyId(id)
                        .withKeySpec(CreateRsaDatakeyPairRequestBody.KeySpecEnum.RSA_2048).withWithPlainText(true))));
        assertTrue(rsa.getPublicKey() != null && rsa.getPrivateKeyCipherText() != null, rsa::toString);
        call(() -> kms.createEcDatakeyPair(new CreateEcDatakeyPairRequest()
                .withBody(new CreateEcDatakeyPairRequestBody().withKeyId(id)
                        .withKeySpec(CreateEcDatakeyPairRequestBody.KeySpecEnum.ECC_NIST_P256).withWithPlainText(false))));
        // A 32-byte data key followed by its SHA-256, as the API wants it.
        byte[] dek = new byte[32];
        String plain = java.util.HexFormat.of().formatHex(dek) + java.util.HexFormat.of().formatHex(sha256(dek));
        EncryptDatakeyResponse wrapped = call(() -> kms.encryptDatakey(new EncryptDatakeyRequest().withBody(
                new EncryptDatakeyRequestBody().withKeyId(id).withPlainText(plain).withDatakeyPlainLength("32"))));
        assertEquals("32", wrapped.getDatakeyLength());

        call(() -> kms.enableKeyRotation(new EnableKeyRotationRequest().withBody(new OperateKeyRequestBody().withKeyId(id))));
        call(() -> kms.updateKeyRotationInterval(new UpdateKeyRotationIntervalRequest().withBody(
                new UpdateKeyRotationIntervalRequestBody().withKeyId(id).withRotationInterval(90))));
        ShowKeyRotationStatusResponse rot = call(() -> kms.showKeyRotationStatus(new ShowKeyRotationStatusRequest()
                .withBody(new OperateKeyRequestBody().withKeyId(id))));
        assertEquals(90, rot.getRotationInterval());
        call(() -> kms.disableKeyRotation(new DisableKeyRotationRequest().withBody(new OperateKeyRequestBody().withKeyId(id))));
        call(() -> kms.updateKeyAlias(new UpdateKeyAliasRequest().withBody(
                new UpdateKeyAliasRequestBody().withKeyId(id).withKeyAlias(unique("java-renamed")))));
        call(() -> kms.createKmsTag(new CreateKmsTagRequest().withKeyId(id)
                .withBody(new CreateKmsTagRequestBody().withTag(new TagItem().withKey("gone").withValue("soon")))));
        call(() -> kms.deleteTag(new DeleteTagRequest().withKeyId(id).withKey("gone")));

        // An HMAC key: spec and usage this release has no constants for, read back unchanged.
        String mac = call(() -> kms.createKey(new CreateKeyRequest().withBody(new CreateKeyRequestBody()
                .withKeyAlias(unique("java-mac")).withKeySpec(CreateKeyRequestBody.KeySpecEnum.fromValue("HMAC_256"))
                .withKeyUsage(CreateKeyRequestBody.KeyUsageEnum.fromValue("GENERATE_VERIFY_MAC"))))).getKeyInfo().getKeyId();
        assertEquals("HMAC_256", call(() -> kms.listKeyDetail(new ListKeyDetailRequest()
                .withBody(new OperateKeyRequestBody().withKeyId(mac)))).getKeyInfo().getKeySpec().getValue());
        String msg = java.util.Base64.getEncoder().encodeToString("mac me".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        GenerateMacResponse tag = call(() -> kms.generateMac(new GenerateMacRequest().withBody(new GenerateMacRequestBody()
                .withKeyId(mac).withMacAlgorithm(GenerateMacRequestBody.MacAlgorithmEnum.HMAC_SHA_256).withMessage(msg))));
        VerifyMacResponse verified = call(() -> kms.verifyMac(new VerifyMacRequest().withBody(new VerifyMacRequestBody()
                .withKeyId(mac).withMacAlgorithm(VerifyMacRequestBody.MacAlgorithmEnum.HMAC_SHA_256)
                .withMessage(msg).withMac(tag.getMac()))));
        assertEquals(Boolean.TRUE, verified.getMacValid());

        call(() -> kms.listRetirableGrants(new ListRetirableGrantsRequest()
                .withBody(new ListRetirableGrantsRequestBody().withLimit("10"))));
        assertTrue(call(() -> kms.listSupportRegions(new ListSupportRegionsRequest())).getRegions().contains(Dewstack.REGION));
    }

    private static byte[] sha256(byte[] data) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void csmsReads() {
        CsmsClient csms = Sdk.csms(Sdk.root());
        String name = unique("java-models");
        call(() -> csms.createSecret(new CreateSecretRequest().withBody(
                new CreateSecretRequestBody().withName(name).withSecretString("x"))));
        assertEquals(name, call(() -> csms.showSecret(new ShowSecretRequest().withSecretName(name))).getSecret().getName());
        call(() -> csms.listSecretEvents(new ListSecretEventsRequest().withLimit("10")));
    }

    @Test
    void vpcepReads() {
        VpcepClient vpcep = Sdk.vpcep(Sdk.root());
        call(() -> vpcep.listEndpointService(new ListEndpointServiceRequest()));
        call(() -> vpcep.listVersionDetails(new com.huaweicloud.sdk.vpcep.v1.model.ListVersionDetailsRequest()));
        call(() -> vpcep.listServicePublicDetails(new com.huaweicloud.sdk.vpcep.v1.model.ListServicePublicDetailsRequest()));
        assertFalse(call(() -> vpcep.listQuotaDetails(new ListQuotaDetailsRequest())).getQuotas().getResources().isEmpty());
    }

    /** The check itself: a field no model declares, or a value read into another type, fails it. */
    @Test
    void thelosslessCheckCatchesUndeclaredFieldsAndChangedValues() {
        CreateKeyResponse parsed = new CreateKeyResponse().withKeyInfo(new KeKInfo().withKeyId("k").withDomainId("d"));
        Sdk.assertLossless("{\"key_info\":{\"key_id\":\"k\",\"domain_id\":\"d\"}}", parsed);
        assertThrows(AssertionError.class, () ->
                Sdk.assertLossless("{\"key_info\":{\"key_id\":\"k\",\"domain_id\":\"d\",\"kee_state\":\"2\"}}", parsed));
        assertThrows(AssertionError.class, () ->
                Sdk.assertLossless("{\"key_info\":{\"key_id\":\"k\",\"domain_id\":7}}", parsed));
    }
}
