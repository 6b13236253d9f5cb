#!/usr/bin/env bash
# Restore a HeatCrew office from a folder written by scripts/backup.sh: check every byte against
# the backup's manifest first, then put the database, the office key file and the attachment files
# in place. A target that already holds anything is refused unless --force. Afterwards, run the
# `heatcrew-office verify` this prints before serving (docs/deploy.md, "Restore").
set -euo pipefail

usage() {
  cat <<'EOF'
usage:
  scripts/restore.sh --from DIR --db office.db [--objects FOLDER|s3://BUCKET/PREFIX] [--key-file FILE] [--force]
  scripts/restore.sh --from DIR --database postgres://USER@HOST:PORT/DB --key-file FILE --objects FOLDER|s3://BUCKET/PREFIX [--force]

A SQLite backup restores with --db (the key file defaults to <db>.office-key, the files to
<db>.files); a PostgreSQL backup with --database into an existing database (createdb it first).
The files may go to a folder or to S3 (`aws s3 sync`, the AWS_* environment) whichever way they
were backed up. Without --force, a database file or key file that exists, a files folder or S3
prefix with anything in it, or a PostgreSQL database with tables, is refused; with --force they
are replaced (the SQLite file, the folder's sha256/ and partial/, the database's public schema).
EOF
}

die() { echo "restore: $*" >&2; exit 1; }

from="" db="" database="" objects="" key_file="" force=0
while (($#)); do
  case $1 in
    --from) from=${2:?--from needs a backup folder}; shift 2 ;;
    --db) db=${2:?--db needs a file}; shift 2 ;;
    --database) database=${2:?--database needs a postgres:// URL}; shift 2 ;;
    --objects) objects=${2:?--objects needs a folder or s3://bucket/prefix}; shift 2 ;;
    --key-file) key_file=${2:?--key-file needs a file}; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[ -n "$from" ] || die "--from is required (see --help)"
if [ -n "$db" ] && [ -z "$database" ]; then
  kind=sqlite
  objects=${objects:-$db.files}
  key_file=${key_file:-$db.office-key}
elif [ -n "$database" ] && [ -z "$db" ]; then
  kind=postgres
  [ -n "$key_file" ] || die "--key-file is required with --database"
  [ -n "$objects" ] || die "--objects is required with --database"
else
  die "give exactly one of --db and --database (see --help)"
fi
for tool in sha256sum $([ $kind = sqlite ] && echo sqlite3 || echo "pg_restore psql") \
  $([[ $objects == s3://* ]] && echo aws); do
  command -v "$tool" >/dev/null || die "$tool is needed (Debian: sqlite3, postgresql-client, awscli)"
done
aws_s3() { aws ${AWS_ENDPOINT_URL:+--endpoint-url "$AWS_ENDPOINT_URL"} s3 "$@"; }
psql_at() { psql -X -q -v ON_ERROR_STOP=1 -d "$database" "$@"; }

started=$(date +%s%N)

# 1. The backup is whole and unchanged, byte for byte, before anything is touched.
[ -f "$from/MANIFEST.sha256" ] ||
  die "$from has no MANIFEST.sha256: not a backup, or one that did not finish"
if ! bad=$(cd "$from" && sha256sum --check --strict --quiet MANIFEST.sha256 2>&1); then
  die "the backup in $from is damaged, nothing was restored:"$'\n'"$bad"
fi
backed_up=$(sed -n 's/^kind=//p' "$from/backup.info")
[ "$backed_up" = $kind ] ||
  die "$from holds a $backed_up backup; restore it with $([ "$backed_up" = sqlite ] && echo --db || echo --database)"

# 2. Never overwrite something silently.
occupied=()
if [ $kind = sqlite ]; then
  for f in "$db" "$db-wal"; do
    if [ -s "$f" ]; then occupied+=("the database $f"); fi
  done
else
  tables=$(psql_at -tA -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
  if [ "$tables" -gt 0 ]; then occupied+=("the database $database ($tables tables)"); fi
fi
if [ -e "$key_file" ]; then occupied+=("the key file $key_file"); fi
if [[ $objects == s3://* ]]; then
  if [ -n "$(aws_s3 ls "${objects%/}/")" ]; then occupied+=("the objects under $objects"); fi
elif [ -d "$objects" ] && [ -n "$(ls -A "$objects")" ]; then
  occupied+=("the files folder $objects")
fi
if ((${#occupied[@]})); then
  ((force)) || die "not empty: $(IFS=,; echo "${occupied[*]}" | sed 's/,/, /g'); pass --force to replace"
  echo "restore: --force: replacing ${occupied[*]}" >&2
fi

# 3. The database.
if [ $kind = sqlite ]; then
  check=$(sqlite3 -readonly "$from/office.db" "PRAGMA integrity_check")
  [ "$check" = ok ] || die "the backed-up database fails its integrity check: $check"
  mkdir -p "$(dirname "$db")"
  rm -f "$db-wal" "$db-shm"
  cp "$from/office.db" "$db.restoring"
  sync "$db.restoring"
  mv -f "$db.restoring" "$db"
else
  pg_restore --list "$from/office.pgdump" >/dev/null ||
    die "$from/office.pgdump is not a readable pg_dump archive"
  if ((force)); then psql_at -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"; fi
  pg_restore --exit-on-error --single-transaction --no-owner --no-privileges \
    --dbname "$database" "$from/office.pgdump"
fi

# 4. The office key, owner-only (the office refuses a key file others can read).
mkdir -p "$(dirname "$key_file")"
install -m 600 "$from/office-key" "$key_file"

# 5. The files.
if [[ $objects == s3://* ]]; then
  if [ -d "$from/files/sha256" ]; then
    aws_s3 sync --only-show-errors "$from/files/sha256/" "${objects%/}/sha256/"
  fi
else
  if ((force)); then rm -rf "${objects:?}/sha256" "${objects:?}/partial"; fi
  mkdir -p "$objects"
  if [ -d "$from/files/sha256" ]; then cp -a "$from/files/sha256" "$objects/"; fi
fi

files=$(find "$from/files" -type f | wc -l)
echo "restored the $kind office from $from: $files files, $((($(date +%s%N) - started) / 1000000)) ms"
if [ $kind = sqlite ]; then
  echo "check it before serving: heatcrew-office verify --db $db --objects $objects"
else
  echo "check it before serving: heatcrew-office verify --database <url> --objects $objects"
fi
