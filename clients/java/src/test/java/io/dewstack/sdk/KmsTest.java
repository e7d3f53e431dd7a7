package io.dewstack.sdk;

import static io.dewstack.sdk.Dewstack.unique;
import static io.dewstack.sdk.Sdk.call;
import static io.dewstack.sdk.Sdk.expectError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.huaweicloud.sdk.core.exception.ServiceResponseException;
import com.huaweicloud.sdk.kms.v2.KmsClient;
import com.huaweicloud.sdk.kms.v2.model.*;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KmsTest {
    private final KmsClient kms = Sdk.kms(Sdk.root());

    private String createKey(CreateKeyRequestBody body) {
        if (body.getKeyAlias() == null) {
            body.setKeyAlias(unique("java-key"));
        }
        CreateKeyResponse resp = call(() -> kms.createKey(new CreateKeyRequest().withBody(body)));
        assertNotNull(resp.getKeyInfo().getKeyId(), "no key id");
        return resp.getKeyInfo().getKeyId();
    }

    private KeyDetails detail(String id) {
        return call(() -> kms.listKeyDetail(new ListKeyDetailRequest()
                .withBody(new OperateKeyRequestBody().withKeyId(id)))).getKeyInfo();
    }

    private static OperateKeyRequestBody key(String id) {
        return new OperateKeyRequestBody().withKeyId(id);
    }

    // --- the three KMS seed pages, with their request examples ---

    @Test
    void seedBatchCreateKmsTags() {
        String id = createKey(new CreateKeyRequestBody());
        call(() -> kms.batchCreateKmsTags(new BatchCreateKmsTagsRequest().withKeyId(id)
                .withBody(new BatchCreateKmsTagsRequestBody().withAction("create").withTags(List.of(
                        new TagItem().withKey("key1").withValue("value1"),
                        new TagItem().withKey("key").withValue("value3"))))));
        ShowKmsTagsResponse tags = call(() -> kms.showKmsTags(new ShowKmsTagsRequest().withKeyId(id)));
        Map<String, String> got = new HashMap<>();
        tags.getTags().forEach(t -> got.put(t.getKey(), t.getValue()));
        assertEquals(Map.of("key1", "value1", "key", "value3"), got);
        assertEquals(2, tags.getExistTagsNum());
    }

    @Test
    void seedCancelKeyDeletion() {
        String id = createKey(new CreateKeyRequestBody());
        call(() -> kms.deleteKey(new DeleteKeyRequest()
                .withBody(new ScheduleKeyDeletionRequestBody().withKeyId(id).withPendingDays("7"))));
        assertEquals("4", detail(id).getKeyState());
        CancelKeyDeletionResponse resp = call(() -> kms.cancelKeyDeletion(
                new CancelKeyDeletionRequest().withBody(key(id))));
        // The seed's response: key_id and key_state "3" (disabled).
        assertEquals(id, resp.getKeyId());
        assertEquals("3", resp.getKeyState());
        expectError(400, "KMS.1501", () -> kms.cancelKeyDeletion(new CancelKeyDeletionRequest().withBody(key(id))));
    }

    @Test
    void seedUpdateKeyDescription() {
        String id = createKey(new CreateKeyRequestBody());
        UpdateKeyDescriptionResponse resp = call(() -> kms.updateKeyDescription(new UpdateKeyDescriptionRequest()
                .withBody(new UpdateKeyDescriptionRequestBody().withKeyId(id).withKeyDescription("test"))));
        assertEquals(id, resp.getKeyInfo().getKeyId());
        assertEquals("test", resp.getKeyInfo().getKeyDescription());
        assertEquals("test", detail(id).getKeyDescription());
        expectError(400, "KMS.1103", () -> kms.updateKeyDescription(new UpdateKeyDescriptionRequest()
                .withBody(new UpdateKeyDescriptionRequestBody().withKeyId(id).withKeyDescription("d".repeat(256)))));
    }

    // --- lifecycle ---

    @Test
    void keyLifecycle() {
        // Cloud Custodian's sequence: uuid4().hex, 32 characters.
        String id = createKey(new CreateKeyRequestBody().withSequence(Dewstack.hex(16)));
        KeyDetails k = detail(id);
        assertEquals("2", k.getKeyState());
        assertEquals(KeyDetails.KeySpecEnum.AES_256, k.getKeySpec());
        assertEquals(KeyDetails.KeyUsageEnum.ENCRYPT_DECRYPT, k.getKeyUsage());
        assertEquals("0", k.getDefaultKeyFlag());

        call(() -> kms.disableKey(new DisableKeyRequest().withBody(key(id))));
        expectError(400, "KMS.1301", () -> kms.disableKey(new DisableKeyRequest().withBody(key(id))));
        assertThrows(ServiceResponseException.class, () -> kms.encryptData(new EncryptDataRequest()
                .withBody(new EncryptDataRequestBody().withKeyId(id).withPlainText("x"))));
        call(() -> kms.enableKey(new EnableKeyRequest().withBody(key(id))));
        call(() -> kms.enableKeyRotation(new EnableKeyRotationRequest().withBody(key(id))));
        ShowKeyRotationStatusResponse rot = call(() -> kms.showKeyRotationStatus(
                new ShowKeyRotationStatusRequest().withBody(key(id))));
        assertEquals(Boolean.TRUE, rot.getKeyRotationEnabled());

        // Listing pages through every key with the SDK's types.
        boolean seen = false;
        String marker = null;
        for (int page = 0; page < 50 && !seen; page++) {
            String m = marker;
            ListKeysResponse resp = call(() -> kms.listKeys(new ListKeysRequest()
                    .withBody(new ListKeysRequestBody().withLimit("10").withMarker(m))));
            seen = resp.getKeyDetails().stream().anyMatch(d -> id.equals(d.getKeyId()));
            if (resp.getTruncated() != ListKeysResponse.TruncatedEnum.TRUE) {
                break;
            }
            marker = resp.getNextMarker();
        }
        assertTrue(seen, "the key is not listed");

        expectError(400, "KMS.1401", () -> kms.deleteKey(new DeleteKeyRequest()
                .withBody(new ScheduleKeyDeletionRequestBody().withKeyId(id).withPendingDays("6"))));
        call(() -> kms.deleteKey(new DeleteKeyRequest()
                .withBody(new ScheduleKeyDeletionRequestBody().withKeyId(id).withPendingDays("7"))));
        KeyDetails pending = detail(id);
        assertEquals("4", pending.getKeyState());
        assertFalse(pending.getScheduledDeletionDate() == null || pending.getScheduledDeletionDate().isEmpty());

        // Another tenant's key does not exist for this one.
        KmsClient other = Sdk.kms(Dewstack.OTHER);
        expectError(404, "KMS.0207", () -> other.listKeyDetail(new ListKeyDetailRequest().withBody(key(id))));
    }

    // --- crypto ---

    @Test
    void encryptDecrypt() {
        String id = createKey(new CreateKeyRequestBody());
        EncryptDataResponse enc = call(() -> kms.encryptData(new EncryptDataRequest().withBody(
                new EncryptDataRequestBody().withKeyId(id).withPlainText("hello from java")
                        .withAdditionalAuthenticatedData("aad"))));
        DecryptDataResponse dec = call(() -> kms.decryptData(new DecryptDataRequest().withBody(
                new DecryptDataRequestBody().withCipherText(enc.getCipherText()).withAdditionalAuthenticatedData("aad"))));
        assertEquals("hello from java", dec.getPlainText());
        assertEquals(id, dec.getKeyId());
        assertThrows(ServiceResponseException.class, () -> kms.decryptData(new DecryptDataRequest().withBody(
                new DecryptDataRequestBody().withCipherText(enc.getCipherText()).withAdditionalAuthenticatedData("other"))));
    }

    @Test
    void dataKeys() {
        String id = createKey(new CreateKeyRequestBody());
        CreateDatakeyResponse dk = call(() -> kms.createDatakey(new CreateDatakeyRequest().withBody(
                new CreateDatakeyRequestBody().withKeyId(id).withDatakeyLength("256"))));
        assertEquals(64, dk.getPlainText().length());
        DecryptDatakeyResponse dec = call(() -> kms.decryptDatakey(new DecryptDatakeyRequest().withBody(
                new DecryptDatakeyRequestBody().withKeyId(id).withCipherText(dk.getCipherText())
                        .withDatakeyCipherLength("32"))));
        assertTrue(dec.getDataKey().equalsIgnoreCase(dk.getPlainText()));
        assertEquals("32", dec.getDatakeyLength());
        CreateDatakeyWithoutPlaintextResponse nop = call(() -> kms.createDatakeyWithoutPlaintext(
                new CreateDatakeyWithoutPlaintextRequest().withBody(
                        new CreateDatakeyRequestBody().withKeyId(id).withDatakeyLength("256"))));
        assertFalse(nop.getCipherText() == null || nop.getCipherText().isEmpty());
    }

    @Test
    void signVerify() throws NoSuchAlgorithmException {
        record Case(CreateKeyRequestBody.KeySpecEnum spec, String alg) {}
        for (Case c : List.of(new Case(CreateKeyRequestBody.KeySpecEnum.RSA_2048, "RSASSA_PSS_SHA_256"),
                new Case(CreateKeyRequestBody.KeySpecEnum.EC_P256, "ECDSA_SHA_256"))) {
            String kid = createKey(new CreateKeyRequestBody().withKeySpec(c.spec())
                    .withKeyUsage(CreateKeyRequestBody.KeyUsageEnum.SIGN_VERIFY));
            String msg = digest("message");
            SignResponse sig = call(() -> kms.sign(new SignRequest().withBody(new SignRequestBody().withKeyId(kid)
                    .withMessage(msg).withSigningAlgorithm(SignRequestBody.SigningAlgorithmEnum.fromValue(c.alg())))));
            VerifyRequestBody.SigningAlgorithmEnum alg = VerifyRequestBody.SigningAlgorithmEnum.fromValue(c.alg());
            ValidateSignatureResponse ok = call(() -> kms.validateSignature(new ValidateSignatureRequest().withBody(
                    new VerifyRequestBody().withKeyId(kid).withMessage(msg).withSignature(sig.getSignature())
                            .withSigningAlgorithm(alg))));
            assertEquals("true", ok.getSignatureValid(), c.alg());
            String otherMsg = digest("other");
            ValidateSignatureResponse bad = call(() -> kms.validateSignature(new ValidateSignatureRequest().withBody(
                    new VerifyRequestBody().withKeyId(kid).withMessage(otherMsg).withSignature(sig.getSignature())
                            .withSigningAlgorithm(alg))));
            assertEquals("false", bad.getSignatureValid(), c.alg());
        }
    }

    private static String digest(String text) throws NoSuchAlgorithmException {
        byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        return Base64.getEncoder().encodeToString(d);
    }

    // --- errors ---

    @Test
    void errors() {
        expectError(400, "KMS.0205", () -> kms.listKeyDetail(new ListKeyDetailRequest().withBody(key("not-a-key-id"))));
        expectError(400, "KMS.0206", () -> kms.createKey(new CreateKeyRequest().withBody(
                new CreateKeyRequestBody().withKeyAlias(unique("k")).withSequence("short"))));
        KmsClient bad = Sdk.kms(Sdk.root().withSk("x".repeat(40)));
        expectError(401, "APIGW.0301", () -> bad.listKeys(new ListKeysRequest().withBody(new ListKeysRequestBody())));
    }
}
