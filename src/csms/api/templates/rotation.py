# dewstack rotation function template: {{SECRET_TYPE}} / {{ENGINE}} / {{SUB_TYPE}}.
#
# dewstack's own template (the cloud does not publish its templates' text).
# It speaks dewstack's rotation protocol (docs/rotation.md): dewstack POSTs
# one JSON event per step (createSecret, setSecret, testSecret, finishSecret)
# to the URL that [rotation_functions] maps this function's URN to; a 2xx
# answer completes the step. The event carries no secret value: the function
# reads the versions through the CSMS API with its own credentials.
#
# Run:  pip install huaweicloudsdkcsms {{DRIVER_PACKAGE}}
#       CSMS_ENDPOINT=http://127.0.0.1:8080 CSMS_AK=... CSMS_SK=... \
#       python rotate.py 9000
#
# The secret's value is JSON: {"username", "password", "host", "port"
# [, "database"]}. {{SUB_TYPE_NOTE}}

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcsms.v1 import (CreateSecretVersionRequest, CreateSecretVersionRequestBody,
                                   CsmsClient, ShowSecretStageRequest,
                                   ShowSecretVersionRequest)

SUB_TYPE = "{{SUB_TYPE}}"


def csms(project_id):
    creds = BasicCredentials(os.environ["CSMS_AK"], os.environ["CSMS_SK"], project_id)
    return (CsmsClient.new_builder().with_credentials(creds)
            .with_endpoints([os.environ["CSMS_ENDPOINT"]]).build())


def read(client, name, version_id):
    v = client.show_secret_version(ShowSecretVersionRequest(secret_name=name, version_id=version_id))
    return v.version.secret_string


def connect(value):
{{CONNECT}}


def set_password(conn, username, password):
{{SET_PASSWORD}}


def create_secret(client, event):
    # dewstack stored a generated password as the SYSPENDING version; turn it
    # into a full value (JSON) based on the current one.
    current = json.loads(read(client, event["secret_name"], event["current_version_id"]))
    pending = read(client, event["secret_name"], event["version_id"])
    try:
        json.loads(pending)
        return  # already a full value
    except ValueError:
        pass
    new = dict(current, password=pending)
    if SUB_TYPE == "MultiUser":
        base = current["username"].removesuffix("_clone")
        new["username"] = base if current["username"].endswith("_clone") else base + "_clone"
    body = CreateSecretVersionRequestBody(secret_string=json.dumps(new), version_stages=["SYSPENDING"])
    client.create_secret_version(CreateSecretVersionRequest(secret_name=event["secret_name"], body=body))


def set_secret(client, event):
    current = json.loads(read(client, event["secret_name"], event["current_version_id"]))
    pending = json.loads(read_stage(client, event["secret_name"], "SYSPENDING"))
    conn = connect(current)
    try:
        set_password(conn, pending["username"], pending["password"])
    finally:
        conn.close()


def test_secret(client, event):
    pending = json.loads(read_stage(client, event["secret_name"], "SYSPENDING"))
    conn = connect(pending)
    conn.close()


def read_stage(client, name, stage):
    s = client.show_secret_stage(ShowSecretStageRequest(secret_name=name, stage_name=stage))
    return read(client, name, s.stage.version_id)


STEPS = {
    "createSecret": create_secret,
    "setSecret": set_secret,
    "testSecret": test_secret,
    "finishSecret": lambda client, event: None,  # dewstack moves SYSCURRENT itself
}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        event = json.loads(self.rfile.read(min(length, 65536)))
        step = STEPS.get(event.get("step"))
        try:
            if step is None:
                raise ValueError("unknown step")
            step(csms(event["project_id"]), event)
            self.send_response(200)
        except Exception as e:  # a failed step fails the rotation
            sys.stderr.write(f"{event.get('step')} failed: {type(e).__name__}\n")
            self.send_response(500)
        self.end_headers()


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 9000), Handler).serve_forever()
