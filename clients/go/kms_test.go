package dewstack_test

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

func createKey(t *testing.T, c *kms.KmsClient, body model.CreateKeyRequestBody) string {
	t.Helper()
	if body.KeyAlias == "" {
		body.KeyAlias = unique("go-key")
	}
	resp, err := c.CreateKey(&model.CreateKeyRequest{Body: &body})
	must(t, err)
	if resp.KeyInfo == nil || resp.KeyInfo.KeyId == nil || *resp.KeyInfo.KeyId == "" {
		t.Fatalf("no key id: %+v", resp)
	}
	return *resp.KeyInfo.KeyId
}

func keyDetail(t *testing.T, c *kms.KmsClient, id string) *model.KeyDetails {
	t.Helper()
	resp, err := c.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
	must(t, err)
	return resp.KeyInfo
}

// The three KMS seed pages, with their request examples.
func TestKmsSeeds(t *testing.T) {
	t.Parallel()
	c := kmsClient(t, root)
	t.Run("BatchCreateKmsTags", func(t *testing.T) {
		t.Parallel()
		id := createKey(t, c, model.CreateKeyRequestBody{})
		_, err := c.BatchCreateKmsTags(&model.BatchCreateKmsTagsRequest{KeyId: id, Body: &model.BatchCreateKmsTagsRequestBody{
			Action: "create",
			Tags:   []model.TagItem{{Key: "key1", Value: ptr("value1")}, {Key: "key", Value: ptr("value3")}},
		}})
		must(t, err)
		tags, err := c.ShowKmsTags(&model.ShowKmsTagsRequest{KeyId: id})
		must(t, err)
		got := map[string]string{}
		for _, tag := range *tags.Tags {
			got[tag.Key] = *tag.Value
		}
		if len(got) != 2 || got["key1"] != "value1" || got["key"] != "value3" || *tags.ExistTagsNum != 2 {
			t.Fatalf("tags: %+v", got)
		}
	})
	t.Run("CancelKeyDeletion", func(t *testing.T) {
		t.Parallel()
		id := createKey(t, c, model.CreateKeyRequestBody{})
		_, err := c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: id, PendingDays: "7"}})
		must(t, err)
		if s := *keyDetail(t, c, id).KeyState; s != "4" {
			t.Fatalf("state after scheduling: %s", s)
		}
		resp, err := c.CancelKeyDeletion(&model.CancelKeyDeletionRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
		must(t, err)
		// The seed's response: key_id and key_state "3" (disabled).
		if *resp.KeyId != id || *resp.KeyState != "3" {
			t.Fatalf("cancel: %+v", resp)
		}
		_, err = c.CancelKeyDeletion(&model.CancelKeyDeletionRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
		expectError(t, err, 400, "KMS.1501")
	})
	t.Run("UpdateKeyDescription", func(t *testing.T) {
		t.Parallel()
		id := createKey(t, c, model.CreateKeyRequestBody{})
		resp, err := c.UpdateKeyDescription(&model.UpdateKeyDescriptionRequest{Body: &model.UpdateKeyDescriptionRequestBody{KeyId: id, KeyDescription: "test"}})
		must(t, err)
		if *resp.KeyInfo.KeyId != id || *resp.KeyInfo.KeyDescription != "test" {
			t.Fatalf("update: %+v", resp)
		}
		if d := *keyDetail(t, c, id).KeyDescription; d != "test" {
			t.Fatalf("description: %q", d)
		}
		_, err = c.UpdateKeyDescription(&model.UpdateKeyDescriptionRequest{Body: &model.UpdateKeyDescriptionRequestBody{KeyId: id, KeyDescription: strings.Repeat("d", 256)}})
		expectError(t, err, 400, "KMS.1103")
	})
}

func TestKmsKeyLifecycle(t *testing.T) {
	t.Parallel()
	c := kmsClient(t, root)
	// Cloud Custodian's sequence: uuid4().hex, 32 characters.
	id := createKey(t, c, model.CreateKeyRequestBody{Sequence: ptr(strings.ReplaceAll(unique("x")+"0123456789abcdef0123456789ab", "-", "")[:32])})
	k := keyDetail(t, c, id)
	if *k.KeyState != "2" || k.KeySpec.Value() != "AES_256" || k.KeyUsage.Value() != "ENCRYPT_DECRYPT" || *k.DefaultKeyFlag != "0" {
		t.Fatalf("new key: %+v", k)
	}
	_, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
	must(t, err)
	_, err = c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
	expectError(t, err, 400, "KMS.1301")
	_, err = c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: id, PlainText: "x"}})
	if err == nil {
		t.Fatal("a disabled key encrypted")
	}
	_, err = c.EnableKey(&model.EnableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
	must(t, err)
	_, err = c.EnableKeyRotation(&model.EnableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
	must(t, err)
	rot, err := c.ShowKeyRotationStatus(&model.ShowKeyRotationStatusRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
	must(t, err)
	if rot.KeyRotationEnabled == nil || !*rot.KeyRotationEnabled {
		t.Fatalf("rotation: %+v", rot)
	}
	// Listing pages through every key with the SDK's types.
	seen := false
	var marker *string
	for page := 0; page < 50 && !seen; page++ {
		resp, err := c.ListKeys(&model.ListKeysRequest{Body: &model.ListKeysRequestBody{Limit: ptr("10"), Marker: marker}})
		must(t, err)
		for _, d := range *resp.KeyDetails {
			seen = seen || *d.KeyId == id
		}
		if resp.Truncated.Value() != "true" {
			break
		}
		marker = resp.NextMarker
	}
	if !seen {
		t.Fatal("the key is not listed")
	}
	_, err = c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: id, PendingDays: "6"}})
	expectError(t, err, 400, "KMS.1401")
	_, err = c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: id, PendingDays: "7"}})
	must(t, err)
	if d := keyDetail(t, c, id); *d.KeyState != "4" || *d.ScheduledDeletionDate == "" {
		t.Fatalf("pending deletion: %+v", d)
	}
	// Another tenant's key does not exist for this one.
	_, err = kmsClient(t, other).ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
	expectError(t, err, 404, "KMS.0207")
}

func TestKmsCrypto(t *testing.T) {
	t.Parallel()
	c := kmsClient(t, root)
	id := createKey(t, c, model.CreateKeyRequestBody{})
	t.Run("EncryptDecrypt", func(t *testing.T) {
		t.Parallel()
		enc, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: id, PlainText: "hello from go", AdditionalAuthenticatedData: ptr("aad")}})
		must(t, err)
		dec, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: *enc.CipherText, AdditionalAuthenticatedData: ptr("aad")}})
		must(t, err)
		if *dec.PlainText != "hello from go" || *dec.KeyId != id {
			t.Fatalf("decrypt: %+v", dec)
		}
		_, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: *enc.CipherText, AdditionalAuthenticatedData: ptr("other")}})
		if err == nil {
			t.Fatal("decrypted with the wrong AAD")
		}
	})
	t.Run("DataKeys", func(t *testing.T) {
		t.Parallel()
		dk, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: id, DatakeyLength: ptr("256")}})
		must(t, err)
		if len(*dk.PlainText) != 64 {
			t.Fatalf("plain data key: %q", *dk.PlainText)
		}
		dec, err := c.DecryptDatakey(&model.DecryptDatakeyRequest{Body: &model.DecryptDatakeyRequestBody{KeyId: id, CipherText: *dk.CipherText, DatakeyCipherLength: "32"}})
		must(t, err)
		if !strings.EqualFold(*dec.DataKey, *dk.PlainText) || *dec.DatakeyLength != "32" {
			t.Fatalf("decrypted data key: %+v", dec)
		}
		nop, err := c.CreateDatakeyWithoutPlaintext(&model.CreateDatakeyWithoutPlaintextRequest{Body: &model.CreateDatakeyRequestBody{KeyId: id, DatakeyLength: ptr("256")}})
		must(t, err)
		if nop.CipherText == nil || *nop.CipherText == "" {
			t.Fatalf("no ciphertext: %+v", nop)
		}
	})
	t.Run("SignVerify", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			spec model.CreateKeyRequestBodyKeySpec
			alg  string
		}{
			{model.GetCreateKeyRequestBodyKeySpecEnum().RSA_2048, "RSASSA_PSS_SHA_256"},
			{model.GetCreateKeyRequestBodyKeySpecEnum().EC_P256, "ECDSA_SHA_256"},
		} {
			spec, usage := tc.spec, model.GetCreateKeyRequestBodyKeyUsageEnum().SIGN_VERIFY
			kid := createKey(t, c, model.CreateKeyRequestBody{KeySpec: &spec, KeyUsage: &usage})
			digest := sha256.Sum256([]byte("message"))
			msg := base64.StdEncoding.EncodeToString(digest[:])
			var signAlg model.SignRequestBodySigningAlgorithm
			must(t, signAlg.UnmarshalJSON([]byte(`"`+tc.alg+`"`)))
			sig, err := c.Sign(&model.SignRequest{Body: &model.SignRequestBody{KeyId: kid, Message: msg, SigningAlgorithm: signAlg}})
			must(t, err)
			var verAlg model.VerifyRequestBodySigningAlgorithm
			must(t, verAlg.UnmarshalJSON([]byte(`"`+tc.alg+`"`)))
			ok, err := c.ValidateSignature(&model.ValidateSignatureRequest{Body: &model.VerifyRequestBody{KeyId: kid, Message: msg, Signature: *sig.Signature, SigningAlgorithm: verAlg}})
			must(t, err)
			if *ok.SignatureValid != "true" {
				t.Fatalf("%s: signature not valid", tc.alg)
			}
			other := sha256.Sum256([]byte("other"))
			bad, err := c.ValidateSignature(&model.ValidateSignatureRequest{Body: &model.VerifyRequestBody{KeyId: kid, Message: base64.StdEncoding.EncodeToString(other[:]), Signature: *sig.Signature, SigningAlgorithm: verAlg}})
			must(t, err)
			if *bad.SignatureValid != "false" {
				t.Fatalf("%s: a signature over another message verified", tc.alg)
			}
		}
	})
}

func TestKmsErrors(t *testing.T) {
	t.Parallel()
	c := kmsClient(t, root)
	_, err := c.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: "not-a-key-id"}})
	expectError(t, err, 400, "KMS.0205")
	_, err = c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: unique("k"), Sequence: ptr("short")}})
	expectError(t, err, 400, "KMS.0206")
	bad := root
	bad.SK = strings.Repeat("x", 40)
	_, err = kmsClient(t, bad).ListKeys(&model.ListKeysRequest{Body: &model.ListKeysRequestBody{}})
	expectError(t, err, 401, "APIGW.0301")
}
