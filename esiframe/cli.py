"""The ``esiframe`` command (also ``python -m esiframe``).

``esiframe get OP key=value ...`` prints a preview or writes a file;
``ops`` and ``describe`` browse the spec; ``sandbox`` runs the offline ESI
emulator; ``cache info|clear`` looks after the HTTP cache; ``login`` runs
the SSO flow in a terminal.

A user's mistake never ends in a traceback: it is one line on stderr saying
what to do, and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ._version import __version__
from .client import Client
from .errors import EsiError, ParameterError
from .http import CACHE_FILE, cache_file, clear_cache
from .operations import Operation, Parameter
from .settings import Settings

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["GET_OPTIONS", "main", "parse_value"]

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}
_FORMATS = (".parquet", ".csv", ".json")
#: Exit code of a user's mistake (argparse's own).
USAGE = 2
#: Exit code when the reader went away (``| head``): 128 + SIGPIPE, as other tools.
BROKEN_PIPE = 141

#: ``get``'s own options, accepted as ``key=value`` too: name -> (JSON type, flag).
GET_OPTIONS: Mapping[str, tuple[str, str]] = {
    "pages": ("integer", "--pages N"),
    "max_requests": ("integer", "--max-requests N"),
    "language": ("string", "--language de"),
    "languages": ("array", "--languages en,de"),
    "character": ("string", "--character NAME"),
    "on_limit": ("string", "--on-limit sleep|raise"),
    "errors": ("string", "--errors raise|skip"),
    "dtype_backend": ("string", "--dtype-backend numpy_nullable|pyarrow"),
    "if_modified_since": ("string", "--if-modified-since DATE"),
    "force_refresh": ("boolean", "--force-refresh"),
    "use_cache": ("boolean", "--no-cache"),
    "progress": ("boolean", "--quiet"),
}
#: ``get`` options that have no command-line form, and what to do instead.
_PYTHON_ONLY = {
    "token": "a token never goes on a command line; log in with `esiframe login` and use "
    "--character",
    "raw": "the command writes tables; -o file.json keeps every value",
    "each": "each= pairs rows in Python only; on the command line give lists (key=a,b)",
}


def _scalar(name: str, schema: Mapping[str, Any] | Any, text: str) -> Any:
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


def _items(name: str, text: str) -> list[str]:
    """The comma-separated items of ``text``; an empty one (``34,``) is refused, named."""
    parts = text.split(",")
    if len(parts) > 1 and "" in parts:
        where = "trailing" if parts[-1] == "" else "leading" if parts[0] == "" else "double"
        kept = ",".join(p for p in parts if p)
        raise ParameterError(
            f"{name}={text}: a {where} comma leaves an empty value; write {name}={kept}"
        )
    return parts


def parse_value(parameter: Parameter, text: str) -> Any:
    """A command-line ``key=value`` as the typed value ``get`` expects.

    Commas make lists: an array parameter's items, or a fan-out over a scalar.
    """
    parts = _items(parameter.name, text)
    if parameter.type == "array":
        item = parameter.schema.get("items", {})
        return [_scalar(parameter.name, item, t) for t in parts]
    values = [_scalar(parameter.name, parameter.schema, t) for t in parts]
    return values if len(values) > 1 else values[0]


def _option_value(name: str, text: str) -> Any:
    """A ``get`` option written ``key=value`` (``pages=2``), typed as its flag would be."""
    kind, flag = GET_OPTIONS[name]
    if kind == "array":
        return _items(name, text)
    if name == "language" and "," in text:
        raise ParameterError(f"language={text}: one language; for several use languages={text}")
    try:
        return _scalar(name, {"type": kind}, text)
    except ParameterError as exc:
        raise ParameterError(f"{exc} (or use {flag})") from None


def _merge(params: dict[str, Any], name: str, value: Any) -> None:
    """A repeated key adds to the list, as ``key=a,b`` would: ``type_id=34 type_id=35``."""
    if name not in params:
        params[name] = value
        return
    old, new = params[name], value
    params[name] = (old if isinstance(old, list) else [old]) + (
        new if isinstance(new, list) else [new]
    )


def _parse_params(
    op: Operation, pairs: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """``key=value`` words as (operation parameters, get options, body)."""
    known = {p.name: p for p in op.user_parameters}
    params: dict[str, Any] = {}
    options: dict[str, Any] = {}
    body: Any = None
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise ParameterError(f"expected key=value, got {pair!r}; call it as {op.signature}")
        if name == "body" and op.body_schema is not None:
            item = op.body_schema.get("items", {})
            body = (body or []) + [_scalar("body", item, t) for t in _items("body", text)]
        elif name in known:
            _merge(params, name, parse_value(known[name], text))
        elif name in GET_OPTIONS:
            if name in options:
                raise ParameterError(f"{name} is given twice; keep one {name}=...")
            options[name] = _option_value(name, text)
        elif name in _PYTHON_ONLY:
            raise ParameterError(f"{name}=: {_PYTHON_ONLY[name]}")
        else:
            params[name] = text  # get() names it and the signature
    return params, options, body


def _flag_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``get`` options given as flags (``--pages 2``); ``--lang`` is the old spelling."""
    options = {name: getattr(args, name) for name in GET_OPTIONS}
    options = {name: value for name, value in options.items() if value is not None}
    if "languages" in options:
        options["languages"] = _items("languages", options["languages"])
    if args.lang:
        langs = _items("--lang", args.lang)
        options["languages" if len(langs) > 1 else "language"] = (
            langs if len(langs) > 1 else langs[0]
        )
    return options


def _get_options(args: argparse.Namespace, written: Mapping[str, Any]) -> dict[str, Any]:
    """Flags and ``key=value`` options together; the same option both ways must agree."""
    flags = _flag_options(args)
    for name in sorted(set(flags) & set(written)):
        if flags[name] != written[name]:
            flag = GET_OPTIONS[name][1].split()[0]
            raise ParameterError(f"{name} is given both as {flag} and as {name}=; keep one")
    options = {**flags, **written}
    if options.get("language") and options.get("languages"):
        raise ParameterError("give either language or languages (several), not both")
    return options


def _settings(args: argparse.Namespace, **fixed: Any) -> Settings:
    """The client's settings: environment, then ``fixed``, then --contact/--app-name."""
    mine = {"contact": args.contact, "app_name": args.app_name}
    return Settings.from_env(**{**fixed, **{k: v for k, v in mine.items() if v}})


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[Client]:
    if args.sandbox:
        from .sandbox import Sandbox

        with Sandbox() as sandbox:
            settings = _settings(
                args,
                base_url=sandbox.url,
                sso_url=sandbox.url,
                cache=False,
                app_name="esiframe-cli",
                contact="sandbox@127.0.0.1",
            )
            client = Client(settings)
            try:
                yield client
            finally:
                client.close()
        return
    client = Client(_settings(args))
    try:
        yield client
    finally:
        client.close()


def _output_path(text: str) -> Path:
    """The ``-o`` file, checked before any request: a known format, its folder made."""
    path = Path(text).expanduser()
    if path.suffix.lower() not in _FORMATS:
        raise ParameterError(f"-o {text}: the file name must end in {', '.join(_FORMATS)}")
    if path.is_dir() and path.suffix.lower() != ".parquet":
        raise ParameterError(f"-o {text} is a folder; give a file name")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise ParameterError(f"-o {text}: {blocking} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"-o {text}: cannot create its folder ({_why(exc)})") from None
    if not os.access(path.parent, os.W_OK):
        raise ParameterError(f"-o {text}: cannot write in {path.parent} (permission denied)")
    return path


def _why(exc: OSError) -> str:
    """An OSError's reason without a file name: pyarrow's names a hidden temporary file."""
    number = exc.errno
    if number is None:
        found = re.search(r"\[errno (\d+)\]", str(exc))
        number = int(found.group(1)) if found else None
    return os.strerror(number) if number is not None else type(exc).__name__


def _dates_as_dates(df: pd.DataFrame) -> pd.DataFrame:
    """Date columns (naive, all midnight: ESI's ``format: date``) as ``YYYY-MM-DD`` text."""
    import pandas as pd

    out = df.copy(deep=False)
    for name in df.columns:
        column = df[name]
        if not pd.api.types.is_datetime64_dtype(column.dtype):  # naive only: not date-time
            continue
        if (column.dropna() == column.dropna().dt.normalize()).all():
            out[name] = column.dt.strftime("%Y-%m-%d")
    return out


def _write(df: pd.DataFrame, path: Path, shown: str) -> None:
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            from .export import to_parquet

            to_parquet(df, path, existing="replace_partitions")
        elif suffix == ".csv":
            df.to_csv(path, index=False)
        else:
            _dates_as_dates(df).to_json(path, orient="records", date_format="iso", indent=1)
    except OSError as exc:
        raise ParameterError(f"cannot write {shown}: {_why(exc)}") from None


def _summary(df: pd.DataFrame) -> str:
    meta = df.attrs.get("esi", {})
    return (
        f"{len(df)} rows x {len(df.columns)} columns from {meta.get('pages')} response(s) "
        f"(cache: {meta.get('cache')}); last modified {meta.get('last_modified')}, "
        f"expires {meta.get('expires')}"
    )


def _cmd_get(args: argparse.Namespace) -> int:
    path = _output_path(args.output) if args.output else None
    with _client(args) as client:
        op = client.operation(args.operation)
        params, written, body = _parse_params(op, args.params)
        options = _get_options(args, written)
        if body is not None:
            options["body"] = body
        df = client.get(op.operation_id, **options, **params)
    if path is not None:
        _write(df, path, args.output)
        print(f"wrote {args.output}: {_summary(df)}")
        return 0
    import pandas as pd

    with pd.option_context("display.max_columns", 20, "display.width", 160):
        print(df.head(args.rows).to_string())
    print(_summary(df))
    return 0


def _cmd_ops(args: argparse.Namespace) -> int:
    from .catalog import tag_attribute
    from .spec import load_spec

    spec = load_spec(path=args.spec) if args.spec else load_spec()
    tags = spec.by_tag()
    chosen = list(tags)
    if args.tag:
        wanted = args.tag.lower()
        chosen = [t for t in tags if wanted in {t.lower(), tag_attribute(t)}]
        if not chosen:
            raise ParameterError(_no_tag(args.tag, list(tags)))
    for tag in chosen:
        print(f"{tag}:")
        for op_id in tags[tag]:
            print(f"  {op_id:52} {spec.operation(op_id).summary}")
    return 0


def _no_tag(asked: str, tags: list[str]) -> str:
    """No tag ``asked``: the closest ones, else every tag."""
    by_lower = {t.lower(): t for t in tags}
    close = difflib.get_close_matches(asked.lower(), list(by_lower), n=3, cutoff=0.6)
    if close:
        return f"no tag {asked!r}; did you mean {', '.join(by_lower[c] for c in close)}?"
    return f"no tag {asked!r}; the tags are {', '.join(tags)}"


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


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _identity() -> _Parser:
    """--contact and --app-name: who runs this, for ESI's User-Agent (docs/esi.md §7)."""
    parent = _Parser(add_help=False)
    parent.add_argument("--contact", help="your e-mail or EVE character, sent to ESI")
    parent.add_argument("--app-name", help="your application's name, sent to ESI")
    parent.add_argument(
        "--sandbox", action="store_true", help="run against a local ESI sandbox (offline)"
    )
    return parent


def _get_parser(sub: Any) -> None:
    get = sub.add_parser(
        "get", parents=[_identity()], help="fetch an operation (all pages) as a table"
    )
    get.add_argument("operation", help="operationId, e.g. GetMarketsRegionIdHistory")
    get.add_argument(
        "params", nargs="*", help="key=value; commas or a repeated key fan out: type_id=34,35"
    )
    get.add_argument("--language", help="the language of text columns, e.g. de")
    get.add_argument("--languages", help="several languages merged as name_en, name_de: en,de")
    get.add_argument("--lang", help=argparse.SUPPRESS)  # the old spelling of both
    get.add_argument("--pages", type=int, help="only the first N pages")
    get.add_argument("--max-requests", type=int, help="refuse a call needing more requests")
    get.add_argument("--character", help="logged-in character (name or id) for scoped operations")
    get.add_argument("--on-limit", help="at a rate limit: sleep (default) or raise")
    get.add_argument("--errors", help="a failed request: raise (default) or skip")
    get.add_argument("--dtype-backend", help="numpy_nullable (default) or pyarrow")
    get.add_argument("--if-modified-since", help="an HTTP date or ISO time")
    get.add_argument("--force-refresh", action="store_true", default=None, help="skip the cache")
    get.add_argument(
        "--no-cache", dest="use_cache", action="store_false", default=None, help="no HTTP cache"
    )
    get.add_argument("-o", "--output", help="write .parquet, .csv or .json instead of printing")
    get.add_argument("--rows", type=int, default=20, help="rows to preview (default 20)")
    get.add_argument(
        "-q", "--quiet", dest="progress", action="store_const", const=False, help="no progress bar"
    )
    get.set_defaults(func=_cmd_get)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="esiframe", description="EVE Online's ESI as DataFrames.")
    parser.add_argument("--version", action="version", version=f"esiframe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _get_parser(sub)

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

    login = sub.add_parser("login", parents=[_identity()], help="log a character in (EVE SSO)")
    login.add_argument("--client-id", required=True)
    login.add_argument("--scope", action="append", default=[], help="repeat for several scopes")
    login.add_argument("--callback-url", help="default http://127.0.0.1:8765/callback")
    login.add_argument("--timeout", type=float, default=300.0)
    login.set_defaults(func=_cmd_login)
    return parser


def _quiet_pipe() -> int:
    """The reader of stdout went away (``| head``): stop without a word."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush at exit
    return BROKEN_PIPE


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; ``key=value`` words may come after options too (``--sandbox type_id=34``)."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "get":
        args.params.extend(word for word in extra if not word.startswith("-"))
        extra = [word for word in extra if word.startswith("-")]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; a mistake is one line on stderr and exit code 2, never a traceback."""
    args = _parse(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        return _quiet_pipe()
    except EsiError as exc:
        print(f"esiframe: {exc}", file=sys.stderr)
        return USAGE
    except OSError as exc:  # a --spec file missing, a sandbox port taken...
        print(f"esiframe: {exc}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print("esiframe: interrupted", file=sys.stderr)
        return 130
    return code
