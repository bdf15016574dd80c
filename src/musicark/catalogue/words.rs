//! The word lists and the genre table the generator draws from: one `CultureSpec` per language
//! community, parsed once into a `Lexicon`.

use super::generate::Rng;

pub(super) struct Genre {
    pub(super) name: &'static str,
    pub(super) bpm_lo: u64,
    pub(super) bpm_hi: u64,
    /// Probability that a song has vocals.
    pub(super) vocals: f64,
    pub(super) acoustic: f64,
    pub(super) instruments: &'static str,
}

const fn genre(
    name: &'static str,
    bpm: (u64, u64),
    vocals: f64,
    acoustic: f64,
    instruments: &'static str,
) -> Genre {
    Genre {
        name,
        bpm_lo: bpm.0,
        bpm_hi: bpm.1,
        vocals,
        acoustic,
        instruments,
    }
}

/// Tempo ranges are wide enough that every tempo feel and marking occurs.
#[rustfmt::skip]
pub(super) const GENRES: [Genre; 42] = [
    genre("pop", (90, 135), 0.95, 0.3, "synthesizer|drum machine|bass|electric guitar|piano|strings"),
    genre("ambient", (48, 90), 0.15, 0.3, "synthesizer|pads|field recordings|piano|drones|tape loops"),
    genre("classical", (50, 176), 0.1, 0.95, "strings|piano|woodwinds|brass|harp|timpani|choir"),
    genre("jazz", (58, 200), 0.35, 0.85, "piano|double bass|drums|saxophone|trumpet|guitar|vibraphone"),
    genre("blues", (60, 130), 0.85, 0.7, "electric guitar|harmonica|bass|drums|piano|organ"),
    genre("soul", (62, 115), 0.95, 0.5, "bass|drums|organ|horns|strings|electric guitar"),
    genre("r&b", (60, 110), 0.95, 0.3, "drum machine|bass|synthesizer|electric piano|strings"),
    genre("hip hop", (70, 100), 0.95, 0.15, "drum machine|sampler|bass|turntables|synthesizer"),
    genre("lo-fi", (60, 92), 0.2, 0.4, "sampler|electric piano|vinyl crackle|bass|drum machine"),
    genre("ballad", (58, 90), 0.95, 0.6, "piano|strings|acoustic guitar|bass|drums"),
    genre("folk", (70, 150), 0.85, 0.9, "acoustic guitar|fiddle|banjo|mandolin|accordion|upright bass"),
    genre("country", (75, 150), 0.95, 0.7, "acoustic guitar|pedal steel|fiddle|bass|drums|banjo"),
    genre("indie rock", (95, 165), 0.9, 0.45, "electric guitar|bass|drums|synthesizer|tambourine"),
    genre("funk", (92, 122), 0.8, 0.4, "bass|electric guitar|drums|horns|clavinet|congas"),
    genre("disco", (110, 132), 0.9, 0.35, "bass|strings|drums|electric guitar|horns|synthesizer"),
    genre("house", (118, 130), 0.5, 0.1, "drum machine|synthesizer|bass|piano|sampler"),
    genre("techno", (124, 145), 0.1, 0.05, "drum machine|synthesizer|modular synth|sampler"),
    genre("trance", (128, 150), 0.3, 0.05, "synthesizer|pads|drum machine|arpeggiator"),
    genre("drum and bass", (160, 180), 0.4, 0.1, "breakbeats|bass|synthesizer|sampler|pads"),
    genre("punk", (150, 210), 0.95, 0.35, "electric guitar|bass|drums"),
    genre("metal", (90, 220), 0.85, 0.2, "electric guitar|bass|drums|double kick|synthesizer"),
    genre("hardcore", (180, 220), 0.9, 0.2, "electric guitar|bass|drums"),
    genre("latin pop", (90, 130), 0.95, 0.4, "guitar|percussion|bass|synthesizer|horns"),
    genre("reggaeton", (88, 100), 0.95, 0.15, "drum machine|bass|synthesizer|sampler"),
    genre("cumbia", (85, 115), 0.85, 0.6, "accordion|guacharaca|bass|percussion|guitar"),
    genre("flamenco", (90, 180), 0.8, 0.95, "flamenco guitar|cajón|palmas|bass"),
    genre("bolero", (60, 100), 0.95, 0.85, "guitar|requinto|maracas|bass|piano"),
    genre("chanson", (60, 130), 0.95, 0.75, "accordion|piano|guitar|strings|bass"),
    genre("bossa nova", (60, 140), 0.85, 0.9, "nylon guitar|double bass|brushes|flute|piano"),
    genre("samba", (90, 140), 0.8, 0.8, "cavaquinho|surdo|pandeiro|guitar|brass"),
    genre("fado", (55, 110), 0.95, 0.95, "portuguese guitar|classical guitar|bass"),
    genre("rebetiko", (60, 130), 0.9, 0.9, "bouzouki|baglamas|guitar|accordion"),
    genre("laiko", (70, 140), 0.95, 0.6, "bouzouki|synthesizer|bass|drums"),
    genre("tarab", (50, 120), 0.95, 0.85, "oud|qanun|violin|riq|ney"),
    genre("raï", (90, 130), 0.95, 0.4, "synthesizer|darbuka|bass|accordion"),
    genre("k-pop", (95, 150), 0.95, 0.15, "synthesizer|drum machine|bass|strings|sampler"),
    genre("j-pop", (100, 180), 0.95, 0.3, "synthesizer|electric guitar|bass|drums|piano"),
    genre("city pop", (88, 124), 0.9, 0.35, "electric piano|bass|electric guitar|drums|horns|synthesizer"),
    genre("c-pop", (70, 130), 0.95, 0.4, "piano|strings|synthesizer|bass|drums|erhu"),
    genre("bollywood", (80, 150), 0.95, 0.4, "tabla|sitar|strings|synthesizer|dholak|bass"),
    genre("ghazal", (50, 100), 0.95, 0.9, "harmonium|tabla|sarangi|santoor"),
    genre("krautrock", (100, 150), 0.4, 0.3, "motorik drums|bass|synthesizer|electric guitar|organ"),
];

pub(super) const CALM_ACTIVITIES: [&str; 6] = [
    "relaxing",
    "studying",
    "reading",
    "sleeping",
    "meditation",
    "dinner",
];
pub(super) const MID_ACTIVITIES: [&str; 6] = [
    "driving",
    "cooking",
    "working",
    "commuting",
    "road trip",
    "gaming",
];
pub(super) const LIVELY_ACTIVITIES: [&str; 6] =
    ["dancing", "running", "workout", "partying", "driving", "cleaning"];
pub(super) const TIMES: [&str; 5] = ["morning", "afternoon", "evening", "night", "late night"];
pub(super) const SOCIAL: [&str; 5] = ["solo", "duo", "small group", "party", "crowd"];

/// A language community's words. Lists are `|`-separated; templates use `{N}`/`{M}` noun,
/// `{J}` adjective, `{F}` first name, `{L}` last name, `{V}` English verb phrase, `{P}` place,
/// `{X}` an upper-case English "adjective noun" (as K-pop and J-pop acts style themselves).
pub(super) struct CultureSpec {
    pub(super) lang: &'static str,
    pub(super) weight: u32,
    pub(super) first: &'static str,
    pub(super) last: &'static str,
    pub(super) nouns: &'static str,
    pub(super) adjs: &'static str,
    pub(super) titles: &'static str,
    pub(super) artists: &'static str,
    /// `CC:City` pairs.
    pub(super) cities: &'static str,
    pub(super) genres: &'static str,
}

pub(super) struct Culture {
    pub(super) lang: &'static str,
    pub(super) weight: u32,
    pub(super) first: Vec<&'static str>,
    pub(super) last: Vec<&'static str>,
    pub(super) nouns: Vec<&'static str>,
    pub(super) adjs: Vec<&'static str>,
    pub(super) titles: Vec<&'static str>,
    pub(super) artists: Vec<&'static str>,
    pub(super) cities: Vec<(&'static str, &'static str)>,
    pub(super) genres: Vec<usize>,
}

pub(super) struct Lexicon {
    pub(super) cultures: Vec<Culture>,
    pub(super) verbs: Vec<&'static str>,
    pub(super) places: Vec<&'static str>,
    pub(super) suffixes: Vec<&'static str>,
    pub(super) themes: Vec<&'static str>,
    pub(super) imagery: Vec<&'static str>,
    pub(super) arcs: Vec<&'static str>,
    pub(super) perspectives: Vec<&'static str>,
    pub(super) settings: Vec<&'static str>,
    pub(super) genre_names: Vec<&'static str>,
    /// `GENRES[i].instruments`, split.
    pub(super) instruments: Vec<Vec<&'static str>>,
}

pub(super) fn list(words: &'static str) -> Vec<&'static str> {
    words.split('|').filter(|w| !w.is_empty()).collect()
}

impl Lexicon {
    pub(super) fn new() -> Self {
        let cultures = CULTURES
            .iter()
            .map(|c| Culture {
                lang: c.lang,
                weight: c.weight,
                first: list(c.first),
                last: list(c.last),
                nouns: list(c.nouns),
                adjs: list(c.adjs),
                titles: list(c.titles),
                artists: list(c.artists),
                cities: list(c.cities)
                    .into_iter()
                    .filter_map(|pair| pair.split_once(':'))
                    .collect(),
                genres: list(c.genres)
                    .into_iter()
                    .map(|name| GENRES.iter().position(|g| g.name == name).unwrap_or(0))
                    .collect(),
            })
            .collect();
        Lexicon {
            cultures,
            verbs: list(EN_VERBS),
            places: list(PLACES),
            suffixes: list(
                " (Remix)| (Live)| (Acoustic)| (Reprise)| Pt. II| (Demo)| (Radio Edit)| (Night Version)",
            ),
            themes: list(THEMES),
            imagery: list(IMAGERY),
            arcs: list(
                "rise|fall|journey|homecoming|farewell|awakening|reunion|standstill|transformation|chase",
            ),
            perspectives: list("first person|second person|third person|collective voice"),
            settings: list(SETTINGS),
            genre_names: GENRES.iter().map(|g| g.name).collect(),
            instruments: GENRES.iter().map(|g| list(g.instruments)).collect(),
        }
    }

    pub(super) fn culture_index(&self, rng: &mut Rng) -> usize {
        let total: u32 = self.cultures.iter().map(|c| c.weight).sum();
        let mut ticket = rng.int(0, u64::from(total.max(1)) - 1) as u32;
        for (i, c) in self.cultures.iter().enumerate() {
            if ticket < c.weight {
                return i;
            }
            ticket -= c.weight;
        }
        0
    }

    pub(super) fn title(&self, rng: &mut Rng, c: &Culture) -> String {
        let template = rng.word(&c.titles);
        let mut title = self.fill(rng, c, template);
        if rng.chance(0.08) {
            title.push_str(rng.word(&self.suffixes));
        }
        title
    }

    pub(super) fn fill(&self, rng: &mut Rng, c: &Culture, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 24);
        let mut chars = template.chars();
        while let Some(ch) = chars.next() {
            if ch != '{' {
                out.push(ch);
                continue;
            }
            let key = chars.next();
            chars.next(); // the closing brace
            match key {
                Some('N' | 'M') => out.push_str(rng.word(&c.nouns)),
                Some('J') => out.push_str(rng.word(&c.adjs)),
                Some('F') => out.push_str(rng.word(&c.first)),
                Some('L') => out.push_str(rng.word(&c.last)),
                Some('V') => out.push_str(rng.word(&self.verbs)),
                Some('P') => out.push_str(rng.word(&self.places)),
                Some('X') => {
                    let english = &self.cultures[0];
                    let (adj, noun) = (rng.word(&english.adjs), rng.word(&english.nouns));
                    out.push_str(&format!("{adj} {noun}").to_uppercase());
                }
                _ => {}
            }
        }
        out
    }
}

const EN_VERBS: &str = "Stop|Leave|Go|Break My Heart|Wake Me Up|Look Back|Forget|Cry|Fade Away|Run|Wait|Lie|\
    Say Goodbye|Give Up|Fall|Hide|Change|Let Go|Stop the Music|Tell Me Why|Call Me|Look Down|Think Twice";
const PLACES: &str = "Paris|Tokyo|Berlin|Lagos|São Paulo|Reykjavík|Montréal|Zürich|Kraków|İstanbul|Malmö|\
    Bogotá|Havana|Lisbon|Marrakech|Seoul|Mumbai|Athens|Cairo|Nashville|Memphis|Brooklyn|Kyoto|Napoli|Köln|\
    Curaçao|Córdoba|Asunción|Detroit|Kingston";
const THEMES: &str = "love|loss|freedom|nostalgia|rebellion|hope|heartbreak|escape|friendship|identity|\
    longing|celebration|solitude|redemption|desire|memory|ambition|home|the city|the sea";
const IMAGERY: &str = "city lights|ocean waves|empty streets|neon signs|summer rain|a starry sky|\
    burning bridges|open roads|falling leaves|morning coffee|desert highways|midnight trains|candlelight|\
    snowfall|broken glass|wildflowers|a full moon|smoke and mirrors";
const SETTINGS: &str = "city streets|beach|nightclub|bedroom|open road|forest|rooftop|coffee shop|\
    concert hall|desert|subway|kitchen|festival field|lakeside|harbour|mountain cabin";

/// The first culture must be English: `{X}` borrows its words.
pub(super) const CULTURES: [CultureSpec; 13] = [
    CultureSpec {
        lang: "en",
        weight: 52,
        first: "James|Mary|Olivia|Liam|Noah|Ava|Mia|Ethan|Lucas|Chloe|Zoë|Maya|Leo|Ruby|Oscar|Hazel|Felix|\
            Iris|Jude|Nora|Miles|Ivy|Otis|June|Theo|Stella|Wren|Callum|Niamh|Chidi|Amara|Tobi|Renée",
        last: "Carter|Hayes|Brooks|Walker|Reed|Parker|Quinn|Ellis|Sloane|Harper|Vance|Monroe|Fox|Hale|Blake|\
            O'Connor|O'Neill|Winters|Summers|Gray|Stone|Rivers|Knight|Bishop|Fairweather|Adeyemi|Okafor|\
            Bell",
        nouns: "Love|Love|Love|Night|Night|Night|Heart|Dream|Fire|Rain|River|Ocean|Moon|Sun|Star|Sky|City|\
            Road|Highway|Garden|Bloom|Flower|Rose|Shadow|Light|Mirror|Window|Door|Letter|Song|Echo|Wave|\
            Storm|Thunder|Summer|Winter|Morning|Evening|Midnight|Memory|Promise|Secret|Ghost|Angel|Devil|\
            Kiss|Heartbeat|Horizon|Island|Desert|Forest|Mountain|Valley|Harbor|Station|Train|Satellite|\
            Signal|Radio|Engine|Machine|Paradise|Heaven|Gravity|Orbit|Comet|Galaxy|Planet|Diamond|Gold|\
            Silver|Glass|Stone|Feather|Thread|Ribbon|Lantern|Candle|Smoke|Ash|Dust|Snow|Ice|Tide|Bridge|\
            Tower|Castle|Crown|Kingdom|Empire|Rebel|Runaway|Stranger|Lover|Friend|Sister|Brother|Queen|King|\
            Wolf|Tiger|Fox|Swan|Butterfly|Honey|Sugar|Wine|Whiskey|Coffee|Café|Dance|Party|Disco|Street|\
            Avenue|Boulevard|Rooftop|Motel|Casino|Arcade|Cinema|Carnival|Parade|Festival|Sunset|Sunrise|\
            Twilight|Daylight|Moonlight|Starlight|Lightning|Rainbow|Autumn",
        adjs: "Golden|Silver|Neon|Electric|Velvet|Broken|Endless|Midnight|Summer|Winter|Wild|Quiet|Burning|\
            Hollow|Paper|Crystal|Faded|Hidden|Lonely|Restless|Distant|Secret|Sweet|Bitter|Blue|Crimson|\
            Violet|Amber|Scarlet|Emerald|Silent|Dancing|Falling|Rising|Lost|Sacred|Tender|Heavy|Little|Last|\
            First|Northern|Southern|Lucky|Honest|Gentle|Savage|Frozen|Liquid|Cosmic|Analog|Digital|Stolen|\
            Perfect|Strange|Wicked|Brave|Deep|Bright|Dark|Soft|Loud|Slow|Early|Late|Open|Empty|Naïve",
        titles: "{J} {N}|{J} {N}|{J} {N}|The {J} {N}|{N} of {M}|{N} in the {M}|Don't {V}|Don't {V} in {P}|\
            {N} Tonight|Love Is a {J} {N}|Rock 'n' Roll {N}|{N} at Midnight|Another {J} Night|We Were {J}|\
            Café {P}|Ain't No {N}|{P} {N}|{N} & {M}|Night {N}|{J} Love|My {J} {N}|{N}|Love in {P}|{J} Nights|\
            I'm Not Your {N}|{N} Bloom|Señor {N}|{F}'s {N}",
        artists: "{F} {L}|{F} {L}|{F} {L}|The {J} {N}s|{N} Club|DJ {F}|{F} & the {N}s|{J} {N}|\
            {P} Sound System|{F} {L} Trio|{L} & {L}",
        cities: "GB:London|GB:Manchester|US:Nashville|US:Memphis|US:Detroit|US:Chicago|US:Brooklyn|\
            US:Los Angeles|AU:Melbourne|CA:Toronto|IE:Dublin|NG:Lagos|JM:Kingston|NZ:Auckland",
        genres: "pop|indie rock|hip hop|r&b|soul|folk|country|house|techno|drum and bass|punk|metal|ambient|\
            jazz|blues|funk|disco|lo-fi|trance|hardcore|ballad|classical",
    },
    CultureSpec {
        lang: "es",
        weight: 8,
        first: "José|María|Lucía|Sofía|Mateo|Diego|Valentina|Camila|Joaquín|Inés|Andrés|Ramón|Begoña|Íñigo|\
            Nuria|Alejandro|Mónica",
        last: "García|Fernández|López|Martínez|Sánchez|Pérez|Gómez|Núñez|Muñoz|Ibáñez|Peña|Ortega|Castillo|\
            Rivas|Cortés",
        nouns: "Amor|Amor|Noche|Noche|Corazón|Luna|Sol|Mar|Cielo|Fuego|Lluvia|Sueño|Canción|Camino|Ciudad|\
            Flor|Estrella|Tierra|Río|Alma|Vida|Fiesta|Calle|Ventana|Mañana|Verano|Invierno|Ñandú|Guitarra|\
            Baile|Tango|Bolero|Café|Madrugada|Desierto|Espejo|Silencio|Viento",
        adjs: "Azul|Gris|Feliz|Triste|Salvaje|Dulce|Verde|Libre|Rebelde|Tropical|Caliente|Brillante|Grande|\
            Breve|Fugaz",
        titles: "{N} {J}|{N} {J}|{N} de {M}|Mi {N}|Sin {N}|Noche de {N}|¿Dónde Está Mi {N}?|{N} y {M}|\
            Señor {N}|Amor {J}|Bajo la Luna de {P}|{N}|Canción para {F}|¡Ay, {N}!",
        artists: "{F} {L}|{F} {L}|{F} {L}|Los {N}s|{F} y los {N}s|DJ {F}",
        cities: "ES:Madrid|ES:Sevilla|ES:Barcelona|MX:Ciudad de México|AR:Buenos Aires|CO:Bogotá|\
            CU:La Habana|CL:Santiago|PE:Lima",
        genres: "latin pop|flamenco|cumbia|reggaeton|bolero|pop|indie rock|jazz",
    },
    CultureSpec {
        lang: "fr",
        weight: 5,
        first: "Amélie|Céline|Hélène|Zoé|Léa|Chloé|Théo|Jérôme|Étienne|François|Noël|Anaïs|Gaël|Loïc|Manon|\
            Clément",
        last: "Dubois|Lefèvre|Moreau|Girard|Bérard|Rousseau|Fontaine|Mercier|Chevalier|Lemaître|Faure|Benoît|\
            Delacroix",
        nouns: "Amour|Nuit|Nuit|Cœur|Rêve|Ciel|Mer|Soleil|Lune|Étoile|Pluie|Fleur|Chanson|Ville|Rue|Fenêtre|\
            Été|Hiver|Printemps|Automne|Café|Lumière|Ombre|Mémoire|Valse|Fête|Âme|Château|Forêt|Désir|\
            Minuit",
        adjs: "Rouge|Rose|Triste|Sauvage|Libre|Fragile|Tendre|Sombre|Calme|Étrange|Magique|Électrique|Jaune|\
            Mélancolique",
        titles: "{N} {J}|{N} {J}|{N} et {M}|Sans {N}|Toujours {N}|Café {J}|Je t'aime, {N}|C'est la {N}|\
            {N} de {P}|{N}|L'Amour {J}|Qu'est-ce que l'{N} ?",
        artists: "{F} {L}|{F} {L}|{F} {L}|Les {N}s|{F} {L} Quartet",
        cities: "FR:Paris|FR:Marseille|FR:Lyon|BE:Bruxelles|CA:Montréal|CH:Genève|SN:Dakar",
        genres: "chanson|pop|house|jazz|indie rock|classical",
    },
    CultureSpec {
        lang: "de",
        weight: 3,
        first: "Jürgen|Jörg|Björn|Lena|Jonas|Lukas|Hannah|Mia|Felix|Käthe|Sören|Anja|Günter|Maximilian",
        last: "Müller|Schäfer|Weiß|Böhm|Schröder|Köhler|Krüger|Fischer|Wagner|Becker|Hoffmann|Groß",
        nouns: "Liebe|Nacht|Herz|Traum|Himmel|Meer|Sonne|Mond|Stern|Regen|Straße|Stadt|Sommer|Winter|\
            Frühling|Feuer|Zeit|Welt|Wald|See|Lied|Tanz|Sehnsucht|Fernweh|Glück|Brücke|Mitternacht",
        adjs: "",
        titles: "{N} und {M}|Ohne {N}|Für immer {N}|{N} aus Glas|{N}|Nie wieder {N}|Über {P}|{N} in {P}",
        artists: "{F} {L}|{F} {L}|Die {N}|{L} & {L}",
        cities: "DE:Berlin|DE:Hamburg|DE:Köln|DE:München|AT:Wien|CH:Zürich|DE:Düsseldorf",
        genres: "techno|trance|krautrock|classical|metal|pop",
    },
    CultureSpec {
        lang: "pt",
        weight: 4,
        first: "João|Conceição|Antônio|Luíza|Thiago|Gonçalo|Inês|Beatriz|Caetano|Marília|Sebastião|Léo",
        last: "Gonçalves|Araújo|Simões|Magalhães|Brandão|Loureiro|Guimarães|Silva|Costa",
        nouns: "Amor|Noite|Noite|Coração|Saudade|Lua|Sol|Mar|Céu|Chuva|Canção|Cidade|Flor|Estrela|Vida|Alma|\
            Verão|Inverno|Janela|Caminho|Manhã|Maré|Sertão",
        adjs: "Azul|Triste|Feliz|Doce|Leve|Breve|Livre|Verde|Selvagem|Tropical",
        titles: "{N} {J}|{N} de {M}|Sem {N}|{N} e {M}|Saudade de {P}|{N}|Só {N}",
        artists: "{F} {L}|{F} {L}|{F}|Banda {N}",
        cities: "BR:São Paulo|BR:Rio de Janeiro|BR:Salvador|PT:Lisboa|PT:Porto|BR:Belo Horizonte|CV:Praia",
        genres: "bossa nova|samba|fado|pop|jazz",
    },
    CultureSpec {
        lang: "sv",
        weight: 2,
        first: "Åsa|Björn|Märta|Göran|Linnéa|Elin|Oskar|Saga|Nils|Ingrid|Axel|Stina|Måns",
        last: "Sjöberg|Åkesson|Öberg|Lindström|Nyström|Ekström|Holmqvist|Söderberg|Bergström",
        nouns: "Natt|Kärlek|Hjärta|Dröm|Himmel|Hav|Sol|Måne|Stjärna|Regn|Sommar|Vinter|Skog|Älv|Ö|Midsommar|\
            Ljus|Skugga",
        adjs: "Blå|Röd|Vit|Svart|Mörk|Stilla|Vild|Söt|Kall|Varm",
        titles: "{J} {N}|{N} och {M}|Utan {N}|{N}|{J} {N} i {P}",
        artists: "{F} {L}|{F} {L}|{J} {N}",
        cities: "SE:Stockholm|SE:Göteborg|SE:Malmö|NO:Oslo|FI:Helsinki|IS:Reykjavík|DK:København",
        genres: "pop|metal|folk|ambient|house",
    },
    CultureSpec {
        lang: "ja",
        weight: 6,
        first: "ひかり|美雨|陽菜|翔太|蓮|さくら|結衣|大輝|葵|悠真|あおい|ゆき",
        last: "星野|坂本|中村|高橋|山田|佐藤|藤原|松本|小林|森",
        nouns: "夜|恋|夢|桜|月|星|雨|海|空|風|光|影|花|東京|心|涙|夏|冬|ナイト|ラブ|メモリー|シティ|季節|約束",
        adjs: "",
        titles: "{N}の{M}|{N}の{M}|{N}と{M}|さよなら{N}|{N}|{N}のうた|真夜中の{N}|{N} Night|Love {N}|{N}の{M}の{N}",
        artists: "{L} {F}|{L}{F}|{L} {F}|{X}",
        cities: "JP:Tokyo|JP:Osaka|JP:Kyoto|JP:Fukuoka|JP:Sapporo",
        genres: "j-pop|city pop|ambient|metal|jazz|punk|classical",
    },
    CultureSpec {
        lang: "ru",
        weight: 4,
        first: "Ирина|Алексей|Наталья|Дмитрий|Ольга|Сергей|Анна|Михаил|Юлия|Артём|Ксения|Иван",
        last: "Шевченко|Бондаренко|Ковальчук|Мельник|Гордиенко|Лысенко|Ткаченко|Кравец",
        nouns: "Ночь|Любовь|Сердце|Мечта|Звезда|Луна|Солнце|Море|Небо|Дождь|Город|Река|Весна|Зима|Лето|Осень|\
            Ветер|Огонь|Сон|Песня",
        adjs: "",
        titles: "{N} и {M}|{N} и {M}|{N}|{N}, {M}|{N} (Ремикс)|Белая {N}|Тише, {N}",
        artists: "{F} {L}|{F} {L}|Группа «{N}»|{X}",
        cities: "RU:Moscow|RU:Saint Petersburg|RU:Novosibirsk|KZ:Almaty|BY:Minsk",
        genres: "pop|folk|classical|metal|techno",
    },
    CultureSpec {
        lang: "el",
        weight: 2,
        first: "Νίκος|Ελένη|Γιώργος|Μαρία|Κώστας|Δήμητρα|Άννα|Σπύρος|Ειρήνη|Γιάννης",
        last: "Οικονόμου|Αλεξίου|Ιωάννου|Γεωργίου|Δημητρίου|Νικολάου|Κωνσταντίνου",
        nouns: "Νύχτα|Αγάπη|Καρδιά|Όνειρο|Θάλασσα|Ήλιος|Φεγγάρι|Αστέρι|Βροχή|Πόλη|Καλοκαίρι|Χειμώνας|Άνεμος|\
            Φως|Σκιά|Τραγούδι",
        adjs: "",
        titles: "{N} και {M}|{N} και {M}|{N}|{N} μου|Ξανά {N}",
        artists: "{F} {L}|{F} {L}|{X}",
        cities: "GR:Athens|GR:Thessaloniki|CY:Nicosia|GR:Heraklion",
        genres: "rebetiko|laiko|pop|folk",
    },
    CultureSpec {
        lang: "ar",
        weight: 3,
        first: "ليلى|عمر|نور|يوسف|سلمى|كريم|هدى|رامي|مريم|زياد",
        last: "حداد|الخوري|منصور|عطية|ناصر|سليمان|الأمين|شاهين",
        nouns: "ليل|حب|قلب|حلم|بحر|شمس|قمر|نجمة|مطر|مدينة|صيف|شتاء|ريح|نور|ظل|أغنية",
        adjs: "",
        titles: "{N} و{M}|{N}|يا {N}|{N} {M}",
        artists: "{F} {L}|{F} {L}|{F}",
        cities: "LB:Beirut|EG:Cairo|MA:Casablanca|DZ:Oran|TN:Tunis|JO:Amman",
        genres: "tarab|raï|pop",
    },
    CultureSpec {
        lang: "ko",
        weight: 5,
        first: "하늘|지민|서연|민준|하은|도윤|수아|예준|유나",
        last: "김|이|박|최|정|강|윤|한",
        nouns: "밤|사랑|마음|꿈|바다|태양|달|별|비|도시|여름|겨울|바람|빛|그림자|노래",
        adjs: "",
        titles: "{N}의 {M}|{N}의 {M}|{N}|너의 {N}|{N}, {M}|{X}|{X}",
        artists: "{L}{F}|{L}{F}|{X}|{X}",
        cities: "KR:Seoul|KR:Busan|KR:Incheon|KR:Daegu",
        genres: "k-pop|r&b|hip hop|indie rock|ballad",
    },
    CultureSpec {
        lang: "zh",
        weight: 3,
        first: "小月|伟|芳|静|磊|婷|浩然|雨桐|子涵|思远",
        last: "王|李|张|刘|陈|杨|黄|周|林|吴",
        nouns: "夜|爱|心|梦|海|太阳|月亮|星|雨|城市|夏天|冬天|风|光|影|歌",
        adjs: "",
        titles: "{N}的{M}|{N}的{M}|{N}|{N}之歌|{N}与{M}|{N}{M}",
        artists: "{L}{F}|{L}{F}|{X}",
        cities: "CN:Beijing|CN:Shanghai|TW:Taipei|HK:Hong Kong|SG:Singapore|CN:Chengdu",
        genres: "c-pop|folk|classical|indie rock",
    },
    CultureSpec {
        lang: "hi",
        weight: 3,
        first: "आरव|अनन्या|विवान|दीया|कबीर|मीरा|रोहन|प्रिया|ईशा|अर्जुन",
        last: "शर्मा|वर्मा|पटेल|गुप्ता|सिंह|मेहता|राव|कपूर",
        nouns: "रात|प्यार|दिल|सपना|समंदर|सूरज|चाँद|तारा|बारिश|शहर|गर्मी|सर्दी|हवा|रोशनी|साया|गीत",
        adjs: "",
        titles: "{N} और {M}|{N} और {M}|{N}|{N} {M}|ओ {N}",
        artists: "{F} {L}|{F} {L}|{X}",
        cities: "IN:Mumbai|IN:Delhi|IN:Kolkata|IN:Bengaluru|IN:Chennai",
        genres: "bollywood|ghazal|classical|pop",
    },
];
