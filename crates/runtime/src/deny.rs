//! Deny-all stand-ins for the configuration interfaces a component dependency imports: what
//! Spin's `dependencies_inherit_configuration = false` (its default) gives a dependency. For
//! each such interface the dependency imports, a small component is generated from the
//! dependency's own WIT that exports it: every function that can fail fails as denied (an
//! `access-denied` case where the error type has one, else its message case), a list comes
//! back empty and an option empty (no environment, no preopened directories), a constructor
//! makes a handle whose methods then fail; anything else traps. The dependency is composed
//! with it, so its host calls never reach kiln, whatever the component itself was granted.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anyhow::Context as _;
use wit_component::{ComponentEncoder, DecodedWasm, StringEncoding};
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{
    Function, FunctionKind, Int, LiftLowerAbi, ManglingAndAbi, Resolve, ResourceIntrinsic,
    SizeAlign, Type, TypeDefKind, WasmExport, WasmExportKind, WasmImport, WorldItem, WorldKey,
};

/// Error cases without a payload that say "denied", most specific first.
const DENIED_CASES: &[&str] = &[
    "access-denied",
    "access",
    "HTTP-request-denied",
    "destination-not-allowed",
    "model-not-supported",
];
/// Error cases with a message, for error types without a denied case.
const MESSAGE_CASES: &[&str] = &[
    "other",
    "provider",
    "upstream",
    "internal-error",
    "connection-failed",
    "runtime-error",
    "error",
];

/// Where the generated module's data starts (below it, nothing: a null pointer stays invalid).
const DATA_BASE: usize = 16;
/// Wasm's page size.
const PAGE: usize = 65536;

/// Whether `import` (`ns:pkg/iface@version`) hands out what a manifest grants
/// ([`crate::needs`]): what a dependency that does not inherit gets a stand-in for.
fn is_configuration(import: &str) -> bool {
    crate::needs::need(import).is_some_and(|need| need.hands_out)
}

/// A component exporting a deny-all version of each configuration interface `dependency`
/// imports, with those import names; `None` when it imports none. `origin` names the
/// dependency in errors.
pub(crate) fn deny_adapter(
    dependency: &[u8],
    origin: &str,
) -> anyhow::Result<Option<(Vec<u8>, Vec<String>)>> {
    let (mut resolve, world) = match wit_component::decode(dependency)
        .with_context(|| format!("{origin} is not a component"))?
    {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => anyhow::bail!("{origin} is a WIT package, not a component"),
    };
    let denied: BTreeSet<String> = resolve.worlds[world]
        .imports
        .iter()
        .filter(|(_, item)| matches!(item, WorldItem::Interface { .. }))
        .map(|(key, _)| resolve.name_world_key(key))
        .filter(|name| is_configuration(name))
        .collect();
    if denied.is_empty() {
        return Ok(None);
    }
    let mut wit = String::from("package kiln:deny-adapter;\nworld deny {\n");
    for name in &denied {
        writeln!(wit, "  export {name};")?;
    }
    wit.push_str("}\n");
    let package = resolve
        .push_source("kiln-deny-adapter.wit", &wit)
        .context("describing the deny adapter")?;
    let world = resolve.select_world(&[package], Some("deny"))?;
    for name in &denied {
        if let Some(function) = async_function(&resolve, world, name) {
            anyhow::bail!(
                "{origin} imports {name}, whose function {function} is async: kiln cannot deny it to a dependency yet; set dependencies_inherit_configuration = true to let it use the component's grants"
            );
        }
    }
    let mut module = wat::parse_str(Generator::new(&resolve).module(world)?)
        .context("assembling the deny adapter")?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
    let component = ComponentEncoder::default()
        .validate(true)
        .module(&module)?
        .encode()
        .context("encoding the deny adapter")?;
    Ok(Some((component, denied.into_iter().collect())))
}

/// The first async function of the exported interface `name` of `world`, if any.
fn async_function(resolve: &Resolve, world: wit_parser::WorldId, name: &str) -> Option<String> {
    resolve.worlds[world]
        .exports
        .iter()
        .filter(|(key, _)| resolve.name_world_key(key) == name)
        .find_map(|(_, item)| match item {
            WorldItem::Interface { id, .. } => resolve.interfaces[*id]
                .functions
                .values()
                .find(|f| f.kind.is_async())
                .map(|f| f.name.clone()),
            _ => None,
        })
}

/// Writes the deny adapter's core module (text format): its functions, their return values
/// as data, and an allocator for the arguments callers pass in.
struct Generator<'a> {
    resolve: &'a Resolve,
    sizes: SizeAlign,
    /// The module's data, placed at [`DATA_BASE`].
    data: Vec<u8>,
    /// The message a denied call's error carries: its address and length.
    message: (u32, u32),
}

const MANGLING: ManglingAndAbi = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);

impl<'a> Generator<'a> {
    fn new(resolve: &'a Resolve) -> Self {
        let mut sizes = SizeAlign::default();
        sizes.fill(resolve);
        let text = b"not permitted: a dependency that does not inherit its component's configuration (set dependencies_inherit_configuration = true to grant it)";
        let mut generator = Generator {
            resolve,
            sizes,
            data: Vec::new(),
            message: (0, text.len() as u32),
        };
        generator.message.0 = generator.place(text, 1);
        generator
    }

    /// Adds `bytes` to the data, aligned to `align`; their address.
    fn place(&mut self, bytes: &[u8], align: usize) -> u32 {
        while !(DATA_BASE + self.data.len()).is_multiple_of(align.max(1)) {
            self.data.push(0);
        }
        let address = DATA_BASE + self.data.len();
        self.data.extend_from_slice(bytes);
        address as u32
    }

    /// The module for `world`'s exports.
    fn module(mut self, world: wit_parser::WorldId) -> anyhow::Result<String> {
        let mut imports = String::new();
        let mut functions = String::new();
        let exports: Vec<(WorldKey, wit_parser::InterfaceId)> = self.resolve.worlds[world]
            .exports
            .iter()
            .filter_map(|(key, item)| match item {
                WorldItem::Interface { id, .. } => Some((key.clone(), *id)),
                _ => None,
            })
            .collect();
        for (key, interface) in &exports {
            let resolve = self.resolve;
            for ty in resolve.interfaces[*interface].types.values() {
                if !matches!(resolve.types[*ty].kind, TypeDefKind::Resource) {
                    continue;
                }
                let (module, name) = resolve.wasm_import_name(
                    MANGLING,
                    WasmImport::ResourceIntrinsic {
                        interface: Some(key),
                        resource: *ty,
                        intrinsic: ResourceIntrinsic::ExportedNew,
                    },
                );
                writeln!(
                    imports,
                    "(import {module:?} {name:?} (func $new{} (param i32) (result i32)))",
                    ty.index()
                )?;
                let dtor = resolve.wasm_export_name(
                    MANGLING,
                    WasmExport::ResourceDtor {
                        interface: key,
                        resource: *ty,
                    },
                );
                writeln!(functions, "(func (export {dtor:?}) (param i32))")?;
            }
            for function in resolve.interfaces[*interface].functions.values() {
                self.function(key, function, &mut functions)?;
            }
        }
        let data_end = DATA_BASE + self.data.len();
        let scratch = data_end.div_ceil(PAGE) * PAGE;
        let memory = self.resolve.wasm_export_name(MANGLING, WasmExport::Memory);
        let realloc = self.resolve.wasm_export_name(MANGLING, WasmExport::Realloc);
        let mut data = String::new();
        for byte in &self.data {
            write!(data, "\\{byte:02x}")?;
        }
        Ok(format!(
            r#"(module
{imports}
(memory (export {memory:?}) {pages})
(data (i32.const {DATA_BASE}) "{data}")
{functions}
;; Every allocation is the same scratch space past the data, grown to fit: the adapter
;; never reads what callers pass it.
(func (export {realloc:?}) (param i32 i32 i32 i32) (result i32)
  (local $end i32)
  (local.set $end (i32.add (i32.const {scratch}) (local.get 3)))
  (if (i32.gt_u (local.get $end) (i32.shl (memory.size) (i32.const 16)))
    (then
      (if (i32.eq
            (memory.grow (i32.shr_u
              (i32.add (i32.sub (local.get $end) (i32.shl (memory.size) (i32.const 16)))
                       (i32.const 65535))
              (i32.const 16)))
            (i32.const -1))
        (then unreachable))))
  (i32.const {scratch}))
)"#,
            pages = scratch / PAGE + 1,
        ))
    }

    /// Appends `function` of the interface exported as `key`, with its post-return.
    fn function(
        &mut self,
        key: &WorldKey,
        function: &Function,
        out: &mut String,
    ) -> anyhow::Result<()> {
        let resolve = self.resolve;
        let signature = resolve.wasm_signature(AbiVariant::GuestExport, function);
        let export = |kind| {
            resolve.wasm_export_name(
                MANGLING,
                WasmExport::Func {
                    interface: Some(key),
                    func: function,
                    kind,
                },
            )
        };
        let body = match (&function.kind, &function.result) {
            (FunctionKind::Constructor(resource), _) => {
                format!("(call $new{} (i32.const 1))", resource.index())
            }
            (_, Some(result)) => self.denial(result, &signature.results, signature.retptr),
            (_, None) => "unreachable".to_string(),
        };
        writeln!(
            out,
            "(func (export {:?}){}{} {body})",
            export(WasmExportKind::Normal),
            types("param", &signature.params),
            types("result", &signature.results),
        )?;
        writeln!(
            out,
            "(func (export {:?}){})",
            export(WasmExportKind::PostReturn),
            types("param", &signature.results),
        )?;
        Ok(())
    }

    /// The body of a function returning `ty` denied: the return area's address, its one
    /// flat value, or a trap when `ty` has no denied value.
    fn denial(&mut self, ty: &Type, results: &[WasmType], retptr: bool) -> String {
        let size = self.sizes.size(ty).size_wasm32();
        let mut area = vec![0u8; size];
        if self.returned(ty, &mut area).is_none() {
            return "unreachable".to_string();
        }
        if retptr {
            let align = self.sizes.align(ty).align_wasm32();
            return format!("(i32.const {})", self.place(&area, align));
        }
        match results {
            [WasmType::I32] if size <= 4 => {
                let mut flat = [0u8; 4];
                flat[..size].copy_from_slice(&area);
                format!("(i32.const {})", u32::from_le_bytes(flat))
            }
            _ => "unreachable".to_string(),
        }
    }

    /// Writes the denied value of a function's result type `ty` into `out`: an error, an
    /// empty list, no value.
    fn returned(&self, ty: &Type, out: &mut [u8]) -> Option<()> {
        let Type::Id(id) = ty else { return None };
        match &self.resolve.types[*id].kind {
            TypeDefKind::Type(inner) => self.returned(inner, out),
            TypeDefKind::Result(result) => {
                out[0] = 1;
                match &result.err {
                    None => Some(()),
                    Some(err) => {
                        let at = self
                            .sizes
                            .payload_offset(Int::U8, [result.ok.as_ref(), Some(err)])
                            .size_wasm32();
                        self.error(err, &mut out[at..])
                    }
                }
            }
            TypeDefKind::List(_) => {
                // An empty list: any aligned address, no elements.
                out[..4].copy_from_slice(&(DATA_BASE as u32).to_le_bytes());
                Some(())
            }
            TypeDefKind::Option(_) => Some(()),
            _ => None,
        }
    }

    /// Writes an error of type `ty` that says "denied" into `out`.
    fn error(&self, ty: &Type, out: &mut [u8]) -> Option<()> {
        let kind = match ty {
            Type::String => return self.text(ty, out),
            Type::Id(id) => &self.resolve.types[*id].kind,
            _ => return None,
        };
        match kind {
            TypeDefKind::Type(inner) => self.error(inner, out),
            TypeDefKind::Enum(cases) => {
                let names: Vec<&str> = cases.cases.iter().map(|c| c.name.as_str()).collect();
                let case = pick(&names, DENIED_CASES).or_else(|| pick(&names, MESSAGE_CASES))?;
                write_tag(out, cases.tag(), case);
                Some(())
            }
            TypeDefKind::Variant(variant) => {
                let names: Vec<&str> = variant.cases.iter().map(|c| c.name.as_str()).collect();
                let without_payload = |case: &usize| variant.cases[*case].ty.is_none();
                let case = pick(&names, DENIED_CASES)
                    .filter(without_payload)
                    .or_else(|| pick(&names, MESSAGE_CASES))?;
                write_tag(out, variant.tag(), case);
                match &variant.cases[case].ty {
                    None => Some(()),
                    Some(payload) => {
                        let at = self
                            .sizes
                            .payload_offset(
                                variant.tag(),
                                variant.cases.iter().map(|c| c.ty.as_ref()),
                            )
                            .size_wasm32();
                        self.text(payload, &mut out[at..])
                    }
                }
            }
            _ => None,
        }
    }

    /// Writes the denial message as a `string` or `option<string>` of type `ty` into `out`.
    fn text(&self, ty: &Type, out: &mut [u8]) -> Option<()> {
        match ty {
            Type::String => {
                out[..4].copy_from_slice(&self.message.0.to_le_bytes());
                out[4..8].copy_from_slice(&self.message.1.to_le_bytes());
                Some(())
            }
            Type::Id(id) => match &self.resolve.types[*id].kind {
                TypeDefKind::Type(inner) => self.text(inner, out),
                TypeDefKind::Option(Type::String) => {
                    out[0] = 1;
                    let at = self
                        .sizes
                        .payload_offset(Int::U8, [None, Some(&Type::String)])
                        .size_wasm32();
                    self.text(&Type::String, &mut out[at..])
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// The index of the first of `preferred` among `names`.
fn pick(names: &[&str], preferred: &[&str]) -> Option<usize> {
    preferred
        .iter()
        .find_map(|wanted| names.iter().position(|name| name == wanted))
}

/// Writes the discriminant `case` of width `tag` at the start of `out`.
fn write_tag(out: &mut [u8], tag: Int, case: usize) {
    let bytes = (case as u32).to_le_bytes();
    let width = match tag {
        Int::U8 => 1,
        Int::U16 => 2,
        Int::U32 | Int::U64 => 4,
    };
    out[..width].copy_from_slice(&bytes[..width]);
}

/// ` (KIND t1 t2 ...)` for core types `list`, or nothing when it is empty.
fn types(kind: &str, list: &[WasmType]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = list
        .iter()
        .map(|ty| match ty {
            WasmType::I32 | WasmType::Pointer | WasmType::Length => "i32",
            WasmType::I64 | WasmType::PointerOrI64 => "i64",
            WasmType::F32 => "f32",
            WasmType::F64 => "f64",
        })
        .collect();
    format!(" ({kind} {})", names.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_adapter_exports_each_configuration_interface_the_dependency_imports() {
        let greeter = std::fs::read(kiln_test_guests::GREET_RUST).unwrap();
        let (adapter, denied) = deny_adapter(&greeter, "the greeter").unwrap().unwrap();
        let names: Vec<&str> = denied
            .iter()
            .map(|name| name.split('@').next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "fermyon:spin/key-value",
                "wasi:cli/environment",
                "wasi:filesystem/preopens",
                "wasi:http/outgoing-handler"
            ]
        );
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&adapter)
            .unwrap();

        // The adapter imports only the types its exports use: nothing left to deny.
        assert!(deny_adapter(&adapter, "the adapter").unwrap().is_none());
    }
}
