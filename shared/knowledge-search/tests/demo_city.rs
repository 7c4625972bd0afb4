//! The demo city's knowledge base through the real index: the residents'
//! phrasings find their article, and each reader finds only what they may.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use citydesk_core::catalogue::{Catalogue, CatalogueDocument};
use citydesk_core::knowledge::{ArticleId, ArticleStatus, KnowledgeBase, Reader};
use citydesk_core::language::Language;
use citydesk_core::ports::KnowledgeIndex;
use citydesk_knowledge_search::ArticleIndex;

const CITY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/demo-city");

fn demo_kb() -> KnowledgeBase {
    let catalogue = Catalogue::new(
        CatalogueDocument::from_sources(
            &std::fs::read_to_string(format!("{CITY}/catalogue.toml")).unwrap(),
            &std::fs::read_to_string(format!("{CITY}/districts.geojson")).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let files: Vec<(String, String)> = std::fs::read_dir(format!("{CITY}/kb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    KnowledgeBase::from_files(
        &catalogue,
        files.iter().map(|(n, t)| (n.as_str(), t.as_str())),
    )
    .unwrap()
}

#[derive(serde::Deserialize)]
struct Phrasings {
    phrasing: Vec<Phrasing>,
}

#[derive(serde::Deserialize)]
struct Phrasing {
    q: String,
    lang: String,
    expected: String,
}

#[test]
fn residents_phrasings_find_their_article_in_the_top_three() {
    let kb = demo_kb();
    let index = ArticleIndex::build(&kb).unwrap();
    let phrasings: Phrasings =
        toml::from_str(&std::fs::read_to_string(format!("{CITY}/kb-phrasings.toml")).unwrap())
            .unwrap();
    assert_eq!(phrasings.phrasing.len(), 40);
    let mut misses = Vec::new();
    for p in &phrasings.phrasing {
        let language = Language::parse(&p.lang).unwrap();
        let found = index.search(&p.q, language, Reader::Public, 3).unwrap();
        if !found.iter().any(|id| id.as_str() == p.expected) {
            misses.push(format!("{:?} → {found:?}, expected {}", p.q, p.expected));
        }
    }
    let hits = phrasings.phrasing.len() - misses.len();
    assert!(
        hits * 10 >= phrasings.phrasing.len() * 9,
        "{hits}/40 in the top 3; misses:\n{}",
        misses.join("\n")
    );
}

#[test]
fn drafts_are_found_by_staff_only_and_retired_articles_by_nobody() {
    let kb = demo_kb();
    let index = ArticleIndex::build(&kb).unwrap();
    for (status, public, staff) in [
        (ArticleStatus::Draft, false, true),
        (ArticleStatus::Retired, false, false),
    ] {
        let article = kb
            .articles
            .values()
            .find(|a| a.status == status)
            .expect("the demo city has one of each");
        let title = &article.text(Language::Pl).title;
        let finds = |reader| {
            index
                .search(title, Language::Pl, reader, 5)
                .unwrap()
                .contains(&article.id)
        };
        assert_eq!(finds(Reader::Public), public, "{status:?} for the public");
        assert_eq!(finds(Reader::Staff), staff, "{status:?} for staff");
    }
}

#[test]
fn an_empty_or_stop_word_query_finds_nothing_and_english_finds_english() {
    let index = ArticleIndex::build(&demo_kb()).unwrap();
    assert!(
        index
            .search("", Language::Pl, Reader::Public, 3)
            .unwrap()
            .is_empty()
    );
    assert!(
        index
            .search("jak i w", Language::Pl, Reader::Public, 3)
            .unwrap()
            .is_empty()
    );
    let found = index
        .search("register my dog", Language::En, Reader::Public, 3)
        .unwrap();
    assert_eq!(
        found.first(),
        Some(&ArticleId::parse("dog-registration").unwrap())
    );
}
