//! The one font the office's PDFs are set in: read from a file on the office machine (by default
//! Debian's `fonts-noto-cjk`, [`DEFAULT_FONT`]), once per path and process, and measured here so
//! lines can be wrapped. The PDF embeds only the glyphs a document uses (krilla subsets the font),
//! so a summary of a few pages carries tens of kilobytes of font, not the 19 MB file.

use skrifa::instance::{LocationRef, Size};
use skrifa::raw::FileRef;
use skrifa::{FontRef, MetadataProvider, string::StringId};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Where Debian's `fonts-noto-cjk` puts Noto Sans CJK (all its faces in one collection).
pub const DEFAULT_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

/// The face of a collection the office prefers: Simplified Chinese glyph forms.
const PREFERRED_FAMILY: &str = "Noto Sans CJK SC";

#[derive(Debug, Clone, thiserror::Error)]
pub enum FontError {
    #[error("the PDF font {path} cannot be read: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} is not a font file krilla can embed")]
    NotAFont { path: PathBuf },
    #[error("the PDF font {path} has no glyphs for Chinese (如 “工单”): choose a CJK font")]
    NoChinese { path: PathBuf },
}

/// A loaded font: its bytes, which face of a collection, and krilla's handle on it.
#[derive(Clone)]
pub struct PdfFont {
    data: Arc<Vec<u8>>,
    index: u32,
    family: String,
    pub(super) krilla: krilla::text::Font,
}

impl std::fmt::Debug for PdfFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PdfFont")
            .field("family", &self.family)
            .field("index", &self.index)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl PdfFont {
    /// The font at `path`, read once per process (later calls share the bytes). A collection
    /// (`.ttc`) is searched for [`PREFERRED_FAMILY`], else its first face is used. A font that
    /// cannot show Chinese is refused: the documents are in Chinese first.
    pub fn load(path: &Path) -> Result<PdfFont, FontError> {
        static CACHE: OnceLock<Mutex<HashMap<PathBuf, Result<PdfFont, FontError>>>> =
            OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(path.to_path_buf())
            .or_insert_with(|| Self::read(path))
            .clone()
    }

    fn read(path: &Path) -> Result<PdfFont, FontError> {
        let bytes = std::fs::read(path).map_err(|e| FontError::Read {
            path: path.into(),
            reason: e.to_string(),
        })?;
        Self::from_bytes(bytes, path)
    }

    /// A font from its bytes (`path` only names it in errors).
    pub fn from_bytes(bytes: Vec<u8>, path: &Path) -> Result<PdfFont, FontError> {
        let not_a_font = || FontError::NotAFont { path: path.into() };
        let faces: Vec<(u32, String)> = match FileRef::new(&bytes).map_err(|_| not_a_font())? {
            FileRef::Font(f) => vec![(0, family(&f))],
            FileRef::Collection(c) => (0..c.len())
                .filter_map(|i| c.get(i).ok().map(|f| (i, family(&f))))
                .collect(),
        };
        let (index, family) = faces
            .iter()
            .find(|(_, fam)| fam == PREFERRED_FAMILY)
            .or(faces.first())
            .cloned()
            .ok_or_else(not_a_font)?;
        let data = Arc::new(bytes);
        let krilla = krilla::text::Font::new(krilla::Data::from(data.clone()), index)
            .ok_or_else(not_a_font)?;
        let font = PdfFont {
            data,
            index,
            family,
            krilla,
        };
        if !"工单".chars().all(|c| font.has(c)) {
            return Err(FontError::NoChinese { path: path.into() });
        }
        Ok(font)
    }

    /// The face's family name (`Noto Sans CJK SC`).
    pub fn family(&self) -> &str {
        &self.family
    }

    fn face(&self) -> FontRef<'_> {
        FontRef::from_index(&self.data, self.index).expect("checked when loaded")
    }

    /// Whether the font has a glyph for `c`.
    pub fn has(&self, c: char) -> bool {
        self.face().charmap().map(c).is_some()
    }

    /// The advance of each character in `text` at 1 pt (multiply by the size).
    pub fn advances(&self, text: &str) -> Vec<f32> {
        let face = self.face();
        let charmap = face.charmap();
        let metrics = face.glyph_metrics(Size::new(1.0), LocationRef::default());
        text.chars()
            .map(|c| {
                charmap
                    .map(c)
                    .and_then(|g| metrics.advance_width(g))
                    .unwrap_or(0.5)
            })
            .collect()
    }
}

fn family(font: &FontRef<'_>) -> String {
    font.localized_strings(StringId::FAMILY_NAME)
        .english_or_first()
        .map(|s| s.to_string())
        .unwrap_or_default()
}
