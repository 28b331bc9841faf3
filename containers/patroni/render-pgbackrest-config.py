#!/usr/bin/env python3
"""Render /etc/pgbackrest/pgbackrest.conf and this node's TLS files at container start.

Called by patroni-entrypoint when ISHCHAT_BACKUP_REPO_TYPE is azure or s3 (backups on).
With --standalone (the restore drill's throwaway container, the pgBackRest exporter) it
writes only the repository and a local data directory: no TLS server, no other nodes, so
it needs neither PATRONI_NAME, ISHCHAT_BACKUP_NODES nor the CA.
pgBackRest then archives WAL (archive_command), takes base backups from a replica, and
restores; every node gets the same repository settings, and lists every other node as a
remote "pgN-host" so that a backup started on a replica can ask the primary to start and
stop the backup (pgBackRest's own TLS protocol, mutual certificate authentication).

The node's certificate (CN and DNS name = PATRONI_NAME, valid for server and client use)
is signed here with the CA handed in by the environment; the CA's key is only read, never
written. Exits 64 with a one-line message naming the offending variable on bad input.
"""
import os
import re
import subprocess
import sys
import tempfile

CONF = "/etc/pgbackrest/pgbackrest.conf"
TLS_DIR = "/etc/pgbackrest/tls"
DATA_DIR = "/var/lib/postgresql/data"
# pgBackRest's default TLS server port; the nodes reach each other on it.
TLS_PORT = 8432

HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
STANZA_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class ConfigError(Exception):
    pass


def env(name, default=None):
    value = os.environ.get(name, "")
    if value == "":
        if default is None:
            raise ConfigError(f"{name} is required when ISHCHAT_BACKUP_REPO_TYPE is set, but empty or unset")
        return default
    return value


def line_value(name, default=None):
    """A value for one `key=value` line: pgBackRest trims it and knows no quoting."""
    value = env(name, default)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value) or value != value.strip():
        raise ConfigError(f"{name} must not contain control characters or leading/trailing spaces")
    return value


def choice(name, default, allowed):
    value = env(name, default).strip().lower()
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(allowed)}")
    return value


def integer(name, default, minimum):
    raw = env(name, str(default))
    if not re.fullmatch(r"[0-9]+", raw) or int(raw) < minimum:
        raise ConfigError(f"{name}={raw!r} must be an integer >= {minimum}")
    return int(raw)


def host(name, default=None):
    value = env(name, default)
    if not HOST_RE.match(value):
        raise ConfigError(f"{name}={value!r} is not a valid DNS name")
    return value


def repository():
    kind = choice("ISHCHAT_BACKUP_REPO_TYPE", None, ("azure", "s3"))
    options = {"repo1-type": kind}
    if kind == "azure":
        account = line_value("ISHCHAT_BACKUP_AZURE_ACCOUNT")
        options["repo1-azure-account"] = account
        options["repo1-azure-key"] = line_value("ISHCHAT_BACKUP_AZURE_KEY")
        options["repo1-azure-container"] = line_value("ISHCHAT_BACKUP_AZURE_CONTAINER")
        options["repo1-storage-host"] = host("ISHCHAT_BACKUP_STORAGE_HOST", f"{account}.blob.core.windows.net")
        options["repo1-azure-uri-style"] = choice("ISHCHAT_BACKUP_URI_STYLE", "host", ("host", "path"))
    else:
        region = line_value("ISHCHAT_BACKUP_S3_REGION")
        options["repo1-s3-bucket"] = line_value("ISHCHAT_BACKUP_S3_BUCKET")
        options["repo1-s3-region"] = region
        options["repo1-s3-endpoint"] = host("ISHCHAT_BACKUP_STORAGE_HOST", f"s3.{region}.amazonaws.com")
        options["repo1-s3-key"] = line_value("ISHCHAT_BACKUP_S3_KEY")
        options["repo1-s3-key-secret"] = line_value("ISHCHAT_BACKUP_S3_KEY_SECRET")
        options["repo1-s3-uri-style"] = choice("ISHCHAT_BACKUP_URI_STYLE", "host", ("host", "path"))
    options["repo1-storage-port"] = integer("ISHCHAT_BACKUP_STORAGE_PORT", 443, 1)
    # Off only for a store whose certificate is self-signed (our backup-store container on
    # a private network); real S3/Azure keep the default.
    options["repo1-storage-verify-tls"] = "y" if choice(
        "ISHCHAT_BACKUP_STORAGE_VERIFY_TLS", "y", ("y", "n")) == "y" else "n"
    options["repo1-path"] = line_value("ISHCHAT_BACKUP_REPO_PATH", "/pgbackrest")
    # Encrypted at rest with the repository passphrase (a secret): the store never sees plain data.
    options["repo1-cipher-type"] = "aes-256-cbc"
    options["repo1-cipher-pass"] = line_value("ISHCHAT_BACKUP_CIPHER_PASS")
    # Keep full backups (and the WAL they need) for N days of recovery window, enforced by
    # the expire that every backup runs at its end.
    options["repo1-retention-full-type"] = "time"
    options["repo1-retention-full"] = integer("ISHCHAT_BACKUP_RETENTION_DAYS", 30, 1)
    # Small files are bundled into one object: fewer requests per backup on object storage.
    options["repo1-bundle"] = "y"
    return options


def node_certificate(name):
    """Sign this node's key with the cluster's backup CA (server + client use)."""
    ca_cert = env("ISHCHAT_BACKUP_TLS_CA_CERT")
    ca_key = env("ISHCHAT_BACKUP_TLS_CA_KEY")
    if "BEGIN CERTIFICATE" not in ca_cert or "PRIVATE KEY" not in ca_key:
        raise ConfigError("ISHCHAT_BACKUP_TLS_CA_CERT / _CA_KEY must be PEM (a certificate and its private key)")
    os.makedirs(TLS_DIR, mode=0o700, exist_ok=True)
    paths = {k: os.path.join(TLS_DIR, f) for k, f in
             (("ca", "ca.crt"), ("key", "node.key"), ("cert", "node.crt"))}
    with open(paths["ca"], "w", encoding="ascii") as f:
        f.write(ca_cert.strip() + "\n")
    with tempfile.TemporaryDirectory() as work:
        ca_key_file = os.path.join(work, "ca.key")
        csr = os.path.join(work, "node.csr")
        ext = os.path.join(work, "ext.cnf")
        with open(ca_key_file, "w", encoding="ascii") as f:
            f.write(ca_key.strip() + "\n")
        with open(ext, "w", encoding="ascii") as f:
            f.write(f"subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth,clientAuth\n"
                    "keyUsage=digitalSignature,keyEncipherment\n")
        commands = [
            ["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
             "-keyout", paths["key"], "-out", csr],
            ["openssl", "x509", "-req", "-in", csr, "-CA", paths["ca"], "-CAkey", ca_key_file,
             "-CAcreateserial", "-CAserial", os.path.join(work, "ca.srl"),
             "-days", "3650", "-extfile", ext, "-out", paths["cert"]],
        ]
        for command in commands:
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise ConfigError(f"cannot sign this node's certificate with ISHCHAT_BACKUP_TLS_CA_*: "
                                  f"{result.stderr.strip().splitlines()[-1:]}")
    os.chmod(paths["key"], 0o600)
    return paths


def build():
    name = host("PATRONI_NAME")
    stanza = line_value("ISHCHAT_BACKUP_STANZA")
    if not STANZA_RE.match(stanza):
        raise ConfigError(f"ISHCHAT_BACKUP_STANZA={stanza!r} must be letters, digits, '_', '.', '-'")
    nodes = [n.strip() for n in env("ISHCHAT_BACKUP_NODES").split(",") if n.strip()]
    for n in nodes:
        if not HOST_RE.match(n):
            raise ConfigError(f"ISHCHAT_BACKUP_NODES entry {n!r} is not a valid DNS name")
    if name not in nodes:
        raise ConfigError(f"ISHCHAT_BACKUP_NODES ({','.join(nodes)}) must contain PATRONI_NAME ({name})")

    tls = node_certificate(name)
    glob = repository()
    glob.update({
        # zstd: about lz4's speed at gzip's ratio; level 3 keeps a 2-core node responsive.
        "compress-type": choice("ISHCHAT_BACKUP_COMPRESS_TYPE", "zst", ("zst", "lz4", "gz", "none")),
        "compress-level": 3,
        "process-max": integer("ISHCHAT_BACKUP_PROCESS_MAX", 2, 1),
        # archive_command returns as soon as a background process has the segment queued,
        # and that process pushes several at once: the primary never waits on one upload.
        "archive-async": "y",
        "spool-path": "/var/spool/pgbackrest",
        # Copy from a replica when one is healthy, from the primary otherwise: a backup
        # still happens with the replicas down.
        "backup-standby": "prefer",
        # Start the backup with an immediate checkpoint instead of waiting for a spread one.
        "start-fast": "y",
        # Restores over an existing data dir (a re-cloned replica) copy only what differs.
        "delta": "y",
        "log-level-console": "info",
        "log-level-file": "detail",
        "log-path": "/var/log/pgbackrest",
        # pgBackRest's TLS server: the other nodes' pgBackRest connect here (port 8432).
        "tls-server-address": "*",
        "tls-server-port": TLS_PORT,
        "tls-server-cert-file": tls["cert"],
        "tls-server-key-file": tls["key"],
        "tls-server-ca-file": tls["ca"],
    })
    # One line per client: a comma would list more stanzas for the same client instead.
    auth_lines = [f"tls-server-auth={n}={stanza}" for n in nodes]

    section = {
        "pg1-path": DATA_DIR,
        "pg1-socket-path": "/var/run/postgresql",
        "pg1-port": 5432,
    }
    index = 2
    for other in nodes:
        if other == name:
            continue
        p = f"pg{index}"
        section.update({
            f"{p}-host": other,
            f"{p}-host-type": "tls",
            f"{p}-host-port": TLS_PORT,
            f"{p}-host-cert-file": tls["cert"],
            f"{p}-host-key-file": tls["key"],
            f"{p}-host-ca-file": tls["ca"],
            f"{p}-path": DATA_DIR,
            f"{p}-socket-path": "/var/run/postgresql",
            f"{p}-port": 5432,
        })
        index += 1

    lines = ["# Rendered at container start by render-pgbackrest-config from the environment",
             "# (containers/README.md); edits are lost on restart. Holds secrets: mode 0600.",
             "[global]"]
    lines += [f"{k}={v}" for k, v in glob.items()]
    lines += auth_lines
    # archive-push/-get run for every WAL segment and log into PostgreSQL's own log: only
    # problems belong there (successes are counted by pg_stat_archiver).
    lines += ["", "[global:archive-push]", "log-level-console=warn",
              "", "[global:archive-get]", "log-level-console=warn"]
    lines += ["", f"[{stanza}]"]
    lines += [f"{k}={v}" for k, v in section.items()]
    return "\n".join(lines) + "\n"


def build_standalone():
    """The repository and a local data directory only: read and restore, never serve."""
    stanza = line_value("ISHCHAT_BACKUP_STANZA")
    if not STANZA_RE.match(stanza):
        raise ConfigError(f"ISHCHAT_BACKUP_STANZA={stanza!r} must be letters, digits, '_', '.', '-'")
    glob = repository()
    glob.update({
        "process-max": integer("ISHCHAT_BACKUP_PROCESS_MAX", 2, 1),
        "log-level-console": "info",
        "log-level-file": "off",
    })
    lines = ["# Rendered by render-pgbackrest-config --standalone (repository only).", "[global]"]
    lines += [f"{k}={v}" for k, v in glob.items()]
    lines += ["", f"[{stanza}]", f"pg1-path={DATA_DIR}", "pg1-socket-path=/var/run/postgresql", "pg1-port=5432"]
    return "\n".join(lines) + "\n"


def main():
    standalone = sys.argv[1:] == ["--standalone"]
    if sys.argv[1:] and not standalone:
        print("usage: render-pgbackrest-config [--standalone]", file=sys.stderr)
        return 64
    try:
        text = build_standalone() if standalone else build()
    except ConfigError as e:
        print(f"render-pgbackrest-config: error: {e}", file=sys.stderr)
        return 64
    os.umask(0o077)
    tmp = CONF + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, CONF)
    return 0


if __name__ == "__main__":
    sys.exit(main())
