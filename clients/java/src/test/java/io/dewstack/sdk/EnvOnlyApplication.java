package io.dewstack.sdk;

import com.huaweicloud.sdk.csms.v1.CsmsClient;
import com.huaweicloud.sdk.csms.v1.model.CreateSecretRequest;
import com.huaweicloud.sdk.csms.v1.model.CreateSecretRequestBody;
import com.huaweicloud.sdk.csms.v1.model.ShowSecretVersionRequest;
import com.huaweicloud.sdk.csms.v1.region.CsmsRegion;
import com.huaweicloud.sdk.kms.v2.KmsClient;
import com.huaweicloud.sdk.kms.v2.model.CreateKeyRequest;
import com.huaweicloud.sdk.kms.v2.model.CreateKeyRequestBody;
import com.huaweicloud.sdk.kms.v2.model.DecryptDataRequest;
import com.huaweicloud.sdk.kms.v2.model.DecryptDataRequestBody;
import com.huaweicloud.sdk.kms.v2.model.EncryptDataRequest;
import com.huaweicloud.sdk.kms.v2.model.EncryptDataRequestBody;
import com.huaweicloud.sdk.kms.v2.region.KmsRegion;
import com.huaweicloud.sdk.vpcep.v1.VpcepClient;
import com.huaweicloud.sdk.vpcep.v1.model.ListEndpointServiceRequest;
import com.huaweicloud.sdk.vpcep.v1.region.VpcepRegion;

/**
 * An unchanged application: its clients name only a region, so endpoints come from
 * HUAWEICLOUD_SDK_REGION_&lt;SERVICE&gt;_CN_NORTH_4, the access key from HUAWEICLOUD_SDK_AK/SK,
 * the project from IAM (HUAWEICLOUD_SDK_IAM_ENDPOINT, over HTTPS) and the trust anchor from
 * -Djavax.net.ssl.trustStore. {@link EnvOnlyClientTest} runs it in a JVM of its own, since a
 * JVM's environment is fixed when it starts. Prints what it made, for the test to look up.
 */
public final class EnvOnlyApplication {
    private EnvOnlyApplication() {}

    public static void main(String[] args) {
        String region = args[0];
        KmsClient kms = KmsClient.newBuilder().withRegion(KmsRegion.valueOf(region)).build();
        String keyId = kms.createKey(new CreateKeyRequest().withBody(
                new CreateKeyRequestBody().withKeyAlias("env-key-" + System.nanoTime()))).getKeyInfo().getKeyId();
        String cipher = kms.encryptData(new EncryptDataRequest().withBody(
                new EncryptDataRequestBody().withKeyId(keyId).withPlainText("over tls"))).getCipherText();
        String plain = kms.decryptData(new DecryptDataRequest().withBody(
                new DecryptDataRequestBody().withCipherText(cipher))).getPlainText();
        if (!"over tls".equals(plain)) {
            throw new IllegalStateException("decrypted " + plain);
        }

        CsmsClient csms = CsmsClient.newBuilder().withRegion(CsmsRegion.valueOf(region)).build();
        String secret = "env-secret-" + System.nanoTime();
        csms.createSecret(new CreateSecretRequest().withBody(
                new CreateSecretRequestBody().withName(secret).withSecretString("s3cret")));
        String value = csms.showSecretVersion(new ShowSecretVersionRequest().withSecretName(secret)
                .withVersionId("latest")).getVersion().getSecretString();
        if (!"s3cret".equals(value)) {
            throw new IllegalStateException("secret " + value);
        }

        VpcepClient vpcep = VpcepClient.newBuilder().withRegion(VpcepRegion.valueOf(region)).build();
        vpcep.listEndpointService(new ListEndpointServiceRequest());

        System.out.println("key=" + keyId);
        System.out.println("secret=" + secret);
    }
}
