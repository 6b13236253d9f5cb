//! Printable documents the office makes: A4 pages of wrapped text in one embedded CJK font, with
//! JPEG pictures and thin rules, numbered at the foot. [`Layout`] places the content top to bottom
//! and starts a new page when one is full; [`Layout::finish`] writes the PDF with krilla.
//!
//! The bytes depend only on what was laid out: no creation date, no random id (krilla derives the
//! file id from the content), so the same data always gives the same PDF — a printed summary can be
//! compared with a newly made one. Used by the evidence bundle ([`summary`]); rectification notices
//! and service records are meant to reuse it.

pub mod font;
pub mod notice;
pub mod service_record;
pub mod summary;

pub use font::{DEFAULT_FONT, FontError, PdfFont};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Size, Transform};
use krilla::image::Image;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::TextDirection;
use std::collections::HashMap;

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 48.0;
const FOOT: f32 = 28.0;

/// Text sizes in points.
pub const TITLE: f32 = 16.0;
pub const HEADING: f32 = 12.0;
pub const BODY: f32 = 9.5;
pub const SMALL: f32 = 8.0;

const LINE: f32 = 1.45;
const LABEL_WIDTH: f32 = 118.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tone {
    Normal,
    /// Grey: labels, notes.
    Quiet,
    /// Red: something is wrong.
    Alarm,
}

impl Tone {
    fn color(self) -> rgb::Color {
        match self {
            Tone::Normal => rgb::Color::new(20, 20, 20),
            Tone::Quiet => rgb::Color::new(100, 100, 100),
            Tone::Alarm => rgb::Color::new(180, 20, 20),
        }
    }
}

/// One thing drawn on a page (y grows downwards, as in krilla).
#[derive(Debug, Clone)]
enum Item {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        tone: Tone,
        text: String,
    },
    Rule {
        y: f32,
    },
    Picture {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        image: Image,
    },
}

/// Lays content out on A4 pages.
pub struct Layout {
    font: PdfFont,
    title: String,
    footer: String,
    pages: Vec<Vec<Item>>,
    y: f32,
    widths: HashMap<char, f32>,
}

impl std::fmt::Debug for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layout")
            .field("title", &self.title)
            .field("pages", &self.pages.len())
            .finish_non_exhaustive()
    }
}

impl Layout {
    /// An empty document; `title` is the PDF's title, `footer` is printed at the foot of every
    /// page with the page number.
    pub fn new(font: PdfFont, title: &str, footer: &str) -> Layout {
        Layout {
            font,
            title: title.to_owned(),
            footer: footer.to_owned(),
            pages: vec![Vec::new()],
            y: MARGIN,
            widths: HashMap::new(),
        }
    }

    fn bottom() -> f32 {
        PAGE_HEIGHT - MARGIN - FOOT
    }

    fn content_width() -> f32 {
        PAGE_WIDTH - 2.0 * MARGIN
    }

    /// Start a new page unless `height` more fits on this one.
    pub fn keep(&mut self, height: f32) {
        if self.y + height > Self::bottom() && self.y > MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn push(&mut self, item: Item) {
        self.pages.last_mut().expect("a page").push(item);
    }

    /// Width of `text` at `size`.
    pub fn width(&mut self, text: &str, size: f32) -> f32 {
        let unknown: String = text
            .chars()
            .filter(|c| !self.widths.contains_key(c))
            .collect();
        if !unknown.is_empty() {
            for (c, w) in unknown.chars().zip(self.font.advances(&unknown)) {
                self.widths.insert(c, w);
            }
        }
        text.chars().map(|c| self.widths[&c]).sum::<f32>() * size
    }

    /// `text` broken into lines no wider than `width`: at a newline, after a space, or between
    /// two characters where one is CJK (written without spaces); a word longer than a line is cut.
    pub fn wrap(&mut self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let chars: Vec<char> = para.chars().collect();
            let mut start = 0;
            while start < chars.len() {
                let mut end = start;
                let mut used = 0.0;
                let mut last_break = None;
                while end < chars.len() {
                    let w = self.width(&chars[end].to_string(), size);
                    if used + w > width && end > start {
                        break;
                    }
                    used += w;
                    end += 1;
                    let next = chars.get(end);
                    if chars[end - 1] == ' '
                        || next.is_some_and(|n| wide(*n) || wide(chars[end - 1]))
                    {
                        last_break = Some(end);
                    }
                }
                if end < chars.len()
                    && let Some(b) = last_break
                {
                    end = b;
                }
                lines.push(
                    chars[start..end]
                        .iter()
                        .collect::<String>()
                        .trim_end()
                        .to_owned(),
                );
                start = end;
                while chars.get(start) == Some(&' ') {
                    start += 1;
                }
            }
            if chars.is_empty() {
                lines.push(String::new());
            }
        }
        lines
    }

    fn lines_at(&mut self, x: f32, lines: &[String], size: f32, tone: Tone) {
        for line in lines {
            let height = size * LINE;
            self.keep(height);
            self.y += height;
            if !line.is_empty() {
                self.push(Item::Text {
                    x,
                    baseline: self.y - size * 0.3,
                    size,
                    tone,
                    text: line.clone(),
                });
            }
        }
    }

    /// A paragraph across the page.
    pub fn text(&mut self, text: &str, size: f32, tone: Tone) {
        let lines = self.wrap(text, size, Self::content_width());
        self.lines_at(MARGIN, &lines, size, tone);
    }

    /// The document's title line.
    pub fn title(&mut self, text: &str) {
        self.text(text, TITLE, Tone::Normal);
        self.space(4.0);
    }

    /// A section heading with a rule under it, kept on the page with at least two lines after it.
    pub fn heading(&mut self, text: &str) {
        self.space(8.0);
        self.keep(HEADING * LINE + 4.0 + 2.0 * BODY * LINE);
        self.text(text, HEADING, Tone::Normal);
        let y = self.y + 1.5;
        self.push(Item::Rule { y });
        self.space(4.0);
    }

    /// A label and its value, the value wrapped beside the label.
    pub fn field(&mut self, label: &str, value: &str, tone: Tone) {
        let value_lines = self.wrap(value, BODY, Self::content_width() - LABEL_WIDTH);
        let label_lines = self.wrap(label, BODY, LABEL_WIDTH - 6.0);
        let rows = value_lines.len().max(label_lines.len());
        self.keep(rows as f32 * BODY * LINE);
        let top = self.y;
        self.lines_at(MARGIN, &label_lines, BODY, Tone::Quiet);
        let after_label = self.y;
        self.y = top;
        self.lines_at(MARGIN + LABEL_WIDTH, &value_lines, BODY, tone);
        self.y = self.y.max(after_label);
    }

    /// A picture (a JPEG of `px_width`×`px_height`, fitted in `box_size` points) with lines of
    /// text beside it. A JPEG krilla cannot read is left out and the text stands alone.
    pub fn picture_with_text(
        &mut self,
        jpeg: Option<Vec<u8>>,
        box_size: f32,
        lines: &[(String, Tone)],
    ) {
        let image = jpeg.and_then(|b| Image::from_jpeg(krilla::Data::from(b), true).ok());
        let text_x = MARGIN + box_size + 10.0;
        let width = Self::content_width() - box_size - 10.0;
        let mut wrapped = Vec::new();
        for (line, tone) in lines {
            for l in self.wrap(line, BODY, width) {
                wrapped.push((l, *tone));
            }
        }
        let text_height = wrapped.len() as f32 * BODY * LINE;
        let (pw, ph) = match &image {
            Some(img) => {
                let (w, h) = img.size();
                let scale = (box_size / w.max(1) as f32).min(box_size / h.max(1) as f32);
                (w as f32 * scale, h as f32 * scale)
            }
            None => (0.0, 0.0),
        };
        self.keep(text_height.max(ph) + 6.0);
        let top = self.y;
        if let Some(image) = image {
            self.push(Item::Picture {
                x: MARGIN,
                y: top + 2.0,
                width: pw,
                height: ph,
                image,
            });
        }
        for (line, tone) in wrapped {
            self.lines_at(text_x, std::slice::from_ref(&line), BODY, tone);
        }
        self.y = self.y.max(top + ph + 2.0) + 6.0;
    }

    /// Vertical space.
    pub fn space(&mut self, points: f32) {
        self.y += points;
    }

    /// The PDF: every page drawn, numbered at the foot.
    pub fn finish(self) -> Result<Vec<u8>, String> {
        let mut doc = Document::new();
        doc.set_metadata(
            krilla::metadata::Metadata::new()
                .title(self.title.clone())
                .language("zh-CN".into())
                .creator("HeatCrew office".into()),
        );
        let total = self.pages.len();
        let font = self.font.krilla.clone();
        for (n, items) in self.pages.into_iter().enumerate() {
            let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or("page size")?;
            let mut page = doc.start_page_with(settings);
            let mut surface = page.surface();
            let foot = format!("{} · {}/{}", self.footer, n + 1, total);
            let foot_item = Item::Text {
                x: MARGIN,
                baseline: PAGE_HEIGHT - MARGIN + 8.0,
                size: SMALL,
                tone: Tone::Quiet,
                text: foot,
            };
            for item in items.iter().chain(std::iter::once(&foot_item)) {
                match item {
                    Item::Text {
                        x,
                        baseline,
                        size,
                        tone,
                        text,
                    } => {
                        surface.set_fill(Some(Fill {
                            paint: tone.color().into(),
                            ..Fill::default()
                        }));
                        surface.draw_text(
                            Point::from_xy(*x, *baseline),
                            font.clone(),
                            *size,
                            text,
                            false,
                            TextDirection::Auto,
                        );
                    }
                    Item::Rule { y } => {
                        let mut pb = PathBuilder::new();
                        pb.move_to(MARGIN, *y);
                        pb.line_to(PAGE_WIDTH - MARGIN, *y);
                        if let Some(path) = pb.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke {
                                paint: Tone::Quiet.color().into(),
                                width: 0.5,
                                ..Stroke::default()
                            }));
                            surface.draw_path(&path);
                            surface.set_stroke(None);
                        }
                    }
                    Item::Picture {
                        x,
                        y,
                        width,
                        height,
                        image,
                    } => {
                        if let Some(size) = Size::from_wh(*width, *height) {
                            surface.push_transform(&Transform::from_translate(*x, *y));
                            surface.draw_image(image.clone(), size);
                            surface.pop();
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        doc.finish().map_err(|e| format!("{e:?}"))
    }
}

/// A character of a script written without spaces between words (CJK and full-width forms).
fn wide(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn font() -> PdfFont {
        PdfFont::load(Path::new(DEFAULT_FONT)).expect("fonts-noto-cjk is installed (./dev)")
    }

    #[test]
    fn the_collection_gives_its_simplified_chinese_face() {
        assert_eq!(font().family(), "Noto Sans CJK SC");
    }

    #[test]
    fn a_file_that_is_no_font_or_is_missing_is_a_clear_error() {
        let err = PdfFont::from_bytes(b"not a font at all".to_vec(), Path::new("/x/bad.ttf"))
            .expect_err("garbage is refused");
        assert!(matches!(err, FontError::NotAFont { .. }), "{err}");
        let err = PdfFont::load(Path::new("/nonexistent/font.ttc")).expect_err("missing");
        assert!(
            err.to_string().contains("/nonexistent/font.ttc"),
            "the error names the file: {err}"
        );
    }

    #[test]
    fn lines_break_between_chinese_characters_and_at_spaces_never_past_the_width() {
        let mut l = Layout::new(font(), "t", "f");
        let width = 60.0;
        let lines = l.wrap("幸福小区3号楼2单元501室", BODY, width);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.concat(), "幸福小区3号楼2单元501室", "nothing lost");
        for line in &lines {
            assert!(l.width(line, BODY) <= width, "{line:?} fits");
        }
        let lines = l.wrap("the evidence holds here", BODY, 70.0);
        assert!(lines.len() > 1, "{lines:?}");
        for line in &lines {
            assert!(
                line.split(' ')
                    .all(|w| "the evidence holds here".split(' ').any(|x| x == w)),
                "words stay whole: {lines:?}"
            );
        }
        assert_eq!(l.wrap("一\n\n二", BODY, 400.0), ["一", "", "二"]);
        let long = "x".repeat(200);
        let lines = l.wrap(&long, BODY, 100.0);
        assert!(
            lines.len() > 1 && lines.concat() == long,
            "a long word is cut"
        );
    }

    #[test]
    fn the_same_layout_gives_the_same_bytes_and_other_text_other_bytes() {
        let make = |name: &str| {
            let mut l = Layout::new(font(), "标题", "页脚");
            l.title("上门服务证据摘要");
            l.heading("客户 / Customer");
            l.field("姓名 / Name", name, Tone::Normal);
            for i in 0..120 {
                l.text(&format!("第 {i} 行 / line {i}"), BODY, Tone::Quiet);
            }
            assert!(l.pages.len() >= 2, "a full page starts the next");
            l.finish().expect("a PDF")
        };
        let (a, b) = (make("王秀英"), make("王秀英"));
        assert!(a.starts_with(b"%PDF-"));
        assert!(a == b, "byte-for-byte the same");
        assert!(make("王秀华") != a, "other text, other bytes");
        let text = String::from_utf8_lossy(&a);
        assert!(
            !text.contains("CreationDate") && !text.contains("ModDate"),
            "no dates in the file"
        );
    }
}
