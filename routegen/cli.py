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
    "render": "routegen.commands.render",
    "check": "routegen.commands.check",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="routegen", description="Generative route design for the MoonBoard.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, path in COMMANDS.items():
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (RoutegenError, FileNotFoundError) as e:
        print(f"routegen {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
