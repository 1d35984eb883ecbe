"""`cbcs-sim msca` (tests/sim/msca) as a library for tests: start it, call
CES and CEP with SOAP written here from [MS-WSTEP] and [MS-XCEP] (not with
the connector's own writer), and use its admin API."""

import base64
import json
import re
import shutil
import subprocess
import tempfile
import uuid

import requests

from harness import BUILD_DIR, admin_call

SIM = BUILD_DIR + "/cbcs-sim"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WST = "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
SECEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
ENROLLMENT = "http://schemas.microsoft.com/windows/pki/2009/01/enrollment"
AUTHZ = "http://schemas.xmlsoap.org/ws/2006/12/authorization"
RST_ACTION = ENROLLMENT + "/RST/wstep"
GET_POLICIES = "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"


def envelope(action, to, body, username=None, password=None):
    security = ""
    if username is not None:
        security = (f'<o:Security s:mustUnderstand="1" xmlns:o="{SECEXT}"><o:UsernameToken>'
                    f"<o:Username>{username}</o:Username><o:Password "
                    'Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-'
                    f'profile-1.0#PasswordText">{password}</o:Password></o:UsernameToken></o:Security>')
    return (f'<s:Envelope xmlns:s="{SOAP12}" xmlns:a="{WSA}"><s:Header>'
            f'<a:Action s:mustUnderstand="1">{action}</a:Action>'
            f"<a:MessageID>urn:uuid:{uuid.uuid4()}</a:MessageID>"
            f'<a:ReplyTo><a:Address>{WSA}/anonymous</a:Address></a:ReplyTo>'
            f'<a:To s:mustUnderstand="1">{to}</a:To>{security}</s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>")


def issue_body(der, value_type, template):
    token = base64.b64encode(der).decode()
    return (f'<RequestSecurityToken PreferredLanguage="en-US" xmlns="{WST}">'
            f"<TokenType>{X509V3}</TokenType><RequestType>{WST}/Issue</RequestType>"
            f'<BinarySecurityToken ValueType="{value_type}" EncodingType="{SECEXT}#base64binary" '
            f'a:Id="" xmlns:a="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" '
            f'xmlns="{SECEXT}">{token}</BinarySecurityToken>'
            f'<AdditionalContext xmlns="{AUTHZ}"><ContextItem Name="CertificateTemplate">'
            f"<Value>{template}</Value></ContextItem></AdditionalContext></RequestSecurityToken>")


def query_body(request_id):
    return (f'<RequestSecurityToken PreferredLanguage="en-US" xmlns="{WST}">'
            f"<TokenType>{X509V3}</TokenType>"
            f"<RequestType>{ENROLLMENT}/QueryTokenStatus</RequestType>"
            f'<RequestID xmlns="{ENROLLMENT}">{request_id}</RequestID></RequestSecurityToken>')


def text_of(xml, local):
    m = re.search(r"<(?:\w+:)?%s\b[^>]*>(.*?)</(?:\w+:)?%s>" % (local, local), xml, re.S)
    return m.group(1) if m else None


class MscaSim:
    def __init__(self, *extra, env=None):
        self.state_dir = tempfile.mkdtemp(prefix="cbcs-msca-sim-")
        self.proc = subprocess.Popen([SIM, "msca", "--state-dir", self.state_dir, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env=env)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("cbcs-sim msca printed no ready line")
        for k, v in json.loads(line).items():
            setattr(self, k, v)
        self.session = requests.Session()
        self.tls = {"verify": self.ca_file}
        if self.auth == "certificate":
            self.tls["cert"] = (self.client_cert, self.client_key)

    def post(self, url, action, body, cert=None, username=None, password=None):
        if self.auth == "username" and username is None:
            username, password = self.username, self.password
        tls = dict(self.tls)
        if cert is not None:
            tls["cert"] = cert
        return self.session.post(url, data=envelope(action, url, body, username, password).encode(),
                                 headers={"Content-Type": "application/soap+xml; charset=utf-8"},
                                 timeout=10, **tls)

    def issue(self, der, template, value_type=ENROLLMENT + "#PKCS10", **kw):
        return self.post(self.ces_url, RST_ACTION, issue_body(der, value_type, template), **kw)

    def query(self, request_id, **kw):
        return self.post(self.ces_url, RST_ACTION, query_body(request_id), **kw)

    def policies(self, **kw):
        body = ('<GetPolicies xmlns="http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy">'
                '<client><lastUpdate xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
                "<preferredLanguage xsi:nil=\"true\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/>"
                '</client><requestFilter xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
                "</GetPolicies>")
        return self.post(self.cep_url, GET_POLICIES, body, **kw)

    def admin(self, method, path, body=None):
        return admin_call(self.admin_url, method, path, body)

    def stop(self):
        self.session.close()
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        shutil.rmtree(self.state_dir, True)
