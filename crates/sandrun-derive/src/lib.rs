//! Derives for the types that cross the JS boundary of the Sandrun SDK. One Rust declaration gives
//! both the conversion and the TypeScript declaration, so the keys JS receives and the types
//! `tsc` checks cannot drift apart (before, each type was written three times: the struct, a tsify
//! declaration, and a hand-written conversion with camelCase keys).
//!
//! - `#[derive(ToJs)]`: `impl ToJs` (a plain JS object, keys in camelCase, `None` as `null`) and
//!   `export interface Name { … }` in the generated `.d.ts`.
//! - `#[derive(FromJs)]`: `impl FromJs` (reads an options object by hand: unknown keys and wrong
//!   types are `ValidationError`s naming the field) and `export interface Name { key?: T; … }`.
//!
//! Attributes, all under `#[js(…)]`:
//! - on the type: `context = "wait options."` (FromJs: how problems name fields), `no_ts` (the
//!   TypeScript declaration is written elsewhere);
//! - on a field: `name = "type"` (the JS key; default: the field's name in camelCase),
//!   `ts = "Record<string, OutputInfo>"` (the TypeScript type; default: derived from the Rust type),
//!   `optional` (ToJs: the key is left out when `None`, declared `key?: T`), `extra` (ToJs: the
//!   field adds keys of its own — extension fields — and is not declared here), `rest` (FromJs:
//!   the keys no other field reads, as `Vec<(String, JsValue)>`, for the caller to check — the
//!   sections of the config that layers above the core read).
//!
//! The generated code names the SDK's own paths (`crate::core::boundary::{js, reader, error}`), so these
//! derives serve that crate only.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::{
    parse_macro_input, Attribute, Data, DeriveInput, Expr, Fields, GenericArgument, Lit, LitStr,
    PathArguments, Type,
};

#[derive(Default)]
struct FieldOpts {
    name: Option<String>,
    ts: Option<String>,
    optional: bool,
    extra: bool,
    rest: bool,
}

#[derive(Default)]
struct TypeOpts {
    context: Option<String>,
    no_ts: bool,
}

fn field_opts(attrs: &[Attribute]) -> syn::Result<FieldOpts> {
    let mut o = FieldOpts::default();
    for a in attrs.iter().filter(|a| a.path().is_ident("js")) {
        a.parse_nested_meta(|m| {
            if m.path.is_ident("name") {
                o.name = Some(m.value()?.parse::<LitStr>()?.value());
            } else if m.path.is_ident("ts") {
                o.ts = Some(m.value()?.parse::<LitStr>()?.value());
            } else if m.path.is_ident("optional") {
                o.optional = true;
            } else if m.path.is_ident("extra") {
                o.extra = true;
            } else if m.path.is_ident("rest") {
                o.rest = true;
            } else {
                return Err(m.error("unknown #[js] field option"));
            }
            Ok(())
        })?;
    }
    Ok(o)
}

fn type_opts(attrs: &[Attribute]) -> syn::Result<TypeOpts> {
    let mut o = TypeOpts::default();
    for a in attrs.iter().filter(|a| a.path().is_ident("js")) {
        a.parse_nested_meta(|m| {
            if m.path.is_ident("context") {
                o.context = Some(m.value()?.parse::<LitStr>()?.value());
            } else if m.path.is_ident("no_ts") {
                o.no_ts = true;
            } else {
                return Err(m.error("unknown #[js] type option"));
            }
            Ok(())
        })?;
    }
    Ok(o)
}

/// The `///` lines of an item, as the text of a TSDoc comment (empty when there are none).
fn tsdoc(attrs: &[Attribute], indent: &str) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(l) => match &l.lit {
                    Lit::Str(s) => Some(s.value().trim().replace("*/", "* /")),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let mut s = format!("{indent}/**\n");
    for l in lines {
        s.push_str(&format!("{indent} * {l}\n"));
    }
    s.push_str(&format!("{indent} */\n"));
    s
}

/// `exit_code` → `exitCode`.
fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The single type argument of `Option<T>`, `Vec<T>`, … when `ty` is `wrapper<T>`.
fn inner<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != wrapper {
        return None;
    }
    match &seg.arguments {
        PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// The TypeScript type of a Rust type, for the types the boundary uses.
fn ts_of(ty: &Type) -> String {
    if let Type::Reference(r) = ty {
        return ts_of(&r.elem);
    }
    if let Some(t) = inner(ty, "Option") {
        return format!("{} | null", ts_of(t));
    }
    if let Some(t) = inner(ty, "Vec") {
        let t = ts_of(t);
        return if t.contains(' ') {
            format!("({t})[]")
        } else {
            format!("{t}[]")
        };
    }
    if let Some(t) = inner(ty, "SortedMap") {
        return format!("Record<string, {}>", ts_of(t));
    }
    for w in ["Rc", "Box"] {
        if let Some(t) = inner(ty, w) {
            return ts_of(t);
        }
    }
    let Type::Path(p) = ty else {
        return "unknown".into();
    };
    let name = p
        .path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default();
    match name.as_str() {
        "String" | "str" => "string".into(),
        "bool" => "boolean".into(),
        "f64" | "f32" | "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64"
        | "isize" => "number".into(),
        "JsValue" => "unknown".into(),
        "Function" => "(...args: any[]) => unknown".into(),
        _ => name,
    }
}

fn named_fields(
    input: &DeriveInput,
) -> syn::Result<&syn::punctuated::Punctuated<syn::Field, syn::token::Comma>> {
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(f) => Ok(&f.named),
            _ => Err(syn::Error::new_spanned(input, "needs named fields")),
        },
        _ => Err(syn::Error::new_spanned(
            input,
            "only structs cross the boundary this way",
        )),
    }
}

/// `#[wasm_bindgen(typescript_custom_section)] const …: &str = "export interface …";`
fn ts_section(name: &syn::Ident, text: String) -> Tokens {
    let konst = format_ident!("__SANDRUN_TS_{}", name.to_string().to_uppercase());
    quote! {
        #[::wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
        const #konst: &'static str = #text;
    }
}

#[proc_macro_derive(ToJs, attributes(js))]
pub fn derive_to_js(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    to_js(&input)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

fn to_js(input: &DeriveInput) -> syn::Result<Tokens> {
    let topts = type_opts(&input.attrs)?;
    let name = &input.ident;
    let mut sets = Vec::new();
    let mut ts = format!("{}export interface {name} {{\n", tsdoc(&input.attrs, ""));
    for f in named_fields(input)? {
        let o = field_opts(&f.attrs)?;
        let ident = f.ident.as_ref().expect("named");
        if o.extra {
            sets.push(quote! { crate::core::boundary::js::Extra::write(&self.#ident, &o); });
            continue;
        }
        let key = o.name.clone().unwrap_or_else(|| camel(&ident.to_string()));
        if o.optional {
            let t = o.ts.clone().unwrap_or_else(|| {
                inner(&f.ty, "Option")
                    .map(ts_of)
                    .unwrap_or_else(|| ts_of(&f.ty))
            });
            ts.push_str(&format!("{}    {key}?: {t};\n", tsdoc(&f.attrs, "    ")));
            sets.push(quote! {
                if let Some(v) = &self.#ident { o.set(#key, v); }
            });
        } else {
            let t = o.ts.clone().unwrap_or_else(|| ts_of(&f.ty));
            ts.push_str(&format!("{}    {key}: {t};\n", tsdoc(&f.attrs, "    ")));
            sets.push(quote! { o.set(#key, &self.#ident); });
        }
    }
    ts.push('}');
    let section = if topts.no_ts {
        quote!()
    } else {
        ts_section(name, ts)
    };
    let (ig, tg, wc) = input.generics.split_for_impl();
    Ok(quote! {
        impl #ig crate::core::boundary::js::ToJs for #name #tg #wc {
            fn to_js(&self) -> ::wasm_bindgen::JsValue {
                let o = crate::core::boundary::js::Obj::new();
                #(#sets)*
                o.into()
            }
        }
        #section
    })
}

#[proc_macro_derive(FromJs, attributes(js))]
pub fn derive_from_js(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    from_js(&input)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

fn from_js(input: &DeriveInput) -> syn::Result<Tokens> {
    let topts = type_opts(&input.attrs)?;
    let name = &input.ident;
    let context = topts
        .context
        .clone()
        .unwrap_or_else(|| format!("{} options.", camel(&name.to_string())));
    let mut keys = Vec::new();
    let mut reads = Vec::new();
    let mut rest = None;
    let mut ts = format!("{}export interface {name} {{\n", tsdoc(&input.attrs, ""));
    for f in named_fields(input)? {
        let o = field_opts(&f.attrs)?;
        let ident = f.ident.as_ref().expect("named");
        if o.rest {
            rest = Some(ident.clone());
            continue;
        }
        let key = o.name.clone().unwrap_or_else(|| camel(&ident.to_string()));
        let Some(t) = inner(&f.ty, "Option") else {
            return Err(syn::Error::new_spanned(
                &f.ty,
                "options are Option<T>: every key may be left out",
            ));
        };
        let t = o.ts.clone().unwrap_or_else(|| ts_of(t));
        ts.push_str(&format!("{}    {key}?: {t};\n", tsdoc(&f.attrs, "    ")));
        keys.push(key.clone());
        reads.push(quote! { #ident: crate::core::boundary::reader::Field::read(&mut r, #key) });
    }
    ts.push('}');
    let section = if topts.no_ts {
        quote!()
    } else {
        ts_section(name, ts)
    };
    let (check, rest_field) = match rest {
        Some(f) => (
            quote! { let rest = r.rest(&[#(#keys),*]); },
            quote! { #f: rest, },
        ),
        None => (quote! { r.only(&[#(#keys),*]); }, quote!()),
    };
    Ok(quote! {
        impl crate::core::boundary::reader::FromJs for #name {
            fn from_js(v: &::wasm_bindgen::JsValue) -> crate::core::boundary::error::Result<Self> {
                let mut r = crate::core::boundary::reader::Reader::new(v, #context);
                #check
                let out = #name { #rest_field #(#reads),* };
                r.finish(out)
            }
        }
        #section
    })
}
