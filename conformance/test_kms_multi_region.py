"""Multi-region keys through the official Python SDK: one dewstack serving two
regions, two SDK clients on two projects (one per region) of one domain.

What is checked (docs/kms-multi-region.md):
* ListSupportRegions lists the configured regions.
* ReplicateKey copies a key into the other region's project of the same
  domain; a ciphertext made in either region decrypts in the other, also
  after the primary rotates (its new version reaches the replica).
* Key details say PRIMARY / REPLICA and carry the group.
* UpdatePrimaryRegion moves the primary; only a primary rotates; a primary
  with replicas cannot be scheduled for deletion.
* Refusals answer the KMS envelope with the cloud's (or dewstack's own) codes;
  another domain's project is no replica target and sees nothing.
"""

import base64
import dataclasses
import json
import os
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from huaweicloudsdkkms.v2 import (
    CreateKeyRequest,
    CreateParametersForImportRequest,
    DeleteImportedKeyMaterialRequest,
    GetParametersForImportRequestBody,
    ImportKeyMaterialRequest,
    ImportKeyMaterialRequestBody,
    CreateKeyRequestBody,
    DecryptDataRequest,
    DecryptDataRequestBody,
    DeleteKeyRequest,
    EncryptDataRequest,
    EncryptDataRequestBody,
    EnableKeyRotationRequest,
    ListKeyDetailRequest,
    ListSupportRegionsRequest,
    OperateKeyRequestBody,
    ReplicateKeyRequest,
    ReplicateKeyRequestBody,
    RotateOnDemandRequest,
    RotateOnDemandRequestBody,
    ScheduleKeyDeletionRequestBody,
    UpdatePrimaryRegionRequest,
    UpdatePrimaryRegionRequestBody,
)

import support
from support import DewstackServer, expect_kms_error

NORTH = support.REGION
SOUTH = "cn-south-1" if NORTH != "cn-south-1" else "cn-east-3"


@pytest.fixture(scope="module")
def mr(tmp_path_factory):
    base = tmp_path_factory.mktemp("multi-region")
    acme = support.new_identity(domain_name=support.unique("mr-acme"))
    other = support.new_identity(domain_name=support.unique("mr-other"))
    acme_south = support.gen_hex32()
    other = dataclasses.replace(other, project_name=SOUTH)
    cfg = base / "dewstack.toml"
    cfg.write_text(f'regions = ["{SOUTH}"]\n\n' + support.config_toml(
        [acme, other], extra_projects={acme.domain_id: [(acme_south, SOUTH)]}))
    srv = DewstackServer(base / "data", base / "logs", config=cfg,
                         identity_env={"DEWSTACK_REGION": NORTH}, name="multi-region")
    srv.start()
    yield {
        "server": srv,
        "north": support.kms_client(srv.endpoint, acme),
        "south": support.kms_client(srv.endpoint, acme, acme_south),
        "south_id": acme_south,
        "other": support.kms_client(srv.endpoint, other),
        "other_id": other.project_id,
        "acme": acme,
    }
    srv.stop()


def new_key(client):
    return client.create_key(CreateKeyRequest(body=CreateKeyRequestBody(
        key_alias=support.unique("mr")))).key_info.key_id


def encrypt(client, key_id, text="across regions"):
    return client.encrypt_data(EncryptDataRequest(
        body=EncryptDataRequestBody(key_id=key_id, plain_text=text))).cipher_text


def decrypt(client, blob):
    return client.decrypt_data(DecryptDataRequest(body=DecryptDataRequestBody(cipher_text=blob))).plain_text


def raw_details(client, key_id):
    resp = client.list_key_detail(ListKeyDetailRequest(body=OperateKeyRequestBody(key_id=key_id)))
    return json.loads(resp.raw_content)["key_info"]


def replicate(client, key_id, region, project=None, alias=None, **extra):
    body = ReplicateKeyRequestBody(key_id=key_id, replica_region=region, replica_project_id=project,
                                   key_alias=alias or support.unique("rep"), **extra)
    return client.replicate_key(ReplicateKeyRequest(key_id=key_id, body=body))


def rotate(client, key_id):
    return client.rotate_on_demand(RotateOnDemandRequest(body=RotateOnDemandRequestBody(key_id=key_id)))


def test_support_regions_are_the_configured_ones(mr):
    assert mr["north"].list_support_regions(ListSupportRegionsRequest()).regions == [NORTH, SOUTH]
    assert mr["south"].list_support_regions(ListSupportRegionsRequest(offset=1)).regions == [SOUTH]


def test_replica_decrypts_the_primarys_ciphertexts_and_follows_its_rotations(mr):
    north, south = mr["north"], mr["south"]
    key = new_key(north)
    before = encrypt(north, key)
    resp = replicate(north, key, SOUTH, mr["south_id"], tags=[{"key": "env", "value": "dr"}])
    assert (resp.key_id, resp.region, resp.domain_id) == (key, SOUTH, mr["acme"].domain_id)
    assert decrypt(south, before) == "across regions"
    assert decrypt(north, encrypt(south, key, "back north")) == "back north"
    primary, replica = raw_details(north, key), raw_details(south, key)
    assert (primary["multi_region_key_type"], primary["realm"]) == ("PRIMARY", NORTH)
    assert (replica["multi_region_key_type"], replica["realm"]) == ("REPLICA", SOUTH)
    conf = replica["multi_region_configuration"]
    assert conf["primary_key"]["region"] == NORTH
    assert [r["region"] for r in conf["replica_keys"]] == [SOUTH]
    # Only the primary rotates; its new version reaches the replica.
    expect_kms_error(lambda: rotate(south, key), 400, "KMS.9305")
    rotate(north, key)
    after = encrypt(north, key, "rotated")
    assert decrypt(south, after) == "rotated"
    assert decrypt(south, before) == "across regions"


def test_update_primary_region_moves_the_primary(mr):
    north, south = mr["north"], mr["south"]
    key = new_key(north)
    replicate(north, key, SOUTH)  # without replica_project_id: the domain's project of that region
    north.enable_key_rotation(EnableKeyRotationRequest(body=OperateKeyRequestBody(key_id=key)))
    # Only the primary moves it, and only to a region holding a replica.
    expect_kms_error(lambda: south.update_primary_region(UpdatePrimaryRegionRequest(
        key_id=key, body=UpdatePrimaryRegionRequestBody(key_id=key, primary_region=NORTH))), 400, "KMS.9303")
    expect_kms_error(lambda: north.update_primary_region(UpdatePrimaryRegionRequest(
        key_id=key, body=UpdatePrimaryRegionRequestBody(key_id=key, primary_region="eu-west-0"))), 400, "KMS.1102")
    resp = north.update_primary_region(UpdatePrimaryRegionRequest(
        key_id=key, body=UpdatePrimaryRegionRequestBody(key_id=key, primary_region=SOUTH)))
    assert (resp.key_id, resp.primary_region) == (key, SOUTH)
    assert raw_details(north, key)["multi_region_key_type"] == "REPLICA"
    south_view = raw_details(south, key)
    assert south_view["multi_region_key_type"] == "PRIMARY"
    assert south_view["key_rotation_enabled"] == "true"
    expect_kms_error(lambda: rotate(north, key), 400, "KMS.9305")
    rotate(south, key)
    assert decrypt(north, encrypt(south, key, "moved")) == "moved"
    # A primary with replicas stays; its replica may go.
    delete = lambda c: c.delete_key(DeleteKeyRequest(  # noqa: E731
        body=ScheduleKeyDeletionRequestBody(key_id=key, pending_days="7")))
    expect_kms_error(lambda: delete(south), 400, "KMS.9304")
    assert delete(north).key_state == "4"


def test_replication_refusals(mr):
    north, south = mr["north"], mr["south"]
    key = new_key(north)
    expect_kms_error(lambda: replicate(north, key, NORTH), 400, "KMS.1102")
    expect_kms_error(lambda: replicate(north, key, "eu-west-0"), 400, "KMS.1102")
    expect_kms_error(lambda: north.replicate_key(ReplicateKeyRequest(key_id=key, body=ReplicateKeyRequestBody(
        key_id=key, replica_region=SOUTH))), 400, support.KMS_MISSING_PARAM)
    expect_kms_error(lambda: replicate(north, key, SOUTH, alias="bad alias!"), 400, "KMS.1101")
    # Another domain's project is no target, whatever its region.
    expect_kms_error(lambda: replicate(north, key, SOUTH, mr["other_id"]), 400, "KMS.9306")
    alias = support.unique("taken")
    south.create_key(CreateKeyRequest(body=CreateKeyRequestBody(key_alias=alias)))
    expect_kms_error(lambda: replicate(north, key, SOUTH, alias=alias), 400, "KMS.1104")
    replicate(north, key, SOUTH)
    expect_kms_error(lambda: replicate(north, key, SOUTH), 400, "KMS.9302")
    # A replica is not copied again; another project does not see the key.
    expect_kms_error(lambda: replicate(south, key, NORTH), 400, "KMS.9301")
    expect_kms_error(lambda: replicate(mr["other"], key, NORTH), 404, support.KMS_NOT_FOUND)


def test_another_domain_sees_neither_key_nor_plaintext(mr):
    north, other = mr["north"], mr["other"]
    key = new_key(north)
    replicate(north, key, SOUTH)
    blob = encrypt(north, key)
    expect_kms_error(lambda: other.list_key_detail(ListKeyDetailRequest(
        body=OperateKeyRequestBody(key_id=key))), 404, support.KMS_NOT_FOUND)
    expect_kms_error(lambda: decrypt(other, blob), 400)


def test_malformed_bodies_answer_the_kms_envelope(mr):
    srv, acme = mr["server"], mr["acme"]
    key = new_key(mr["north"])
    path = f"/v2/{acme.project_id}/kms/keys/{key}/replicate"
    r = support.send_raw(srv.endpoint, support.build_signed(
        srv.endpoint, acme, "POST", path, body=b'{"replica_region": '))
    assert r.status == 400, r.body
    assert r.json()["error"]["error_code"].startswith("KMS."), r.body
    path = f"/v2/{acme.project_id}/kms/keys/{key}/update-primary-region"
    r = support.send_raw(srv.endpoint, support.build_signed(
        srv.endpoint, acme, "PUT", path, body=b'{"primary_region": 7}'))
    assert r.status == 400, r.body
    assert r.json()["error"]["error_code"].startswith("KMS."), r.body


def import_material(client, key_id, material, expires):
    support.SECRETS.add_bytes(material, "imported key material")
    params = client.create_parameters_for_import(CreateParametersForImportRequest(
        body=GetParametersForImportRequestBody(key_id=key_id, wrapping_algorithm="RSAES_OAEP_SHA_256")))
    public = serialization.load_der_public_key(base64.b64decode(params.public_key))
    wrapped = public.encrypt(material, padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()),
                                                    algorithm=hashes.SHA256(), label=None))
    client.import_key_material(ImportKeyMaterialRequest(body=ImportKeyMaterialRequestBody(
        key_id=key_id, import_token=params.import_token, expiration_time=expires,
        encrypted_key_material=base64.b64encode(wrapped).decode())))


def test_imported_material_replicates_with_its_expiry(mr):
    """The cloud replicates custom keys of any origin; the replica holds the imported
    material and its expiry, and is afterwards its own record (dewstack's choice)."""
    north, south = mr["north"], mr["south"]
    key = north.create_key(CreateKeyRequest(body=CreateKeyRequestBody(
        key_alias=support.unique("mr-ext"), origin="external"))).key_info.key_id
    # Without material there is nothing to replicate.
    expect_kms_error(lambda: replicate(north, key, SOUTH), 400, "KMS.1301")
    material, expires = os.urandom(32), int(time.time()) + 7200
    import_material(north, key, material, expires)
    before = encrypt(north, key, "imported, across regions")
    replicate(north, key, SOUTH, mr["south_id"])
    replica = raw_details(south, key)
    assert (replica["origin"], replica["key_state"], replica["multi_region_key_type"]) == \
        ("external", "2", "REPLICA")
    assert replica["expiration_time"] == raw_details(north, key)["expiration_time"]
    assert decrypt(south, before) == "imported, across regions"
    assert decrypt(north, encrypt(south, key, "imported, back north")) == "imported, back north"
    # Deleting the primary's material leaves the replica's; a re-import into the
    # replica must bring the same material, as for any imported key.
    north.delete_imported_key_material(DeleteImportedKeyMaterialRequest(body=OperateKeyRequestBody(key_id=key)))
    assert raw_details(north, key)["key_state"] == "5"
    assert decrypt(south, before) == "imported, across regions"
    south.delete_imported_key_material(DeleteImportedKeyMaterialRequest(body=OperateKeyRequestBody(key_id=key)))
    expect_kms_error(lambda: import_material(south, key, os.urandom(32), expires), 400, "KMS.2606")
    import_material(south, key, material, expires)
    assert decrypt(south, before) == "imported, across regions"
