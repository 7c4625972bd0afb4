//! `make bench-kb`: the knowledge base's search quality and speed on the
//! demo city, side by side for each way of matching (words only, then
//! adding typo tolerance, trigrams and the catalogue's synonyms): of the 40
//! phrasings residents would type (`infra/demo-city/kb-phrasings.toml`),
//! how many find their article first and in the top 3, the index's build
//! time and the query latency. Figures, not a test (the test
//! `shared/knowledge-search/tests/demo_city.rs` keeps the top 3 at 90 %).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use citydesk_core::knowledge::Reader;
use citydesk_core::language::Language;
use citydesk_core::ports::KnowledgeIndex;
use citydesk_knowledge_search::{ArticleIndex, Matching};

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

/// Times each query is run for the latency figures.
const LATENCY_ROUNDS: usize = 50;

fn main() -> anyhow::Result<()> {
    let city = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../demo-city");
    let catalogue = citydesk_aws::city_publisher::read_city_folder(&city)?;
    let kb = citydesk_aws::knowledge::read_knowledge_folder(&city, &catalogue)?;
    let phrasings: Phrasings = toml::from_str(
        &std::fs::read_to_string(city.join("kb-phrasings.toml")).context("kb-phrasings.toml")?,
    )?;
    let n = phrasings.phrasing.len();
    println!(
        "knowledge base: {} articles, {n} phrasings (typos, no diacritics, inflected and colloquial forms)\n",
        kb.articles.len()
    );
    println!(
        "{:<34} {:>8} {:>8} {:>7} {:>11} {:>10} {:>10}",
        "matching", "top 1", "top 3", "MRR@3", "build (ms)", "p50 (µs)", "p99 (µs)"
    );
    let words_only = Matching {
        trigrams: false,
        fuzzy: false,
        service_keywords: false,
    };
    let variants = [
        ("folded words", words_only),
        (
            "+ one typo in words of 5+",
            Matching {
                fuzzy: true,
                ..words_only
            },
        ),
        (
            "+ trigrams",
            Matching {
                fuzzy: true,
                trigrams: true,
                ..words_only
            },
        ),
        ("+ catalogue synonyms (citydesk)", Matching::default()),
    ];
    let mut misses = Vec::new();
    for (name, matching) in variants {
        let started = Instant::now();
        let index = ArticleIndex::build_with(&kb, matching)?;
        let build_ms = started.elapsed().as_secs_f64() * 1000.0;
        let (mut top1, mut top3, mut rr) = (0, 0, 0.0);
        let mut latencies = Vec::new();
        misses.clear();
        for p in &phrasings.phrasing {
            let language = Language::parse(&p.lang).context("phrasing language")?;
            let found = index.search(&p.q, language, Reader::Public, 3)?;
            match found.iter().position(|id| id.as_str() == p.expected) {
                Some(rank) => {
                    top3 += 1;
                    top1 += usize::from(rank == 0);
                    rr += 1.0 / (rank as f64 + 1.0);
                }
                None => misses.push(format!(
                    "  {:?} ({}) → {:?}, expected {}",
                    p.q,
                    p.lang,
                    found.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
                    p.expected
                )),
            }
            for _ in 0..LATENCY_ROUNDS {
                let t = Instant::now();
                std::hint::black_box(index.search(&p.q, language, Reader::Public, 3)?);
                latencies.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        println!(
            "{name:<34} {:>8} {:>8} {:>7.3} {build_ms:>11.1} {:>10.0} {:>10.0}",
            format!("{top1}/{n}"),
            format!("{top3}/{n}"),
            rr / n as f64,
            at(0.5),
            at(0.99)
        );
    }
    println!("\nmisses of citydesk's matching (not in the top 3):");
    if misses.is_empty() {
        println!("  none");
    }
    for miss in &misses {
        println!("{miss}");
    }
    Ok(())
}
