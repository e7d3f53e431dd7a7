package io.dewstack.sdk;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * The one dewstack server of a test run, started from {@code $DEWSTACK_BIN} on first use
 * (surefire runs every test class in one JVM, so the classes share it) and stopped when
 * the JVM exits. It serves HTTP on one port and HTTPS (its generated CA) on another, and
 * the suite's clients use the one DEWSTACK_CLIENT_SCHEME names (HTTP by default); a
 * second tenant, {@link #OTHER}, is the VPCEP consumer side and the isolation probe.
 */
final class Dewstack {
    static final String REGION = "cn-north-4";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One domain's project and access key. */
    record Tenant(String ak, String sk, String projectId, String domainId) {
        Tenant withSk(String newSk) {
            return new Tenant(ak, newSk, projectId, domainId);
        }
    }

    static final Tenant OTHER =
            new Tenant(randomUpper(20), hex(20), hex(16), hex(16));

    private static Dewstack instance;

    final Map<String, String> banner;
    final Tenant root;
    final Path dir;
    private final Process process;

    private Dewstack(Path dir, Process process, Map<String, String> banner) {
        this.dir = dir;
        this.process = process;
        this.banner = banner;
        this.root = new Tenant(banner.get("HUAWEICLOUD_SDK_AK"), banner.get("HUAWEICLOUD_SDK_SK"),
                banner.get("HUAWEICLOUD_SDK_PROJECT_ID"), null);
    }

    static synchronized Dewstack get() {
        if (instance == null) {
            try {
                instance = start();
            } catch (IOException e) {
                throw new IllegalStateException("could not start dewstack: " + e.getMessage(), e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(instance::stop));
        }
        return instance;
    }

    /**
     * Whether the suite's explicitly configured clients use HTTPS: DEWSTACK_CLIENT_SCHEME=https
     * (scripts/test.sh's PostgreSQL pass) picks the HTTPS listener, unset or {@code http} the
     * plain one. The env-only client goes over HTTPS either way.
     */
    static boolean clientsUseHttps() {
        String scheme = System.getenv().getOrDefault("DEWSTACK_CLIENT_SCHEME", "");
        return switch (scheme) {
            case "", "http" -> false;
            case "https" -> true;
            default -> throw new IllegalStateException(
                    "DEWSTACK_CLIENT_SCHEME=" + scheme + ": want http or https");
        };
    }

    /** The endpoint {@link Sdk}'s clients are given (see {@link #clientsUseHttps}). */
    String clientEndpoint() {
        String ep = banner.get(clientsUseHttps() ? "DEWSTACK_TLS_ENDPOINT" : "DEWSTACK_ENDPOINT");
        if (ep == null || !ep.startsWith(clientsUseHttps() ? "https://" : "http://")) {
            throw new IllegalStateException("no client endpoint in the banner: " + banner);
        }
        return ep;
    }

    private X509TrustManager caTrust;

    /**
     * A trust manager holding dewstack's generated CA only: what an application that keeps
     * the JVM's default trust store hands the SDK's HttpConfig for one service.
     */
    synchronized X509TrustManager caTrust() {
        if (caTrust == null) {
            try {
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(caStore());
                caTrust = (X509TrustManager) tmf.getTrustManagers()[0];
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot trust " + banner.get("DEWSTACK_CA_FILE") + ": " + e, e);
            }
        }
        return caTrust;
    }

    /**
     * A PKCS#12 key store holding dewstack's generated CA as its one trusted entry: the
     * in-process clients' trust manager and the env-only child JVM's trust store file.
     */
    KeyStore caStore() throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(Path.of(banner.get("DEWSTACK_CA_FILE")))) {
            Certificate ca = CertificateFactory.getInstance("X.509").generateCertificate(in);
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setCertificateEntry("dewstack-ca", ca);
            return store;
        }
    }

    /** An SSL socket factory that trusts {@link #caTrust} and nothing else. */
    SSLSocketFactory caSocketFactory() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {caTrust()}, null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Dewstack start() throws IOException {
        String bin = System.getenv("DEWSTACK_BIN");
        if (bin == null || bin.isEmpty()) {
            throw new IllegalStateException("DEWSTACK_BIN must name the dewstack binary");
        }
        Path dir = Files.createTempDirectory("dewstack-java-");
        Path config = dir.resolve("dewstack.toml");
        Files.writeString(config, String.join("\n",
                "[[domains]]",
                "id = \"" + OTHER.domainId() + "\"",
                "name = \"java-consumer\"",
                "",
                "[[domains.projects]]",
                "id = \"" + OTHER.projectId() + "\"",
                "name = \"" + REGION + "\"",
                "",
                "[[domains.users]]",
                "name = \"java-user\"",
                "password = \"Java-Pw-" + hex(6) + "\"",
                "",
                "[[domains.access_keys]]",
                "access_key = \"" + OTHER.ak() + "\"",
                "secret_key = \"" + OTHER.sk() + "\"",
                "user = \"java-user\"",
                ""));
        Path stdout = dir.resolve("stdout.log");
        Path stderr = dir.resolve("stderr.log");
        ProcessBuilder pb = new ProcessBuilder(bin, "serve",
                "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0",
                "--data-dir", dir.resolve("data").toString(),
                "--config", config.toString(), "--region", REGION)
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        // Settings meant for other dewstacks or SDK clients must not reach this one;
        // the database URL is how the PostgreSQL pass selects its backend.
        pb.environment().keySet().removeIf(k ->
                (k.startsWith("DEWSTACK_") && !k.equals("DEWSTACK_DATABASE_URL"))
                        || k.startsWith("HUAWEICLOUD_SDK_"));
        Process process = pb.start();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (Instant.now().isBefore(deadline)) {
            Map<String, String> banner = parseBanner(stdout);
            if (banner.containsKey("DEWSTACK_CA_FILE") && banner.containsKey("HUAWEICLOUD_SDK_PROJECT_ID")) {
                return new Dewstack(dir, process, banner);
            }
            if (!process.isAlive()) {
                break;
            }
            sleep(50);
        }
        process.destroyForcibly();
        throw new IOException("no complete banner within 60 s:\n" + Files.readString(stdout)
                + "\n" + Files.readString(stderr));
    }

    private void stop() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind is harmless
        }
    }

    /** The server's {@code export NAME=value} lines. */
    private static Map<String, String> parseBanner(Path stdout) throws IOException {
        Map<String, String> got = new HashMap<>();
        if (!Files.exists(stdout)) {
            return got;
        }
        List<String> lines = Files.readAllLines(stdout, StandardCharsets.UTF_8);
        for (String line : lines) {
            if (!line.startsWith("export ")) {
                continue;
            }
            String kv = line.substring("export ".length());
            int eq = kv.indexOf('=');
            if (eq > 0) {
                got.put(kv.substring(0, eq), kv.substring(eq + 1).replaceAll("^[\"']|[\"']$", ""));
            }
        }
        return got;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String hex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static String randomUpper(int n) {
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    static String unique(String prefix) {
        return prefix + "-" + hex(4);
    }

    /** A random RFC 4122 version-4 id, the shape VPCEP wants for VPC, port and subnet ids. */
    static String newId() {
        return java.util.UUID.randomUUID().toString();
    }
}
