//! Scripted field work through the same store API the app calls: complete home repair visits,
//! a heat-theft inspection and a patrol round. Used by `heatcrew-device demo`, the tests and the
//! benchmarks.

use crate::error::Result;
use crate::store::Store;
use chrono::{Duration, Utc};
use heatcrew_protocol::{
    AppointmentWindow, AttachmentRef, Checkpoint, CheckpointKind, Customer, DeclineKind, EventBody,
    FindingCategory, Job, JobKind, JobStatus, Position, Reading, ReadingSpec, Remedy, Resolution,
    Severity, Signer, StepEvidence, Witness,
};
use heatcrew_rules::template;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Makes the bytes of a photo or signature image for the demo (the app gets them from the camera).
pub type ImageSource<'a> = &'a mut dyn FnMut(&str, u32) -> (Vec<u8>, &'static str);

/// How many records a demo run made.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DemoCounts {
    pub visits: usize,
    pub inspections: usize,
    pub patrols: usize,
    pub events: u64,
}

const CUSTOMERS: &[(&str, &str, &str)] = &[
    ("王秀英", "13812345678", "和平区幸福里小区3号楼2单元501"),
    ("李建国", "13987654321", "河西区友谊路18号院5号楼302"),
    ("张丽", "13611112222", "南开区长虹街道华苑小区12-1-803"),
    ("刘洋", "13755556666", "河东区大直沽八号路7号楼101"),
    ("陈静", "15022223333", "红桥区西青道丁字沽一号路4号楼601"),
    ("杨帆", "18633334444", "河北区中山路金钟新苑9-3-402"),
];

/// A home repair job as the office would dispatch it.
pub fn home_repair_job(i: usize, assignee: Option<Uuid>) -> Job {
    let (name, phone, address) = CUSTOMERS[i % CUSTOMERS.len()];
    let now = Utc::now();
    let start = now + Duration::minutes(30 * i as i64);
    Job {
        id: Uuid::now_v7(),
        kind: JobKind::HomeRepair,
        template: template::latest_for(JobKind::HomeRepair).reference(),
        title: ["暖气不热", "暖气漏水", "阀门无法关闭", "温度过低"][i % 4].to_owned(),
        customer: Some(Customer {
            name: name.into(),
            phone: phone.into(),
            address: address.into(),
            account_no: format!("RY{:08}", 20_240_000 + i),
        }),
        site: None,
        reported_at: Some(now - Duration::minutes(40)),
        window: Some(AppointmentWindow {
            start: start - Duration::minutes(60),
            end: start + Duration::minutes(60),
        }),
        assignee,
        street_work: i % 5 == 4,
        checkpoints: Vec::new(),
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    }
}

pub fn inspection_job(assignee: Option<Uuid>) -> Job {
    Job {
        id: Uuid::now_v7(),
        kind: JobKind::HeatTheftInspection,
        template: template::latest_for(JobKind::HeatTheftInspection).reference(),
        title: "疑似私接管道".into(),
        customer: Some(Customer {
            name: "赵强".into(),
            phone: "13500001111".into(),
            address: "和平区南京路锦绣园6号楼1单元201".into(),
            account_no: "RY20230417".into(),
        }),
        site: None,
        reported_at: None,
        window: None,
        assignee,
        street_work: false,
        checkpoints: Vec::new(),
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    }
}

fn reading_specs(kind: CheckpointKind) -> Vec<ReadingSpec> {
    let spec = |key: &str, zh: &str, en: &str, unit: &str, min: f64, max: f64| ReadingSpec {
        key: key.into(),
        label_zh: zh.into(),
        label_en: en.into(),
        unit: unit.into(),
        normal_min: Some(min),
        normal_max: Some(max),
    };
    let mut specs = vec![
        spec(
            "supply_temp",
            "供水温度",
            "Supply temperature",
            "°C",
            50.0,
            95.0,
        ),
        spec(
            "return_temp",
            "回水温度",
            "Return temperature",
            "°C",
            30.0,
            60.0,
        ),
        spec(
            "supply_pressure",
            "供水压力",
            "Supply pressure",
            "MPa",
            0.3,
            1.2,
        ),
    ];
    if kind == CheckpointKind::HeadStation {
        specs.push(spec("flow", "瞬时流量", "Flow", "t/h", 100.0, 2000.0));
    }
    specs
}

pub fn patrol_job(assignee: Option<Uuid>) -> Job {
    let cp = |id: &str, name: &str, kind| Checkpoint {
        id: id.into(),
        name: name.into(),
        kind,
        readings: reading_specs(kind),
        interval_minutes: None,
        code_sha256: None,
    };
    // A 12-hour shift from the start of this hour (China time): the head station owes 12 rounds,
    // each substation exactly one (its 00:00 or 12:00 round), as on a real shift.
    let start =
        heatcrew_rules::rounds::Rounds::new(60, heatcrew_protocol::DEFAULT_UTC_OFFSET_MINUTES)
            .containing(Utc::now())
            .0;
    Job {
        id: Uuid::now_v7(),
        kind: JobKind::PatrolRound,
        template: template::latest_for(JobKind::PatrolRound).reference(),
        title: "东区管网巡检(白班)".into(),
        customer: None,
        site: Some("东区热源厂及所辖换热站".into()),
        reported_at: None,
        window: Some(AppointmentWindow {
            start,
            end: start + Duration::hours(12),
        }),
        assignee,
        street_work: false,
        checkpoints: vec![
            cp("hs-east", "东区首站", CheckpointKind::HeadStation),
            cp("ss-xingfu", "幸福里换热站", CheckpointKind::Substation),
            cp("ss-huayuan", "华苑换热站", CheckpointKind::Substation),
        ],
        status: JobStatus::Open,
        utc_offset_minutes: None,
        revision: 1,
    }
}

/// Store an image the way the app does: photos through the media pipeline, signatures through
/// the signature check (a signature label gets a drawn stroke, not a photo).
fn attach(store: &Store, images: ImageSource<'_>, label: &str, n: u32) -> Result<AttachmentRef> {
    if label == "signature" || label == "cosign" {
        return store.ingest_signature(&generated_signature(n));
    }
    let (bytes, _) = images(label, n);
    store.ingest_photo(&bytes)
}

fn confirm(store: &mut Store, job: Uuid, step: &str) -> Result<()> {
    store.record(
        job,
        EventBody::StepCompleted {
            step: step.into(),
            evidence: StepEvidence::default(),
        },
    )?;
    Ok(())
}

fn texts(pairs: &[(&str, &str)]) -> StepEvidence {
    StepEvidence {
        text: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..StepEvidence::default()
    }
}

fn photo(store: &mut Store, images: ImageSource<'_>, job: Uuid, step: &str, n: u32) -> Result<()> {
    let photo = attach(store, images, step, n)?;
    store.record(
        job,
        EventBody::PhotoAdded {
            step: step.into(),
            photo,
            caption: String::new(),
        },
    )?;
    Ok(())
}

/// How a scripted visit ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitScript {
    Signed,
    Refused,
    SignedWithDamage,
}

/// Walk one home repair visit through every step and close it.
pub fn home_repair_visit(
    store: &mut Store,
    images: ImageSource<'_>,
    job: &Job,
    script: VisitScript,
) -> Result<()> {
    let id = job.id;
    confirm(store, id, "appointment")?;
    confirm(store, id, "arrive")?;
    confirm(store, id, "identify")?;
    confirm(store, id, "knock_consent")?;
    confirm(store, id, "shoe_covers")?;
    if job.street_work {
        photo(store, images, id, "safety_signs", 1)?;
        confirm(store, id, "safety_signs")?;
    }
    photo(store, images, id, "diagnose_repair", 1)?;
    if script == VisitScript::SignedWithDamage {
        let p = attach(store, images, "damage", 1)?;
        let sig = attach(store, images, "cosign", 1)?;
        store.record(
            id,
            EventBody::DamageRecorded {
                damage_id: Uuid::now_v7(),
                item: "客厅木地板".into(),
                description: "挪动暖气片时划伤地板约10厘米".into(),
                remedy: Remedy::Equivalent,
                remedy_detail: "按客户意愿修补，费用由公司承担".into(),
                photos: vec![p],
                customer_signature: Some(sig),
                signature_refused: None,
            },
        )?;
    }
    photo(store, images, id, "diagnose_repair", 2)?;
    store.record(
        id,
        EventBody::StepCompleted {
            step: "diagnose_repair".into(),
            evidence: texts(&[
                ("fault_found", "散热器阀门堵塞，系统有空气"),
                ("work_done", "清洗阀芯，排气，复测温度正常"),
                ("parts_used", "阀芯1个"),
            ]),
        },
    )?;
    photo(store, images, id, "clean_up", 1)?;
    confirm(store, id, "clean_up")?;
    match script {
        VisitScript::Refused => {
            store.record(
                id,
                EventBody::SignatureDeclined {
                    step: "signature".into(),
                    outcome: DeclineKind::Refused,
                    reason: "客户认为应免费更换整组散热器，拒绝签字".into(),
                    witness: Some(Witness {
                        name: "物业管理员 孙师傅".into(),
                        phone: "13900001234".into(),
                    }),
                },
            )?;
        }
        VisitScript::Signed | VisitScript::SignedWithDamage => {
            let image = attach(store, images, "signature", 1)?;
            let name = job
                .customer
                .as_ref()
                .map(|c| c.name.clone())
                .unwrap_or_default();
            store.record(
                id,
                EventBody::SignatureCaptured {
                    step: "signature".into(),
                    signer: Signer::Customer,
                    signer_name: name,
                    image,
                },
            )?;
        }
    }
    confirm(store, id, "signature")?;
    if script == VisitScript::Refused {
        store.record(
            id,
            EventBody::StepSkipped {
                step: "rating".into(),
                reason: "客户拒绝评价".into(),
            },
        )?;
    } else {
        store.record(
            id,
            EventBody::RatingGiven {
                stars: 5,
                comment: "师傅很专业，穿了鞋套，走前打扫干净".into(),
            },
        )?;
        confirm(store, id, "rating")?;
    }
    confirm(store, id, "contact_card")?;
    store.record(
        id,
        EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "故障已排除".into(),
        },
    )?;
    Ok(())
}

/// A heat-theft inspection with a finding, a refusal to sign with a witness, and a notice.
pub fn inspection_visit(store: &mut Store, images: ImageSource<'_>, job: &Job) -> Result<()> {
    let id = job.id;
    confirm(store, id, "arrive")?;
    confirm(store, id, "identify")?;
    photo(store, images, id, "inspect", 1)?;
    let evidence_photo = attach(store, images, "finding", 1)?;
    store.record(
        id,
        EventBody::FindingRecorded {
            finding_id: Uuid::now_v7(),
            category: FindingCategory::UnauthorizedConnection,
            description: "卫生间私接旁通管，绕过计量表".into(),
            states: BTreeMap::from([("seal".to_owned(), "broken".to_owned())]),
            photos: vec![evidence_photo],
        },
    )?;
    store.record(
        id,
        EventBody::StepCompleted {
            step: "inspect".into(),
            evidence: StepEvidence {
                states: BTreeMap::from([
                    ("meter".to_owned(), "tampered".to_owned()),
                    ("seal".to_owned(), "broken".to_owned()),
                    ("valve".to_owned(), "opened_without_permission".to_owned()),
                ]),
                ..StepEvidence::default()
            },
        },
    )?;
    store.record(
        id,
        EventBody::SignatureDeclined {
            step: "acknowledgement".into(),
            outcome: DeclineKind::Refused,
            reason: "客户否认私接，拒绝签字".into(),
            witness: Some(Witness {
                name: "社区网格员 周敏".into(),
                phone: "13600005678".into(),
            }),
        },
    )?;
    confirm(store, id, "acknowledgement")?;
    let today = store.today();
    store.issue_notice(
        id,
        today + Duration::days(7),
        "拆除私接旁通管，恢复铅封，补交违约用热费用".into(),
        Some(today + Duration::days(8)),
    )?;
    confirm(store, id, "notice")?;
    store.record(
        id,
        EventBody::JobClosed {
            resolution: Resolution::Resolved,
            summary: "已开具整改通知书，按期复查".into(),
        },
    )?;
    Ok(())
}

/// Every reading a checkpoint asks for, in the middle of its normal range (plus `offset`), as one
/// `reading_recorded` record.
pub fn normal_readings(cp: &Checkpoint, offset: f64) -> EventBody {
    EventBody::ReadingRecorded {
        checkpoint: cp.id.clone(),
        readings: cp
            .readings
            .iter()
            .map(|spec| Reading {
                key: spec.key.clone(),
                value: (spec.normal_min.unwrap_or(0.0) + spec.normal_max.unwrap_or(1.0)) / 2.0
                    + offset,
                unit: spec.unit.clone(),
            })
            .collect(),
        note: "运行正常".into(),
    }
}

/// A patrol round: readings at every checkpoint, one defect, handover.
pub fn patrol_visit(store: &mut Store, images: ImageSource<'_>, job: &Job) -> Result<()> {
    let id = job.id;
    confirm(store, id, "shift_ready")?;
    for (i, cp) in job.checkpoints.iter().enumerate() {
        store.record(id, normal_readings(cp, i as f64))?;
    }
    let defect_photo = attach(store, images, "defect", 1)?;
    store.record(
        id,
        EventBody::DefectReported {
            defect_id: Uuid::now_v7(),
            checkpoint: job.checkpoints.get(1).map(|c| c.id.clone()),
            category: "阀门渗漏".into(),
            severity: Severity::Major,
            position: Position {
                lat: Some(39.1256),
                lon: Some(117.1994),
                description: "换热站一次网回水阀门法兰处".into(),
                ..Default::default()
            },
            description: "法兰垫片老化，有滴漏".into(),
            photos: vec![defect_photo],
        },
    )?;
    confirm(store, id, "checkpoints")?;
    store.record(
        id,
        EventBody::StepCompleted {
            step: "handover".into(),
            evidence: texts(&[("handover", "各站运行正常，幸福里换热站阀门渗漏已上报")]),
        },
    )?;
    store.record(
        id,
        EventBody::JobClosed {
            resolution: Resolution::FollowUpNeeded,
            summary: "渗漏待检修".into(),
        },
    )?;
    Ok(())
}

/// `visits` home repair visits (the first refused, the second with a damage record when there are
/// enough), one heat-theft inspection and one patrol round.
pub fn field_day(store: &mut Store, images: ImageSource<'_>, visits: usize) -> Result<DemoCounts> {
    let before = store.tip().seq;
    for i in 0..visits {
        let job = home_repair_job(i, None);
        store.add_office_job(&job)?;
        let script = match i {
            0 => VisitScript::Refused,
            1 => VisitScript::SignedWithDamage,
            _ => VisitScript::Signed,
        };
        home_repair_visit(store, images, &job, script)?;
    }
    let inspection = inspection_job(None);
    store.add_office_job(&inspection)?;
    inspection_visit(store, images, &inspection)?;
    let patrol = patrol_job(None);
    store.add_office_job(&patrol)?;
    patrol_visit(store, images, &patrol)?;
    Ok(DemoCounts {
        visits,
        inspections: 1,
        patrols: 1,
        events: store.tip().seq - before,
    })
}

/// A small generated PNG (a gradient with the label's hash drawn into it, so every label gives a
/// different picture) so demos have real image files; the app gets photos from the camera.
pub fn generated_png(label: &str, n: u32) -> (Vec<u8>, &'static str) {
    let (w, h) = (64u32, 48u32);
    let seed = heatcrew_protocol::Digest::of(format!("{label}/{n}").as_bytes()).0;
    let mut raw = Vec::with_capacity(((w * 3 + 1) * h) as usize);
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            let s = seed[((x / 8) + (y / 8) * 8) as usize % 32];
            raw.extend_from_slice(&[(x * 4) as u8 ^ s, (y * 5) as u8, s]);
        }
    }
    (png_rgb(w, h, &raw), "image/png")
}

/// A phone camera's photo in size and weight: a 4000×3000 (12 MP) baseline JPEG, distinct per
/// `n` (tests and the e2e measure the technician's wait with it).
pub fn camera_photo(n: u32) -> Vec<u8> {
    heatcrew_media::test_photo_jpeg(4000, 3000, n).expect("a 12 MP test photo encodes")
}

/// A generated signature: a dark wavy stroke on white, as a finger would draw it.
pub fn generated_signature(n: u32) -> Vec<u8> {
    let (w, h) = (300u32, 120u32);
    let mut raw = Vec::with_capacity(((w * 3 + 1) * h) as usize);
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            let phase = f64::from(x) / 18.0 + f64::from(n);
            let line = 60.0 + 30.0 * phase.sin();
            let ink = (f64::from(y) - line).abs() < 3.0 && (20..280).contains(&x);
            let v = if ink { 20 } else { 255 };
            raw.extend_from_slice(&[v, v, v]);
        }
    }
    png_rgb(w, h, &raw)
}

/// Encode filtered RGB rows as a PNG (stored deflate blocks: no compression library needed).
fn png_rgb(w: u32, h: u32, raw: &[u8]) -> Vec<u8> {
    // A zlib stream of stored (uncompressed) deflate blocks.
    let mut z = vec![0x78, 0x01];
    let chunks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, c) in chunks.iter().enumerate() {
        z.push(u8::from(i + 1 == chunks.len()));
        let len = c.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", z), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(&data);
        png.extend_from_slice(&crc_input);
        png.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
