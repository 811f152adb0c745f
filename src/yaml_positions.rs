//! Line and column of every node in a YAML document, by field path.
//!
//! serde_yaml reports positions for syntax and type errors, but checks that span fields (a baseline naming no
//! config, a duplicate name, a missing file) run after deserialisation, when positions are gone. This index, built
//! from yaml-rust2's marked events, maps a path such as `configs[1].shots.k` to where that value starts.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Positions (1-based line, 1-based column) of the values in one YAML document, keyed by field path.
#[derive(Debug, Default, Clone)]
pub struct YamlPositions {
    positions: HashMap<String, (usize, usize)>,
}

impl YamlPositions {
    /// Indexes `text`; a document that does not parse yields an empty index (serde_yaml reports the syntax error).
    pub fn index(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return YamlPositions::default();
        }
        YamlPositions {
            positions: builder.positions,
        }
    }

    /// Where the value at `path` starts; falls back to the nearest enclosing path that is known.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut path = path;
        loop {
            if let Some(position) = self.positions.get(path) {
                return Some(*position);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }

    /// Where the key of the mapping entry at `path` starts (the value's position when the key is not known).
    pub fn find_key(&self, path: &str) -> Option<(usize, usize)> {
        self.positions
            .get(&format!("{path}\u{0}key"))
            .copied()
            .or_else(|| self.find(path))
    }
}

enum Frame {
    Mapping { path: String, pending_key: Option<String> },
    Sequence { path: String, next_index: usize },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    positions: HashMap<String, (usize, usize)>,
}

impl Builder {
    /// The path of the node that starts now, or `None` when this node is a mapping key.
    fn next_path(&mut self, event: &Event, mark: Marker) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Sequence { path, next_index }) => {
                let child = format!("{path}[{next_index}]");
                *next_index += 1;
                Some(child)
            }
            Some(Frame::Mapping { path, pending_key }) => match pending_key.take() {
                Some(key) => Some(join(path, &key)),
                None => {
                    // This node is a key; only scalar keys are addressable.
                    let key = match event {
                        Event::Scalar(value, ..) => value.clone(),
                        _ => String::from("?"),
                    };
                    let key_path = join(path, &key);
                    self.positions.insert(format!("{key_path}\u{0}key"), position(mark));
                    *pending_key = Some(key);
                    None
                }
            },
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn position(mark: Marker) -> (usize, usize) {
    (mark.line(), mark.col() + 1)
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match &event {
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            Event::Scalar(..) | Event::Alias(..) | Event::MappingStart(..) | Event::SequenceStart(..) => {
                let Some(path) = self.next_path(&event, mark) else {
                    return;
                };
                self.positions.entry(path.clone()).or_insert(position(mark));
                match event {
                    Event::MappingStart(..) => self.stack.push(Frame::Mapping {
                        path,
                        pending_key: None,
                    }),
                    Event::SequenceStart(..) => self.stack.push(Frame::Sequence { path, next_index: 0 }),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUITE: &str = "name: demo\nconfigs:\n  - name: a\n    shots:\n      k: 3\n  - name: b\nbaseline: c\n";

    #[test]
    fn finds_nested_values_by_path() {
        let index = YamlPositions::index(SUITE);
        assert_eq!(index.find("name"), Some((1, 7)));
        assert_eq!(index.find("configs[0].shots.k"), Some((5, 10)));
        assert_eq!(index.find("configs[1].name"), Some((6, 11)));
        assert_eq!(index.find("baseline"), Some((7, 11)));
    }

    #[test]
    fn key_positions_and_fallback_to_parent() {
        let index = YamlPositions::index(SUITE);
        assert_eq!(index.find_key("baseline"), Some((7, 1)));
        // A missing key falls back to its mapping, which starts on line 6.
        assert_eq!(index.find("configs[1].model").map(|p| p.0), Some(6));
    }

    #[test]
    fn broken_yaml_gives_an_empty_index() {
        let index = YamlPositions::index("a: [1, 2\nb: }");
        assert_eq!(index.find("a"), None);
    }
}
