//! A realistic demo company for `serve --demo`: crews of every role with Chinese names, customers,
//! today's appointments, a heat-theft inspection, a patrol route over a head station, substations
//! and a pipeline segment on a patrol plan (today's round opened), and an outage notice. Seeding is idempotent: a second run on the same
//! database adds nothing.

use crate::api::jobs::template_for;
use crate::store::{NewUser, OfficeStore, Route};
use chrono::{DateTime, Duration, FixedOffset, NaiveTime, TimeZone, Utc};
use heatcrew_protocol::sync::Role;
use heatcrew_protocol::{
    AppointmentWindow, Checkpoint, CheckpointKind, Customer, Job, JobKind, JobStatus, OutageNotice,
    ReadingSpec,
};
use uuid::Uuid;

/// The password of every demo account (printed at startup; a demo, not a deployment).
pub const DEMO_PASSWORD: &str = "heatcrew-demo";
const SEEDED_KEY: &str = "demo_seeded_v1";
const DEMO_USERS_KEY: &str = "demo_users_v1";

#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
    pub badge_no: String,
}

const PEOPLE: &[(&str, &str, Role, &str)] = &[
    ("zhangwei", "张伟", Role::RepairTechnician, "RX-0101"),
    ("liqiang", "李强", Role::RepairTechnician, "RX-0102"),
    ("wangfang", "王芳", Role::RepairTechnician, "RX-0103"),
    ("liuyang", "刘洋", Role::Inspector, "JC-0201"),
    ("chenjun", "陈军", Role::Patrol, "XJ-0301"),
    ("zhaomin", "赵敏", Role::Dispatcher, "DD-0401"),
    ("admin", "孙丽", Role::Admin, "GL-0001"),
];

fn logins() -> Vec<DemoLogin> {
    PEOPLE
        .iter()
        .map(|(u, n, r, b)| DemoLogin {
            username: (*u).into(),
            password: DEMO_PASSWORD.into(),
            display_name: (*n).into(),
            role: *r,
            badge_no: (*b).into(),
        })
        .collect()
}

fn reading(key: &str, zh: &str, en: &str, unit: &str, min: f64, max: f64) -> ReadingSpec {
    ReadingSpec {
        key: key.into(),
        label_zh: zh.into(),
        label_en: en.into(),
        unit: unit.into(),
        normal_min: Some(min),
        normal_max: Some(max),
    }
}

fn primary_readings() -> Vec<ReadingSpec> {
    vec![
        reading(
            "supply_temp",
            "供水温度",
            "Supply temperature",
            "°C",
            85.0,
            120.0,
        ),
        reading(
            "return_temp",
            "回水温度",
            "Return temperature",
            "°C",
            40.0,
            70.0,
        ),
        reading(
            "supply_pressure",
            "供水压力",
            "Supply pressure",
            "MPa",
            0.6,
            1.2,
        ),
        reading(
            "return_pressure",
            "回水压力",
            "Return pressure",
            "MPa",
            0.2,
            0.5,
        ),
    ]
}

fn secondary_readings() -> Vec<ReadingSpec> {
    vec![
        reading(
            "supply_temp",
            "二次供水温度",
            "Secondary supply temperature",
            "°C",
            45.0,
            65.0,
        ),
        reading(
            "return_temp",
            "二次回水温度",
            "Secondary return temperature",
            "°C",
            35.0,
            50.0,
        ),
        reading(
            "supply_pressure",
            "二次供水压力",
            "Secondary supply pressure",
            "MPa",
            0.3,
            0.6,
        ),
        reading(
            "return_pressure",
            "二次回水压力",
            "Secondary return pressure",
            "MPa",
            0.15,
            0.4,
        ),
    ]
}

fn checkpoints() -> Vec<Checkpoint> {
    let cp = |id: &str, name: &str, kind, readings| Checkpoint {
        id: id.into(),
        name: name.into(),
        kind,
        readings,
        interval_minutes: None,
        code_sha256: None,
    };
    vec![
        cp(
            "hs-east",
            "东郊热源首站",
            CheckpointKind::HeadStation,
            primary_readings(),
        ),
        cp(
            "ss-xingfu",
            "幸福小区换热站",
            CheckpointKind::Substation,
            secondary_readings(),
        ),
        cp(
            "ss-heping",
            "和平里换热站",
            CheckpointKind::Substation,
            secondary_readings(),
        ),
        cp(
            "ss-guangming",
            "光明花园换热站",
            CheckpointKind::Substation,
            secondary_readings(),
        ),
        cp(
            "pl-jianshe",
            "建设路DN300供热管段",
            CheckpointKind::PipelineSegment,
            vec![],
        ),
    ]
}

/// Local (China Standard Time) clock time today, in UTC.
fn today_at(now: DateTime<Utc>, hour: u32, minute: u32) -> DateTime<Utc> {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is valid");
    let date = now.with_timezone(&cst).date_naive();
    let local = date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).expect("valid time"));
    cst.from_local_datetime(&local)
        .single()
        .expect("fixed offsets are unambiguous")
        .with_timezone(&Utc)
}

fn customer(name: &str, phone: &str, address: &str, account: &str) -> Customer {
    Customer {
        name: name.into(),
        phone: phone.into(),
        address: address.into(),
        account_no: account.into(),
    }
}

/// Seed the company unless it was seeded before; returns the demo logins either way.
pub fn seed(store: &dyn OfficeStore, now: DateTime<Utc>) -> anyhow::Result<Vec<DemoLogin>> {
    if store.meta(SEEDED_KEY)?.is_some() {
        return Ok(demo_logins(
            store.meta(DEMO_USERS_KEY)?.unwrap_or_default().split(','),
        ));
    }
    let mut ids = std::collections::HashMap::new();
    // Accounts that existed before (e.g. an admin from `user add`) keep their own password and are
    // not listed as demo logins.
    let mut created = Vec::new();
    let hash = crate::api::auth::hash_password(DEMO_PASSWORD)?;
    for l in logins() {
        let id = match store.user_by_username(&l.username)? {
            Some(existing) => existing.info.id,
            None => {
                created.push(l.username.clone());
                store
                    .add_user(
                        NewUser {
                            username: l.username.clone(),
                            password_hash: hash.clone(),
                            display_name: l.display_name.clone(),
                            role: l.role,
                            badge_no: l.badge_no.clone(),
                        },
                        now,
                    )?
                    .id
            }
        };
        ids.insert(l.username.clone(), id);
    }
    let id = |u: &str| ids[u];
    store.add_crew(
        "维修一班",
        &[id("zhangwei"), id("liqiang"), id("wangfang")],
        now,
    )?;
    store.add_crew("用热稽查组", &[id("liuyang")], now)?;
    store.add_crew("管网巡检班", &[id("chenjun")], now)?;

    let repairs = [
        (
            "zhangwei",
            customer(
                "王秀英",
                "13812345601",
                "幸福小区3号楼2单元501室",
                "RY-100231",
            ),
            "暖气不热",
            9,
            11,
            7,
        ),
        (
            "zhangwei",
            customer(
                "刘建国",
                "13912345602",
                "和平里小区12号楼1单元302室",
                "RY-100587",
            ),
            "暖气片接口漏水",
            11,
            13,
            8,
        ),
        (
            "liqiang",
            customer(
                "陈淑珍",
                "13712345603",
                "光明花园5号楼4单元1101室",
                "RY-101342",
            ),
            "进户阀门关不严",
            9,
            11,
            7,
        ),
        (
            "liqiang",
            customer(
                "杨志明",
                "13612345604",
                "建设路18号院2号楼601室",
                "RY-101977",
            ),
            "散热器有异响",
            14,
            16,
            10,
        ),
        (
            "wangfang",
            customer(
                "黄丽华",
                "13512345605",
                "滨河小区7号楼3单元402室",
                "RY-102410",
            ),
            "室温偏低，只有16度",
            14,
            16,
            9,
        ),
        (
            "wangfang",
            customer(
                "赵永刚",
                "13412345606",
                "幸福小区8号楼1单元203室",
                "RY-100902",
            ),
            "暖气片不热，需要放气",
            16,
            18,
            11,
        ),
    ];
    for (tech, cust, fault, from, to, reported_hour) in repairs {
        store.create_job(
            Job {
                id: Uuid::now_v7(),
                kind: JobKind::HomeRepair,
                template: template_for(JobKind::HomeRepair),
                title: fault.into(),
                customer: Some(cust),
                site: None,
                // Called in before the appointment, never in the future of the seeding.
                reported_at: Some(
                    (today_at(now, reported_hour.min(from), 0) - Duration::hours(1)).min(now),
                ),
                window: Some(AppointmentWindow {
                    start: today_at(now, from, 0),
                    end: today_at(now, to, 0),
                }),
                assignee: Some(id(tech)),
                street_work: false,
                checkpoints: vec![],
                status: JobStatus::Open,
                utc_offset_minutes: None,
                revision: 1,
            },
            now,
        )?;
    }
    store.create_job(
        Job {
            id: Uuid::now_v7(),
            kind: JobKind::HeatTheftInspection,
            template: template_for(JobKind::HeatTheftInspection),
            title: "疑似私接旁通管窃热".into(),
            customer: Some(customer(
                "周海涛",
                "13312345607",
                "东风小区9号楼1单元201室",
                "RY-103118",
            )),
            site: None,
            reported_at: None,
            window: Some(AppointmentWindow {
                start: today_at(now, 10, 0),
                end: today_at(now, 12, 0),
            }),
            assignee: Some(id("liuyang")),
            street_work: false,
            checkpoints: vec![],
            status: JobStatus::Open,
            utc_offset_minutes: None,
            revision: 1,
        },
        now,
    )?;
    // An acceptance inspection of a contractor's work: it fails or passes only after remedies, and
    // the inspector leaves the written rectification opinion (现场服务 8).
    store.create_job(
        Job {
            id: Uuid::now_v7(),
            kind: JobKind::AcceptanceInspection,
            template: template_for(JobKind::AcceptanceInspection),
            title: "和平路换热站二次网改造工程验收".into(),
            customer: None,
            site: Some("和平路换热站".into()),
            reported_at: None,
            window: Some(AppointmentWindow {
                start: today_at(now, 14, 0),
                end: today_at(now, 16, 0),
            }),
            assignee: Some(id("liuyang")),
            street_work: false,
            checkpoints: vec![],
            status: JobStatus::Open,
            utc_offset_minutes: None,
            revision: 1,
        },
        now,
    )?;
    let route = store.create_route(
        Route {
            id: Uuid::now_v7(),
            name: "东区供热管网巡检线".into(),
            area: "东区".into(),
            checkpoints: checkpoints(),
        },
        now,
    )?;
    // The route on a plan: the patrol's day shift, 08:00–20:00 (head station hourly, substations
    // twice a day, of which the 12:00 round falls in the shift). The plan runs from today's midnight so today's shift is its first round, the
    // round on the patrol's phone; the office's periodic task opens the next ones, and the
    // compliance grid judges them.
    let plan = crate::patrols::NewPlan {
        name: "东区日常巡检".into(),
        route_id: route.id,
        shifts: vec![crate::patrols::Shift {
            starts_at: NaiveTime::from_hms_opt(8, 0, 0).expect("08:00"),
            hours: 12,
            assignee: id("chenjun"),
        }],
        // The pipeline segment's once-a-day round would start at midnight, outside the day
        // shift, and never be expected: twice a day makes its 12:00 round the shift's.
        intervals: [("pl-jianshe".to_owned(), 720)].into(),
        active_from: None,
        active_until: None,
        utc_offset_minutes: Some(8 * 60),
    }
    .validate(&route, today_at(now, 0, 0).min(now))?;
    let plan = store.create_plan(plan)?;
    let (start, end) = (today_at(now, 8, 0), today_at(now, 20, 0));
    let round = crate::patrols::round_job(&plan, &route, start, end, id("chenjun"));
    store.open_round(plan.id, start, round, now)?;
    store.upsert_outage(
        OutageNotice {
            id: Uuid::now_v7(),
            area: "滨河小区1-8号楼".into(),
            reason: "二次管网漏水抢修，临时停热".into(),
            starts_at: now - Duration::hours(1),
            expected_restore_at: now + Duration::hours(5),
        },
        now,
    )?;
    // The demo company's own details: the field app fills them into the standard phrases.
    crate::api::company::save_company_profile(
        store,
        &heatcrew_protocol::sync::CompanyProfile {
            name: "滨河热力公司".into(),
            hotline: "0531-96069".into(),
        },
    )?;
    store.set_meta(DEMO_USERS_KEY, &created.join(","))?;
    store.set_meta(SEEDED_KEY, &now.to_rfc3339())?;
    Ok(demo_logins(created.iter().map(String::as_str)))
}

fn demo_logins<'a>(usernames: impl Iterator<Item = &'a str>) -> Vec<DemoLogin> {
    let wanted: Vec<&str> = usernames.collect();
    logins()
        .into_iter()
        .filter(|l| wanted.contains(&l.username.as_str()))
        .collect()
}
