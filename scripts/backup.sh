#!/usr/bin/env bash
# Back up a HeatCrew office while it runs: its database, its office key file and its attachment
# files, into one new folder with a SHA-256 manifest that scripts/restore.sh checks first.
# docs/deploy.md ("Backups") says when and where to keep the result.
set -euo pipefail

usage() {
  cat <<'EOF'
usage:
  scripts/backup.sh --db office.db [--objects FOLDER|s3://BUCKET/PREFIX] [--key-file FILE] --out DIR
  scripts/backup.sh --database postgres://USER@HOST:PORT/DB --key-file FILE --objects FOLDER|s3://BUCKET/PREFIX --out DIR

Embedded SQLite (--db): an online copy of the database (sqlite3 VACUUM INTO, consistent while the
office writes), the key file (default <db>.office-key) and the files (default <db>.files).
PostgreSQL (--database): pg_dump in custom format, then the key file and the files.
The database is copied before the files: every file the copy counts was stored before its row
committed, so it is in the files copied after. S3 objects are copied with `aws s3 sync` (the AWS_*
environment as the office reads it). DIR must not exist or be empty. Uploads in progress
(partial/) are left out: phones resend them.

Writes DIR/backup.info, DIR/office.db or DIR/office.pgdump, DIR/office-key, DIR/files/sha256/…
and, last, DIR/MANIFEST.sha256 (a backup without it is incomplete and restore.sh refuses it).
EOF
}

die() { echo "backup: $*" >&2; exit 1; }

db="" database="" objects="" key_file="" out=""
while (($#)); do
  case $1 in
    --db) db=${2:?--db needs a file}; shift 2 ;;
    --database) database=${2:?--database needs a postgres:// URL}; shift 2 ;;
    --objects) objects=${2:?--objects needs a folder or s3://bucket/prefix}; shift 2 ;;
    --key-file) key_file=${2:?--key-file needs a file}; shift 2 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[ -n "$out" ] || die "--out is required (see --help)"
if [ -n "$db" ] && [ -z "$database" ]; then
  kind=sqlite
  [ -f "$db" ] || die "$db: no such database file"
  objects=${objects:-$db.files}
  key_file=${key_file:-$db.office-key}
elif [ -n "$database" ] && [ -z "$db" ]; then
  kind=postgres
  [ -n "$key_file" ] || die "--key-file is required with --database (the key lives outside the database)"
  [ -n "$objects" ] || die "--objects is required with --database"
else
  die "give exactly one of --db and --database (see --help)"
fi
[ -f "$key_file" ] || die "$key_file: no office key file (without it the restored office cannot sign)"
grep -qxE '[0-9a-f]{64}' "$key_file" || die "$key_file is not an office key file (64 hex characters)"
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  die "$out is not empty: back up into a new folder"
fi
for tool in sha256sum $([ $kind = sqlite ] && echo sqlite3 || echo "pg_dump psql") \
  $([[ $objects == s3://* ]] && echo aws); do
  command -v "$tool" >/dev/null || die "$tool is needed (Debian: sqlite3, postgresql-client, awscli)"
done

# `aws` reads AWS_ENDPOINT_URL only from version 2.13 on: pass it explicitly.
aws_s3() { aws ${AWS_ENDPOINT_URL:+--endpoint-url "$AWS_ENDPOINT_URL"} s3 "$@"; }

# The office records its public key in the database: its absence means this is not an office.
office_key_sql="SELECT value FROM meta WHERE key = 'office_public_key'"
if [ $kind = sqlite ]; then
  public_key=$(sqlite3 -readonly -cmd ".timeout 30000" "$db" "$office_key_sql" 2>/dev/null || true)
else
  public_key=$(psql -X -qtA -d "$database" -c "$office_key_sql" 2>/dev/null || true)
fi
[ -n "$public_key" ] || die "${db:-the PostgreSQL database} is not a HeatCrew office database (or cannot be read)"

started=$(date +%s%N)
mkdir -p "$out"

# 1. The database, consistent as of one moment.
if [ $kind = sqlite ]; then
  target=$out/office.db
  sqlite3 -readonly -cmd ".timeout 30000" "$db" "VACUUM INTO '${target//\'/\'\'}'"
  check=$(sqlite3 -readonly "$target" "PRAGMA integrity_check")
  [ "$check" = ok ] || die "the copy of $db fails its integrity check: $check"
else
  pg_dump --format=custom --no-owner --no-privileges --file "$out/office.pgdump" "$database"
fi

# 2. The office key (owner-only, like the original).
install -m 600 "$key_file" "$out/office-key"

# 3. The files counted so far (and any stored since: harmless, content-addressed).
mkdir -p "$out/files"
if [[ $objects == s3://* ]]; then
  aws_s3 sync --only-show-errors "${objects%/}/sha256/" "$out/files/sha256/"
elif [ -d "$objects/sha256" ]; then
  cp -a "$objects/sha256" "$out/files/"
fi

{
  echo "kind=$kind"
  echo "created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "objects=$([[ $objects == s3://* ]] && echo s3 || echo folder)"
  echo "office_public_key=$public_key"
} >"$out/backup.info"

# 4. The manifest, last: its presence says the backup is whole.
(cd "$out" && find . -type f ! -name 'MANIFEST.sha256*' -print0 | sort -z | xargs -0 -r sha256sum) \
  >"$out/MANIFEST.sha256.tmp"
mv "$out/MANIFEST.sha256.tmp" "$out/MANIFEST.sha256"
sync -f "$out/MANIFEST.sha256" 2>/dev/null || sync

files=$(find "$out/files" -type f | wc -l)
ms=$((($(date +%s%N) - started) / 1000000))
echo "backup of the $kind office in $out: $files files, $(du -sk "$out" | cut -f1) KiB, $ms ms"
