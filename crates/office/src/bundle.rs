//! A job's evidence bundle (`GET /api/v1/jobs/{id}/bundle`): one ZIP a lawyer or a court can check
//! without HeatCrew. It holds the office export for the job (JSON lines, `docs/evidence.md`, "Export
//! files") with a `file` line for every attachment it carries, the attachments under `files/`, each
//! recording device's public key and the office's (hex and PEM, for `openssl`), `SHA256SUMS` for
//! `sha256sum -c`, the independent verifier `verify.py`, a README in Chinese and English saying
//! how to check it all with standard tools, and `summary.pdf` ([`crate::pdf::summary`]): the job
//! as a person reads it — a convenience view, the JSON lines are the evidence.

use crate::chain_cache::ChainCache;
use crate::export::{ExportScope, export, write_lines};
use crate::objects::Objects;
use crate::pdf::{PdfFont, summary};
use crate::store::{OfficeStore, StoreError};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use heatcrew_protocol::export::ExportLine;
use heatcrew_protocol::{Digest, EventBody};
use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use std::path::Path;
use uuid::Uuid;
use zip::write::SimpleFileOptions;

/// The export inside a bundle.
pub const EXPORT_NAME: &str = "evidence.jsonl";

/// The PDF summary inside a bundle.
pub const SUMMARY_NAME: &str = "summary.pdf";

/// The independent verifier, written from `docs/evidence.md` alone (`tests/evidence/verify.py`).
const VERIFY_PY: &str = include_str!("../../../tests/evidence/verify.py");

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading attachment {sha}: {source}")]
    File { sha: Digest, source: std::io::Error },
    #[error("writing the ZIP: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("writing the ZIP: {0}")]
    Io(#[from] std::io::Error),
}

/// What went into a bundle, besides its bytes.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub zip: Vec<u8>,
    /// Attachments included.
    pub files: usize,
    /// Attachments the events refer to that the office has not received (listed in the README).
    pub missing: Vec<Digest>,
    /// Why the bundle has no `summary.pdf` (no font configured, the font unreadable), if it has none.
    pub no_summary: Option<String>,
}

fn extension(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "bin",
    }
}

/// An Ed25519 public key (hex) as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), for `openssl`.
pub fn public_key_pem(hex_key: &str) -> Option<String> {
    let mut der = hex::decode("302a300506032b6570032100").ok()?;
    let key = hex::decode(hex_key).ok().filter(|k| k.len() == 32)?;
    der.extend(key);
    Some(format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64(&der)
    ))
}

/// Standard base64 with padding (44 bytes of DER: one PEM line).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Where a bundle's parts come from.
pub struct Sources<'a> {
    pub store: &'a dyn OfficeStore,
    pub files: &'a Objects,
    pub office: &'a SigningKey,
    /// The chain status printed in the summary ([`crate::job_view`]).
    pub chains: &'a ChainCache,
    /// The font of the PDF summary ([`crate::Config::pdf_font`]); `None`: no summary.
    pub pdf_font: Option<&'a Path>,
}

impl std::fmt::Debug for Sources<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("pdf_font", &self.pdf_font)
            .finish_non_exhaustive()
    }
}

/// Build the bundle of `job_id`.
pub fn bundle(src: &Sources<'_>, job_id: Uuid, now: DateTime<Utc>) -> Result<Bundle, BundleError> {
    let (store, files, office) = (src.store, src.files, src.office);
    let job = store
        .job(job_id)?
        .ok_or_else(|| StoreError::not_found(format!("job {job_id}")))?;
    let title = job.job.title.clone();
    let (pdf, no_summary) = match summary_pdf(src, job, now)? {
        Ok(pdf) => (Some(pdf), None),
        Err(why) => (None, Some(why)),
    };
    let scope = ExportScope {
        job: Some(job_id),
        ..ExportScope::default()
    };
    let mut lines = export(store, office, &scope, now)?;

    // Every attachment the job's accepted and refused events refer to, by hash.
    let mut wanted: BTreeMap<Digest, String> = BTreeMap::new();
    for line in &lines {
        if let ExportLine::Event { event } = line
            && let Ok(body) = EventBody::from_parts(&event.unsigned.kind, &event.unsigned.payload)
        {
            for a in body.attachments() {
                wanted.insert(a.sha256, a.mime.clone());
            }
        }
    }
    let mut included: Vec<(String, Digest, Vec<u8>)> = Vec::new();
    let mut missing = Vec::new();
    for (sha, mime) in wanted {
        let received = store.attachment(sha)?.is_some_and(|a| a.complete);
        if !received {
            missing.push(sha);
            continue;
        }
        let bytes = files
            .read_blocking(sha)
            .map_err(|source| BundleError::File { sha, source })?;
        let path = format!("files/{}.{}", sha.to_hex(), extension(&mime));
        lines.push(ExportLine::File {
            sha256: sha,
            bytes: bytes.len() as u64,
            path: path.clone(),
        });
        included.push((path, sha, bytes));
    }

    let mut keys: Vec<(String, String)> = Vec::new();
    for line in &lines {
        if let ExportLine::Device {
            device_id,
            public_key,
            ..
        } = line
        {
            let code = store
                .device(*device_id)?
                .map(|d| d.code)
                .unwrap_or_else(|| device_id.to_string());
            keys.push((format!("keys/device-{code}"), public_key.clone()));
        }
    }
    keys.push((
        "keys/office".into(),
        hex::encode(office.verifying_key().as_bytes()),
    ));

    let mut export_bytes = Vec::new();
    write_lines(&lines, &mut export_bytes)?;

    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    // Photos are JPEG already: stored as they are, byte for byte.
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    let mut sums = String::new();
    let mut add = |zip: &mut zip::ZipWriter<Cursor<Vec<u8>>>,
                   name: &str,
                   bytes: &[u8],
                   options: SimpleFileOptions|
     -> Result<(), BundleError> {
        zip.start_file(name, options)?;
        zip.write_all(bytes)?;
        sums.push_str(&format!("{}  {name}\n", Digest::of(bytes).to_hex()));
        Ok(())
    };
    let readme = readme(
        &title,
        job_id,
        now,
        included.len(),
        &missing,
        no_summary.as_deref(),
    );
    add(&mut zip, "README.txt", readme.as_bytes(), deflated)?;
    add(&mut zip, EXPORT_NAME, &export_bytes, deflated)?;
    if let Some(pdf) = &pdf {
        add(&mut zip, SUMMARY_NAME, pdf, deflated)?;
    }
    for (path, _, bytes) in &included {
        add(&mut zip, path, bytes, stored)?;
    }
    for (base, hex_key) in &keys {
        add(
            &mut zip,
            &format!("{base}.pub.hex"),
            format!("{hex_key}\n").as_bytes(),
            deflated,
        )?;
        if let Some(pem) = public_key_pem(hex_key) {
            add(&mut zip, &format!("{base}.pem"), pem.as_bytes(), deflated)?;
        }
    }
    add(&mut zip, "verify.py", VERIFY_PY.as_bytes(), deflated)?;
    zip.start_file("SHA256SUMS", deflated)?;
    zip.write_all(sums.as_bytes())?;
    let zip = zip.finish()?.into_inner();
    Ok(Bundle {
        zip,
        files: included.len(),
        missing,
        no_summary,
    })
}

/// The PDF summary of the job, or why there is none (no font, or the PDF could not be written:
/// the bundle is still made, its README says why).
fn summary_pdf(
    src: &Sources<'_>,
    job: crate::store::JobRecord,
    now: DateTime<Utc>,
) -> Result<Result<Vec<u8>, String>, BundleError> {
    let Some(path) = src.pdf_font else {
        return Ok(Err("no PDF font is configured (`--pdf-font`)".into()));
    };
    let font = match PdfFont::load(path) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let view = crate::job_view::console_job(src.store, src.chains, job, now)?;
    let file = |sha: &Digest| -> Option<Vec<u8>> {
        let held = src.store.attachment(*sha).ok()??.complete;
        held.then(|| src.files.read_blocking(*sha).ok()).flatten()
    };
    Ok(summary::evidence_summary(font, &view, &file).map_err(|e| format!("writing the PDF: {e}")))
}

fn readme(
    title: &str,
    job_id: Uuid,
    now: DateTime<Utc>,
    files: usize,
    missing: &[Digest],
    no_summary: Option<&str>,
) -> String {
    let (summary_zh, summary_en) = match no_summary {
        None => (
            "  summary.pdf      便于阅读的摘要（工单、客户、人员、过程、照片、签字、评价、链状态）。\n                   仅供阅读：证据以 evidence.jsonl 为准。\n".to_owned(),
            "  summary.pdf      a summary to read (job, customer, crew, timeline, photos, signature,\n                   rating, chain status). A convenience view: evidence.jsonl is the evidence.\n".to_owned(),
        ),
        Some(why) => (
            format!("  （本包未含 PDF 摘要：{why}。证据不受影响。）\n"),
            format!("  (no PDF summary in this bundle: {why}. The evidence is complete without it.)\n"),
        ),
    };
    let missing_zh = if missing.is_empty() {
        "所有引用的照片和签字文件都已包含。".to_owned()
    } else {
        format!(
            "以下 {} 个文件办公室尚未收到，未包含（核验时会报告为未列出）：\n{}",
            missing.len(),
            missing
                .iter()
                .map(|d| format!("  {}", d.to_hex()))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let missing_en = if missing.is_empty() {
        "Every photo and signature file the records refer to is included.".to_owned()
    } else {
        format!(
            "{} referenced files have not reached the office and are not included (a verifier reports them as unlisted):\n{}",
            missing.len(),
            missing
                .iter()
                .map(|d| format!("  {}", d.to_hex()))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    format!(
        "HeatCrew 证据包 / evidence bundle
工单 / job: {title} ({job_id})
导出时间 / exported at: {now}

==== 中文 ====

本证据包包含该工单在外勤设备上记录的全部事件，无需 HeatCrew 软件即可核验：

  evidence.jsonl   每行一个 JSON 对象：设备公钥、事件（全文）、同一设备其他工单事件的链接
                   （只含哈希和签名）、办公室回执、签名的树头和包含证明、文件清单，
                   以及设备签名的每次登录（谁在设备记录链的哪个位置开始使用该设备）。
                   格式见 docs/evidence.md（“Export files”）。这是证据本身。
{summary_zh}  files/           照片和签字图片，文件名即其 SHA-256。共 {files} 个。
  keys/            各设备公钥及办公室公钥（十六进制 .pub.hex 与 PEM 格式 .pem）。
  SHA256SUMS       本包内各文件的 SHA-256。
  verify.py        独立核验程序（Python 3.11 + cryptography）。

{missing_zh}

核验步骤：
  1. 文件完整：   sha256sum -c SHA256SUMS
  2. 全部核验：   python3 verify.py export --strict evidence.jsonl
     检查每个事件的哈希、设备签名、哈希链、办公室回执与树头签名、包含证明、文件哈希。
     输出 “the evidence holds: no faults, nothing unproven” 表示证据成立。
     “MAKER:” 行说明每段事件由谁记录（依据设备对登录的签名，而非办公室数据库）。
  3. 手工核验单个事件（OpenSSL）：按 docs/evidence.md “Canonical bytes” 生成
     canonical.bin，然后
       sha256sum canonical.bin          # 应等于事件的 hash
       echo -n \"$HASH\" | xxd -r -p > hash.bin ; echo -n \"$SIG\" | xxd -r -p > sig.bin
       openssl pkeyutl -verify -pubin -inkey keys/device-XXXX.pem -rawin -in hash.bin -sigfile sig.bin

==== English ====

This bundle holds every record the field devices made on this job, checkable without HeatCrew:

  evidence.jsonl   JSON lines: each device's public key, the job's events whole, the device's
                   other events as links (hash and signature only), the office's receipts, a
                   signed tree head with inclusion proofs, the list of files, and every
                   sign-in as the device signed it (who took the device at which point of its
                   chain). The format is docs/evidence.md, \"Export files\". This is the evidence.
{summary_en}  files/           photos and signature images, named by their SHA-256. {files} in all.
  keys/            each device's public key and the office's (hex .pub.hex and PEM .pem).
  SHA256SUMS       the SHA-256 of every file in this bundle.
  verify.py        an independent verifier (Python 3.11 and the `cryptography` package).

{missing_en}

To check it:
  1. Files intact:    sha256sum -c SHA256SUMS
  2. Everything:      python3 verify.py export --strict evidence.jsonl
     checks each event's hash, the device signatures, the hash chain, the office's receipt and
     tree head signatures, the inclusion proofs and the file hashes; it ends with \"the
     evidence holds: no faults, nothing unproven\" when it does. Its \"MAKER:\" lines say who
     recorded which events, from the device's signed sign-ins, not the office's database.
  3. One event by hand (OpenSSL): build canonical.bin as docs/evidence.md, \"Canonical bytes\",
     says, then
       sha256sum canonical.bin          # must equal the event's hash
       echo -n \"$HASH\" | xxd -r -p > hash.bin ; echo -n \"$SIG\" | xxd -r -p > sig.bin
       openssl pkeyutl -verify -pubin -inkey keys/device-XXXX.pem -rawin -in hash.bin -sigfile sig.bin
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_padding_rules() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn a_pem_key_is_the_spki_prefix_and_the_key() {
        // RFC 8410 section 10.1's example key.
        let pem =
            public_key_pem("19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1")
                .expect("a 32-byte key");
        assert_eq!(
            pem,
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"
        );
        assert!(public_key_pem("abcd").is_none(), "not 32 bytes");
    }
}
