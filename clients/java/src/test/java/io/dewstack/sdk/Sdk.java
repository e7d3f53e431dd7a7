package io.dewstack.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.huaweicloud.sdk.core.HttpListener;
import com.huaweicloud.sdk.core.SdkResponse;
import com.huaweicloud.sdk.core.auth.BasicCredentials;
import com.huaweicloud.sdk.core.exception.ServiceResponseException;
import com.huaweicloud.sdk.core.http.HttpConfig;
import com.huaweicloud.sdk.core.utils.JsonUtils;
import com.huaweicloud.sdk.csms.v1.CsmsClient;
import com.huaweicloud.sdk.kms.v2.KmsClient;
import com.huaweicloud.sdk.vpcep.v1.VpcepClient;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * SDK clients for a tenant (over HTTP, or HTTPS trusting dewstack's CA when
 * DEWSTACK_CLIENT_SCHEME=https), and the two checks every call goes through:
 * {@link #call} (the SDK's model holds everything dewstack sent) and {@link #expectError}.
 */
final class Sdk {
    private static final ObjectMapper TREE = new ObjectMapper();

    /** The body of the last response this thread received, as it came off the wire. */
    private static final ThreadLocal<String> LAST_BODY = new ThreadLocal<>();

    private Sdk() {}

    static HttpConfig httpConfig() {
        HttpConfig config = HttpConfig.getDefaultHttpConfig()
                .addHttpListener(HttpListener.forResponseListener(r -> LAST_BODY.set(r.body().orElse(null))));
        if (Dewstack.clientsUseHttps()) {
            Dewstack ds = Dewstack.get();
            config.withSSLSocketFactory(ds.caSocketFactory()).withX509TrustManager(ds.caTrust());
        }
        return config;
    }

    static BasicCredentials credentials(Dewstack.Tenant t) {
        return new BasicCredentials().withAk(t.ak()).withSk(t.sk()).withProjectId(t.projectId());
    }

    static KmsClient kms(Dewstack.Tenant t) {
        return KmsClient.newBuilder().withHttpConfig(httpConfig()).withCredential(credentials(t))
                .withEndpoints(List.of(Dewstack.get().clientEndpoint())).build();
    }

    static CsmsClient csms(Dewstack.Tenant t) {
        return CsmsClient.newBuilder().withHttpConfig(httpConfig()).withCredential(credentials(t))
                .withEndpoints(List.of(Dewstack.get().clientEndpoint())).build();
    }

    static VpcepClient vpcep(Dewstack.Tenant t) {
        return VpcepClient.newBuilder().withHttpConfig(httpConfig()).withCredential(credentials(t))
                .withEndpoints(List.of(Dewstack.get().clientEndpoint())).build();
    }

    static Dewstack.Tenant root() {
        return Dewstack.get().root;
    }

    /**
     * Runs one SDK call and checks that its response model, written back to JSON, holds
     * every value of the body dewstack sent with the same JSON type (see {@link #diff}).
     * With {@code -DargLine=-Dlossless.report=true} the differences are listed, not failed.
     */
    static <T extends SdkResponse> T call(Supplier<T> op) {
        LAST_BODY.remove();
        T resp = op.get();
        String raw = LAST_BODY.get();
        if (raw != null && !raw.isBlank()) {
            assertLossless(raw, resp);
        }
        return resp;
    }

    static void assertLossless(String raw, Object model) {
        List<String> lost = new ArrayList<>();
        try {
            JsonNode body = TREE.readTree(raw);
            JsonNode read = TREE.readTree(JsonUtils.toJSON(model));
            // A top-level array is what the SDK's models hold in their `body` field.
            diff("$", body, body.isArray() ? read.get("body") : read, SdkFields.of(model), lost);
        } catch (java.io.IOException e) {
            fail("response is not JSON: " + raw, e);
        }
        if (Boolean.getBoolean("lossless.report")) {
            lost.forEach(l -> System.err.println("LOST " + model.getClass().getSimpleName() + " " + l));
            return;
        }
        assertTrue(lost.isEmpty(), () -> model.getClass().getSimpleName() + " lost " + lost + " of " + raw);
    }

    /**
     * Every value the model declares must come back unchanged (same JSON type, same value).
     * A field this model does not declare passes only if {@link SdkFields} knows it: dewstack
     * sends one view per resource, the union of the fields the SDK's models of that resource
     * read, so a field may belong to a sibling model; a name no model knows is a mistake.
     */
    private static void diff(String path, JsonNode raw, JsonNode model, SdkFields known, List<String> lost) {
        if (raw == null || raw.isNull()) {
            return;
        }
        if (model == null || model.isNull() || model.isMissingNode()) {
            String field = path.substring(path.lastIndexOf('.') + 1);
            if (!known.declares(field)) {
                lost.add(path + " (no model of this SDK declares it)");
            }
            return;
        }
        if (raw.isObject()) {
            if (!model.isObject()) {
                lost.add(path + " (object read as " + model.getNodeType() + ")");
                return;
            }
            raw.fields().forEachRemaining(e ->
                    diff(path + "." + e.getKey(), e.getValue(), model.get(e.getKey()), known, lost));
        } else if (raw.isArray()) {
            if (!model.isArray() || model.size() != raw.size()) {
                lost.add(path + " (array read as " + model + ")");
                return;
            }
            for (int i = 0; i < raw.size(); i++) {
                diff(path + "[" + i + "]", raw.get(i), model.get(i), known, lost);
            }
        } else if (raw.isNumber()) {
            if (!model.isNumber() || raw.decimalValue().compareTo(model.decimalValue()) != 0) {
                lost.add(path + " (" + raw + " read as " + model + ")");
            }
        } else if (raw.isTextual()) {
            if (!model.isTextual() || !sameText(raw.asText(), model.asText())) {
                lost.add(path + " (" + raw + " read as " + model + ")");
            }
        } else if (!Objects.equals(raw, model)) {
            lost.add(path + " (" + raw + " read as " + model + ")");
        }
    }

    /** Equal text, or the same instant where the model holds a date-time. */
    private static boolean sameText(String raw, String model) {
        if (raw.equals(model)) {
            return true;
        }
        try {
            return OffsetDateTime.parse(raw).toInstant().equals(OffsetDateTime.parse(model).toInstant());
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    @FunctionalInterface
    interface Call {
        Object run();
    }

    /** Asserts that the call fails with the service's error of this status and code. */
    static ServiceResponseException expectError(int status, String code, Call call) {
        try {
            call.run();
        } catch (ServiceResponseException e) {
            assertEquals(status, e.getHttpStatusCode(), () -> "status of " + e);
            assertEquals(code, e.getErrorCode(), () -> "error code of " + e);
            assertFalse(e.getErrorMsg() == null || e.getErrorMsg().isEmpty(), () -> "no message: " + e);
            assertFalse(e.getRequestId() == null || e.getRequestId().isEmpty(), () -> "no request id: " + e);
            return e;
        }
        return fail("want HTTP " + status + " " + code + ", the call succeeded");
    }
}
