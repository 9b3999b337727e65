// The database host's bootstrap script (user data), rendered from plain values. It formats and mounts the data
// volume, installs PostgreSQL, generates the password on the host and publishes it (and, with cache.auth
// "password", the cache user's) to Secrets Manager. The construct that runs it is stacks/database.ts.
import { PropsError } from './util';

/** The cache user whose password the host owns (cache.auth "password"): what the script is rendered with. */
export interface UserDataCache {
  readonly secretArn: string;
  readonly userId: string;
  readonly port: number;
  readonly replicationGroupId: string;
}

/** Values the bootstrap script is rendered with (tokens allowed for the ids). */
export interface DatabaseUserDataValues {
  secretArn: string;
  volumeId: string;
  region: string;
  pgVersion: string;
  dbName: string;
  user: string;
  vpcCidr: string;
  /** cache.auth "password": the cache user whose password the host owns */
  cache?: UserDataCache;
}

/**
 * The host bootstrap script. It never prints the password, passes it to no command line, and keeps the
 * password already in the secret when there is one (the data volume outlives the instance). Its credentials
 * part is installed as /usr/local/sbin/staging-rollout-credentials and run again every 15 minutes by a systemd
 * timer.
 * Written without "${" or "%{" so Terraform does not treat any of it as a template.
 */
export function databaseUserData(v: DatabaseUserDataValues): string {
  const script = String.raw`#!/bin/bash
# staging-rollout database host bootstrap (stacks/database-user-data.ts). Runs at every boot of a new instance.
set -euo pipefail
umask 077
SECRET_ARN='@SECRET_ARN@'
VOLUME_ID='@VOLUME_ID@'
REGION='@REGION@'
PG_MAJOR='@PG_MAJOR@'
DB_NAME='@DB_NAME@'
DB_USER='@DB_USER@'
VPC_CIDR='@VPC_CIDR@'
CACHE_SECRET_ARN='@CACHE_SECRET_ARN@'
CACHE_USER_ID='@CACHE_USER_ID@'
CACHE_PORT='@CACHE_PORT@'
CACHE_GROUP_ID='@CACHE_GROUP_ID@'
MOUNT=/var/lib/pgsql
PGDATA="$MOUNT/data"

dnf install -y "postgresql$PG_MAJOR-server" python3 openssl

# the data volume: found by its id (Nitro NVMe) or its attachment name (Xen), formatted only when blank
NVME="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_$(echo "$VOLUME_ID" | tr -d '-')"
DEV=
for _ in $(seq 1 120); do
  for cand in "$NVME" /dev/xvdf /dev/sdf; do
    if [ -e "$cand" ]; then DEV="$cand"; break 2; fi
  done
  sleep 5
done
if [ -z "$DEV" ]; then echo "data volume $VOLUME_ID is not attached" >&2; exit 1; fi
if ! blkid "$DEV" >/dev/null 2>&1; then mkfs.xfs "$DEV"; fi
mkdir -p "$MOUNT"
grep -q "^$DEV " /etc/fstab || echo "$DEV $MOUNT xfs defaults,nofail 0 2" >> /etc/fstab
mountpoint -q "$MOUNT" || mount "$MOUNT"
chown postgres:postgres "$MOUNT"
chmod 700 "$MOUNT"
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  sudo -u postgres initdb -D "$PGDATA" --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8
fi
if [ ! -f "$PGDATA/server.key" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$(hostname)" -keyout "$PGDATA/server.key" -out "$PGDATA/server.crt"
  chown postgres:postgres "$PGDATA/server.key" "$PGDATA/server.crt"
  chmod 600 "$PGDATA/server.key"
fi
if ! grep -q '^# staging-rollout$' "$PGDATA/postgresql.conf"; then
  printf '%s\n' '# staging-rollout' "listen_addresses = '*'" "password_encryption = 'scram-sha-256'" 'ssl = on' >> "$PGDATA/postgresql.conf"
  printf '%s\n' '# staging-rollout: TLS and SCRAM from inside the VPC only' "hostssl $DB_NAME $DB_USER $VPC_CIDR scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
systemctl enable --now postgresql
systemctl reload postgresql

# The credentials hand-over (the Python below): the password is reused from the secret (the data volume keeps the
# role), else generated here. It runs now and then every 15 minutes (staging-rollout-credentials.timer), so a
# recreated cache user, a moved cache endpoint or a password removed from a secret (rotation) is put right
# without anyone on the host. The values it needs sit in a root-only environment file, never a password.
mkdir -p /etc/staging-rollout
printf '%s\n' "SECRET_ARN=$SECRET_ARN" "REGION=$REGION" "AWS_DEFAULT_REGION=$REGION" "DB_NAME=$DB_NAME" "DB_USER=$DB_USER" \
  "CACHE_SECRET_ARN=$CACHE_SECRET_ARN" "CACHE_USER_ID=$CACHE_USER_ID" "CACHE_PORT=$CACHE_PORT" "CACHE_GROUP_ID=$CACHE_GROUP_ID" \
  > /etc/staging-rollout/credentials.env
cat > /usr/local/sbin/staging-rollout-credentials <<'PY'
#!/usr/bin/python3
# staging-rollout: the database and cache credentials are current (stacks/database-user-data.ts)
import json, os, secrets, subprocess, tempfile, time, urllib.parse, urllib.request

arn, region, db, user = os.environ['SECRET_ARN'], os.environ['REGION'], os.environ['DB_NAME'], os.environ['DB_USER']
aws = ['aws', '--region', region]


def quote(s):
    return urllib.parse.quote(s, safe='')


# the secret shapes of lib/config/contract.cjs (databaseSecretValue, cacheSecretValue)
def database_value(host, port, dbname, username, password):
    return {'engine': 'postgres', 'host': host, 'port': str(port), 'dbname': dbname, 'username': username, 'password': password,
            'sslmode': 'require', 'url': 'postgresql://' + quote(username) + ':' + quote(password) + '@' + host + ':' + str(port) + '/' + dbname + '?sslmode=require'}


def cache_value(host, port, username, password, group, region):
    return {'engine': 'valkey', 'host': host, 'port': str(port), 'username': username, 'password': password,
            'url': 'rediss://' + quote(username) + ':' + quote(password) + '@' + host + ':' + str(port) + '/0',
            'replicationGroupId': group, 'region': region, 'tls': True, 'auth': 'password'}


def read_secret(secret_arn, what):
    got = subprocess.run(aws + ['secretsmanager', 'get-secret-value', '--secret-id', secret_arn, '--query', 'SecretString', '--output', 'text'], capture_output=True, text=True)
    if got.returncode == 0:
        try:
            value = json.loads(got.stdout)
            return value if isinstance(value, dict) else {}
        except ValueError:
            return {}
    if 'ResourceNotFoundException' not in got.stderr:
        raise SystemExit('cannot read the ' + what + ' secret: ' + got.stderr.strip())
    return {}


def private_file(value):
    # mode 0600 (umask 077): the only way a password reaches a command
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump(value, f)
    return f.name


def write_secret(secret_arn, value, current):
    if value == current:
        return
    name = private_file(value)
    try:
        subprocess.run(aws + ['secretsmanager', 'put-secret-value', '--secret-id', secret_arn, '--secret-string', 'file://' + name], check=True, stdout=subprocess.DEVNULL)
    finally:
        os.unlink(name)


current = read_secret(arn, 'database')
password = current.get('password') or secrets.token_urlsafe(32)

imds = os.environ.get('IMDS_ENDPOINT', 'http://169.254.169.254')
req = urllib.request.Request(imds + '/latest/api/token', method='PUT', headers={'X-aws-ec2-metadata-token-ttl-seconds': '60'})
token = urllib.request.urlopen(req, timeout=5).read().decode()
req = urllib.request.Request(imds + '/latest/meta-data/local-ipv4', headers={'X-aws-ec2-metadata-token': token})
host = urllib.request.urlopen(req, timeout=5).read().decode()

sql = (
    "SELECT 'CREATE ROLE " + user + " LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '" + user + "')\\gexec\n"
    "SET log_statement = 'none';\n"
    "ALTER ROLE " + user + " WITH LOGIN PASSWORD '" + password + "';\n"
    "SELECT 'CREATE DATABASE " + db + " OWNER " + user + "' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '" + db + "')\\gexec\n"
)
subprocess.run(['sudo', '-u', 'postgres', 'psql', '-q', '-v', 'ON_ERROR_STOP=1'], input=sql, text=True, check=True, stdout=subprocess.DEVNULL)
write_secret(arn, database_value(host, 5432, db, user, password), current)
print('database secret is current')

# cache.auth "password": this host owns the cache app user's password (kept across reruns and replacements)
cache_arn = os.environ.get('CACHE_SECRET_ARN', '')
if cache_arn:
    cache_user, group = os.environ['CACHE_USER_ID'], os.environ['CACHE_GROUP_ID']
    # the endpoint, once the replication group is available (it may still be creating; bounded: 30 minutes)
    cache_host = ''
    for attempt in range(int(os.environ.get('CACHE_WAIT_ATTEMPTS', '90'))):
        got = subprocess.run(aws + ['elasticache', 'describe-replication-groups', '--replication-group-id', group, '--output', 'json'], capture_output=True, text=True)
        if got.returncode == 0:
            rg = json.loads(got.stdout)['ReplicationGroups'][0]
            primary = ((rg.get('NodeGroups') or [{}])[0].get('PrimaryEndpoint') or {}).get('Address')
            if rg.get('Status') == 'available' and primary:
                cache_host = primary
                break
        elif 'ReplicationGroupNotFound' not in got.stderr:
            raise SystemExit('cannot look up the cache endpoint: ' + got.stderr.strip())
        time.sleep(int(os.environ.get('CACHE_WAIT_SECONDS', '20')))
    if not cache_host:
        raise SystemExit('replication group ' + group + ' is not available; rerun the bootstrap when it is')
    cached = read_secret(cache_arn, 'cache')
    cache_password = cached.get('password') or secrets.token_urlsafe(32)
    # the secret first: a password the cache has is always one the secret has
    write_secret(cache_arn, cache_value(cache_host, int(os.environ['CACHE_PORT']), cache_user, cache_password, group, region), cached)
    # set it in the cache unless the user already authenticates by password and the secret kept its password (a
    # recreated user comes back with IAM authentication; a password removed from the secret was just regenerated)
    described = subprocess.run(aws + ['elasticache', 'describe-users', '--user-id', cache_user, '--output', 'json'], capture_output=True, text=True)
    if described.returncode != 0:
        raise SystemExit('cannot read the cache user (DescribeUsers): ' + described.stderr.strip())
    mode = ((json.loads(described.stdout).get('Users') or [{}])[0].get('Authentication') or {}).get('Type')
    if mode != 'password' or cached.get('password') != cache_password:
        name = private_file({'UserId': cache_user, 'AuthenticationMode': {'Type': 'password', 'Passwords': [cache_password]}})
        try:
            for attempt in range(60):
                done = subprocess.run(aws + ['elasticache', 'modify-user', '--cli-input-json', 'file://' + name], capture_output=True, text=True)
                if done.returncode == 0:
                    break
                why = done.stderr.replace(cache_password, '***').strip()
                if 'InvalidUserState' not in why or attempt == 59:
                    raise SystemExit('cannot set the cache user password (ModifyUser): ' + why)
                time.sleep(10)
        finally:
            os.unlink(name)
        print('cache user credentials set')
    print('cache user credentials are current')
PY
chmod 700 /usr/local/sbin/staging-rollout-credentials
cat > /etc/systemd/system/staging-rollout-credentials.service <<'UNIT'
[Unit]
Description=staging-rollout: the database and cache credentials are current
After=postgresql.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
EnvironmentFile=/etc/staging-rollout/credentials.env
ExecStart=/usr/local/sbin/staging-rollout-credentials
StandardOutput=journal+console
StandardError=journal+console
UNIT
cat > /etc/systemd/system/staging-rollout-credentials.timer <<'UNIT'
[Unit]
Description=staging-rollout: check the database and cache credentials every 15 minutes

[Timer]
OnBootSec=15min
OnUnitActiveSec=15min

[Install]
WantedBy=timers.target
UNIT
systemctl daemon-reload
# the first run now, exactly as the timer runs it (same unit, same environment file); the bootstrap fails with it
systemctl start staging-rollout-credentials.service
systemctl enable --now staging-rollout-credentials.timer
`;
  const values: Record<string, string> = {
    '@SECRET_ARN@': v.secretArn,
    '@VOLUME_ID@': v.volumeId,
    '@REGION@': v.region,
    '@PG_MAJOR@': v.pgVersion,
    '@DB_NAME@': v.dbName,
    '@DB_USER@': v.user,
    '@VPC_CIDR@': v.vpcCidr,
    '@CACHE_SECRET_ARN@': v.cache?.secretArn ?? '',
    '@CACHE_USER_ID@': v.cache?.userId ?? '',
    '@CACHE_PORT@': v.cache ? String(v.cache.port) : '',
    '@CACHE_GROUP_ID@': v.cache?.replicationGroupId ?? '',
  };
  if (script.includes('${') || script.includes('%{')) throw new PropsError('DatabaseHost', 'user data template contains a Terraform template sequence');
  return script.replace(/@[A-Z_]+@/g, (m) => {
    if (!(m in values)) throw new PropsError('DatabaseHost', `user data placeholder ${m} has no value`);
    return values[m];
  });
}
