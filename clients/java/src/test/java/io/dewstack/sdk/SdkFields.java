package io.dewstack.sdk;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/** The JSON field names the models of one service of this SDK release declare. */
final class SdkFields {
    private static final Map<String, SdkFields> BY_PACKAGE = new ConcurrentHashMap<>();

    /**
     * Fields dewstack sends that no model of this Java release (3.1.143, the newest Maven
     * Central serves) declares, each for a published reason.
     */
    private static final Map<String, Set<String>> BEYOND_THIS_RELEASE = Map.of(
            "com.huaweicloud.sdk.kms.v2.model", Set.of(
                    // Declared by the newer SDK models (huaweicloudsdkkms 3.1.219: KeKInfo.region_id,
                    // ShowKeyRotationStatusResponse.key_materials).
                    "region_id", "key_materials",
                    // In every key the real cloud lists (Cloud Custodian's kms_query recording).
                    "pending_days", "keystore_type", "multi_region_key_type"));

    private final Set<String> names;

    private SdkFields(Set<String> names) {
        this.names = names;
    }

    boolean declares(String field) {
        return names.contains(field);
    }

    static SdkFields of(Object response) {
        return BY_PACKAGE.computeIfAbsent(response.getClass().getPackageName(), pkg -> scan(response.getClass(), pkg));
    }

    private static SdkFields scan(Class<?> sample, String pkg) {
        Set<String> names = new HashSet<>(BEYOND_THIS_RELEASE.getOrDefault(pkg, Set.of()));
        String prefix = pkg.replace('.', '/') + "/";
        try (JarFile jar = new JarFile(Path.of(sample.getProtectionDomain().getCodeSource().getLocation().toURI()).toFile())) {
            Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements()) {
                String name = entries.nextElement().getName();
                if (name.startsWith(prefix) && name.endsWith(".class") && name.indexOf('/', prefix.length()) < 0) {
                    Class<?> model = Class.forName(name.substring(0, name.length() - 6).replace('/', '.'), false,
                            sample.getClassLoader());
                    for (Field f : model.getDeclaredFields()) {
                        JsonProperty p = f.getAnnotation(JsonProperty.class);
                        if (p != null) {
                            names.add(p.value());
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException | ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
        return new SdkFields(names);
    }
}
