package dewstack_test

import (
	"testing"

	csms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/csms/v1/model"
)

func createEvent(t *testing.T, c *csms.CsmsClient) string {
	t.Helper()
	name := unique("go-ev")
	_, err := c.CreateSecretEvent(&model.CreateSecretEventRequest{Body: &model.CreateSecretEventRequestBody{
		Name:         name,
		EventTypes:   []model.CreateSecretEventRequestBodyEventTypes{model.GetCreateSecretEventRequestBodyEventTypesEnum().SECRET_VERSION_CREATED},
		State:        model.GetCreateSecretEventRequestBodyStateEnum().ENABLED,
		Notification: &model.Notification{TargetType: "SMN", TargetId: "urn:smn:cn-north-4:x:topic", TargetName: "topic"},
	}})
	must(t, err)
	return name
}

// The CSMS seed page: DeleteSecretEvent (no request or response body).
func TestCsmsSeedDeleteSecretEvent(t *testing.T) {
	t.Parallel()
	c := csmsClient(t, root)
	name := createEvent(t, c)
	ev, err := c.ShowSecretEvent(&model.ShowSecretEventRequest{EventName: name})
	must(t, err)
	if *ev.Event.Name != name || ev.Event.State.Value() != "ENABLED" || *ev.Event.CreateTime <= 0 {
		t.Fatalf("event: %+v", ev.Event)
	}
	// Referenced by a secret: refused, untouched.
	secret := unique("go-s")
	_, err = c.CreateSecret(&model.CreateSecretRequest{Body: &model.CreateSecretRequestBody{Name: secret, SecretString: ptr("v1"), EventSubscriptions: &[]string{name}}})
	must(t, err)
	_, err = c.DeleteSecretEvent(&model.DeleteSecretEventRequest{EventName: name})
	expectError(t, err, 400, "CSMS.9003")
	_, err = c.UpdateSecret(&model.UpdateSecretRequest{SecretName: secret, Body: &model.UpdateSecretRequestBody{EventSubscriptions: &[]string{}}})
	must(t, err)
	resp, err := c.DeleteSecretEvent(&model.DeleteSecretEventRequest{EventName: name})
	must(t, err)
	if resp.HttpStatusCode != 204 {
		t.Fatalf("DeleteSecretEvent answered %d", resp.HttpStatusCode)
	}
	_, err = c.ShowSecretEvent(&model.ShowSecretEventRequest{EventName: name})
	expectError(t, err, 404, "CSMS.0005")
}

func TestCsmsSecretVersions(t *testing.T) {
	t.Parallel()
	c := csmsClient(t, root)
	name := unique("go-secret")
	created, err := c.CreateSecret(&model.CreateSecretRequest{Body: &model.CreateSecretRequestBody{Name: name, SecretString: ptr("first"), Description: ptr("from go")}})
	must(t, err)
	if *created.Secret.Name != name || *created.Secret.State != "ENABLED" || *created.Secret.KmsKeyId == "" {
		t.Fatalf("secret: %+v", created.Secret)
	}
	v2, err := c.CreateSecretVersion(&model.CreateSecretVersionRequest{SecretName: name, Body: &model.CreateSecretVersionRequestBody{SecretString: ptr("second")}})
	must(t, err)
	if *v2.VersionMetadata.Id != "v2" {
		t.Fatalf("second version: %+v", v2.VersionMetadata)
	}
	latest, err := c.ShowSecretVersion(&model.ShowSecretVersionRequest{SecretName: name, VersionId: "latest"})
	must(t, err)
	if *latest.Version.SecretString != "second" {
		t.Fatalf("latest: %+v", latest.Version)
	}
	first, err := c.ShowSecretVersion(&model.ShowSecretVersionRequest{SecretName: name, VersionId: "v1"})
	must(t, err)
	if *first.Version.SecretString != "first" {
		t.Fatalf("v1: %+v", first.Version)
	}
	stages := map[string][]string{}
	list, err := c.ListSecretVersions(&model.ListSecretVersionsRequest{SecretName: name, Limit: ptr(int32(10))})
	must(t, err)
	for _, m := range *list.VersionMetadatas {
		stages[*m.Id] = *m.VersionStages
	}
	if len(stages) != 2 || !contains(stages["v2"], "SYSCURRENT") || !contains(stages["v1"], "SYSPREVIOUS") {
		t.Fatalf("stages: %v", stages)
	}
	_, err = c.ShowSecretVersion(&model.ShowSecretVersionRequest{SecretName: name, VersionId: "v9"})
	expectError(t, err, 404, "CSMS.0005")
	_, err = c.CreateSecret(&model.CreateSecretRequest{Body: &model.CreateSecretRequestBody{Name: name, SecretString: ptr("again")}})
	if err == nil {
		t.Fatal("a second secret of the same name was made")
	}
	// Another tenant does not see it.
	_, err = csmsClient(t, other).ShowSecret(&model.ShowSecretRequest{SecretName: name})
	expectError(t, err, 404, "CSMS.0106")
	_, err = c.DeleteSecret(&model.DeleteSecretRequest{SecretName: name})
	must(t, err)
	_, err = c.ShowSecret(&model.ShowSecretRequest{SecretName: name})
	expectError(t, err, 404, "CSMS.0106")
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
