package io.dewstack.sdk;

import static io.dewstack.sdk.Sdk.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.huaweicloud.sdk.csms.v1.model.ShowSecretRequest;
import com.huaweicloud.sdk.kms.v2.model.ListKeyDetailRequest;
import com.huaweicloud.sdk.kms.v2.model.OperateKeyRequestBody;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Clients built from the environment only, over TLS: {@link EnvOnlyApplication} in a fresh
 * JVM given the banner's SDK variables (no project id) and a PKCS#12 trust store made here
 * from dewstack's generated CA; the JVM's default trust manager is what the SDK uses.
 */
class EnvOnlyClientTest {
    private static final String STORE_PASSWORD = "changeit";

    @Test
    void clientsFromTheEnvironmentOnlyOverTls() throws Exception {
        Dewstack ds = Dewstack.get();
        for (String v : List.of("HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4", "HUAWEICLOUD_SDK_IAM_ENDPOINT")) {
            assertTrue(ds.banner.get(v).startsWith("https://"), v + " is not an HTTPS endpoint: " + ds.banner.get(v));
        }
        Path trustStore = trustStoreFor(ds, ds.dir);
        ProcessBuilder pb = new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djavax.net.ssl.trustStore=" + trustStore,
                "-Djavax.net.ssl.trustStorePassword=" + STORE_PASSWORD,
                "-Djavax.net.ssl.trustStoreType=PKCS12",
                "-cp", System.getProperty("java.class.path"),
                EnvOnlyApplication.class.getName(), Dewstack.REGION)
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("HUAWEICLOUD_SDK_"));
        for (String k : List.of("KMS", "CSMS", "VPCEP")) {
            String name = "HUAWEICLOUD_SDK_REGION_" + k + "_CN_NORTH_4";
            env.put(name, ds.banner.get(name));
        }
        env.put("HUAWEICLOUD_SDK_IAM_ENDPOINT", ds.banner.get("HUAWEICLOUD_SDK_IAM_ENDPOINT"));
        env.put("HUAWEICLOUD_SDK_AK", ds.root.ak());
        env.put("HUAWEICLOUD_SDK_SK", ds.root.sk());
        Process p = pb.start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the application did not finish");
        assertEquals(0, p.exitValue(), out);

        Map<String, String> made = new HashMap<>();
        out.lines().filter(l -> l.startsWith("key=") || l.startsWith("secret="))
                .forEach(l -> made.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
        // The project IAM named is the banner's: the same key and secret as over HTTP.
        String keyId = made.get("key");
        assertEquals(keyId, call(() -> Sdk.kms(ds.root).listKeyDetail(new ListKeyDetailRequest()
                .withBody(new OperateKeyRequestBody().withKeyId(keyId)))).getKeyInfo().getKeyId(), out);
        String secret = made.get("secret");
        assertEquals(secret, call(() -> Sdk.csms(ds.root).showSecret(new ShowSecretRequest()
                .withSecretName(secret))).getSecret().getName(), out);
    }

    private static Path trustStoreFor(Dewstack ds, Path dir) throws Exception {
        KeyStore store = ds.caStore();
        Path path = dir.resolve("dewstack-ca.p12");
        try (OutputStream out = Files.newOutputStream(path)) {
            store.store(out, STORE_PASSWORD.toCharArray());
        }
        return path;
    }
}
