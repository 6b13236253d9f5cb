// GENERATED from heatcrew_protocol::ErrorCode by crates/core/tests/bindings.rs: do not edit.
// Regenerate after changing a code or its text: UPDATE_BINDINGS=1 cargo test -p heatcrew-core --test bindings
import type { ErrorCode, Lang } from './types';

/** What each error code means, in both languages the app speaks. */
export const ERROR_MESSAGES: Record<ErrorCode, Record<Lang, string>> = {
  bad_request: {
    'zh-CN': "请求有误。",
    en: "Bad request.",
  },
  bad_json: {
    'zh-CN': "请求内容不是有效的 JSON。",
    en: "The request body is not valid JSON.",
  },
  not_found: {
    'zh-CN': "找不到所请求的内容。",
    en: "Not found.",
  },
  method_not_allowed: {
    'zh-CN': "不支持这种请求方式。",
    en: "This method is not allowed here.",
  },
  too_large: {
    'zh-CN': "文件或请求太大。",
    en: "The file or request is too large.",
  },
  unsupported_media_type: {
    'zh-CN': "不支持这种内容类型。",
    en: "This content type is not supported.",
  },
  forbidden: {
    'zh-CN': "你没有权限执行此操作。",
    en: "You are not allowed to do this.",
  },
  internal: {
    'zh-CN': "内部错误,请稍后重试。",
    en: "Internal error; try again later.",
  },
  missing_token: {
    'zh-CN': "请先登录。",
    en: "Sign in first.",
  },
  bad_token: {
    'zh-CN': "登录凭证无效,请重新登录。",
    en: "Unknown sign-in token; sign in again.",
  },
  token_revoked: {
    'zh-CN': "登录已被撤销,请重新登录。",
    en: "This sign-in was revoked; sign in again.",
  },
  token_expired: {
    'zh-CN': "登录已过期,请重新登录。",
    en: "The sign-in expired; sign in again.",
  },
  bad_credentials: {
    'zh-CN': "用户名或密码不正确。",
    en: "Wrong user name or password.",
  },
  bad_public_key: {
    'zh-CN': "设备密钥无效。",
    en: "The device key is not valid.",
  },
  bad_refresh_token: {
    'zh-CN': "登录已失效,请重新登录。",
    en: "The sign-in can no longer be renewed; sign in again.",
  },
  refresh_reused: {
    'zh-CN': "登录凭证被重复使用,已全部撤销,请重新登录。",
    en: "A sign-in token was used twice, so all were revoked; sign in again.",
  },
  user_deactivated: {
    'zh-CN': "此账号已停用,请联系管理员。",
    en: "This account is deactivated; ask an administrator.",
  },
  bad_offset: {
    'zh-CN': "时区偏移无效。",
    en: "The time-zone offset is not valid.",
  },
  bad_date: {
    'zh-CN': "日期无效。",
    en: "The date is not valid.",
  },
  lookup_too_short: {
    'zh-CN': "请至少输入 7 位电话号码或 3 位户号。",
    en: "Type at least 7 digits of the phone or 3 characters of the account.",
  },
  lookup_key: {
    'zh-CN': "请按电话或户号查询。",
    en: "Look up by phone or by account number.",
  },
  cannot_deactivate_self: {
    'zh-CN': "不能停用自己的账号。",
    en: "You cannot deactivate your own account.",
  },
  unknown_alert: {
    'zh-CN': "找不到该紧急警报。",
    en: "Unknown alert.",
  },
  alert_already_acknowledged: {
    'zh-CN': "该紧急警报已由他人确认。",
    en: "This alert was already acknowledged by someone else.",
  },
  device_key_mismatch: {
    'zh-CN': "这台设备已用另一把密钥登记,请联系管理员。",
    en: "This device was enrolled with another key; ask an administrator.",
  },
  no_device: {
    'zh-CN': "这台设备没有登记,请重新登录。",
    en: "This device is not enrolled; sign in again.",
  },
  proof_required: {
    'zh-CN': "登录需要用设备密钥签名,请更新应用。",
    en: "Sign-in needs the device key's signature over a challenge; update the app.",
  },
  bad_proof: {
    'zh-CN': "设备密钥的签名无效,登录被拒绝。",
    en: "The device key's signature is not valid; the sign-in was refused.",
  },
  challenge_unknown: {
    'zh-CN': "登录校验码无效或已用过,请重新获取。",
    en: "The sign-in challenge is unknown or already used; ask for a new one.",
  },
  challenge_wrong_device: {
    'zh-CN': "登录校验码是发给另一台设备的,请重新获取。",
    en: "The sign-in challenge was issued to another device; ask for a new one.",
  },
  challenge_expired: {
    'zh-CN': "登录校验码已过期,请重新获取。",
    en: "The sign-in challenge expired; ask for a new one.",
  },
  chain_head_required: {
    'zh-CN': "登录需要说明本机记录链的当前位置,请更新应用。",
    en: "Sign-in needs the position of this device's record chain; update the app.",
  },
  chain_head_mismatch: {
    'zh-CN': "本机的记录与单位已收到的不一致,请联系管理员。",
    en: "This device's records do not match what the office holds; ask an administrator.",
  },
  unknown_sign_in: {
    'zh-CN': "单位没有这次登录的记录。",
    en: "The office has no such sign-in of this device.",
  },
  sign_out_conflict: {
    'zh-CN': "这次登录已有另一份退出记录。",
    en: "This sign-in already has another sign-out statement.",
  },
  signed_out: {
    'zh-CN': "这条记录是在用户退出登录之后、下一位用户登录之前记下的,不予接收。",
    en: "This record was made after its user signed out and before anyone signed in again; it is refused.",
  },
  device_other_user: {
    'zh-CN': "这台设备属于另一位用户。请管理员把它设为班组共用,或转给你。",
    en: "This device belongs to another user; an administrator can mark it shared for a crew or move it to you.",
  },
  too_many_attempts: {
    'zh-CN': "登录失败次数太多,请稍后再试。",
    en: "Too many failed sign-ins; wait a while and try again.",
  },
  login_busy: {
    'zh-CN': "登录的人太多,请几秒后再试。",
    en: "Too many sign-ins at once; try again in a few seconds.",
  },
  refresh_wrong_device: {
    'zh-CN': "登录凭证不属于这台设备,已撤销,请重新登录。",
    en: "This sign-in belongs to another device and was ended; sign in again.",
  },
  session_expired: {
    'zh-CN': "登录时间已到或闲置太久,请重新登录。",
    en: "The sign-in reached its time limit or was idle too long; sign in again.",
  },
  totp_required: {
    'zh-CN': "请输入验证器应用中的六位动态码。",
    en: "Enter the six-digit code from your authenticator app.",
  },
  bad_totp: {
    'zh-CN': "动态码不正确或已过期。",
    en: "The authenticator code is wrong or expired.",
  },
  totp_setup_required: {
    'zh-CN': "管理员账号必须先设置两步验证。",
    en: "Administrator accounts must set up two-step verification first.",
  },
  totp_not_pending: {
    'zh-CN': "请先开始设置两步验证。",
    en: "Start setting up two-step verification first.",
  },
  totp_used: {
    'zh-CN': "这个动态码已经用过,请等验证器显示下一个。",
    en: "This authenticator code was already used; wait for the next one.",
  },
  bad_device_time: {
    'zh-CN': "手机时间不对(不是2000至2200年之间的有效时间),请校准手机时间。",
    en: "The phone's clock is not a valid time between 2000 and 2200; set the phone's clock.",
  },
  unknown_audit_kind: {
    'zh-CN': "审计记录类型无效。",
    en: "Unknown audit entry kind.",
  },
  unknown_user: {
    'zh-CN': "找不到该用户。",
    en: "Unknown user.",
  },
  username_taken: {
    'zh-CN': "用户名已被占用。",
    en: "This user name is taken.",
  },
  bad_username: {
    'zh-CN': "用户名无效。",
    en: "The user name is not valid.",
  },
  weak_password: {
    'zh-CN': "密码太弱。",
    en: "The password is too weak.",
  },
  crew_exists: {
    'zh-CN': "该班组已存在。",
    en: "This crew already exists.",
  },
  route_exists: {
    'zh-CN': "该巡检路线已存在。",
    en: "This patrol route already exists.",
  },
  bad_window: {
    'zh-CN': "预约时间段无效。",
    en: "The appointment window is not valid.",
  },
  missing_fault: {
    'zh-CN': "请填写故障描述。",
    en: "Describe the fault.",
  },
  missing_customer: {
    'zh-CN': "请填写客户信息。",
    en: "Give the customer.",
  },
  missing_checkpoints: {
    'zh-CN': "巡检工单需要检查点。",
    en: "A patrol needs checkpoints.",
  },
  job_exists: {
    'zh-CN': "该工单已存在。",
    en: "This job already exists.",
  },
  job_cancelled: {
    'zh-CN': "该工单已取消。",
    en: "This job was cancelled.",
  },
  not_field_created: {
    'zh-CN': "该工单不是现场新建的,无需确认。",
    en: "This job was not opened in the field; there is nothing to accept.",
  },
  too_many_events: {
    'zh-CN': "一次上传的记录太多。",
    en: "Too many records in one upload.",
  },
  sequence_gap: {
    'zh-CN': "记录顺序有缺口,将自动重新上传。",
    en: "Records are missing before this batch; they are sent again by themselves.",
  },
  bad_payload: {
    'zh-CN': "记录内容格式不正确,单位服务器未采用。",
    en: "The record's content does not match its form; the office did not use it.",
  },
  forbidden_job: {
    'zh-CN': "该工单没有派给你。",
    en: "This job is not assigned to you.",
  },
  unknown_job: {
    'zh-CN': "找不到该工单。",
    en: "Unknown job.",
  },
  out_of_sequence: {
    'zh-CN': "记录顺序不正确。",
    en: "The record is out of sequence.",
  },
  conflicting_duplicate: {
    'zh-CN': "单位服务器已有另一条同序号的记录。",
    en: "The office already holds a different record with this number.",
  },
  chain_blocked: {
    'zh-CN': "前一条记录被拒收,这条记录无法接续。",
    en: "An earlier record was refused, so this one cannot follow it.",
  },
  edited: {
    'zh-CN': "记录在签名后被修改过。",
    en: "The record was changed after it was signed.",
  },
  bad_signature: {
    'zh-CN': "记录的签名无效。",
    en: "The record's signature is not valid.",
  },
  broken_chain: {
    'zh-CN': "记录与前一条记录接续不上。",
    en: "The record does not link to the one before it.",
  },
  wrong_device: {
    'zh-CN': "记录来自另一台设备。",
    en: "The record comes from another device.",
  },
  malformed: {
    'zh-CN': "记录格式不正确。",
    en: "The record is malformed.",
  },
  out_of_range: {
    'zh-CN': "记录中的时间、数值或长度超出允许范围(如手机时间不对),未记录。",
    en: "A time, number or length in the record is outside the allowed range (is the phone's clock right?); it was not recorded.",
  },
  field_job_not_allowed: {
    'zh-CN': "现场只能新建抢修工单(事故/隐患上报、巡检发现的抢修),且上报时间须为当时。",
    en: "In the field you may only open emergency repair jobs (an accident or hazard report, a repair found on patrol), reported at the time.",
  },
  job_not_yours_anymore: {
    'zh-CN': "该工单已改派给他人,你不能再结束它。",
    en: "This job was reassigned to someone else; you can no longer close it.",
  },
  bad_digest: {
    'zh-CN': "文件校验值无效。",
    en: "The file hash is not valid.",
  },
  not_referenced: {
    'zh-CN': "没有记录引用这个文件。",
    en: "No record refers to this file.",
  },
  size_conflict: {
    'zh-CN': "文件大小与之前上传的不一致。",
    en: "The file size differs from the earlier upload.",
  },
  unknown_attachment: {
    'zh-CN': "单位服务器没有这个文件的上传。",
    en: "The office has no upload of this file.",
  },
  missing_offset: {
    'zh-CN': "上传缺少偏移量。",
    en: "The upload offset is missing.",
  },
  offset_mismatch: {
    'zh-CN': "上传位置不一致,将从单位服务器已有的位置继续。",
    en: "The upload offset differs; it resumes where the office is.",
  },
  beyond_size: {
    'zh-CN': "上传的数据超出了文件大小。",
    en: "The upload goes beyond the file's size.",
  },
  hash_mismatch: {
    'zh-CN': "文件内容与校验值不符。",
    en: "The file's content does not match its hash.",
  },
  not_received: {
    'zh-CN': "单位服务器还没有收到这个文件。",
    en: "The office has not received this file yet.",
  },
  offline: {
    'zh-CN': "连不上单位服务器。首次登录需要网络连接,请到有信号的地方重试。",
    en: "Cannot reach the office. The first sign-in needs a connection; try again where there is signal.",
  },
  office_unavailable: {
    'zh-CN': "单位服务器暂时不可用,稍后自动重试。",
    en: "The office is busy or failing; sync tries again later by itself.",
  },
  unauthorized: {
    'zh-CN': "登录已过期,请重新登录。",
    en: "The sign-in expired; sign in again.",
  },
  protocol_mismatch: {
    'zh-CN': "应用版本与单位服务器不匹配,请更新应用。",
    en: "This app and the office speak different versions; update the app.",
  },
  http_error: {
    'zh-CN': "单位服务器的回答无法识别。",
    en: "The office answered in a way this app does not understand.",
  },
  no_offset: {
    'zh-CN': "单位服务器没有说明已收到多少数据。",
    en: "The office did not say how much of the upload it holds.",
  },
  bad_challenge: {
    'zh-CN': "单位服务器发来的登录校验码格式不正确。",
    en: "The office sent a malformed sign-in challenge.",
  },
  office_ca: {
    'zh-CN': "本机设置的单位服务器证书文件无法使用,请联系管理员。",
    en: "The office certificate file this device is set to trust cannot be used; ask an administrator.",
  },
  bad_receipt: {
    'zh-CN': "单位服务器的回执没有用它的密钥签名,已拒收。本机记录不受影响。",
    en: "The office's receipt is not signed with its key; it was refused. The records on this device are safe.",
  },
  receipt_mismatch: {
    'zh-CN': "单位服务器的回执与本机的记录不符,已拒收。本机记录不受影响。",
    en: "The office's receipt does not match the record on this device; it was refused. The records on this device are safe.",
  },
  bad_tree_head: {
    'zh-CN': "单位服务器的日志签名无效,已拒收。",
    en: "The office's signed log head is not signed with its key; it was refused.",
  },
  no_office_key: {
    'zh-CN': "还没有单位服务器的公钥,无法核对它的签名,请重新登录。",
    en: "There is no office key to check the office's signatures with; sign in again.",
  },
  log_rewritten: {
    'zh-CN': "单位服务器的日志与它之前签发的不一致,已作为证据保存。",
    en: "The office's log contradicts one it signed earlier; this is kept as evidence.",
  },
  not_signed_in: {
    'zh-CN': "请先登录。",
    en: "Please sign in first.",
  },
  unsynced_records: {
    'zh-CN': "还有记录未同步。请先同步再退出。",
    en: "Some records are not synced yet. Sync before signing out.",
  },
  disk_full: {
    'zh-CN': "手机存储空间已满，记录未保存。请清理空间后重试。",
    en: "The phone's storage is full; nothing was saved. Free some space and try again.",
  },
  storage: {
    'zh-CN': "本机存储出错，记录未保存。",
    en: "This device could not store it; nothing was saved.",
  },
  database_too_new: {
    'zh-CN': "本机数据由更新版本的应用写入,请更新应用。",
    en: "The data on this device was written by a newer app; update the app.",
  },
  store_corrupt: {
    'zh-CN': "本机数据已损坏。",
    en: "The data on this device is damaged.",
  },
  bad_data: {
    'zh-CN': "本机数据无法读取。",
    en: "The data on this device cannot be read.",
  },
  file_missing: {
    'zh-CN': "本机找不到这张照片的文件。",
    en: "The photo's file is missing on this device.",
  },
  device_key_missing: {
    'zh-CN': "本机找不到设备签名密钥,不能记录。请联系管理员。",
    en: "This device's signing key is missing, so it cannot record; ask an administrator.",
  },
  device_key_exposed: {
    'zh-CN': "设备签名密钥文件可被他人读取,已拒绝使用。",
    en: "The device's signing key file can be read by others, so it was not used.",
  },
  device_key_conflict: {
    'zh-CN': "已保存了这台设备的另一把签名密钥,不能替换。",
    en: "Another signing key is already kept for this device; a key is never replaced.",
  },
  device_key_malformed: {
    'zh-CN': "设备签名密钥文件已损坏。",
    en: "The device's signing key file is damaged.",
  },
  device_key_unavailable: {
    'zh-CN': "无法读取设备签名密钥。",
    en: "The device's signing key cannot be reached.",
  },
  database_key_missing: {
    'zh-CN': "本机数据库已加密，但找不到它的密钥，无法打开。请联系管理员。",
    en: "The device database is encrypted and its key is not on this device, so it cannot be opened; ask an administrator.",
  },
  database_key_wrong: {
    'zh-CN': "密钥打不开本机数据库（数据未改动）。请联系管理员。",
    en: "The key does not open the device database (nothing was changed); ask an administrator.",
  },
  unknown_template: {
    'zh-CN': "工单使用的检查模板不存在，请升级应用。",
    en: "The job uses a checklist this app does not know; update the app.",
  },
  job_not_active: {
    'zh-CN': "该工单已结束，不能再记录。",
    en: "The job takes no more records.",
  },
  step_out_of_order: {
    'zh-CN': "请先完成当前步骤。",
    en: "Finish the current step first.",
  },
  unknown_step: {
    'zh-CN': "没有这个步骤。",
    en: "No such step.",
  },
  step_already_done: {
    'zh-CN': "该步骤已完成，如需更正请提交更正记录。",
    en: "This step is already done; record a correction to change it.",
  },
  step_not_skippable: {
    'zh-CN': "该步骤不能跳过，必须完成。",
    en: "This step cannot be skipped; it must be done.",
  },
  skip_reason_missing: {
    'zh-CN': "跳过步骤必须填写原因。",
    en: "Say why you skip this step.",
  },
  evidence_missing: {
    'zh-CN': "完成本步骤还需要更多证据。",
    en: "More evidence is needed before this step is done.",
  },
  invalid_value: {
    'zh-CN': "填写的值无效。",
    en: "A value is not valid.",
  },
  wrong_step_for_record: {
    'zh-CN': "当前步骤不需要这项记录。",
    en: "This step takes no such record.",
  },
  already_signed: {
    'zh-CN': "本步骤已有签字或拒签记录。",
    en: "This step already has a signature or a recorded refusal.",
  },
  decline_reason_missing: {
    'zh-CN': "请填写客户拒签或不在场的原因。",
    en: "Record why the customer refuses or is absent.",
  },
  rating_out_of_range: {
    'zh-CN': "评价须为1至5星。",
    en: "Rating must be 1 to 5 stars.",
  },
  rating_locked: {
    'zh-CN': "客户已评价，评价不可修改。",
    en: "The customer has already rated this visit; a rating cannot be changed.",
  },
  record_not_allowed: {
    'zh-CN': "此类工单不能添加这项记录。",
    en: "This job kind does not take this record.",
  },
  cannot_close: {
    'zh-CN': "还不能完成工单。",
    en: "The job cannot be closed yet.",
  },
  bad_correction: {
    'zh-CN': "更正记录必须指明本工单的原记录并填写原因。",
    en: "A correction must name an earlier event of this job and a reason.",
  },
  deadline_in_past: {
    'zh-CN': "整改期限不能早于今天。",
    en: "The rectification deadline is in the past.",
  },
  follow_up_before_deadline: {
    'zh-CN': "复查日期不能早于整改期限。",
    en: "The follow-up inspection cannot be before the rectification deadline.",
  },
  wrong_checkpoint_code: {
    'zh-CN': "站点码不对,未记录到站。请扫描或输入贴在本站的站点码。",
    en: "That is not this station's code; nothing was recorded. Scan or type the code posted at the station.",
  },
  checkpoint_has_no_code: {
    'zh-CN': "该站点还没有站点码,请联系调度。",
    en: "This station has no code yet; ask dispatch.",
  },
  readiness_incomplete: {
    'zh-CN': "上岗前请确认工装、证件、工具和防护用具全部齐全。",
    en: "Before the first job, check uniform, badge, tools and protective equipment.",
  },
  empty_file: {
    'zh-CN': "文件是空的(0 字节),请重新拍照。",
    en: "The file is empty (0 bytes). Take the photo again.",
  },
  not_an_image: {
    'zh-CN': "这个文件不是照片,请选择 JPEG、PNG 或 WebP 格式的照片。",
    en: "This file is not a photo. Choose a JPEG, PNG or WebP photo.",
  },
  unsupported_format: {
    'zh-CN': "不支持这种格式的图片,请选择 JPEG 照片。",
    en: "This image format is not supported; choose a JPEG photo.",
  },
  truncated: {
    'zh-CN': "照片文件不完整(被截断),请重新拍摄或重新复制。",
    en: "The photo file is incomplete (cut off). Take or copy the photo again.",
  },
  corrupt: {
    'zh-CN': "照片文件已损坏,无法读取,请重新拍照。",
    en: "The photo file is damaged and cannot be read. Take the photo again.",
  },
  dimensions_too_large: {
    'zh-CN': "图片像素超出可安全打开的范围,可能已损坏或不是相机照片。",
    en: "The image claims more pixels than can be opened safely; it may be damaged or not a camera photo.",
  },
  signature_empty: {
    'zh-CN': "签名为空或太小,请客户在框内完整签名。",
    en: "The signature is empty or too small. Ask the customer to sign across the box.",
  },
  read_failed: {
    'zh-CN': "无法从存储中读取照片,请重试。",
    en: "The photo could not be read from storage. Try again.",
  },
  encode_failed: {
    'zh-CN': "照片保存失败(内部错误)。",
    en: "The photo could not be saved because of an internal error.",
  },
  decoder_panicked: {
    'zh-CN': "照片无法读取(解码器内部错误),文件已被安全拒收。",
    en: "The photo could not be read (internal decoder error). The file was refused safely.",
  },
  complaint_field: {
    'zh-CN': "投诉/举报的某项内容缺失、过长或含有无效字符,未保存。",
    en: "A field of the complaint is missing, too long or holds invalid characters; nothing was saved.",
  },
  unknown_complaint: {
    'zh-CN': "找不到该投诉/举报。",
    en: "Unknown complaint or report.",
  },
  complaint_exists: {
    'zh-CN': "已有另一条同编号的投诉/举报。",
    en: "Another complaint already has this id.",
  },
  not_complaint_owner: {
    'zh-CN': "该投诉由首问责任人负责,只有其本人或管理人员可以办理或转交。",
    en: "This complaint belongs to whoever took it first; only they or a manager may act on it or hand it over.",
  },
  handover_target: {
    'zh-CN': "请转交给一位调度/管理人员或一个部门(不能转给外勤人员或当前负责人)。",
    en: "Hand it over to one office staff member or one department (not field staff, not the current owner).",
  },
  handover_inactive_user: {
    'zh-CN': "该人员账号已停用,不能接收转交。",
    en: "That account is deactivated and cannot take it over.",
  },
  complaint_already_replied: {
    'zh-CN': "该投诉已答复,答复不可更改。",
    en: "This complaint was already answered; a reply is never changed.",
  },
  complaint_not_replied: {
    'zh-CN': "请先答复,再进行回访。",
    en: "Answer the complaint before calling the customer back.",
  },
  complaint_closed: {
    'zh-CN': "该投诉已答复并回访,已办结。",
    en: "This complaint was answered and called back; it is closed.",
  },
  unknown: {
    'zh-CN': "出现了本应用不认识的错误,请更新应用。",
    en: "Something went wrong that this app does not know about; update the app.",
  },
};
