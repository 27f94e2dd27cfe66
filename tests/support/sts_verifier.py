"""A stand-in for the server side of an EKS token: what STS does with a presigned
GetCallerIdentity GET (and what aws-iam-authenticator checks before sending it there).

moto cannot play this part: its dispatcher routes a GET without an Authorization header to
S3, and its STS never reads query-string signatures. This server checks the SigV4 query
signature itself (stdlib hmac/hashlib only, independent of aws-sigv4 and botocore) and
answers like STS.

Usage: python3 sts_verifier.py  (env STS_VERIFIER_KEYS = JSON {key_id: [secret, arn]})
Prints `PORT <n>` once listening on 127.0.0.1.
"""

import datetime
import hashlib
import hmac
import json
import os
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

KEYS = json.loads(os.environ["STS_VERIFIER_KEYS"])
ALLOWED = {
    "Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
    "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
}


def enc(s):
    return urllib.parse.quote(s, safe="-_.~")


def hm(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, code, message=None, arn=None):
        if arn:
            body = (
                '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                f"<GetCallerIdentityResult><Arn>{arn}</Arn>"
                f"<Account>{arn.split(':')[4]}</Account></GetCallerIdentityResult>"
                "</GetCallerIdentityResponse>"
            )
        else:
            body = f"<ErrorResponse><Error><Code>{code}</Code><Message>{message}</Message></Error></ErrorResponse>"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        try:
            params = urllib.parse.parse_qsl(u.query, keep_blank_values=True, strict_parsing=True)
        except ValueError as e:
            return self.reply(400, "MalformedQueryString", str(e))
        p = dict(params)
        if len(p) != len(params):
            return self.reply(400, "InvalidParameterCombination", "duplicated query parameter")
        unknown = set(p) - ALLOWED
        if unknown:
            return self.reply(400, "InvalidParameterValue", f"unknown parameters {sorted(unknown)}")
        if p.get("Action") != "GetCallerIdentity" or p.get("Version") != "2011-06-15":
            return self.reply(400, "InvalidAction", "not GetCallerIdentity 2011-06-15")
        signed = p.get("X-Amz-SignedHeaders", "")
        if "x-k8s-aws-id" not in signed.split(";"):
            return self.reply(403, "AccessDenied", "x-k8s-aws-id is not signed")
        when = datetime.datetime.strptime(p["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
        age = (datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()
        if age > 15 * 60 or age < -5 * 60:
            return self.reply(403, "ExpiredToken", "older than 15 minutes")
        key_id, date, region, service, term = p["X-Amz-Credential"].split("/")
        if key_id not in KEYS:
            return self.reply(403, "InvalidClientTokenId", "unknown access key")
        secret, arn = KEYS[key_id]
        headers = {h: (self.headers.get(h) or "").strip() for h in signed.split(";")}
        canonical_query = "&".join(
            f"{enc(k)}={enc(v)}" for k, v in sorted(params) if k != "X-Amz-Signature")
        canonical_headers = "".join(f"{h}:{headers[h]}\n" for h in signed.split(";"))
        creq = "\n".join(["GET", u.path or "/", canonical_query, canonical_headers, signed,
                          hashlib.sha256(b"").hexdigest()])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", p["X-Amz-Date"],
                             f"{date}/{region}/{service}/{term}",
                             hashlib.sha256(creq.encode()).hexdigest()])
        k = hm(hm(hm(hm(("AWS4" + secret).encode(), date), region), service), term)
        if hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest() != p["X-Amz-Signature"]:
            return self.reply(403, "SignatureDoesNotMatch", "signature mismatch")
        self.reply(200, None, arn=arn)


server = HTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
