"""A minimal HTTPS "API server" for checking what kubectl sends: answers every GET with a
version document and appends each request's Authorization header to a file.

client-go runs exec plugins only for TLS connections, so this has to be HTTPS. The
certificate is made here, with `cryptography` (a dependency of moto), for 127.0.0.1.

Usage: python3 tls_apiserver.py CERT_OUT.pem AUTH_LOG
Prints `PORT <n>` once listening, after writing the certificate (PEM) to CERT_OUT.pem.
"""

import datetime
import ipaddress
import os
import ssl
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, HTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

cert_out, auth_log = sys.argv[1], sys.argv[2]
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-apiserver")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now - datetime.timedelta(minutes=5))
    .not_valid_after(now + datetime.timedelta(hours=1))
    .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .sign(key, hashes.SHA256())
)
cert_pem = cert.public_bytes(serialization.Encoding.PEM)
with open(cert_out, "wb") as f:
    f.write(cert_pem)
keyfile = tempfile.NamedTemporaryFile(delete=False, suffix=".pem")
keyfile.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))
keyfile.close()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(auth_log, "a") as f:
            f.write((self.headers.get("Authorization") or "") + "\n")
        body = b'{"major":"1","minor":"31","gitVersion":"v1.31.0"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = HTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert_out, keyfile.name)
os.unlink(keyfile.name)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
