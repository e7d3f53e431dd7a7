package terraform_test

import (
	"crypto/sha1"
	"encoding/hex"
	"testing"

	"github.com/huaweicloud/terraform-provider-huaweicloud/huaweicloud/services/dew"
)

// huaweicloud_kms_key: create with alias, description, tags and rotation;
// change every updatable field; destroy schedules the deletion.
func TestKmsKeyLifecycle(t *testing.T) {
	r := dew.ResourceKmsKey()
	alias := unique("tf-key")
	s := apply(t, r, nil, map[string]interface{}{
		"key_alias":         alias,
		"key_description":   "made by terraform",
		"key_algorithm":     "AES_256",
		"rotation_enabled":  true,
		"rotation_interval": 90,
		"tags":              map[string]interface{}{"owner": "tf", "env": "test"},
	})
	attr(t, s, "key_alias", alias)
	attr(t, s, "key_description", "made by terraform")
	attr(t, s, "is_enabled", "true")
	attr(t, s, "rotation_enabled", "true")
	attr(t, s, "rotation_interval", "90")
	attr(t, s, "tags.owner", "tf")
	attr(t, s, "tags.%", "2")

	renamed := alias + "-b"
	s = apply(t, r, s, map[string]interface{}{
		"key_alias":         renamed,
		"key_description":   "changed",
		"key_algorithm":     "AES_256",
		"rotation_enabled":  true,
		"rotation_interval": 180,
		"tags":              map[string]interface{}{"owner": "ops"},
	})
	attr(t, s, "rotation_interval", "180")
	// A disabled key's rotation cannot be changed (KMS.0209): disable last.
	s = apply(t, r, s, map[string]interface{}{
		"key_alias":         renamed,
		"key_description":   "changed",
		"key_algorithm":     "AES_256",
		"is_enabled":        false,
		"rotation_enabled":  true,
		"rotation_interval": 180,
		"tags":              map[string]interface{}{"owner": "ops"},
	})
	s = refresh(t, r, s)
	if s == nil {
		t.Fatal("key gone after update")
	}
	attr(t, s, "key_alias", renamed)
	attr(t, s, "key_description", "changed")
	attr(t, s, "is_enabled", "false")
	attr(t, s, "rotation_enabled", "true")
	attr(t, s, "rotation_interval", "180")
	attr(t, s, "tags.%", "1")
	attr(t, s, "tags.owner", "ops")

	destroy(t, r, s)
	if got := refresh(t, r, s); got != nil {
		t.Fatalf("refresh after destroy still finds the key: %v", got.Attributes)
	}
}

// huaweicloud_kms_key with an asymmetric spec: no rotation, usage kept.
func TestKmsKeyAsymmetric(t *testing.T) {
	r := dew.ResourceKmsKey()
	s := apply(t, r, nil, map[string]interface{}{
		"key_alias":     unique("tf-ec"),
		"key_algorithm": "EC_P256",
		"key_usage":     "SIGN_VERIFY",
	})
	attr(t, s, "key_algorithm", "EC_P256")
	attr(t, s, "key_usage", "SIGN_VERIFY")
	destroy(t, r, s)
}

// huaweicloud_kms_grant on a key, then revoked by destroy.
func TestKmsGrant(t *testing.T) {
	keys := dew.ResourceKmsKey()
	key := apply(t, keys, nil, map[string]interface{}{"key_alias": unique("tf-grant-key")})
	defer destroy(t, keys, key)

	// A grant's grantee must exist (KMS.2402 otherwise): dewstack's own domain.
	r := dew.ResourceKmsGrant()
	s := apply(t, r, nil, map[string]interface{}{
		"key_id":            key.ID,
		"name":              "tf-grant",
		"type":              "domain",
		"grantee_principal": banner["domain id"],
		"operations":        []interface{}{"create-datakey", "encrypt-datakey"},
	})
	s = refresh(t, r, s)
	if s == nil {
		t.Fatal("grant not found after create")
	}
	attr(t, s, "key_id", key.ID)
	attr(t, s, "name", "tf-grant")
	attr(t, s, "operations.#", "2")
	destroy(t, r, s)
	if got := refresh(t, r, s); got != nil {
		t.Fatalf("grant still listed after destroy: %v", got.Attributes)
	}
}

// huaweicloud_csms_secret: a new value is a new version; destroy deletes it.
func TestCsmsSecret(t *testing.T) {
	r := dew.ResourceSecret()
	name := unique("tf-secret")
	s := apply(t, r, nil, map[string]interface{}{
		"name":        name,
		"secret_text": `{"user":"app","password":"first"}`,
		"description": "by terraform",
	})
	attr(t, s, "name", name)
	attr(t, s, "status", "ENABLED")
	attr(t, s, "latest_version", "v1")
	s = apply(t, r, s, map[string]interface{}{
		"name":        name,
		"secret_text": `{"user":"app","password":"second"}`,
		"description": "rotated by terraform",
	})
	s = refresh(t, r, s)
	if s == nil {
		t.Fatal("secret gone after update")
	}
	attr(t, s, "latest_version", "v2")
	attr(t, s, "description", "rotated by terraform")
	// The provider keeps a SHA-1 of the value it read back, not the value.
	sum := sha1.Sum([]byte(`{"user":"app","password":"second"}`))
	attr(t, s, "secret_text", hex.EncodeToString(sum[:]))
	destroy(t, r, s)
	if got := refresh(t, r, s); got != nil {
		t.Fatalf("secret still there after destroy: %v", got.Attributes)
	}
}

// huaweicloud_csms_event: created enabled, disabled by an update, destroyed.
func TestCsmsEvent(t *testing.T) {
	r := dew.ResourceCsmsEvent()
	name := unique("tf-event")
	cfg := map[string]interface{}{
		"name":                     name,
		"event_types":              []interface{}{"SECRET_VERSION_CREATED", "SECRET_DELETED"},
		"status":                   "ENABLED",
		"notification_target_type": "SMN",
		"notification_target_id":   "urn:smn:cn-north-4:0123456789abcdef0123456789abcdef:tf-topic",
		"notification_target_name": "tf-topic",
	}
	s := apply(t, r, nil, cfg)
	attr(t, s, "name", name)
	attr(t, s, "status", "ENABLED")
	attr(t, s, "event_types.#", "2")
	cfg["status"] = "DISABLED"
	s = apply(t, r, s, cfg)
	s = refresh(t, r, s)
	if s == nil {
		t.Fatal("event gone after update")
	}
	attr(t, s, "status", "DISABLED")
	destroy(t, r, s)
	if got := refresh(t, r, s); got != nil {
		t.Fatalf("event still there after destroy: %v", got.Attributes)
	}
}
