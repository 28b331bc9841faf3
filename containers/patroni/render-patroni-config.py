#!/usr/bin/env python3
"""Render /etc/patroni/patroni.yml from its template at container start.

Called by patroni-entrypoint after it has checked that the required variables
exist. Applies the documented defaults, validates every value and substitutes it
into the template with string.Template. Strings are emitted by PyYAML as
double-quoted scalars, so no value (a password with quotes, '#', ': ' or spaces)
can change the document's structure; the rendered text is parsed back and
compared with the intended values to prove it. Exits 64 with a one-line message
naming the offending variable on any invalid input.
"""
import os
import re
import string
import sys

import yaml

TEMPLATE = "/usr/local/share/ishchat/patroni.yml.tmpl"
OUTPUT = "/etc/patroni/patroni.yml"

HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
# Role names also end up in pg_hba lines and PgBouncer's config, neither of which
# we want to teach quoting; plain SQL identifiers are all IshChat needs.
ROLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class ConfigError(Exception):
    pass


def env(name, default=None):
    value = os.environ.get(name, "")
    if value == "":
        if default is None:
            raise ConfigError(f"{name} is required but empty or unset")
        return default
    return value


def quoted(value):
    """A single-line YAML double-quoted scalar for any string."""
    text = yaml.safe_dump(value, default_style='"', allow_unicode=False, width=1 << 30)
    text = text.rstrip("\n")
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    if "\n" in text:
        raise ConfigError(f"cannot render {value!r} on one line")
    return text


def host(name, default=None):
    value = env(name, default)
    if not HOST_RE.match(value):
        raise ConfigError(f"{name}={value!r} is not a valid DNS name")
    return value


def role(name, default=None):
    value = env(name, default)
    if not ROLE_RE.match(value):
        raise ConfigError(
            f"{name}={value!r} must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 chars)")
    return value


def password(name):
    value = env(name)
    # Newlines and other control characters cannot be represented in .pgpass or
    # PgBouncer's auth_file, so they would fail later in a far more confusing way.
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ConfigError(f"{name} must not contain control characters (newline, tab, ...)")
    return value


def integer(name, default, minimum):
    raw = env(name, str(default))
    if not re.fullmatch(r"[0-9]+", raw) or int(raw) < minimum:
        raise ConfigError(f"{name}={raw!r} must be an integer >= {minimum}")
    return int(raw)


def boolean(name, default):
    raw = env(name, default).strip().lower()
    if raw in ("true", "on", "yes", "1"):
        return True
    if raw in ("false", "off", "no", "0"):
        return False
    raise ConfigError(f"{name}={raw!r} must be true or false")


def etcd_hosts(name):
    hosts = [h.strip() for h in env(name).split(",") if h.strip()]
    for h in hosts:
        hostname, sep, port = h.rpartition(":")
        if not sep or not HOST_RE.match(hostname) or not port.isdigit():
            raise ConfigError(f"{name} entry {h!r} must look like host:port")
    if not hosts:
        raise ConfigError(f"{name} lists no hosts")
    return hosts


def build():
    name = host("PATRONI_NAME")
    scope = host("PATRONI_SCOPE")
    repl_user = role("PATRONI_REPLICATION_USERNAME", "replicator")

    ttl = integer("ISHCHAT_PATRONI_TTL", 20, 20)
    loop_wait = integer("ISHCHAT_PATRONI_LOOP_WAIT", 2, 1)
    retry_timeout = integer("ISHCHAT_PATRONI_RETRY_TIMEOUT", 5, 3)
    if ttl < loop_wait + 2 * retry_timeout:
        raise ConfigError(
            f"ISHCHAT_PATRONI_TTL ({ttl}) must be >= LOOP_WAIT + 2 * RETRY_TIMEOUT "
            f"({loop_wait} + 2 * {retry_timeout}), or leader elections flap")

    sync_raw = env("ISHCHAT_PATRONI_SYNCHRONOUS_MODE", "off").strip().lower()
    sync_map = {"off": False, "false": False, "on": True, "true": True, "quorum": "quorum"}
    if sync_raw not in sync_map:
        raise ConfigError(f"ISHCHAT_PATRONI_SYNCHRONOUS_MODE={sync_raw!r} must be off, on or quorum")

    # name -> (value as it must load back, text to substitute)
    values = {}

    def put(key, value):
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        elif isinstance(value, list):
            text = "[" + ", ".join(quoted(v) for v in value) + "]"
        elif isinstance(value, dict):
            text = "{" + ", ".join(f"{quoted(k)}: {scalar(v)}" for k, v in value.items()) + "}"
        else:
            text = quoted(value)
        values[key] = (value, text)

    put("PATRONI_NAME", name)
    put("PATRONI_SCOPE", scope)
    put("RESTAPI_CONNECT_ADDRESS", f"{name}:8008")
    put("PG_CONNECT_ADDRESS", f"{name}:5432")
    put("PATRONI_ETCD3_HOSTS", etcd_hosts("PATRONI_ETCD3_HOSTS"))
    put("PATRONI_RESTAPI_USERNAME", role("PATRONI_RESTAPI_USERNAME", "patroni"))
    put("PATRONI_RESTAPI_PASSWORD", password("PATRONI_RESTAPI_PASSWORD"))
    put("PATRONI_SUPERUSER_USERNAME", role("PATRONI_SUPERUSER_USERNAME", "postgres"))
    put("PATRONI_SUPERUSER_PASSWORD", password("PATRONI_SUPERUSER_PASSWORD"))
    put("PATRONI_REPLICATION_USERNAME", repl_user)
    put("PATRONI_REPLICATION_PASSWORD", password("PATRONI_REPLICATION_PASSWORD"))
    put("PATRONI_REWIND_USERNAME", role("PATRONI_REWIND_USERNAME", "rewind_user"))
    put("PATRONI_REWIND_PASSWORD", password("PATRONI_REWIND_PASSWORD"))
    put("HBA_REPLICATION_V4", f"hostssl replication {repl_user} 0.0.0.0/0 scram-sha-256")
    put("HBA_REPLICATION_V6", f"hostssl replication {repl_user} ::/0 scram-sha-256")
    put("ISHCHAT_PATRONI_TTL", ttl)
    put("ISHCHAT_PATRONI_LOOP_WAIT", loop_wait)
    put("ISHCHAT_PATRONI_RETRY_TIMEOUT", retry_timeout)
    put("ISHCHAT_PATRONI_PRIMARY_START_TIMEOUT",
        integer("ISHCHAT_PATRONI_PRIMARY_START_TIMEOUT", 10, 0))
    put("ISHCHAT_PATRONI_MAXIMUM_LAG_ON_FAILOVER",
        integer("ISHCHAT_PATRONI_MAXIMUM_LAG_ON_FAILOVER", 1048576, 0))
    put("SYNCHRONOUS_MODE", sync_map[sync_raw])
    put("ISHCHAT_PATRONI_SYNCHRONOUS_NODE_COUNT",
        integer("ISHCHAT_PATRONI_SYNCHRONOUS_NODE_COUNT", 1, 1))
    put("ISHCHAT_PATRONI_FAILSAFE_MODE", boolean("ISHCHAT_PATRONI_FAILSAFE_MODE", "false"))
    put("STANDBY_CLUSTER", standby_cluster())
    # pg_cron's jobs live in the application database (post-bootstrap.sql schedules them there).
    put("CRON_DATABASE", role("ISHCHAT_DATABASE", "ishchat"))
    backup_values(scope, put)
    return values


def scalar(value):
    """A flow-mapping value: a number bare, a list of strings, or a quoted string."""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(quoted(v) for v in value) + "]"
    return quoted(value)


def standby_cluster():
    """Patroni's standby_cluster for a standby region's first start; {} for a primary region."""
    host_name = os.environ.get("ISHCHAT_STANDBY_CLUSTER_HOST", "")
    if host_name == "":
        for name in ("ISHCHAT_STANDBY_CLUSTER_PORT", "ISHCHAT_STANDBY_CLUSTER_PRIMARY_SLOT_NAME"):
            if os.environ.get(name):
                raise ConfigError(f"{name} needs ISHCHAT_STANDBY_CLUSTER_HOST")
        return {}
    section = {
        "host": host("ISHCHAT_STANDBY_CLUSTER_HOST"),
        "port": integer("ISHCHAT_STANDBY_CLUSTER_PORT", 5000, 1),
        # Cloned over the replication connection (TLS, verify-full): never from this region's backups.
        "create_replica_methods": ["basebackup"],
    }
    if os.environ.get("ISHCHAT_STANDBY_CLUSTER_PRIMARY_SLOT_NAME"):
        section["primary_slot_name"] = role("ISHCHAT_STANDBY_CLUSTER_PRIMARY_SLOT_NAME")
    return section


RESTORE_TYPES = ("latest", "time", "lsn", "name", "immediate")


def backup_values(scope, put):
    """Archiving, WAL fetch, replica creation and bootstrap, depending on the backup repository."""
    repo = env("ISHCHAT_BACKUP_REPO_TYPE", "none").strip().lower()
    if repo not in ("none", "azure", "s3"):
        raise ConfigError(f"ISHCHAT_BACKUP_REPO_TYPE={repo!r} must be none, azure or s3")
    enabled = repo != "none"
    stanza = env("ISHCHAT_BACKUP_STANZA", scope)
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", stanza):
        raise ConfigError(f"ISHCHAT_BACKUP_STANZA={stanza!r} must be letters, digits, '_', '.', '-'")
    archive = enabled and boolean("ISHCHAT_BACKUP_ARCHIVE", "on")
    pgbackrest = f"/usr/bin/pgbackrest --stanza={stanza}"
    put("ARCHIVE_MODE", "on" if archive else "off")
    put("ARCHIVE_COMMAND", f"{pgbackrest} archive-push %p" if archive else "")
    put("RESTORE_COMMAND", f'{pgbackrest} archive-get %f "%p"' if enabled else "")
    put("CREATE_REPLICA_METHODS", ["basebackup", "pgbackrest"] if enabled else ["basebackup"])
    put("PGBACKREST_REPLICA_COMMAND", f"{pgbackrest} --delta restore")

    restore = env("ISHCHAT_RESTORE_TYPE", "none").strip().lower()
    if restore != "none":
        if not enabled:
            raise ConfigError("ISHCHAT_RESTORE_TYPE needs a backup repository (ISHCHAT_BACKUP_REPO_TYPE)")
        if restore not in RESTORE_TYPES:
            raise ConfigError(f"ISHCHAT_RESTORE_TYPE={restore!r} must be none, {', '.join(RESTORE_TYPES)}")
        if restore in ("time", "lsn", "name") and not os.environ.get("ISHCHAT_RESTORE_TARGET"):
            raise ConfigError(f"ISHCHAT_RESTORE_TYPE={restore} needs ISHCHAT_RESTORE_TARGET")
    put("BOOTSTRAP_METHOD", "initdb" if restore == "none" else "pgbackrest")


def check_round_trip(doc, values):
    """Every substituted value must load back exactly; catches any quoting slip."""
    pg = doc["postgresql"]
    dcs = doc["bootstrap"]["dcs"]
    expected = {
        "PATRONI_NAME": doc["name"],
        "PATRONI_SCOPE": doc["scope"],
        "RESTAPI_CONNECT_ADDRESS": doc["restapi"]["connect_address"],
        "PG_CONNECT_ADDRESS": pg["connect_address"],
        "PATRONI_ETCD3_HOSTS": doc["etcd3"]["hosts"],
        "PATRONI_RESTAPI_USERNAME": doc["restapi"]["authentication"]["username"],
        "PATRONI_RESTAPI_PASSWORD": doc["restapi"]["authentication"]["password"],
        "PATRONI_SUPERUSER_USERNAME": pg["authentication"]["superuser"]["username"],
        "PATRONI_SUPERUSER_PASSWORD": pg["authentication"]["superuser"]["password"],
        "PATRONI_REPLICATION_USERNAME": pg["authentication"]["replication"]["username"],
        "PATRONI_REPLICATION_PASSWORD": pg["authentication"]["replication"]["password"],
        "PATRONI_REWIND_USERNAME": pg["authentication"]["rewind"]["username"],
        "PATRONI_REWIND_PASSWORD": pg["authentication"]["rewind"]["password"],
        "ISHCHAT_PATRONI_TTL": dcs["ttl"],
        "ISHCHAT_PATRONI_LOOP_WAIT": dcs["loop_wait"],
        "ISHCHAT_PATRONI_RETRY_TIMEOUT": dcs["retry_timeout"],
        "ISHCHAT_PATRONI_PRIMARY_START_TIMEOUT": dcs["primary_start_timeout"],
        "ISHCHAT_PATRONI_MAXIMUM_LAG_ON_FAILOVER": dcs["maximum_lag_on_failover"],
        "SYNCHRONOUS_MODE": dcs["synchronous_mode"],
        "ISHCHAT_PATRONI_SYNCHRONOUS_NODE_COUNT": dcs["synchronous_node_count"],
        "ISHCHAT_PATRONI_FAILSAFE_MODE": dcs["failsafe_mode"],
        "STANDBY_CLUSTER": dcs["standby_cluster"],
    }
    for key, loaded in expected.items():
        if loaded != values[key][0]:
            raise ConfigError(f"internal error: {key} did not survive YAML rendering")
    pg_params = pg["parameters"]
    backup_expected = {
        "ARCHIVE_MODE": pg_params["archive_mode"],
        "ARCHIVE_COMMAND": pg_params["archive_command"],
        "RESTORE_COMMAND": pg["recovery_conf"]["restore_command"],
        "CREATE_REPLICA_METHODS": pg["create_replica_methods"],
        "PGBACKREST_REPLICA_COMMAND": pg["pgbackrest"]["command"],
        "BOOTSTRAP_METHOD": doc["bootstrap"]["method"],
    }
    for key, loaded in backup_expected.items():
        if loaded != values[key][0]:
            raise ConfigError(f"internal error: {key} did not survive YAML rendering")
    for key in ("HBA_REPLICATION_V4", "HBA_REPLICATION_V6"):
        if values[key][0] not in pg["pg_hba"]:
            raise ConfigError(f"internal error: {key} missing from rendered pg_hba")


def main():
    try:
        values = build()
        with open(TEMPLATE, encoding="utf-8") as f:
            template = string.Template(f.read())
        try:
            text = template.substitute({k: v[1] for k, v in values.items()})
        except (KeyError, ValueError) as e:
            raise ConfigError(f"template {TEMPLATE} references unknown placeholder {e}")
        check_round_trip(yaml.safe_load(text), values)
    except ConfigError as e:
        print(f"render-patroni-config: error: {e}", file=sys.stderr)
        return 64

    # Written to a private temp file and renamed, so a crash never leaves a
    # half-written or briefly world-readable config holding passwords.
    os.umask(0o077)
    tmp = OUTPUT + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, OUTPUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
