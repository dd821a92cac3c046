//! The JSON Schema of [`super::Answer`], published by `deep-review schema` and handed to the
//! agents that can enforce it, in its plain and its strict (OpenAI structured outputs) form.

/// The JSON Schema (draft 2020-12) of [`super::Answer`], as published by `deep-review schema` and
/// handed to agents that can enforce it.
pub fn json_schema() -> serde_json::Value {
    let location = serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["path", "start_line"],
        "properties": {
            "path": { "type": "string", "description": "Path relative to the repository root." },
            "start_line": { "type": "integer", "minimum": 1, "description": "First cited line, in the new (head) file." },
            "end_line": { "type": "integer", "minimum": 1, "description": "Last cited line; defaults to start_line." },
            "quote": { "type": "string", "description": "The exact text of start_line, used to verify the citation." }
        }
    });
    // A finding's location may carry a committable fix; an observation's may not.
    let mut finding_location = location.clone();
    finding_location["properties"]["replacement"] = serde_json::json!({
        "type": "string",
        "description": "Only for a small fix you are certain of (a few lines, nothing else to change anywhere): the exact new text of lines start_line..end_line, which replaces them as they are (whole lines, with their indentation, lines joined by \\n, no code fence, no line numbers). The lines must lie within one hunk of the diff, and `quote` must be given. Omit it otherwise; at most one location per finding has one."
    });
    let scope = serde_json::json!({ "type": "string", "enum": ["regression", "in_scope", "pre_existing", "future"] });
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/deep-review/deep-review/schema/findings-1.json",
        "title": "deep-review findings, schema 1",
        "type": "object",
        "additionalProperties": false,
        "required": ["schema", "summary", "findings"],
        "properties": {
            "schema": { "const": 1 },
            "summary": { "type": "string", "description": "Two or three sentences: what the change does and whether it is sound." },
            "verdict": { "type": "string", "enum": ["merge", "merge_with_fixes", "do_not_merge"] },
            "findings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["severity", "title", "body"],
                    "properties": {
                        "severity": { "type": "string", "enum": ["critical", "important", "suggestion"] },
                        "title": { "type": "string", "minLength": 1 },
                        "body": { "type": "string", "description": "Markdown: the mechanism and its impact." },
                        "locations": { "type": "array", "items": finding_location },
                        "fix": { "type": "string", "description": "Markdown: the concrete change to make." },
                        "scope": scope,
                        "category": { "type": "string", "description": "correctness, concurrency, security, resource, performance, api, tests, docs, …" },
                        "confidence": { "type": "number", "minimum": 0, "maximum": 1 }
                    }
                }
            },
            "observations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["kind", "title"],
                    "properties": {
                        "kind": { "type": "string", "enum": ["concern", "strength"] },
                        "title": { "type": "string" },
                        "body": { "type": "string" },
                        "scope": scope,
                        "locations": { "type": "array", "items": location }
                    }
                }
            },
            "assessments": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "testing": { "type": "string" },
                    "documentation": { "type": "string" },
                    "commits": { "type": "string" }
                }
            },
            "context_updates": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["action", "note"],
                    "properties": {
                        "action": { "type": "string", "enum": ["add", "remove"] },
                        "note": { "type": "string" },
                        "why": { "type": "string" }
                    }
                }
            }
        }
    })
}

/// [`json_schema`] in the form OpenAI's strict structured outputs accept (codex
/// `--output-schema`): every property listed in `required`, the optional ones nullable, and
/// only the keywords strict mode supports. [`super::parse_answer`] reads nulls as absent.
pub fn json_schema_strict() -> serde_json::Value {
    strictify(json_schema())
}

/// Turns a JSON Schema into the strict form (see [`json_schema_strict`]).
pub fn strictify(mut schema: serde_json::Value) -> serde_json::Value {
    fn strict(v: &mut serde_json::Value) {
        let Some(obj) = v.as_object_mut() else { return };
        for k in ["$schema", "$id", "minLength", "minimum", "maximum", "title"] {
            obj.remove(k);
        }
        if let Some(c) = obj.remove("const") {
            obj.insert("type".into(), serde_json::json!("integer"));
            obj.insert("enum".into(), serde_json::json!([c]));
        }
        if let Some(items) = obj.get_mut("items") {
            strict(items);
        }
        let required: Vec<String> = obj
            .get("required")
            .and_then(|r| r.as_array())
            .map(|r| {
                r.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let Some(props) = obj.get_mut("properties").and_then(|p| p.as_object_mut()) else {
            return;
        };
        let mut all = Vec::new();
        for (name, prop) in props.iter_mut() {
            strict(prop);
            all.push(serde_json::Value::String(name.clone()));
            if required.contains(name) {
                continue;
            }
            let Some(p) = prop.as_object_mut() else {
                continue;
            };
            match p.get("type").cloned() {
                Some(serde_json::Value::String(t)) if t != "array" && t != "object" => {
                    p.insert("type".into(), serde_json::json!([t, "null"]));
                    if let Some(serde_json::Value::Array(e)) = p.get_mut("enum") {
                        e.push(serde_json::Value::Null);
                    }
                }
                _ => {}
            }
        }
        obj.insert("required".into(), serde_json::Value::Array(all));
        obj.insert("additionalProperties".into(), serde_json::json!(false));
    }
    strict(&mut schema);
    schema
}
