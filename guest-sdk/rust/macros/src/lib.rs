//! The `#[commands]` attribute of the wasmgr Rust guest SDK.
//!
//! Use it through `wasmgr_guest::commands`; the SDK's crate documentation describes the
//! syntax. This crate only turns an annotated `impl` block into an implementation of
//! `wasmgr_guest::Commands`: the command declarations for `describe` and the dispatch from a
//! command's prefix to its handler, with each handler argument read from the command map by
//! its parameter name and Rust type. Argument names are therefore written once, as the
//! handler's parameter names.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned as _;
use syn::{
    Attribute, Expr, ExprLit, ExprUnary, FnArg, ImplItem, ImplItemFn, ItemImpl, Lit, LitStr, Pat,
    RangeLimits, ReturnType, Token, Type, UnOp,
};

/// Declares the commands a module serves: put it on an `impl` block of the module type.
///
/// Methods marked `#[read("prefix words")]`, `#[write("prefix words")]` or
/// `#[command("prefix words", perm = "w")]` become commands; their doc comment (first
/// paragraph) is the one-line description, their typed parameters are the arguments. See the
/// `wasmgr_guest` crate documentation for the full syntax.
#[proc_macro_attribute]
pub fn commands(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut imp = syn::parse_macro_input!(item as ItemImpl);
    let mut errors = Errors::default();
    if !attr.is_empty() {
        errors.push(syn::Error::new(
            TokenStream2::from(attr).span(),
            "#[commands] takes no arguments",
        ));
    }
    let commands = collect(&mut imp, &mut errors);
    let generated = if errors.is_empty() {
        generate(&imp, &commands)
    } else {
        // An empty implementation keeps the errors above from cascading into "the trait
        // `Commands` is not implemented" at the module's `MgrModule` impl.
        let (impl_generics, _, where_clause) = imp.generics.split_for_impl();
        let self_ty = &imp.self_ty;
        quote!(impl #impl_generics ::wasmgr_guest::Commands for #self_ty #where_clause {})
    };
    let errors = errors.into_compile_errors();
    // The impl block is emitted even on error (with the helper attributes removed), so that a
    // mistake in one attribute does not cascade into "method not found" errors elsewhere.
    quote!(#imp #generated #errors).into()
}

/// Who may run a command (WIT `perm`).
#[derive(Clone, Copy)]
enum Perm {
    R,
    W,
    Rw,
}

impl Perm {
    fn variant(self) -> proc_macro2::Ident {
        let name = match self {
            Perm::R => "R",
            Perm::W => "W",
            Perm::Rw => "Rw",
        };
        proc_macro2::Ident::new(name, Span::call_site())
    }
}

/// How a handler's return value becomes a command result: Ceph's object_format decorators.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// The handler returns an `IntoCommandResult` (raw output, ErrorResponseHandler).
    Raw,
    /// `Result<T: Serialize, ErrorResponse>`, formatted per the `format` key.
    Responder,
    /// `Result<(), ErrorResponse>`, success with empty output.
    EmptyResponder,
}

/// The parsed `#[read(..)]`, `#[write(..)]` or `#[command(..)]` attribute.
struct CommandAttr {
    prefix: LitStr,
    perm: Option<Perm>,
    poll: bool,
    style: Style,
    desc: Option<LitStr>,
}

impl Parse for CommandAttr {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let prefix: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the command's prefix words, e.g. \"hello stats\"",
            )
        })?;
        let mut attr = CommandAttr {
            prefix,
            perm: None,
            poll: false,
            style: Style::Raw,
            desc: None,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key = input.call(proc_macro2::Ident::parse_any)?;
            match key.to_string().as_str() {
                "perm" => {
                    input.parse::<Token![=]>()?;
                    let (value, span) = if input.peek(LitStr) {
                        let lit: LitStr = input.parse()?;
                        (lit.value(), lit.span())
                    } else {
                        let ident = input.call(proc_macro2::Ident::parse_any)?;
                        (ident.to_string(), ident.span())
                    };
                    attr.perm = Some(match value.as_str() {
                        "r" => Perm::R,
                        "w" => Perm::W,
                        "rw" => Perm::Rw,
                        _ => {
                            return Err(syn::Error::new(
                                span,
                                "perm must be \"r\", \"w\" or \"rw\"",
                            ));
                        }
                    });
                }
                "desc" => {
                    input.parse::<Token![=]>()?;
                    attr.desc = Some(input.parse()?);
                }
                "poll" => attr.poll = true,
                "responder" => attr.style = Style::Responder,
                "empty_responder" => attr.style = Style::EmptyResponder,
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        "unknown key: expected perm = \"r\"|\"w\"|\"rw\", desc = \"...\", poll, \
                         responder or empty_responder",
                    ));
                }
            }
        }
        Ok(attr)
    }
}

/// A range bound as written: an integer or a float literal, possibly negated.
enum Bound {
    Int(i64),
    Float(f64),
}

/// The parsed `#[arg(..)]` attribute of one parameter.
#[derive(Default)]
struct ArgAttr {
    range: Option<(Option<Bound>, Option<Bound>, Span)>,
    choices: Option<Vec<LitStr>>,
    goodchars: Option<LitStr>,
}

/// How the handler receives one parameter.
enum Param {
    /// A command argument read from the command map by name.
    Arg {
        name: String,
        ty: Box<Type>,
        attr: ArgAttr,
    },
    /// `inbuf`: the client's input file.
    Inbuf,
    /// `format`: the requested output format, if any.
    Format,
}

/// One method marked as a command.
struct Command {
    method: proc_macro2::Ident,
    attr: CommandAttr,
    perm: Perm,
    desc: String,
    receiver: bool,
    params: Vec<Param>,
    ret_span: Span,
}

/// Collects errors so that one macro run reports every mistake, not just the first.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    fn into_compile_errors(self) -> TokenStream2 {
        self.0.map(|e| e.to_compile_error()).unwrap_or_default()
    }
}

const COMMAND_ATTRS: [&str; 3] = ["read", "write", "command"];

fn is_command_attr(attr: &Attribute) -> bool {
    COMMAND_ATTRS.iter().any(|name| attr.path().is_ident(name))
}

/// Finds the command methods, strips the helper attributes and checks what can be checked
/// without types: prefixes, perms, descriptions, argument names.
fn collect(imp: &mut ItemImpl, errors: &mut Errors) -> Vec<Command> {
    let mut commands: Vec<Command> = Vec::new();
    for item in &mut imp.items {
        let ImplItem::Fn(method) = item else {
            continue;
        };
        let mut marks = Vec::new();
        method.attrs.retain(|attr| {
            if is_command_attr(attr) {
                marks.push(attr.clone());
                false
            } else {
                true
            }
        });
        let Some(mark) = marks.first() else {
            for arg in &mut method.sig.inputs {
                if let FnArg::Typed(pat) = arg {
                    if let Some(attr) = pat.attrs.iter().find(|a| a.path().is_ident("arg")) {
                        errors.push(syn::Error::new(
                            attr.span(),
                            "#[arg] is only meaningful on a command's parameters",
                        ));
                    }
                    pat.attrs.retain(|a| !a.path().is_ident("arg"));
                }
            }
            continue;
        };
        if let Some(extra) = marks.get(1) {
            errors.push(syn::Error::new(
                extra.span(),
                "a method serves at most one command",
            ));
        }
        if let Some(command) = command(method, mark, errors) {
            if let Some(first) = commands
                .iter()
                .find(|c| c.attr.prefix.value() == command.attr.prefix.value())
            {
                errors.push(syn::Error::new(
                    command.attr.prefix.span(),
                    format!(
                        "the prefix \"{}\" is already served by `{}`",
                        first.attr.prefix.value(),
                        first.method
                    ),
                ));
            }
            commands.push(command);
        }
    }
    commands
}

fn command(method: &mut ImplItemFn, mark: &Attribute, errors: &mut Errors) -> Option<Command> {
    let attr: CommandAttr = match mark.parse_args() {
        Ok(attr) => attr,
        Err(e) => {
            errors.push(e);
            strip_arg_attrs(method);
            return None;
        }
    };
    let kind = mark
        .path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    let perm = match (kind.as_str(), attr.perm) {
        ("read", None) => Perm::R,
        // Ceph's CLIWriteCommand declares perm "rw".
        ("write", None) => Perm::Rw,
        ("command", Some(perm)) => perm,
        ("command", None) => {
            errors.push(syn::Error::new(
                mark.span(),
                "#[command] needs perm = \"r\", \"w\" or \"rw\" (or use #[read] / #[write])",
            ));
            Perm::R
        }
        (_, Some(_)) => {
            errors.push(syn::Error::new(
                mark.span(),
                format!("#[{kind}] fixes the perm; use #[command(.., perm = ..)] to choose it"),
            ));
            Perm::R
        }
        _ => Perm::R,
    };
    check_prefix(&attr.prefix, errors);

    let desc = match &attr.desc {
        Some(desc) => desc.value(),
        None => doc_summary(&method.attrs),
    };
    if desc.trim().is_empty() {
        errors.push(syn::Error::new(
            method.sig.ident.span(),
            "a command needs a description: add a doc comment (its first paragraph is the \
             one-line description shown by --help) or desc = \"...\"",
        ));
    }

    let mut receiver = false;
    let mut params = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for input in &mut method.sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                if r.reference.is_none() {
                    errors.push(syn::Error::new(
                        r.span(),
                        "a command handler takes `&mut self` or `&self`",
                    ));
                }
                receiver = true;
            }
            FnArg::Typed(pat) => {
                let arg_attrs: Vec<Attribute> = pat
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("arg"))
                    .cloned()
                    .collect();
                pat.attrs.retain(|a| !a.path().is_ident("arg"));
                let Pat::Ident(ident) = &*pat.pat else {
                    errors.push(syn::Error::new(
                        pat.pat.span(),
                        "a command parameter must be a plain name: it is the argument's name",
                    ));
                    continue;
                };
                let name = ident.ident.unraw().to_string();
                if seen.contains(&name) {
                    errors.push(syn::Error::new(ident.span(), "duplicate argument name"));
                }
                seen.push(name.clone());
                let param = match name.as_str() {
                    "inbuf" | "format" => {
                        if let Some(a) = arg_attrs.first() {
                            errors.push(syn::Error::new(
                                a.span(),
                                "`inbuf` and `format` are not command arguments",
                            ));
                        }
                        if name == "inbuf" {
                            Param::Inbuf
                        } else {
                            Param::Format
                        }
                    }
                    "prefix" | "target" => {
                        errors.push(syn::Error::new(
                            ident.span(),
                            format!("`{name}` is reserved in a Ceph command map"),
                        ));
                        continue;
                    }
                    _ => {
                        let mut parsed = ArgAttr::default();
                        for a in &arg_attrs {
                            if let Err(e) = parse_arg_attr(a, &mut parsed) {
                                errors.push(e);
                            }
                        }
                        if parsed.choices.is_some() && parsed.goodchars.is_some() {
                            errors.push(syn::Error::new(
                                ident.span(),
                                "an argument has either choices or goodchars, not both",
                            ));
                        }
                        Param::Arg {
                            name,
                            ty: pat.ty.clone(),
                            attr: parsed,
                        }
                    }
                };
                params.push(param);
            }
        }
    }
    if method.sig.asyncness.is_some() {
        errors.push(syn::Error::new(
            method.sig.span(),
            "a command handler cannot be async",
        ));
    }
    let ret_span = match &method.sig.output {
        ReturnType::Default => method.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    Some(Command {
        method: method.sig.ident.clone(),
        attr,
        perm,
        desc,
        receiver,
        params,
        ret_span,
    })
}

fn strip_arg_attrs(method: &mut ImplItemFn) {
    for input in &mut method.sig.inputs {
        if let FnArg::Typed(pat) = input {
            pat.attrs.retain(|a| !a.path().is_ident("arg"));
        }
    }
}

/// A prefix is one or more words separated by single spaces, as Ceph's command descriptions
/// write them, of the characters the host accepts (it refuses any other prefix when the
/// module is enabled).
fn check_prefix(prefix: &LitStr, errors: &mut Errors) {
    let value = prefix.value();
    let words: Vec<&str> = value.split(' ').collect();
    let well_formed = words.iter().all(|w| {
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c))
    });
    if !well_formed {
        errors.push(syn::Error::new(
            prefix.span(),
            "a prefix is words of lower-case letters, digits, '-' and '_' separated by single spaces",
        ));
    }
}

/// The first paragraph of the doc comment, its lines joined with spaces.
fn doc_summary(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        let syn::Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        let Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) = &nv.value
        else {
            continue;
        };
        let value = s.value();
        // Each `///` line is one attribute; an empty one (`///` alone) yields no lines.
        if value.trim().is_empty() && !lines.is_empty() {
            return lines.join(" ");
        }
        for line in value.lines() {
            let line = line.trim();
            if line.is_empty() {
                if !lines.is_empty() {
                    return lines.join(" ");
                }
            } else {
                lines.push(line.to_owned());
            }
        }
    }
    lines.join(" ")
}

fn parse_arg_attr(attr: &Attribute, out: &mut ArgAttr) -> syn::Result<()> {
    attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("range") {
            let expr: Expr = meta.value()?.parse()?;
            out.range = Some(parse_range(&expr)?);
            Ok(())
        } else if meta.path.is_ident("choices") {
            let expr: Expr = meta.value()?.parse()?;
            let Expr::Array(array) = &expr else {
                return Err(syn::Error::new(
                    expr.span(),
                    "expected choices = [\"a\", \"b\"]",
                ));
            };
            let mut words = Vec::new();
            for elem in &array.elems {
                match elem {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    }) if !s.value().is_empty() => {
                        words.push(s.clone());
                    }
                    _ => {
                        return Err(syn::Error::new(
                            elem.span(),
                            "a choice is a non-empty string",
                        ));
                    }
                }
            }
            if words.is_empty() {
                return Err(syn::Error::new(expr.span(), "choices cannot be empty"));
            }
            out.choices = Some(words);
            Ok(())
        } else if meta.path.is_ident("goodchars") {
            out.goodchars = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta
                .error("unknown key: expected range = a..=b, choices = [..] or goodchars = \"..\""))
        }
    })
}

/// `a..=b`, `a..` or `..=b`, with integer or float literals. Ceph's ranges are inclusive, so
/// an exclusive `a..b` is refused rather than silently shifted.
fn parse_range(expr: &Expr) -> syn::Result<(Option<Bound>, Option<Bound>, Span)> {
    let Expr::Range(range) = expr else {
        return Err(syn::Error::new(
            expr.span(),
            "expected a range: a..=b, a.. or ..=b",
        ));
    };
    if range.end.is_some() && matches!(range.limits, RangeLimits::HalfOpen(_)) {
        return Err(syn::Error::new(
            expr.span(),
            "Ceph ranges are inclusive: write a..=b",
        ));
    }
    if range.start.is_none() && range.end.is_none() {
        return Err(syn::Error::new(
            expr.span(),
            "a range needs at least one bound",
        ));
    }
    let start = range.start.as_deref().map(parse_bound).transpose()?;
    let end = range.end.as_deref().map(parse_bound).transpose()?;
    if matches!((&start, &end), (Some(Bound::Int(_)), Some(Bound::Float(_))))
        || matches!((&start, &end), (Some(Bound::Float(_)), Some(Bound::Int(_))))
    {
        return Err(syn::Error::new(
            expr.span(),
            "write both bounds as integers (CephInt) or both as floats (CephFloat)",
        ));
    }
    Ok((start, end, expr.span()))
}

fn parse_bound(expr: &Expr) -> syn::Result<Bound> {
    let (negative, lit) = match expr {
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => (true, &**expr),
        other => (false, other),
    };
    match lit {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => {
            let v: i64 = i.base10_parse()?;
            Ok(Bound::Int(if negative { -v } else { v }))
        }
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => {
            let v: f64 = f.base10_parse()?;
            Ok(Bound::Float(if negative { -v } else { v }))
        }
        _ => Err(syn::Error::new(
            expr.span(),
            "a range bound is an integer or float literal",
        )),
    }
}

fn generate(imp: &ItemImpl, commands: &[Command]) -> TokenStream2 {
    let (impl_generics, _, where_clause) = imp.generics.split_for_impl();
    let self_ty = &imp.self_ty;
    let decls = commands.iter().map(declaration);
    let arms = commands.iter().map(dispatch_arm);
    quote! {
        impl #impl_generics ::wasmgr_guest::Commands for #self_ty #where_clause {
            fn commands() -> ::std::vec::Vec<::wasmgr_guest::CommandDecl> {
                ::std::vec![#(#decls),*]
            }

            fn dispatch(
                &mut self,
                __call: &::wasmgr_guest::__private::Call<'_>,
            ) -> ::core::option::Option<::wasmgr_guest::HandleCommandResult> {
                match __call.prefix() {
                    #(#arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
}

fn declaration(command: &Command) -> TokenStream2 {
    let prefix = &command.attr.prefix;
    let desc = &command.desc;
    let perm = command.perm.variant();
    let poll = command.attr.poll;
    let args = command.params.iter().filter_map(|param| {
        let Param::Arg { name, ty, attr } = param else {
            return None;
        };
        let mut refine = Vec::new();
        if let Some((min, max, span)) = &attr.range {
            let is_float =
                matches!(min, Some(Bound::Float(_))) || matches!(max, Some(Bound::Float(_)));
            let bound = |b: &Option<Bound>| match b {
                Some(Bound::Int(v)) => quote!(::core::option::Option::Some(#v)),
                Some(Bound::Float(v)) => quote!(::core::option::Option::Some(#v)),
                None => quote!(::core::option::Option::None),
            };
            let (min, max) = (bound(min), bound(max));
            refine.push(if is_float {
                quote_spanned!(*span=> ::wasmgr_guest::__private::float_range::<#ty>(&mut __arg, #min, #max);)
            } else {
                quote_spanned!(*span=> ::wasmgr_guest::__private::int_range::<#ty>(&mut __arg, #min, #max);)
            });
        }
        if let Some(choices) = &attr.choices {
            let span = choices.first().map_or_else(Span::call_site, LitStr::span);
            refine.push(quote_spanned!(span=>
                ::wasmgr_guest::__private::choices::<#ty>(&mut __arg, &[#(#choices),*]);));
        }
        if let Some(goodchars) = &attr.goodchars {
            refine.push(quote_spanned!(goodchars.span()=>
                ::wasmgr_guest::__private::goodchars::<#ty>(&mut __arg, #goodchars);));
        }
        Some(quote_spanned! {ty.span()=>
            {
                #[allow(unused_mut, reason = "refined only for some arguments")]
                let mut __arg = ::wasmgr_guest::__private::arg::<#ty>(#name);
                #(#refine)*
                __arg
            }
        })
    });
    quote! {
        ::wasmgr_guest::CommandDecl {
            prefix: ::std::string::String::from(#prefix),
            args: ::std::vec![#(#args),*],
            desc: ::std::string::String::from(#desc),
            perm: ::wasmgr_guest::Perm::#perm,
            poll: #poll,
        }
    }
}

fn dispatch_arm(command: &Command) -> TokenStream2 {
    let prefix = &command.attr.prefix;
    let method = &command.method;
    let mut reads = Vec::new();
    let mut call_args = Vec::new();
    for (i, param) in command.params.iter().enumerate() {
        match param {
            Param::Arg { name, ty, .. } => {
                let var = format_ident!("__arg{}", i);
                reads.push(quote_spanned! {ty.span()=>
                    let #var = match __call.arg::<#ty>(#name) {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => {
                            return ::core::option::Option::Some(error.into());
                        }
                    };
                });
                call_args.push(quote!(#var));
            }
            Param::Inbuf => call_args.push(quote!(::core::convert::From::from(__call.inbuf()))),
            Param::Format => {
                call_args.push(quote!(__call.format().map(::core::convert::From::from)))
            }
        }
    }
    let call = if command.receiver {
        quote!(self.#method(#(#call_args),*))
    } else {
        quote!(Self::#method(#(#call_args),*))
    };
    // A Responder checks the format before running the handler, as Ceph's does, so that a
    // typo in `--format` cannot leave a write half-reported.
    let check_format = (command.attr.style == Style::Responder).then(|| {
        quote! {
            let __format = match ::wasmgr_guest::Format::parse(__call.format()) {
                ::core::result::Result::Ok(format) => format,
                ::core::result::Result::Err(error) => {
                    return ::core::option::Option::Some(error.into());
                }
            };
        }
    });
    let respond = match command.attr.style {
        Style::Raw => quote_spanned!(command.ret_span=> ::wasmgr_guest::__private::raw(#call)),
        Style::Responder => quote_spanned!(command.ret_span=>
            ::wasmgr_guest::__private::responder(#call, __format)),
        Style::EmptyResponder => quote_spanned!(command.ret_span=>
            ::wasmgr_guest::__private::empty_responder(#call)),
    };
    quote! {
        #prefix => {
            #check_format
            #(#reads)*
            ::core::option::Option::Some(#respond)
        }
    }
}
