"""The ``untoc`` command line: parses options, calls the library, formats the answer.

Results go to stdout, messages to stderr. Every error the library raises on purpose becomes a
one-line message and a non-zero exit (2 for input that cannot be read, 1 otherwise).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import UntocError

__all__ = ["main", "cli"]


class Failure(click.ClickException):
    """A ClickException carrying the library error's exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def _fail(exc: UntocError) -> Failure:
    return Failure(str(exc), getattr(exc, "exit_code", 1))


def _note(message: str) -> None:
    click.echo(click.style(message, fg="yellow"), err=True)


def _kg(ctx: click.Context):
    from .graph import KnowledgeGraph

    if "kg" not in ctx.obj:
        ctx.obj["kg"] = KnowledgeGraph(ctx.obj["data"], on_rebuild=_note)
    return ctx.obj["kg"]


def _write(output: str | None, payload: bytes | str) -> None:
    """Write to stdout, or atomically to a file (see ``_write_with``)."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    _write_with(output, lambda fh: fh.write(data))


def _write_with(output: str | None, write) -> None:
    """Call ``write(binary file)`` on stdout, or on a temporary file beside ``output`` that is
    renamed into place once complete: a failure (or Ctrl-C) leaves the old file as it was and no
    temporary file behind. The new file gets the old one's permissions, or the umask's."""
    if not output or output == "-":
        write(sys.stdout.buffer)
        sys.stdout.flush()
        return
    import secrets  # only when writing a file: it costs the query path startup time

    target = Path(output)
    tmp = target.with_name(f".{target.name}.untoc-{secrets.token_hex(6)}")
    try:
        # created as open() would (0o666 less the umask), not 0o600 as tempfile makes it
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise Failure(f"{output}: {exc.strerror or exc}", 2) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        try:
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        except FileNotFoundError:
            pass
        os.replace(tmp, target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise Failure(f"{output}: {exc.strerror or exc}", 2) from None
        raise
    _note(f"wrote {target}")


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UntocError as exc:
            raise _fail(exc) from None
        except KeyboardInterrupt:
            raise Failure("interrupted", 130) from None
        # Running out of memory (a graph too large for the machine, a memory limit) shows as
        # MemoryError, or as SystemError when the engine's bindings fail to allocate.
        except MemoryError:
            raise Failure("out of memory", 1) from None
        except SystemError as exc:
            raise Failure(f"the engine failed ({' '.join(str(exc).split())}), as it does when "
                          "memory runs out", 1) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="untoc")
@click.option("--data", "data", type=click.Path(file_okay=False), envvar="UNTOC_DATA",
              help="Directory of instance data to use instead of the shipped data/.")
@click.pass_context
def cli(ctx, data):
    """Ask, export, validate and extend the untoc-kg knowledge graph.

    \b
    Example:
      untoc query wg-meetings
    """
    ctx.ensure_object(dict)
    ctx.obj["data"] = data


@cli.command("queries")
@click.pass_context
def queries_cmd(ctx):
    """List the saved queries with their summaries and parameters.

    \b
    Example:
      untoc queries
    """
    for q in _kg(ctx).catalogue:
        click.echo(click.style(q.name, bold=True) + f"  {q.summary}")
        for p in q.params:
            flags = "optional" if p.optional else (f"default {p.default}" if p.default else "required")
            example = f"; e.g. {p.example}" if p.example else ""
            click.echo(f"    -p {p.name} <{p.type}>  ({flags}) {p.description}{example}")


def _remote_options(f):
    """--user/--password/--token/--timeout for commands that talk to a remote store."""
    f = click.option("--timeout", default=30.0, type=click.FloatRange(min=0, min_open=True),
                     show_default=True, help="Seconds to wait for the remote store.")(f)
    f = click.option("--token", envvar="UNTOC_TOKEN", metavar="TOKEN",
                     help="Bearer token for the remote store (or $UNTOC_TOKEN).")(f)
    f = click.option("--password", envvar="UNTOC_PASSWORD", metavar="PASSWORD",
                     help="Password for --user (or $UNTOC_PASSWORD).")(f)
    f = click.option("--user", metavar="USER", help="User name for HTTP basic (or digest) auth.")(f)
    return f


def _auth(ctx, endpoint, user, password, token):
    """The credentials for a remote store, checked for consistency; None when there are none."""
    from click.core import ParameterSource

    given = [n for n in ("user", "password", "token", "timeout")
             if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE]
    if endpoint is None:
        if given:
            raise Failure(f"--{given[0]} applies to --endpoint only", 2)
        return None
    if token is not None and user is not None:
        raise Failure("give --user/--password or --token, not both", 2)
    if password is not None and user is None and "password" in given:
        raise Failure("--password needs --user", 2)
    if user is None and token is None:
        return None
    from .httpclient import Auth

    return Auth(user=user, password=password if user is not None else None,
                token=token if user is None else None)


RESULT_CHOICES = ("table", "csv", "tsv", "json", "xml", "markdown")
RDF_CHOICES = ("turtle", "ntriples", "nquads", "trig", "jsonld", "xml")


@cli.command("query")
@click.argument("name", required=False)
@click.option("--sparql", help="Ad-hoc SPARQL text instead of a saved query.")
@click.option("-p", "--param", "params", nargs=2, multiple=True, metavar="NAME VALUE",
              help="A parameter of the saved query (repeatable).")
@click.option("-f", "--format", "fmt", help="table, csv, tsv, json, xml or markdown for SELECT/ASK; "
              "turtle, ntriples, nquads, trig, jsonld or xml for CONSTRUCT/DESCRIBE.")
@click.option("--lang", type=click.Choice(["en", "ru"]), default="en", show_default=True,
              help="Language of the labels shown in tables.")
@click.option("--reasoning", is_flag=True, help="Query the OWL RL closure of the graph.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE, not stdout.")
@click.option("--endpoint", metavar="URL",
              help="Ask this remote SPARQL 1.1 endpoint instead of the local graph.")
@click.option("--federated", is_flag=True,
              help="Let SERVICE clauses call the SPARQL endpoints they name (off by default: "
              "queries stay on the local graph).")
@_remote_options
@click.pass_context
def query_cmd(ctx, name, sparql, params, fmt, lang, reasoning, output, endpoint, federated, user,
              password, token, timeout):
    """Run a saved query by NAME (or a .rq FILE), or --sparql TEXT.

    With --endpoint the same question goes to a remote SPARQL 1.1 endpoint; parameters are bound
    there as RDF terms written from the checked values (substituted, then BIND).

    \b
    Examples:
      untoc query wg-meetings
      untoc query meetings-in-year -p year 2012 --format csv
      untoc query --sparql 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'
      untoc query wg-meetings --endpoint http://localhost:7878/query
      untoc query --federated --sparql 'SELECT * { SERVICE <https://query.wikidata.org/sparql> { ... } }'
    """
    from .querying import check_local_only, check_shape, run_query
    from .results import RESULT_FORMATS, format_result, term_label_lookup

    kg = _kg(ctx)
    if (name is None) == (sparql is None):
        raise Failure("give a saved query NAME (see 'untoc queries') or --sparql TEXT", 2)
    names = [p[0] for p in params]
    if len(set(names)) != len(names):
        raise Failure("a parameter is given twice", 2)
    if sparql is not None and params:
        raise Failure("-p applies to saved queries only", 2)
    # Check the question and its parameters before opening (or building) the store.
    if sparql is not None:
        text, bindings = sparql, None
    else:
        saved = kg.saved(name)
        text, bindings = saved.text, saved.bindings(dict(params))
    if endpoint is None:  # refused before a store is opened or built
        check_shape(text)
        if not federated:
            check_local_only(text)
    auth = _auth(ctx, endpoint, user, password, token)
    remote = None
    if endpoint is not None:
        from .remote import RemoteEndpoint

        if reasoning:
            raise Failure("--reasoning applies to the local graph only, not to --endpoint", 2)
        remote = RemoteEndpoint(endpoint, auth=auth, timeout=timeout)
        store = None
        result = remote.query(text, bindings)
    elif reasoning:
        from .reasoning import reasoned_store

        store = reasoned_store(kg.source, on_rebuild=_note)
    else:
        store = kg.store
    if remote is None:
        result = run_query(store, text, bindings, federated=federated)
    if result.kind == "GRAPH":
        fmt = fmt or "turtle"
        if fmt not in RDF_CHOICES:
            raise Failure(f"CONSTRUCT/DESCRIBE results need an RDF format: {', '.join(RDF_CHOICES)}", 2)
        import pyoxigraph as ox

        from .export import load_context, serialize

        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in result.triples]
        context = load_context(kg.source) if fmt == "jsonld" else None
        if fmt in ("nquads", "trig"):
            fmt = {"nquads": "ntriples", "trig": "turtle"}[fmt]  # one default graph
        _write(output, serialize(quads, fmt, context=context))
        return
    fmt = fmt or "table"
    if fmt not in RESULT_FORMATS:
        raise Failure(f"unknown results format {fmt!r}; use one of {', '.join(RESULT_FORMATS)}", 2)
    labels = None
    if fmt in ("table", "markdown"):
        labels = remote.label_lookup(result, lang) if remote else term_label_lookup(store, lang)
    _write(output, format_result(result, fmt, labels=labels))


@cli.command("describe")
@click.argument("thing")
@click.option("--lang", type=click.Choice(["en", "ru"]), default="en", show_default=True)
@click.pass_context
def describe_cmd(ctx, thing, lang):
    """Show one entity by IRI, CURIE or part of a label (English or Russian).

    \b
    Examples:
      untoc describe meeting:wg-ic-3
      untoc describe "7/4"
      untoc describe "Вена" --lang ru
    """
    from .describe import describe, find_entity
    from .results import term_label_lookup

    store = _kg(ctx).store
    iri = find_entity(store, thing)
    click.echo(describe(store, iri).to_text(term_label_lookup(store, lang)), nl=False)


@cli.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text",
              show_default=True)
@click.pass_context
def validate_cmd(ctx, files, fmt):
    """Check the graph, or new entry FILES together with it, against the shapes.

    Exit 0 when it conforms, 1 on violations, 2 when a file cannot be read.

    \b
    Examples:
      untoc validate
      untoc validate new-meeting.ttl --format json
    """
    from .loading import read_quads
    from .validation import validate

    kg = _kg(ctx)
    for f in files:
        read_quads(Path(f))
    report = validate(kg.source.with_extra(files), on_rebuild=_note)
    out = {"text": report.to_text, "json": report.to_json, "turtle": report.to_turtle}[fmt]()
    click.echo(out, nl=False)
    if not report.conforms:
        ctx.exit(1)


@cli.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.pass_context
def add_cmd(ctx, files, dry_run):
    """Validate new entry FILES and merge them into the data, all or nothing.

    \b
    Examples:
      untoc add new-meeting.ttl --dry-run
      untoc add new-meeting.ttl
    """
    from .adding import add

    kg = _kg(ctx)
    change = add(kg.source, files, dry_run=dry_run)
    if dry_run:
        click.echo(change.diff() if change.count else change.summary(), nl=False)
        _note("dry run: nothing written")
    else:
        click.echo(change.summary(), nl=False)


@cli.command("fmt")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, exists=True))
@click.option("--check", is_flag=True, help="Only report files not in the canonical layout (exit 1).")
@click.pass_context
def fmt_cmd(ctx, files, check):
    """Rewrite data files (default: all of data/) in the canonical, sorted Turtle layout.

    \b
    Examples:
      untoc fmt
      untoc fmt --check
    """
    from .adding import format_files, stale_files

    paths = [Path(f) for f in files] or _kg(ctx).source.data_files
    if check:
        stale = stale_files(paths)
        for p in stale:
            click.echo(f"{p}: not in the canonical layout (run 'untoc fmt')")
        if stale:
            ctx.exit(1)
        return
    for p in format_files(paths):
        click.echo(f"reformatted {p}")


@cli.command("export")
@click.option("-f", "--format", "fmt", type=click.Choice(RDF_CHOICES), default="turtle",
              show_default=True)
@click.option("--reasoning", is_flag=True, help="Include the OWL RL inferences (own named graph).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE, not stdout.")
@click.pass_context
def export_cmd(ctx, fmt, reasoning, output):
    """Export ontology, data and shapes with a VoID/DCAT description.

    \b
    Examples:
      untoc export --format trig -o untoc.trig
      untoc export --format jsonld --reasoning -o untoc.jsonld
    """
    from .export import write_export

    kg = _kg(ctx)
    store = None
    if reasoning:
        from .reasoning import reasoned_store

        store = reasoned_store(kg.source, on_rebuild=_note)
    _write_with(output, lambda fh: write_export(kg.source, fmt, fh, reasoning=reasoning,
                                                 store=store))


@cli.command("docs")
@click.option("-o", "--output", required=True, type=click.Path(),
              help="Directory for the site: new, empty, or an earlier 'untoc docs' output "
              "(replaced whole); any other directory is refused.")
@click.pass_context
def docs_cmd(ctx, output):
    """Write the ontology's documentation as a static site: index.html (English and Russian
    labels and definitions of every term, with its SHACL constraints) and the ontology as Turtle,
    JSON-LD, N-Triples and RDF/XML. 'untoc serve' answers the same at /ontology.

    \b
    Example:
      untoc docs -o site/ontology
    """
    from .ontodocs import write_docs

    written = write_docs(output, _kg(ctx).source)
    _note(f"wrote {output}: " + ", ".join(p.name for p in written))


@cli.command("stats")
@click.pass_context
def stats_cmd(ctx):
    """Counts per class and property; entities lacking an English or Russian label.

    \b
    Example:
      untoc stats
    """
    from .stats import stats

    click.echo(stats(_kg(ctx).store).to_text(), nl=False)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, type=click.IntRange(0, 65535), show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--timeout", default=10.0, type=click.FloatRange(min=0, min_open=True),
              show_default=True, help="Seconds a query may run before it is stopped (503).")
@click.option("--max-rows", default=10000, type=click.IntRange(min=1), show_default=True,
              help="Most rows (or triples) a query may return; more is an error (422).")
@click.pass_context
def serve_cmd(ctx, host, port, timeout, max_rows):
    """Publish the graph over HTTP: SPARQL endpoint, saved queries, entity pages, timeline.

    Read-only; bound to this machine unless --host says otherwise.

    \b
    Example:
      untoc serve --port 8080
    """
    from .serving import Service, make_server, serve

    service = Service(ctx.obj["data"], timeout=timeout, max_rows=max_rows, on_rebuild=_note)
    server = make_server(service, host, port)
    bound_host, bound_port = server.server_address[:2]
    click.echo(f"serving http://{bound_host}:{bound_port}/ (Ctrl-C stops)")
    serve(server)


@cli.command("push")
@click.option("--endpoint", required=True, metavar="URL",
              help="The store's SPARQL 1.1 Graph Store HTTP Protocol endpoint.")
@click.option("--query-endpoint", metavar="URL",
              help="The store's SPARQL query endpoint, to verify the counts "
              "[default: the endpoint's base + /query, as on Oxigraph].")
@click.option("--graph-prefix", metavar="IRI", default=None,
              help="Name the graphs IRI + ontology|data|shapes|void "
              "[default: https://w3id.org/untoc/graph/].")
@_remote_options
@click.pass_context
def push_cmd(ctx, endpoint, query_endpoint, graph_prefix, user, password, token, timeout):
    """Load ontology, data, shapes and the VoID description into a triple store, one named graph
    each (HTTP PUT, replacing each graph; POSTs after it for a large one), then verify the
    triple counts through its query endpoint.

    \b
    Example:
      untoc push --endpoint http://localhost:7878/store
    """
    from .push import DEFAULT_GRAPH_PREFIX, push

    kg = _kg(ctx)
    auth = _auth(ctx, endpoint, user, password, token)
    pushed = push(kg.source, endpoint, query_url=query_endpoint,
                  graph_prefix=graph_prefix or DEFAULT_GRAPH_PREFIX, auth=auth, timeout=timeout,
                  on_progress=_note)
    for g in pushed:
        click.echo(f"{g.counted:>8} triples  <{g.graph}>")
    click.echo(f"{sum(g.counted for g in pushed):>8} triples in {len(pushed)} graphs, verified")


def main() -> None:
    """Entry point: like click's standalone mode, but every error is a single line on stderr."""
    try:
        code = cli.main(obj={}, standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
        click.echo("Error: aborted", err=True)
        code = 130
    except click.ClickException as exc:
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        click.echo(f"Error: {exc.format_message()}{hint}", err=True)
        code = exc.exit_code
    sys.exit(code if isinstance(code, int) else 0)
