//! Where generated units are: the real regions of the database, as places a unit can be registered at
//! (a county, or a township of it), with population-like weights so that big provinces and provincial
//! capitals get more units than small ones while every selected province gets some.

use dangjian_domain::{RegionCode, RegionLevel};
use dangjian_store::regions::Region;
use rand::Rng;
use std::collections::BTreeMap;

/// Rough weights per provincial-level unit: 2020 census population (millions), raised for the coastal
/// provinces and municipalities where the platform economy concentrates. The XPCC (66) is small.
const PROVINCE_WEIGHTS: [(&str, f64); 32] = [
    ("11", 35.0),
    ("12", 16.0),
    ("13", 70.0),
    ("14", 33.0),
    ("15", 22.0),
    ("21", 40.0),
    ("22", 22.0),
    ("23", 29.0),
    ("31", 40.0),
    ("32", 120.0),
    ("33", 100.0),
    ("34", 62.0),
    ("35", 50.0),
    ("36", 44.0),
    ("37", 115.0),
    ("41", 100.0),
    ("42", 65.0),
    ("43", 68.0),
    ("44", 190.0),
    ("45", 48.0),
    ("46", 10.0),
    ("50", 37.0),
    ("51", 92.0),
    ("52", 36.0),
    ("53", 44.0),
    ("54", 3.0),
    ("61", 40.0),
    ("62", 22.0),
    ("63", 5.5),
    ("64", 7.0),
    ("65", 22.0),
    ("66", 3.0),
];

/// Weight of a province not in the table (a region added by an administrator).
const DEFAULT_PROVINCE_WEIGHT: f64 = 5.0;

/// How steeply units concentrate in the first prefectures of a province (by code: the capital is
/// usually first) and in the first counties of a prefecture (urban districts come first).
const PREFECTURE_ZIPF: f64 = 0.9;
const COUNTY_ZIPF: f64 = 0.5;

/// Share of units registered at a township rather than at its county, where the county has townships.
const TOWNSHIP_SHARE: f64 = 0.65;

/// A place a unit can be registered at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub code: String,
    pub name: String,
    /// The county it is in (an index into [`Geography::counties`]).
    pub county: u32,
}

#[derive(Debug, Clone)]
pub struct County {
    pub code: String,
    pub name: String,
    pub prefecture: u32,
    /// The county itself as a place, when units can be registered at its code; codes ending in `00`
    /// (东莞 441900) parse as their prefecture, so units there go to its townships.
    pub own_place: Option<u32>,
    pub townships: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct Prefecture {
    pub province: u32,
    counties: Cumulative,
    weight: f64,
}

#[derive(Debug, Clone)]
pub struct Province {
    pub code: String,
    pub name: String,
    prefectures: Cumulative,
}

/// Indices with cumulative weights, for weighted choice by binary search.
#[derive(Debug, Clone, Default)]
struct Cumulative {
    items: Vec<u32>,
    bounds: Vec<f64>,
}

impl Cumulative {
    fn push(&mut self, item: u32, weight: f64) {
        let total = self.bounds.last().copied().unwrap_or(0.0) + weight;
        self.items.push(item);
        self.bounds.push(total);
    }

    fn pick(&self, rng: &mut impl Rng) -> Option<u32> {
        let total = *self.bounds.last()?;
        let x = rng.random::<f64>() * total;
        let i = self.bounds.partition_point(|&b| b <= x).min(self.items.len() - 1);
        Some(self.items[i])
    }
}

/// The selected provinces' places with their weights.
#[derive(Debug, Clone)]
pub struct Geography {
    pub places: Vec<Place>,
    pub counties: Vec<County>,
    pub prefectures: Vec<Prefecture>,
    pub provinces: Vec<Province>,
    province_choice: Cumulative,
}

/// The segments of a materialized path (`/66/6590/659001/` → `66`, `6590`, `659001`).
fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

fn province_weight(code: &str) -> f64 {
    PROVINCE_WEIGHTS.iter().find(|(c, _)| *c == code).map_or(DEFAULT_PROVINCE_WEIGHT, |(_, w)| *w)
}

impl Geography {
    /// The places of the provinces in `only` (every province when empty), from the regions table.
    /// Provinces are found by path, not by code, so the XPCC's cities (6590xx under 66) count as its own.
    pub fn from_regions(regions: &[Region], only: &[String]) -> anyhow::Result<Self> {
        let by_code: BTreeMap<&str, &Region> = regions.iter().map(|r| (r.code.as_str(), r)).collect();
        let selected = |province: &str| only.is_empty() || only.iter().any(|p| p == province);
        // County code → its townships, in code order.
        let mut townships: BTreeMap<&str, Vec<&Region>> = BTreeMap::new();
        for r in regions.iter().filter(|r| r.level == RegionLevel::Township) {
            if let Some(parent) = r.parent_code.as_deref() {
                townships.entry(parent).or_default().push(r);
            }
        }
        // Province → prefecture → counties, all in code order.
        let mut tree: BTreeMap<&str, BTreeMap<&str, Vec<&Region>>> = BTreeMap::new();
        for r in regions.iter().filter(|r| r.level == RegionLevel::County) {
            let segs = segments(&r.path);
            let (Some(province), Some(prefecture)) = (segs.first(), segs.get(segs.len().saturating_sub(2))) else {
                continue;
            };
            if selected(province) {
                tree.entry(province).or_default().entry(prefecture).or_default().push(r);
            }
        }
        let mut g = Geography {
            places: Vec::new(),
            counties: Vec::new(),
            prefectures: Vec::new(),
            provinces: Vec::new(),
            province_choice: Cumulative::default(),
        };
        for (province_code, prefectures) in tree {
            let province_index = g.provinces.len() as u32;
            let mut province = Province {
                code: province_code.to_owned(),
                name: by_code.get(province_code).map_or_else(|| province_code.to_owned(), |r| r.name.clone()),
                prefectures: Cumulative::default(),
            };
            for (rank, (_, counties)) in prefectures.into_iter().enumerate() {
                let prefecture_index = g.prefectures.len() as u32;
                let mut prefecture = Prefecture {
                    province: province_index,
                    counties: Cumulative::default(),
                    weight: 1.0 / ((rank + 1) as f64).powf(PREFECTURE_ZIPF),
                };
                for county in counties {
                    let county_index = g.counties.len() as u32;
                    let own_place = RegionCode::parse(&county.code).ok().filter(RegionCode::is_unit_level).map(|_| {
                        g.places.push(Place {
                            code: county.code.clone(),
                            name: county.name.clone(),
                            county: county_index,
                        });
                        (g.places.len() - 1) as u32
                    });
                    let mut town_places = Vec::new();
                    for t in townships.get(county.code.as_str()).into_iter().flatten() {
                        if RegionCode::parse(&t.code).is_ok_and(|c| c.is_unit_level()) {
                            g.places.push(Place { code: t.code.clone(), name: t.name.clone(), county: county_index });
                            town_places.push((g.places.len() - 1) as u32);
                        }
                    }
                    if own_place.is_none() && town_places.is_empty() {
                        continue;
                    }
                    let rank = prefecture.counties.items.len();
                    let weight = 1.0 / ((rank + 1) as f64).powf(COUNTY_ZIPF);
                    prefecture.counties.push(county_index, weight);
                    g.counties.push(County {
                        code: county.code.clone(),
                        name: county.name.clone(),
                        prefecture: prefecture_index,
                        own_place,
                        townships: town_places,
                    });
                }
                if prefecture.counties.items.is_empty() {
                    continue;
                }
                province.prefectures.push(prefecture_index, prefecture.weight);
                g.prefectures.push(prefecture);
            }
            if province.prefectures.items.is_empty() {
                continue;
            }
            g.province_choice.push(province_index, province_weight(province_code));
            g.provinces.push(province);
        }
        for p in only {
            if !g.provinces.iter().any(|x| &x.code == p) {
                anyhow::bail!("province {p} has no counties in the regions table");
            }
        }
        if g.places.is_empty() {
            anyhow::bail!("the regions table has no county-level regions; run `dangjian migrate` first");
        }
        Ok(g)
    }

    /// A place anywhere, by the weights.
    pub fn pick_place(&self, rng: &mut impl Rng) -> u32 {
        let province = self.province_choice.pick(rng).unwrap_or(0);
        let prefecture = self.provinces[province as usize].prefectures.pick(rng).unwrap_or(0);
        self.pick_place_in_prefecture(prefecture, rng)
    }

    /// A place in the prefecture of `near` (a place index): where a franchisee's sites mostly are.
    pub fn pick_place_near(&self, near: u32, rng: &mut impl Rng) -> u32 {
        let county = self.places[near as usize].county;
        self.pick_place_in_prefecture(self.counties[county as usize].prefecture, rng)
    }

    fn pick_place_in_prefecture(&self, prefecture: u32, rng: &mut impl Rng) -> u32 {
        let county = self.prefectures[prefecture as usize].counties.pick(rng).unwrap_or(0);
        let c = &self.counties[county as usize];
        match (c.own_place, c.townships.is_empty()) {
            (Some(own), true) => own,
            (Some(own), false) if !rng.random_bool(TOWNSHIP_SHARE) => own,
            _ => c.townships[rng.random_range(0..c.townships.len())],
        }
    }

    /// The county a place is in.
    pub fn county_of(&self, place: u32) -> &County {
        &self.counties[self.places[place as usize].county as usize]
    }

    /// The code an organization of the county is registered at: the county's own code, or the place's
    /// when the county's code cannot hold units.
    pub fn county_code_of(&self, place: u32) -> &str {
        let c = self.county_of(place);
        match c.own_place {
            Some(_) => &c.code,
            None => &self.places[place as usize].code,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::SeedableRng;

    fn region(code: &str, name: &str, level: RegionLevel, parent: Option<&str>, path: &str) -> Region {
        Region {
            code: code.into(),
            name: name.into(),
            level,
            parent_code: parent.map(Into::into),
            path: path.into(),
            version: 1,
        }
    }

    /// A few real regions: 北京朝阳 with two streets, 东莞 (county code ending 00), the XPCC's 石河子.
    pub(crate) fn sample_regions() -> Vec<Region> {
        use RegionLevel::*;
        vec![
            region("11", "北京市", Province, None, "/11/"),
            region("1101", "市辖区", Prefecture, Some("11"), "/11/1101/"),
            region("110105", "朝阳区", County, Some("1101"), "/11/1101/110105/"),
            region("110105001", "建外街道", Township, Some("110105"), "/11/1101/110105/110105001/"),
            region("110105002", "朝外街道", Township, Some("110105"), "/11/1101/110105/110105002/"),
            region("110106", "丰台区", County, Some("1101"), "/11/1101/110106/"),
            region("44", "广东省", Province, None, "/44/"),
            region("4419", "东莞市", Prefecture, Some("44"), "/44/4419/"),
            region("441900", "东莞市", County, Some("4419"), "/44/4419/441900/"),
            region("441900003", "东城街道", Township, Some("441900"), "/44/4419/441900/441900003/"),
            region("441900004", "南城街道", Township, Some("441900"), "/44/4419/441900/441900004/"),
            region("66", "新疆生产建设兵团", Province, None, "/66/"),
            region("6590", "自治区直辖县级行政区划", Prefecture, Some("66"), "/66/6590/"),
            region("659001", "石河子市", County, Some("6590"), "/66/6590/659001/"),
        ]
    }

    #[test]
    fn places_are_unit_level_and_the_xpcc_is_its_own_province() {
        let g = Geography::from_regions(&sample_regions(), &[]).unwrap_or_else(|e| panic!("{e}"));
        let codes: Vec<&str> = g.provinces.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["11", "44", "66"]);
        assert!(g.places.iter().all(|p| RegionCode::parse(&p.code).is_ok_and(|c| c.is_unit_level())));
        assert!(!g.places.iter().any(|p| p.code == "441900"), "东莞's county code parses as its prefecture");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut per_province = BTreeMap::new();
        for _ in 0..10_000 {
            let place = g.pick_place(&mut rng);
            let province = &g.provinces[g.prefectures[g.county_of(place).prefecture as usize].province as usize];
            *per_province.entry(province.code.clone()).or_insert(0) += 1;
        }
        assert!(per_province["44"] > per_province["11"] && per_province["11"] > per_province["66"], "{per_province:?}");
        assert!(per_province["66"] > 0);
        let only = Geography::from_regions(&sample_regions(), &["66".to_owned()]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(only.places.len(), 1);
        assert!(Geography::from_regions(&sample_regions(), &["99".to_owned()]).is_err());
    }
}
