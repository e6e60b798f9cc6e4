"""`routegen <command>`: each command lives in routegen/commands/<name>.py with add_arguments() and run()."""

from __future__ import annotations

import argparse
import importlib
import sys

from routegen.errors import RoutegenError

COMMANDS = {  # name -> module; a module is imported only when its command runs or --help lists it
    "grade": "routegen.commands.grade",
    "evaluate": "routegen.commands.evaluate",
    "sample": "routegen.commands.sample",
    "evaluate-generator": "routegen.commands.evaluate_generator",
    "calibrate": "routegen.commands.calibrate",
    "models": "routegen.commands.models",
    "render": "routegen.commands.render",
    "check": "routegen.commands.check",
    "studio": "routegen.commands.studio",
}


class Parser(argparse.ArgumentParser):
    """Bad arguments are a one-line error (exit status 2) like every other bad input, not usage + error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """With argv naming a command, only that command's module is imported (the others are listed bare), so a
    bad argument is reported in well under a second, before anything heavy is imported."""
    parser = Parser(prog="routegen", description="Generative route design for the MoonBoard.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    chosen = next((a for a in argv or () if not a.startswith("-")), None)
    only = chosen if chosen in COMMANDS and not {"-h", "--help"} & set(argv[: argv.index(chosen)]) else None
    for name, path in COMMANDS.items():
        if only and name != only:
            sub.add_parser(name)
            continue
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as e:
            if e.name != path:  # a command's own broken import must show; a command not written yet is skipped
                raise
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a bad argument (2): a status, as for every other outcome
        return int(e.code or 0)
    try:
        return int(args.run(args) or 0)
    except RoutegenError as e:
        print(f"routegen {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a file the command could not read or write: one line naming it, never a traceback
        where = f"{e.filename}: " if e.filename else ""
        print(f"routegen {args.command}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
