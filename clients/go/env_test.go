package dewstack_test

import (
	"strings"
	"testing"

	csms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1"
	csmsmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1/model"
	csmsregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1/region"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
	kmsregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/region"
	vpcep "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpcep/v1"
	vpcepmodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpcep/v1/model"
	vpcepregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/vpcep/v1/region"
)

// Clients built from the environment only, as an unchanged application's
// are: region endpoints from HUAWEICLOUD_SDK_REGION_<SERVICE>_CN_NORTH_4,
// AK/SK from HUAWEICLOUD_SDK_AK/SK, no project id (the SDK asks IAM, at
// HUAWEICLOUD_SDK_IAM_ENDPOINT, over HTTPS), dewstack's CA from SSL_CERT_FILE.
func TestClientsFromTheEnvironmentOnlyOverTLS(t *testing.T) {
	for _, v := range []string{"HUAWEICLOUD_SDK_REGION_KMS_CN_NORTH_4", "HUAWEICLOUD_SDK_IAM_ENDPOINT"} {
		if !strings.HasPrefix(banner[v], "https://") {
			t.Fatalf("%s is not an HTTPS endpoint: %q", v, banner[v])
		}
	}
	reg, err := kmsregion.SafeValueOf(regionID)
	must(t, err)
	hc, err := kms.KmsClientBuilder().WithRegion(reg).SafeBuild()
	must(t, err)
	k := kms.NewKmsClient(hc)
	created, err := k.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: unique("env-key")}})
	must(t, err)
	enc, err := k.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: *created.KeyInfo.KeyId, PlainText: "over tls"}})
	must(t, err)
	dec, err := k.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: *enc.CipherText}})
	must(t, err)
	if *dec.PlainText != "over tls" {
		t.Fatalf("decrypted %q", *dec.PlainText)
	}
	// The project IAM named is the banner's: the same keys as over HTTP.
	detail, err := kmsClient(t, root).ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: *created.KeyInfo.KeyId}})
	must(t, err)
	if *detail.KeyInfo.KeyId != *created.KeyInfo.KeyId {
		t.Fatal("the env client's key is not in the banner's project")
	}

	creg, err := csmsregion.SafeValueOf(regionID)
	must(t, err)
	chc, err := csms.CsmsClientBuilder().WithRegion(creg).SafeBuild()
	must(t, err)
	c := csms.NewCsmsClient(chc)
	name := unique("env-secret")
	_, err = c.CreateSecret(&csmsmodel.CreateSecretRequest{Body: &csmsmodel.CreateSecretRequestBody{Name: name, SecretString: ptr("s3cret")}})
	must(t, err)
	v, err := c.ShowSecretVersion(&csmsmodel.ShowSecretVersionRequest{SecretName: name, VersionId: "latest"})
	must(t, err)
	if *v.Version.SecretString != "s3cret" {
		t.Fatalf("secret %q", *v.Version.SecretString)
	}

	vreg, err := vpcepregion.SafeValueOf(regionID)
	must(t, err)
	vhc, err := vpcep.VpcepClientBuilder().WithRegion(vreg).SafeBuild()
	must(t, err)
	_, err = vpcep.NewVpcepClient(vhc).ListEndpointService(&vpcepmodel.ListEndpointServiceRequest{})
	must(t, err)
}
