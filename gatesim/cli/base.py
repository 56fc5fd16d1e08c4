"""The ``gatesim`` click group, its one-line error handling and the helpers every command module shares."""
from __future__ import annotations

import json
import os
import sys

import click

from ..datafile import write_file_atomic
from ..errors import GatesimError

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT (128 + 2)


def _fail_usage(msg: str):
    raise click.UsageError(msg)


class _OnceOption(click.Option):
    """An option that takes one value and may be given once: ``--width 8 --width 16`` is a usage error, not a
    silent 16. (click keeps the last value; this parses every occurrence and refuses more than one.)"""

    def add_to_parser(self, parser, ctx) -> None:
        parser.add_option(obj=self, opts=self.opts, dest=self.name, action="append", nargs=self.nargs)

    def consume_value(self, ctx, opts):
        given = opts.get(self.name)
        if isinstance(given, list):
            if len(given) > 1:
                shown = ", ".join(repr(v if self.nargs == 1 else " ".join(v)) for v in given)
                raise click.BadOptionUsage(self.name, f"option {max(self.opts, key=len)} was given {len(given)} times ({shown}); "
                                                      "give it once", ctx)
            opts = {**opts, self.name: given[0]}
        return super().consume_value(ctx, opts)


def _once(command: click.Command) -> click.Command:
    """Make every single-value option of ``command`` an :class:`_OnceOption` (flags, counts and repeatable
    options keep click's behaviour)."""
    for p in command.params:
        if type(p) is click.Option and not (p.multiple or p.count or p.is_flag):
            p.__class__ = _OnceOption
    return command


class _Group(click.Group):
    """Every error is one line on stderr: ``Error: ...``, exit 2 for bad input (usage errors and
    gatesim's own errors), 1 for failures. An unexpected exception is one line too, naming its type;
    set ``GATESIM_TRACEBACK=1`` to see the traceback instead.

    Commands in ``lazy`` (name -> factory) are built on first use, so ``gatesim table`` does not pay
    for importing torch.
    """

    lazy: dict = {}

    def add_command(self, cmd, name=None):
        super().add_command(_once(cmd), name)

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.lazy:
            self.add_command(self.lazy[name](), name)
        return super().get_command(ctx, name)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            _error(e.format_message(), EXIT_USAGE)
        except click.ClickException as e:
            _error(e.format_message(), e.exit_code)
        except GatesimError as e:
            _error(str(e), EXIT_USAGE)
        except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            _error("interrupted", EXIT_INTERRUPTED)
        except Exception as e:  # a bug or an unforeseen input: still one line, unless asked otherwise
            if os.environ.get("GATESIM_TRACEBACK"):
                raise
            _error(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''} "
                   f"(set GATESIM_TRACEBACK=1 for the traceback)", EXIT_FAILURE)
        sys.exit(rv if isinstance(rv, int) else 0)


def _error(message: str, code: int):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def _plugins(ctx_obj):
    import circuits

    circuits.load_plugins(tuple(ctx_obj.get("plugins", ())))
    return circuits


def _positive(ctx, param, value):
    if value is not None and value < 1:
        raise click.BadParameter(f"must be a positive integer, got {value}")
    return value


def _params(values: tuple[str, ...]) -> dict:
    """``--param key=value`` pairs; values parsed as JSON when possible (ints, booleans), else strings."""
    out = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--param")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gatesim")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE|FILE.py",
              help="Import a module (by name) or a .py file (by path) that registers extra circuit designs.")
@click.pass_context
def cli(ctx, plugins):
    """gatesim: gate-level ALU netlists, transistor counts and bit-parallel simulation."""
    ctx.obj = {"plugins": plugins}
    if plugins:
        import circuits

        circuits.load_plugins(tuple(plugins))


def _emit(text: str, output: str | None, what: str = "") -> None:
    """Write ``text`` to ``output`` (saying so on stderr), or to stdout when no file is given."""
    if not output:
        click.echo(text, nl=False)
        return
    try:
        write_file_atomic(output, text)
    except OSError as e:
        raise click.ClickException(f"cannot write {output}: {e.strerror or e}")
    click.echo(f"wrote {output}" + (f" ({what})" if what else ""), err=True)


def _table(headers, rows):
    rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())




def np_rng(seed):
    import numpy as np

    return np.random.default_rng(seed)
