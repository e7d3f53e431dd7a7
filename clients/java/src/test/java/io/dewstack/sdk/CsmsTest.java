package io.dewstack.sdk;

import static io.dewstack.sdk.Dewstack.unique;
import static io.dewstack.sdk.Sdk.call;
import static io.dewstack.sdk.Sdk.expectError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.huaweicloud.sdk.core.exception.ServiceResponseException;
import com.huaweicloud.sdk.csms.v1.CsmsClient;
import com.huaweicloud.sdk.csms.v1.model.*;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CsmsTest {
    private final CsmsClient csms = Sdk.csms(Sdk.root());

    private String createEvent() {
        String name = unique("java-ev");
        call(() -> csms.createSecretEvent(new CreateSecretEventRequest().withBody(new CreateSecretEventRequestBody()
                .withName(name)
                .withEventTypes(List.of(CreateSecretEventRequestBody.EventTypesEnum.SECRET_VERSION_CREATED))
                .withState(CreateSecretEventRequestBody.StateEnum.ENABLED)
                .withNotification(new Notification().withTargetType("SMN")
                        .withTargetId("urn:smn:cn-north-4:x:topic").withTargetName("topic")))));
        return name;
    }

    /** The CSMS seed page: DeleteSecretEvent (no request or response body). */
    @Test
    void seedDeleteSecretEvent() {
        String name = createEvent();
        Event ev = call(() -> csms.showSecretEvent(new ShowSecretEventRequest().withEventName(name))).getEvent();
        assertEquals(name, ev.getName());
        assertEquals(Event.StateEnum.ENABLED, ev.getState());
        assertTrue(ev.getCreateTime() > 0);
        // Referenced by a secret: refused, untouched.
        String secret = unique("java-s");
        call(() -> csms.createSecret(new CreateSecretRequest().withBody(new CreateSecretRequestBody()
                .withName(secret).withSecretString("v1").withEventSubscriptions(List.of(name)))));
        expectError(400, "CSMS.9003", () -> csms.deleteSecretEvent(new DeleteSecretEventRequest().withEventName(name)));
        call(() -> csms.updateSecret(new UpdateSecretRequest().withSecretName(secret)
                .withBody(new UpdateSecretRequestBody().withEventSubscriptions(List.of()))));
        DeleteSecretEventResponse resp = call(() -> csms.deleteSecretEvent(
                new DeleteSecretEventRequest().withEventName(name)));
        assertEquals(204, resp.getHttpStatusCode());
        expectError(404, "CSMS.0005", () -> csms.showSecretEvent(new ShowSecretEventRequest().withEventName(name)));
    }

    @Test
    void secretVersions() {
        String name = unique("java-secret");
        Secret created = call(() -> csms.createSecret(new CreateSecretRequest().withBody(new CreateSecretRequestBody()
                .withName(name).withSecretString("first").withDescription("from java")))).getSecret();
        assertEquals(name, created.getName());
        assertEquals("ENABLED", created.getState());
        assertFalse(created.getKmsKeyId() == null || created.getKmsKeyId().isEmpty());

        VersionMetadata v2 = call(() -> csms.createSecretVersion(new CreateSecretVersionRequest().withSecretName(name)
                .withBody(new CreateSecretVersionRequestBody().withSecretString("second")))).getVersionMetadata();
        assertEquals("v2", v2.getId());
        Version latest = call(() -> csms.showSecretVersion(
                new ShowSecretVersionRequest().withSecretName(name).withVersionId("latest"))).getVersion();
        assertEquals("second", latest.getSecretString());
        Version first = call(() -> csms.showSecretVersion(
                new ShowSecretVersionRequest().withSecretName(name).withVersionId("v1"))).getVersion();
        assertEquals("first", first.getSecretString());

        Map<String, List<String>> stages = new HashMap<>();
        call(() -> csms.listSecretVersions(new ListSecretVersionsRequest().withSecretName(name).withLimit(10)))
                .getVersionMetadatas().forEach(m -> stages.put(m.getId(), m.getVersionStages()));
        assertEquals(2, stages.size(), stages::toString);
        assertTrue(stages.get("v2").contains("SYSCURRENT"), stages::toString);
        assertTrue(stages.get("v1").contains("SYSPREVIOUS"), stages::toString);

        expectError(404, "CSMS.0005", () -> csms.showSecretVersion(
                new ShowSecretVersionRequest().withSecretName(name).withVersionId("v9")));
        assertThrows(ServiceResponseException.class, () -> csms.createSecret(new CreateSecretRequest()
                .withBody(new CreateSecretRequestBody().withName(name).withSecretString("again"))));
        // Another tenant does not see it.
        CsmsClient other = Sdk.csms(Dewstack.OTHER);
        expectError(404, "CSMS.0106", () -> other.showSecret(new ShowSecretRequest().withSecretName(name)));

        // Every listed secret's model is complete too.
        ListSecretsResponse list = call(() -> csms.listSecrets(new ListSecretsRequest().withLimit("50")));
        assertTrue(list.getSecrets().stream().anyMatch(s -> name.equals(s.getName())), "not listed");

        call(() -> csms.deleteSecret(new DeleteSecretRequest().withSecretName(name)));
        expectError(404, "CSMS.0106", () -> csms.showSecret(new ShowSecretRequest().withSecretName(name)));
    }
}
