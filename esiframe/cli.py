"""The ``esiframe`` command (also ``python -m esiframe``).

``esiframe get OP key=value ...`` prints a preview or writes a file;
``ops`` and ``describe`` browse the spec; ``sandbox`` runs the offline ESI
emulator; ``cache info|clear`` looks after the HTTP cache; ``login`` runs
the SSO flow in a terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .client import Client
from .errors import EsiError, ParameterError
from .http import CACHE_FILE, cache_file, clear_cache
from .operations import Operation, Parameter
from .settings import Settings

__all__ = ["main", "parse_value"]

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def _scalar(name: str, schema: dict[str, Any] | Any, text: str) -> Any:
    kind = schema.get("type", "string")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        raise ParameterError(
            f"{name} must be {'an integer' if kind == 'integer' else 'a number'}, got {text!r}"
        ) from None
    if kind == "boolean":
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ParameterError(f"{name} must be true or false, got {text!r}")
    return text


def parse_value(parameter: Parameter, text: str) -> Any:
    """A command-line ``key=value`` as the typed value ``get`` expects.

    Commas make lists: an array parameter's items, or a fan-out over a scalar.
    """
    if parameter.type == "array":
        return [
            _scalar(parameter.name, parameter.schema.get("items", {}), t) for t in text.split(",")
        ]
    parts = text.split(",")
    values = [_scalar(parameter.name, parameter.schema, t) for t in parts]
    return values if len(values) > 1 else values[0]


def _parse_params(op: Operation, pairs: Sequence[str]) -> tuple[dict[str, Any], Any]:
    known = {p.name: p for p in op.user_parameters}
    params: dict[str, Any] = {}
    body: Any = None
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise ParameterError(f"expected key=value, got {pair!r}. Call it as {op.signature}")
        if name == "body" and op.body_schema is not None:
            item = op.body_schema.get("items", {})
            body = [_scalar("body", item, t) for t in text.split(",")]
        elif name in known:
            params[name] = parse_value(known[name], text)
        else:
            params[name] = text  # get() names it and the signature
    return params, body


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[Client]:
    overrides: dict[str, Any] = {}
    if getattr(args, "lang", None):
        overrides["language"] = args.lang.split(",")[0]
    if args.sandbox:
        from .sandbox import Sandbox

        with Sandbox() as sandbox:
            settings = Settings.from_env(
                base_url=sandbox.url,
                sso_url=sandbox.url,
                cache=False,
                app_name="esiframe-cli",
                contact="sandbox@127.0.0.1",
                **overrides,
            )
            client = Client(settings)
            try:
                yield client
            finally:
                client.close()
        return
    client = Client(Settings.from_env(**overrides))
    try:
        yield client
    finally:
        client.close()


def _cmd_get(args: argparse.Namespace) -> int:
    with _client(args) as client:
        op = client.operation(args.operation)
        params, body = _parse_params(op, args.params)
        languages = args.lang.split(",") if args.lang else None
        kwargs: dict[str, Any] = {"pages": args.pages, "progress": False if args.quiet else None}
        if languages and len(languages) > 1:
            kwargs["languages"] = languages
        if args.character:
            kwargs["character"] = args.character
        if body is not None:
            kwargs["body"] = body
        df = client.get(op.operation_id, **kwargs, **params)
    meta = df.attrs.get("esi", {})
    summary = (
        f"{len(df)} rows x {len(df.columns)} columns from {meta.get('pages')} response(s) "
        f"(cache: {meta.get('cache')}); last modified {meta.get('last_modified')}, "
        f"expires {meta.get('expires')}"
    )
    if args.output:
        path = Path(args.output)
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            from .export import to_parquet

            to_parquet(df, path, existing="replace_partitions")
        elif suffix == ".csv":
            df.to_csv(path, index=False)
        elif suffix == ".json":
            df.to_json(path, orient="records", date_format="iso", indent=1)
        else:
            raise ParameterError(f"-o {path}: write .parquet, .csv or .json")
        print(f"wrote {path}: {summary}")
    else:
        import pandas as pd

        with pd.option_context("display.max_columns", 20, "display.width", 160):
            print(df.head(args.rows).to_string())
        print(summary)
    return 0


def _cmd_ops(args: argparse.Namespace) -> int:
    from .catalog import tag_attribute
    from .spec import load_spec

    spec = load_spec(path=args.spec) if args.spec else load_spec()
    for tag, ids in spec.by_tag().items():
        if args.tag and args.tag.lower() not in {tag.lower(), tag_attribute(tag)}:
            continue
        print(f"{tag}:")
        for op_id in ids:
            print(f"  {op_id:52} {spec.operation(op_id).summary}")
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    from .spec import load_spec

    spec = load_spec(path=args.spec) if args.spec else load_spec()
    print(spec.operation(args.operation).__doc__)
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from .sandbox import serve

    with contextlib.suppress(KeyboardInterrupt):
        serve(host=args.host, port=args.port)
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    directory = settings.cache_dir
    if directory is None:
        print("the cache is off (ESIFRAME_CACHE_DIR=0)")
        return 0
    path = cache_file(directory)
    if args.action == "clear":
        clear_cache(directory)
        print(f"cleared {path}")
    else:
        size = (
            sum(p.stat().st_size for p in directory.glob(CACHE_FILE + "*"))
            if directory.exists()
            else 0
        )
        print(f"cache file: {path}\nsize: {size / 1e6:.1f} MB")
    return 0


def _cmd_login(args: argparse.Namespace) -> int:
    with _client(args) as client:
        login = client.login(args.client_id, args.scope, callback_url=args.callback_url)
        print(f"Open this URL in a browser and log in:\n\n  {login.url}\n", flush=True)
        character = login.wait(timeout=args.timeout)
        print(f"Logged in as {character.name} ({character.character_id})")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="esiframe", description="EVE Online's ESI as DataFrames.")
    sub = parser.add_subparsers(dest="command", required=True)

    get = sub.add_parser("get", help="fetch an operation (all pages) as a table")
    get.add_argument("operation", help="operationId, e.g. GetMarketsRegionIdHistory")
    get.add_argument("params", nargs="*", help="key=value; commas fan out: type_id=34,35")
    get.add_argument("--lang", help="language, or several (localized operations): en,de,ko")
    get.add_argument("--pages", type=int, help="only the first N pages")
    get.add_argument("--character", help="logged-in character (name or id) for scoped operations")
    get.add_argument("-o", "--output", help="write .parquet, .csv or .json instead of printing")
    get.add_argument("--rows", type=int, default=20, help="rows to preview (default 20)")
    get.add_argument(
        "--sandbox", action="store_true", help="run against a local ESI sandbox (offline)"
    )
    get.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    get.set_defaults(func=_cmd_get)

    ops = sub.add_parser("ops", help="list operations")
    ops.add_argument("--tag", help="only this tag, e.g. Market")
    ops.add_argument("--spec", help="a local openapi.json instead of the bundled one")
    ops.set_defaults(func=_cmd_ops)

    describe = sub.add_parser("describe", help="parameters and facts of one operation")
    describe.add_argument("operation")
    describe.add_argument("--spec", help="a local openapi.json instead of the bundled one")
    describe.set_defaults(func=_cmd_describe)

    sandbox = sub.add_parser("sandbox", help="run the offline ESI emulator")
    sandbox.add_argument("--port", type=int, default=8080)
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.set_defaults(func=_cmd_sandbox)

    cache = sub.add_parser("cache", help="the HTTP cache")
    cache.add_argument("action", choices=["info", "clear"])
    cache.set_defaults(func=_cmd_cache)

    login = sub.add_parser("login", help="log a character in through EVE SSO")
    login.add_argument("--client-id", required=True)
    login.add_argument("--scope", action="append", default=[], help="repeat for several scopes")
    login.add_argument("--callback-url", help="default http://127.0.0.1:8765/callback")
    login.add_argument("--timeout", type=float, default=300.0)
    login.add_argument("--sandbox", action="store_true", help="log in to the local sandbox SSO")
    login.set_defaults(func=_cmd_login)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except EsiError as exc:
        print(f"esiframe: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("esiframe: interrupted", file=sys.stderr)
        return 130
    return code
