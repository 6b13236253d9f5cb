//! The one error vocabulary of device, office and UI: every code any part of HeatCrew answers with,
//! and each code's zh-CN and English text. **Frozen and versioned** like the rest of this crate: a
//! code's string never changes (old apps and offices must keep understanding each other), codes are
//! only added, and a code this build does not know deserializes as [`ErrorCode::Unknown`] so a newer
//! peer's answer is still read (its `message` says what happened).
//!
//! The text here is what a code means in general. An error that carries facts (which step, how many
//! records, what the office said) words them itself and uses this text when it has nothing to add.
//! The UI gets the same table generated (`ui/src/lib/backend/errorMessages.ts`, by
//! crates/core/tests/bindings.rs).

use crate::lang::Lang;
use serde::{Deserialize, Serialize};

/// Declares [`ErrorCode`] from one table: variant, wire string, zh-CN text, English text.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $zh:literal, $en:literal; )*) => {
        /// A stable error code (see the module docs). Serialized as its snake_case string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum ErrorCode {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
            /// A code this build does not know, from a newer device or office.
            // ts-rs reads the rename and skips `other` (it says so at build time, harmlessly).
            #[serde(rename = "unknown")]
            #[serde(other)]
            Unknown,
        }

        impl ErrorCode {
            /// Every code, in declaration order ([`ErrorCode::Unknown`] last).
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)* ErrorCode::Unknown];

            /// The code's wire string.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Unknown => "unknown",
                }
            }

            /// What the code means, in the person's language.
            pub const fn message(self, lang: Lang) -> &'static str {
                let (zh, en) = match self {
                    $(ErrorCode::$variant => ($zh, $en),)*
                    ErrorCode::Unknown => (
                        "出现了本应用不认识的错误,请更新应用。",
                        "Something went wrong that this app does not know about; update the app.",
                    ),
                };
                match lang {
                    Lang::Zh => zh,
                    Lang::En => en,
                }
            }
        }
    };
}

error_codes! {
    // --- Any request (office HTTP edge, app IPC edge) ---
    BadRequest = "bad_request", "请求有误。", "Bad request.";
    BadJson = "bad_json", "请求内容不是有效的 JSON。", "The request body is not valid JSON.";
    NotFound = "not_found", "找不到所请求的内容。", "Not found.";
    MethodNotAllowed = "method_not_allowed", "不支持这种请求方式。", "This method is not allowed here.";
    TooLarge = "too_large", "文件或请求太大。", "The file or request is too large.";
    UnsupportedMediaType = "unsupported_media_type", "不支持这种内容类型。", "This content type is not supported.";
    Forbidden = "forbidden", "你没有权限执行此操作。", "You are not allowed to do this.";
    Internal = "internal", "内部错误,请稍后重试。", "Internal error; try again later.";

    // --- Signing in (office) ---
    MissingToken = "missing_token", "请先登录。", "Sign in first.";
    BadToken = "bad_token", "登录凭证无效,请重新登录。", "Unknown sign-in token; sign in again.";
    TokenRevoked = "token_revoked", "登录已被撤销,请重新登录。", "This sign-in was revoked; sign in again.";
    TokenExpired = "token_expired", "登录已过期,请重新登录。", "The sign-in expired; sign in again.";
    BadCredentials = "bad_credentials", "用户名或密码不正确。", "Wrong user name or password.";
    BadPublicKey = "bad_public_key", "设备密钥无效。", "The device key is not valid.";
    BadRefreshToken = "bad_refresh_token", "登录已失效,请重新登录。", "The sign-in can no longer be renewed; sign in again.";
    RefreshReused = "refresh_reused", "登录凭证被重复使用,已全部撤销,请重新登录。", "A sign-in token was used twice, so all were revoked; sign in again.";
    UserDeactivated = "user_deactivated", "此账号已停用,请联系管理员。", "This account is deactivated; ask an administrator.";
    // --- The office console ---
    BadOffset = "bad_offset", "时区偏移无效。", "The time-zone offset is not valid.";
    BadDate = "bad_date", "日期无效。", "The date is not valid.";
    LookupTooShort = "lookup_too_short", "请至少输入 7 位电话号码或 3 位户号。", "Type at least 7 digits of the phone or 3 characters of the account.";
    LookupKey = "lookup_key", "请按电话或户号查询。", "Look up by phone or by account number.";
    CannotDeactivateSelf = "cannot_deactivate_self", "不能停用自己的账号。", "You cannot deactivate your own account.";
    UnknownAlert = "unknown_alert", "找不到该紧急警报。", "Unknown alert.";
    AlertAlreadyAcknowledged = "alert_already_acknowledged", "该紧急警报已由他人确认。", "This alert was already acknowledged by someone else.";
    DeviceKeyMismatch = "device_key_mismatch", "这台设备已用另一把密钥登记,请联系管理员。", "This device was enrolled with another key; ask an administrator.";
    NoDevice = "no_device", "这台设备没有登记,请重新登录。", "This device is not enrolled; sign in again.";
    ProofRequired = "proof_required", "登录需要用设备密钥签名,请更新应用。", "Sign-in needs the device key's signature over a challenge; update the app.";
    BadProof = "bad_proof", "设备密钥的签名无效,登录被拒绝。", "The device key's signature is not valid; the sign-in was refused.";
    ChallengeUnknown = "challenge_unknown", "登录校验码无效或已用过,请重新获取。", "The sign-in challenge is unknown or already used; ask for a new one.";
    ChallengeWrongDevice = "challenge_wrong_device", "登录校验码是发给另一台设备的,请重新获取。", "The sign-in challenge was issued to another device; ask for a new one.";
    ChallengeExpired = "challenge_expired", "登录校验码已过期,请重新获取。", "The sign-in challenge expired; ask for a new one.";
    ChainHeadRequired = "chain_head_required", "登录需要说明本机记录链的当前位置,请更新应用。", "Sign-in needs the position of this device's record chain; update the app.";
    ChainHeadMismatch = "chain_head_mismatch", "本机的记录与单位已收到的不一致,请联系管理员。", "This device's records do not match what the office holds; ask an administrator.";
    UnknownSignIn = "unknown_sign_in", "单位没有这次登录的记录。", "The office has no such sign-in of this device.";
    SignOutConflict = "sign_out_conflict", "这次登录已有另一份退出记录。", "This sign-in already has another sign-out statement.";
    SignedOut = "signed_out", "这条记录是在用户退出登录之后、下一位用户登录之前记下的,不予接收。", "This record was made after its user signed out and before anyone signed in again; it is refused.";
    DeviceOtherUser = "device_other_user", "这台设备属于另一位用户。请管理员把它设为班组共用,或转给你。", "This device belongs to another user; an administrator can mark it shared for a crew or move it to you.";
    TooManyAttempts = "too_many_attempts", "登录失败次数太多,请稍后再试。", "Too many failed sign-ins; wait a while and try again.";
    LoginBusy = "login_busy", "登录的人太多,请几秒后再试。", "Too many sign-ins at once; try again in a few seconds.";
    RefreshWrongDevice = "refresh_wrong_device", "登录凭证不属于这台设备,已撤销,请重新登录。", "This sign-in belongs to another device and was ended; sign in again.";
    SessionExpired = "session_expired", "登录时间已到或闲置太久,请重新登录。", "The sign-in reached its time limit or was idle too long; sign in again.";
    TotpRequired = "totp_required", "请输入验证器应用中的六位动态码。", "Enter the six-digit code from your authenticator app.";
    BadTotp = "bad_totp", "动态码不正确或已过期。", "The authenticator code is wrong or expired.";
    TotpSetupRequired = "totp_setup_required", "管理员账号必须先设置两步验证。", "Administrator accounts must set up two-step verification first.";
    TotpNotPending = "totp_not_pending", "请先开始设置两步验证。", "Start setting up two-step verification first.";
    TotpUsed = "totp_used", "这个动态码已经用过,请等验证器显示下一个。", "This authenticator code was already used; wait for the next one.";
    BadDeviceTime = "bad_device_time", "手机时间不对(不是2000至2200年之间的有效时间),请校准手机时间。", "The phone's clock is not a valid time between 2000 and 2200; set the phone's clock.";
    UnknownAuditKind = "unknown_audit_kind", "审计记录类型无效。", "Unknown audit entry kind.";

    // --- Accounts and dispatch (office) ---
    UnknownUser = "unknown_user", "找不到该用户。", "Unknown user.";
    UsernameTaken = "username_taken", "用户名已被占用。", "This user name is taken.";
    BadUsername = "bad_username", "用户名无效。", "The user name is not valid.";
    WeakPassword = "weak_password", "密码太弱。", "The password is too weak.";
    CrewExists = "crew_exists", "该班组已存在。", "This crew already exists.";
    RouteExists = "route_exists", "该巡检路线已存在。", "This patrol route already exists.";
    BadWindow = "bad_window", "预约时间段无效。", "The appointment window is not valid.";
    MissingFault = "missing_fault", "请填写故障描述。", "Describe the fault.";
    MissingCustomer = "missing_customer", "请填写客户信息。", "Give the customer.";
    MissingCheckpoints = "missing_checkpoints", "巡检工单需要检查点。", "A patrol needs checkpoints.";
    JobExists = "job_exists", "该工单已存在。", "This job already exists.";
    JobCancelled = "job_cancelled", "该工单已取消。", "This job was cancelled.";
    NotFieldCreated = "not_field_created", "该工单不是现场新建的,无需确认。", "This job was not opened in the field; there is nothing to accept.";

    // --- Sync: pushing records and the office's ledger ---
    TooManyEvents = "too_many_events", "一次上传的记录太多。", "Too many records in one upload.";
    SequenceGap = "sequence_gap", "记录顺序有缺口,将自动重新上传。", "Records are missing before this batch; they are sent again by themselves.";
    BadPayload = "bad_payload", "记录内容格式不正确,单位服务器未采用。", "The record's content does not match its form; the office did not use it.";
    ForbiddenJob = "forbidden_job", "该工单没有派给你。", "This job is not assigned to you.";
    UnknownJob = "unknown_job", "找不到该工单。", "Unknown job.";
    OutOfSequence = "out_of_sequence", "记录顺序不正确。", "The record is out of sequence.";
    ConflictingDuplicate = "conflicting_duplicate", "单位服务器已有另一条同序号的记录。", "The office already holds a different record with this number.";
    ChainBlocked = "chain_blocked", "前一条记录被拒收,这条记录无法接续。", "An earlier record was refused, so this one cannot follow it.";
    Edited = "edited", "记录在签名后被修改过。", "The record was changed after it was signed.";
    BadSignature = "bad_signature", "记录的签名无效。", "The record's signature is not valid.";
    BrokenChain = "broken_chain", "记录与前一条记录接续不上。", "The record does not link to the one before it.";
    WrongDevice = "wrong_device", "记录来自另一台设备。", "The record comes from another device.";
    Malformed = "malformed", "记录格式不正确。", "The record is malformed.";
    OutOfRange = "out_of_range", "记录中的时间、数值或长度超出允许范围(如手机时间不对),未记录。", "A time, number or length in the record is outside the allowed range (is the phone's clock right?); it was not recorded.";
    FieldJobNotAllowed = "field_job_not_allowed", "现场只能新建抢修工单(事故/隐患上报、巡检发现的抢修),且上报时间须为当时。", "In the field you may only open emergency repair jobs (an accident or hazard report, a repair found on patrol), reported at the time.";
    JobNotYoursAnymore = "job_not_yours_anymore", "该工单已改派给他人,你不能再结束它。", "This job was reassigned to someone else; you can no longer close it.";

    // --- Sync: attachments (office) ---
    BadDigest = "bad_digest", "文件校验值无效。", "The file hash is not valid.";
    NotReferenced = "not_referenced", "没有记录引用这个文件。", "No record refers to this file.";
    SizeConflict = "size_conflict", "文件大小与之前上传的不一致。", "The file size differs from the earlier upload.";
    UnknownAttachment = "unknown_attachment", "单位服务器没有这个文件的上传。", "The office has no upload of this file.";
    MissingOffset = "missing_offset", "上传缺少偏移量。", "The upload offset is missing.";
    OffsetMismatch = "offset_mismatch", "上传位置不一致,将从单位服务器已有的位置继续。", "The upload offset differs; it resumes where the office is.";
    BeyondSize = "beyond_size", "上传的数据超出了文件大小。", "The upload goes beyond the file's size.";
    HashMismatch = "hash_mismatch", "文件内容与校验值不符。", "The file's content does not match its hash.";
    NotReceived = "not_received", "单位服务器还没有收到这个文件。", "The office has not received this file yet.";

    // --- Sync as the device sees it ---
    Offline = "offline", "连不上单位服务器。首次登录需要网络连接,请到有信号的地方重试。", "Cannot reach the office. The first sign-in needs a connection; try again where there is signal.";
    OfficeUnavailable = "office_unavailable", "单位服务器暂时不可用,稍后自动重试。", "The office is busy or failing; sync tries again later by itself.";
    Unauthorized = "unauthorized", "登录已过期,请重新登录。", "The sign-in expired; sign in again.";
    ProtocolMismatch = "protocol_mismatch", "应用版本与单位服务器不匹配,请更新应用。", "This app and the office speak different versions; update the app.";
    HttpError = "http_error", "单位服务器的回答无法识别。", "The office answered in a way this app does not understand.";
    NoOffset = "no_offset", "单位服务器没有说明已收到多少数据。", "The office did not say how much of the upload it holds.";
    BadChallenge = "bad_challenge", "单位服务器发来的登录校验码格式不正确。", "The office sent a malformed sign-in challenge.";
    OfficeCa = "office_ca", "本机设置的单位服务器证书文件无法使用,请联系管理员。", "The office certificate file this device is set to trust cannot be used; ask an administrator.";

    // --- The office's signed answers, checked by the device before it keeps them (docs/evidence.md).
    // The same strings as the export checks' fault codes, which stay their own list there. ---
    BadReceipt = "bad_receipt", "单位服务器的回执没有用它的密钥签名,已拒收。本机记录不受影响。", "The office's receipt is not signed with its key; it was refused. The records on this device are safe.";
    ReceiptMismatch = "receipt_mismatch", "单位服务器的回执与本机的记录不符,已拒收。本机记录不受影响。", "The office's receipt does not match the record on this device; it was refused. The records on this device are safe.";
    BadTreeHead = "bad_tree_head", "单位服务器的日志签名无效,已拒收。", "The office's signed log head is not signed with its key; it was refused.";
    NoOfficeKey = "no_office_key", "还没有单位服务器的公钥,无法核对它的签名,请重新登录。", "There is no office key to check the office's signatures with; sign in again.";
    LogRewritten = "log_rewritten", "单位服务器的日志与它之前签发的不一致,已作为证据保存。", "The office's log contradicts one it signed earlier; this is kept as evidence.";

    // --- The app (device) ---
    NotSignedIn = "not_signed_in", "请先登录。", "Please sign in first.";
    UnsyncedRecords = "unsynced_records", "还有记录未同步。请先同步再退出。", "Some records are not synced yet. Sync before signing out.";

    // --- The device's own storage ---
    DiskFull = "disk_full", "手机存储空间已满，记录未保存。请清理空间后重试。", "The phone's storage is full; nothing was saved. Free some space and try again.";
    Storage = "storage", "本机存储出错，记录未保存。", "This device could not store it; nothing was saved.";
    DatabaseTooNew = "database_too_new", "本机数据由更新版本的应用写入,请更新应用。", "The data on this device was written by a newer app; update the app.";
    StoreCorrupt = "store_corrupt", "本机数据已损坏。", "The data on this device is damaged.";
    BadData = "bad_data", "本机数据无法读取。", "The data on this device cannot be read.";
    FileMissing = "file_missing", "本机找不到这张照片的文件。", "The photo's file is missing on this device.";

    // --- The device's signing key, kept outside the database (heatcrew-core keys.rs) ---
    DeviceKeyMissing = "device_key_missing", "本机找不到设备签名密钥,不能记录。请联系管理员。", "This device's signing key is missing, so it cannot record; ask an administrator.";
    DeviceKeyExposed = "device_key_exposed", "设备签名密钥文件可被他人读取,已拒绝使用。", "The device's signing key file can be read by others, so it was not used.";
    DeviceKeyConflict = "device_key_conflict", "已保存了这台设备的另一把签名密钥,不能替换。", "Another signing key is already kept for this device; a key is never replaced.";
    DeviceKeyMalformed = "device_key_malformed", "设备签名密钥文件已损坏。", "The device's signing key file is damaged.";
    DeviceKeyUnavailable = "device_key_unavailable", "无法读取设备签名密钥。", "The device's signing key cannot be reached.";

    // --- The database's encryption key, kept in the same vault (heatcrew-core cipher.rs) ---
    DatabaseKeyMissing = "database_key_missing", "本机数据库已加密，但找不到它的密钥，无法打开。请联系管理员。", "The device database is encrypted and its key is not on this device, so it cannot be opened; ask an administrator.";
    DatabaseKeyWrong = "database_key_wrong", "密钥打不开本机数据库（数据未改动）。请联系管理员。", "The key does not open the device database (nothing was changed); ask an administrator.";

    // --- Checklist rules (heatcrew-rules) ---
    UnknownTemplate = "unknown_template", "工单使用的检查模板不存在，请升级应用。", "The job uses a checklist this app does not know; update the app.";
    JobNotActive = "job_not_active", "该工单已结束，不能再记录。", "The job takes no more records.";
    StepOutOfOrder = "step_out_of_order", "请先完成当前步骤。", "Finish the current step first.";
    UnknownStep = "unknown_step", "没有这个步骤。", "No such step.";
    StepAlreadyDone = "step_already_done", "该步骤已完成，如需更正请提交更正记录。", "This step is already done; record a correction to change it.";
    StepNotSkippable = "step_not_skippable", "该步骤不能跳过，必须完成。", "This step cannot be skipped; it must be done.";
    SkipReasonMissing = "skip_reason_missing", "跳过步骤必须填写原因。", "Say why you skip this step.";
    EvidenceMissing = "evidence_missing", "完成本步骤还需要更多证据。", "More evidence is needed before this step is done.";
    InvalidValue = "invalid_value", "填写的值无效。", "A value is not valid.";
    WrongStepForRecord = "wrong_step_for_record", "当前步骤不需要这项记录。", "This step takes no such record.";
    AlreadySigned = "already_signed", "本步骤已有签字或拒签记录。", "This step already has a signature or a recorded refusal.";
    DeclineReasonMissing = "decline_reason_missing", "请填写客户拒签或不在场的原因。", "Record why the customer refuses or is absent.";
    RatingOutOfRange = "rating_out_of_range", "评价须为1至5星。", "Rating must be 1 to 5 stars.";
    RatingLocked = "rating_locked", "客户已评价，评价不可修改。", "The customer has already rated this visit; a rating cannot be changed.";
    RecordNotAllowed = "record_not_allowed", "此类工单不能添加这项记录。", "This job kind does not take this record.";
    CannotClose = "cannot_close", "还不能完成工单。", "The job cannot be closed yet.";
    BadCorrection = "bad_correction", "更正记录必须指明本工单的原记录并填写原因。", "A correction must name an earlier event of this job and a reason.";
    DeadlineInPast = "deadline_in_past", "整改期限不能早于今天。", "The rectification deadline is in the past.";
    FollowUpBeforeDeadline = "follow_up_before_deadline", "复查日期不能早于整改期限。", "The follow-up inspection cannot be before the rectification deadline.";
    WrongCheckpointCode = "wrong_checkpoint_code", "站点码不对,未记录到站。请扫描或输入贴在本站的站点码。", "That is not this station's code; nothing was recorded. Scan or type the code posted at the station.";
    CheckpointHasNoCode = "checkpoint_has_no_code", "该站点还没有站点码,请联系调度。", "This station has no code yet; ask dispatch.";
    ReadinessIncomplete = "readiness_incomplete", "上岗前请确认工装、证件、工具和防护用具全部齐全。", "Before the first job, check uniform, badge, tools and protective equipment.";

    // --- Photos and signatures (heatcrew-media) ---
    EmptyFile = "empty_file", "文件是空的(0 字节),请重新拍照。", "The file is empty (0 bytes). Take the photo again.";
    NotAnImage = "not_an_image", "这个文件不是照片,请选择 JPEG、PNG 或 WebP 格式的照片。", "This file is not a photo. Choose a JPEG, PNG or WebP photo.";
    UnsupportedFormat = "unsupported_format", "不支持这种格式的图片,请选择 JPEG 照片。", "This image format is not supported; choose a JPEG photo.";
    Truncated = "truncated", "照片文件不完整(被截断),请重新拍摄或重新复制。", "The photo file is incomplete (cut off). Take or copy the photo again.";
    Corrupt = "corrupt", "照片文件已损坏,无法读取,请重新拍照。", "The photo file is damaged and cannot be read. Take the photo again.";
    DimensionsTooLarge = "dimensions_too_large", "图片像素超出可安全打开的范围,可能已损坏或不是相机照片。", "The image claims more pixels than can be opened safely; it may be damaged or not a camera photo.";
    SignatureEmpty = "signature_empty", "签名为空或太小,请客户在框内完整签名。", "The signature is empty or too small. Ask the customer to sign across the box.";
    ReadFailed = "read_failed", "无法从存储中读取照片,请重试。", "The photo could not be read from storage. Try again.";
    EncodeFailed = "encode_failed", "照片保存失败(内部错误)。", "The photo could not be saved because of an internal error.";
    DecoderPanicked = "decoder_panicked", "照片无法读取(解码器内部错误),文件已被安全拒收。", "The photo could not be read (internal decoder error). The file was refused safely.";

    // --- Complaints and reports tracker (office, issue 13.5) ---
    ComplaintField = "complaint_field", "投诉/举报的某项内容缺失、过长或含有无效字符,未保存。", "A field of the complaint is missing, too long or holds invalid characters; nothing was saved.";
    UnknownComplaint = "unknown_complaint", "找不到该投诉/举报。", "Unknown complaint or report.";
    ComplaintExists = "complaint_exists", "已有另一条同编号的投诉/举报。", "Another complaint already has this id.";
    NotComplaintOwner = "not_complaint_owner", "该投诉由首问责任人负责,只有其本人或管理人员可以办理或转交。", "This complaint belongs to whoever took it first; only they or a manager may act on it or hand it over.";
    HandoverTarget = "handover_target", "请转交给一位调度/管理人员或一个部门(不能转给外勤人员或当前负责人)。", "Hand it over to one office staff member or one department (not field staff, not the current owner).";
    HandoverInactiveUser = "handover_inactive_user", "该人员账号已停用,不能接收转交。", "That account is deactivated and cannot take it over.";
    ComplaintAlreadyReplied = "complaint_already_replied", "该投诉已答复,答复不可更改。", "This complaint was already answered; a reply is never changed.";
    ComplaintNotReplied = "complaint_not_replied", "请先答复,再进行回访。", "Answer the complaint before calling the customer back.";
    ComplaintClosed = "complaint_closed", "该投诉已答复并回访,已办结。", "This complaint was answered and called back; it is closed.";
}

impl ErrorCode {
    /// The code for a wire string; [`ErrorCode::Unknown`] for one this build does not know.
    pub fn parse(code: &str) -> ErrorCode {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == code)
            .unwrap_or(ErrorCode::Unknown)
    }
}

/// Compares with a wire string, so tests and logs can say `assert_eq!(err.code(), "rating_locked")`.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_round_trips_through_serde_as_its_string() {
        for &code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).expect("serialize");
            assert_eq!(
                json,
                format!("\"{}\"", code.as_str()),
                "{code:?} is its string on the wire"
            );
            let back: ErrorCode = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, code, "{code:?} reads back as itself");
            assert_eq!(
                ErrorCode::parse(code.as_str()),
                code,
                "parse agrees with serde"
            );
        }
    }

    #[test]
    fn codes_are_distinct_snake_case_strings_with_both_texts() {
        let mut seen = HashSet::new();
        for &code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} is declared twice");
            assert!(
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s} is snake_case"
            );
            let (zh, en) = (code.message(Lang::Zh), code.message(Lang::En));
            assert!(
                !zh.trim().is_empty() && !en.trim().is_empty(),
                "{s} has both texts"
            );
            assert!(!zh.is_ascii(), "{s}: the zh-CN text is Chinese: {zh}");
            assert!(en.is_ascii(), "{s}: the English text is English: {en}");
        }
    }

    #[test]
    fn a_code_from_a_newer_peer_still_reads_as_unknown() {
        let got: ErrorCode = serde_json::from_str("\"quota_exceeded\"").expect("unknown code");
        assert_eq!(got, ErrorCode::Unknown, "an unknown string is not an error");
        assert_eq!(ErrorCode::parse("quota_exceeded"), ErrorCode::Unknown);
        let body: crate::sync::ErrorBody = serde_json::from_str(
            r#"{"code":"quota_exceeded","message":"over quota","retry_in_days":3}"#,
        )
        .expect("a newer office's error body still parses");
        assert_eq!(body.code, ErrorCode::Unknown);
        assert_eq!(
            body.message, "over quota",
            "its words are kept for the person"
        );
        assert!(
            serde_json::from_str::<ErrorCode>("42").is_err(),
            "a code is a string, not anything at all"
        );
    }

    #[test]
    fn the_strings_in_use_before_the_enum_are_unchanged() {
        // A sample across every source the codes were gathered from: office, ledger, event faults,
        // rules, media, device storage and sync. Renaming any breaks old apps or old offices.
        for s in [
            "bad_payload",
            "sequence_gap",
            "bad_credentials",
            "forbidden_job",
            "chain_blocked",
            "bad_signature",
            "step_out_of_order",
            "not_an_image",
            "disk_full",
            "store_corrupt",
            "offline",
            "office_unavailable",
            "unsynced_records",
            "not_signed_in",
            "internal",
            // Introduced by the evidence work (sign-in proof, the device key vault, receipts).
            "proof_required",
            "bad_proof",
            "challenge_unknown",
            "challenge_wrong_device",
            "challenge_expired",
            "bad_challenge",
            "device_key_missing",
            "device_key_exposed",
            "device_key_conflict",
            "device_key_malformed",
            "device_key_unavailable",
            "bad_receipt",
            "receipt_mismatch",
            "bad_tree_head",
            "no_office_key",
            "log_rewritten",
        ] {
            assert_eq!(ErrorCode::parse(s).as_str(), s, "{s} is still a known code");
        }
    }
}
