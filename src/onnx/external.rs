//! ONNX external data: weights kept in files beside the model (`torch.onnx.export` writes
//! `model.onnx.data` by default; models over 2 GiB must). They are read once and moved into
//! the model's own bytes, so that tract, the engine's importer and the GPU see one
//! self-contained model; nothing else in the crate needs to know about external data.

use std::collections::HashMap;

use prost::Message;
use tract_onnx::pb;

use super::Error;

/// `tensor_proto::DataLocation::External`.
const EXTERNAL: i32 = 1;

/// The external files a model reads (their `location`s, relative to the model's folder),
/// in order of first use; empty for a self-contained model.
pub fn external_files(bytes: &[u8]) -> Result<Vec<String>, Error> {
    Ok(external_files_in(&decode(bytes)?))
}

/// [`external_files`] of a decoded model.
pub(crate) fn external_files_in(model: &pb::ModelProto) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    if let Some(g) = &model.graph {
        visit_graph(g, &mut |t| {
            if let Some(loc) = is_external(t).then(|| entry(t, "location")).flatten()
                && !files.iter().any(|f| f == loc)
            {
                files.push(loc.to_string());
            }
        });
    }
    files
}

/// Reads an ONNX file and the external data files beside it (see [`inline_external_data`]):
/// the model's bytes, self-contained.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_model_file(path: &std::path::Path) -> Result<Vec<u8>, crate::Error> {
    let io = |p: &std::path::Path, e: std::io::Error| {
        crate::Error::Invalid(format!("{}: {e}", p.display()))
    };
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let inlined = inline_external_data(&bytes, &mut |loc| {
        let p = dir.join(loc);
        std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))
    })
    .map_err(|e| crate::Error::Invalid(format!("{}: {e}", path.display())))?;
    Ok(inlined.unwrap_or(bytes))
}

/// The model with every externally stored tensor read through `read(location)` and put back
/// into the model (`raw_data`), or `None` when it has no external data. `location` is checked
/// to be a plain relative path (no `..`, not absolute), as the ONNX spec requires; `offset`
/// and `length` are honoured and checked against the file.
pub fn inline_external_data(
    bytes: &[u8],
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Option<Vec<u8>>, Error> {
    let mut model = decode(bytes)?;
    let Some(graph) = model.graph.as_mut() else {
        return Ok(None);
    };
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut result = Ok(false);
    visit_graph_mut(graph, &mut |t| {
        if result.is_err() || !is_external(t) {
            return;
        }
        match load(t, &mut files, read) {
            Ok(data) => {
                t.raw_data = data;
                t.external_data.clear();
                t.data_location = None;
                result = Ok(true);
            }
            Err(e) => result = Err(e),
        }
    });
    if !result? {
        return Ok(None);
    }
    Ok(Some(model.encode_to_vec()))
}

fn decode(bytes: &[u8]) -> Result<pb::ModelProto, Error> {
    pb::ModelProto::decode(bytes).map_err(|e| Error::Corrupt(e.to_string()))
}

fn is_external(t: &pb::TensorProto) -> bool {
    t.data_location == Some(EXTERNAL)
}

fn entry<'a>(t: &'a pb::TensorProto, key: &str) -> Option<&'a str> {
    t.external_data
        .iter()
        .find(|e| e.key == key)
        .map(|e| e.value.as_str())
}

/// One tensor's bytes from its external file.
fn load(
    t: &pb::TensorProto,
    files: &mut HashMap<String, Vec<u8>>,
    read: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, Error> {
    let bad = |message: String| Error::ExternalData(format!("tensor '{}': {message}", t.name));
    let location =
        entry(t, "location").ok_or_else(|| bad("its external data has no location".into()))?;
    let path = std::path::Path::new(location);
    if location.is_empty()
        || path.is_absolute()
        || location.starts_with('/')
        || path
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(bad(format!(
            "external data location {location:?} is not a plain path relative to the model's \
             folder"
        )));
    }
    if !files.contains_key(location) {
        let data = read(location).map_err(|why| {
            Error::ExternalData(format!(
                "the model keeps its weights in the external file '{location}' (ONNX external \
                 data), which could not be read: {why}"
            ))
        })?;
        files.insert(location.to_string(), data);
    }
    let file = &files[location];
    let number = |key: &str| -> Result<Option<usize>, Error> {
        entry(t, key)
            .map(|v| {
                v.parse::<usize>()
                    .map_err(|_| bad(format!("external data {key} {v:?} is not a number")))
            })
            .transpose()
    };
    let offset = number("offset")?.unwrap_or(0);
    let length = number("length")?.unwrap_or(file.len().saturating_sub(offset));
    let end = offset.checked_add(length).filter(|&e| e <= file.len());
    let Some(end) = end else {
        return Err(bad(format!(
            "external data at {offset}+{length} lies past the end of '{location}' ({} bytes)",
            file.len()
        )));
    };
    Ok(file[offset..end].to_vec())
}

fn visit_graph(g: &pb::GraphProto, f: &mut dyn FnMut(&pb::TensorProto)) {
    g.initializer.iter().for_each(&mut *f);
    for n in &g.node {
        for a in &n.attribute {
            a.t.iter().chain(&a.tensors).for_each(&mut *f);
            for sub in a.g.iter().chain(&a.graphs) {
                visit_graph(sub, f);
            }
        }
    }
}

fn visit_graph_mut(g: &mut pb::GraphProto, f: &mut dyn FnMut(&mut pb::TensorProto)) {
    g.initializer.iter_mut().for_each(&mut *f);
    for n in &mut g.node {
        for a in &mut n.attribute {
            a.t.iter_mut().chain(a.tensors.iter_mut()).for_each(&mut *f);
            for sub in a.g.iter_mut().chain(a.graphs.iter_mut()) {
                visit_graph_mut(sub, f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-initializer model whose weights live at `offset` of `w.bin`.
    fn model(location: &str, offset: usize, length: usize) -> Vec<u8> {
        let kv = |k: &str, v: String| pb::StringStringEntryProto {
            key: k.into(),
            value: v,
        };
        pb::ModelProto {
            graph: Some(pb::GraphProto {
                initializer: vec![pb::TensorProto {
                    name: "w".into(),
                    dims: vec![2],
                    data_type: 1,
                    data_location: Some(EXTERNAL),
                    external_data: vec![
                        kv("location", location.into()),
                        kv("offset", offset.to_string()),
                        kv("length", length.to_string()),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
    }

    #[test]
    fn external_tensors_are_moved_into_the_model() {
        let file: Vec<u8> = (0..16).collect();
        let bytes = model("w.bin", 4, 8);
        assert_eq!(external_files(&bytes).unwrap(), ["w.bin"]);
        let mut asked = Vec::new();
        let inlined = inline_external_data(&bytes, &mut |loc| {
            asked.push(loc.to_string());
            Ok(file.clone())
        })
        .unwrap()
        .unwrap();
        assert_eq!(asked, ["w.bin"]);
        let m = pb::ModelProto::decode(&inlined[..]).unwrap();
        let t = &m.graph.unwrap().initializer[0];
        assert_eq!(t.raw_data, (4..12).collect::<Vec<u8>>());
        assert!(t.external_data.is_empty() && t.data_location.is_none());
        assert!(external_files(&inlined).unwrap().is_empty());
        assert!(
            inline_external_data(&inlined, &mut |_| unreachable!())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn bad_locations_and_ranges_are_errors_naming_them() {
        let err = |bytes: Vec<u8>| {
            inline_external_data(&bytes, &mut |_| Ok(vec![0; 16]))
                .unwrap_err()
                .to_string()
        };
        assert!(err(model("../w.bin", 0, 8)).contains("not a plain path"));
        assert!(err(model("/etc/w.bin", 0, 8)).contains("not a plain path"));
        assert!(err(model("w.bin", 12, 8)).contains("past the end of 'w.bin' (16 bytes)"));
        let e = inline_external_data(&model("w.bin", 0, 8), &mut |_| Err("not found".into()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("external file 'w.bin'") && e.contains("not found"),
            "{e}"
        );
    }
}
